import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { chooseK, KNN_K_CANDIDATES } from '../../src/core/heads/chooseK';
import { KnnHead, knnVote } from '../../src/core/heads/knn';
import { crossValidateHead, deserializeHead, trainDenseHead } from '../../src/core/heads';
import { clusters } from '../fixtures/embeddings';

const vec = (...values: number[]): Float32Array => Float32Array.from(values);

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

describe('knnVote (hand-computed)', () => {
  const neighbours = [
    { similarity: 0.9, labels: [0] },
    { similarity: 0.2, labels: [1] },
    { similarity: 0.2, labels: [1] },
  ];
  const base = { weighted: false, unknownSimilarity: null, multiLabelThreshold: 0.5 };

  it('plain votes: class 1 has 2 of 3 votes', () => {
    const v = knnVote(neighbours, 2, 'single-label', base);
    expect(v.top).toBe(1);
    expect(v.probabilities[0]).toBeCloseTo(1 / 3, 12);
    expect(v.probabilities[1]).toBeCloseTo(2 / 3, 12);
  });

  it('similarity-weighted: class 0 gets 0.9 / 1.3, class 1 0.4 / 1.3', () => {
    const v = knnVote(neighbours, 2, 'single-label', { ...base, weighted: true });
    expect(v.top).toBe(0);
    expect(v.probabilities[0]).toBeCloseTo(0.9 / 1.3, 12);
  });

  it('ties go to the nearer neighbour; unknown below the similarity threshold', () => {
    const tie = knnVote(neighbours.slice(0, 2).reverse(), 2, 'single-label', base);
    expect(tie.top).toBe(1); // 1 vote each; the nearest (first) neighbour is class 1
    const unknown = knnVote(neighbours, 2, 'single-label', { ...base, unknownSimilarity: 0.95 });
    expect(unknown.top).toBe(-1);
    expect(unknown.labels).toEqual([]);
  });

  it('multi-label: label share over neighbours, predicted at >= 0.5', () => {
    // shares: label 0 in 3/4, label 1 in 2/4, label 2 in 1/4
    const v = knnVote(
      [
        { similarity: 0.9, labels: [0, 1] },
        { similarity: 0.8, labels: [0, 1] },
        { similarity: 0.7, labels: [0] },
        { similarity: 0.6, labels: [2] },
      ],
      3,
      'multi-label',
      base,
    );
    expect(v.probabilities).toEqual([0.75, 0.5, 0.25]);
    expect(v.labels).toEqual([0, 1]);
    expect(v.top).toBe(0);
  });
});

describe('KnnHead', () => {
  it('classifies separable clusters, and removal / relabel / add change predictions at once', async () => {
    const head = KnnHead.build(
      [
        { id: 'a1', embedding: vec(1, 0, 0), labelIds: ['A'] },
        { id: 'a2', embedding: vec(0.9, 0.3, 0), labelIds: ['A'] },
        { id: 'b1', embedding: vec(0, 1, 0), labelIds: ['B'] },
      ],
      { kind: 'single-label', config: { k: 1 } },
    );
    const query = [vec(1, 0.05, 0)];
    expect((await head.predict(query))[0]?.top).toBe('A');
    expect(head.remove('a1')).toBe(true);
    expect(head.remove('a1')).toBe(false);
    // next nearest is a2 (cos = 0.9 / sqrt(0.9) ~ 0.95 vs b1 ~ 0.05)
    const afterRemove = (await head.predict(query))[0];
    expect(afterRemove?.top).toBe('A');
    expect(afterRemove?.neighbours?.[0]?.id).toBe('a2');
    head.updateLabels('a2', ['B']);
    expect((await head.predict(query))[0]?.top).toBe('B');
    head.add({ id: 'c1', embedding: vec(1, 0, 0.01), labelIds: ['C'] });
    const afterAdd = (await head.predict(query))[0];
    expect(afterAdd?.top).toBe('C');
    expect(head.labels).toEqual(['A', 'B', 'C']);
    expect(afterAdd?.probabilities).toEqual([0, 0, 1]);
    head.add({ id: 'c1', embedding: vec(1, 0, 0.01), labelIds: [] }); // unlabelled -> removed
    expect(head.size).toBe(2);
    head.dispose();
  });

  it('gets > 95% on held-out Gaussian clusters and accepts a tensor batch', async () => {
    const labelSets = [['x'], ['y'], ['z'], ['w']];
    const train = clusters(1, labelSets, 40, 32, 0.8);
    const heldOut = clusters(1, labelSets, 60, 32, 0.8).filter((_, i) => i % 60 >= 40); // unseen samples
    const head = KnnHead.build(train, { kind: 'single-label', config: { k: 5 } });
    const predictions = await head.predict(heldOut.map((t) => t.embedding));
    const correct = predictions.filter((p, i) => p.top === heldOut[i]?.labelIds[0]).length;
    expect(correct / heldOut.length).toBeGreaterThan(0.95);

    const asTensor = tf.tensor2d(
      heldOut.flatMap((t) => Array.from(t.embedding)),
      [heldOut.length, 32],
    );
    const fromTensor = await head.predict(asTensor);
    expect(fromTensor.map((p) => p.top)).toEqual(predictions.map((p) => p.top));
    expect(asTensor.isDisposed).toBe(false);
    asTensor.dispose();
    head.dispose();
  });

  it('chunked search equals one-chunk search, across removals', async () => {
    const data = clusters(2, [['p'], ['q'], ['r']], 30, 16, 1.2);
    const queries = clusters(3, [['p'], ['q'], ['r']], 5, 16, 1.2).map((q) => q.embedding);
    const small = KnnHead.build(data, { kind: 'single-label', config: { k: 7, chunkRows: 7 } });
    const big = KnnHead.build(data, { kind: 'single-label', config: { k: 7, chunkRows: 4096 } });
    for (const id of ['s2-c0-3', 's2-c1-29', 's2-c2-0', 's2-c2-29']) {
      small.remove(id);
      big.remove(id);
    }
    const a = await small.neighbours(queries);
    const b = await big.neighbours(queries);
    expect(a.map((list) => list.map((n) => n.id))).toEqual(b.map((list) => list.map((n) => n.id)));
    expect(small.tensorCount).toBe(Math.ceil(86 / 7));
    small.dispose();
    big.dispose();
  });

  it('multi-label: two-label items get both labels back; unknown threshold on similarity', async () => {
    const data = clusters(4, [['cat'], ['dog'], ['cat', 'dog'], ['bird']], 20, 24, 0.3);
    const head = KnnHead.build(data, { kind: 'multi-label', config: { k: 5 } });
    const probes = clusters(4, [['cat'], ['dog'], ['cat', 'dog'], ['bird']], 24, 24, 0.3).filter(
      (_, i) => i % 24 >= 20,
    );
    const predictions = await head.predict(probes.map((p) => p.embedding));
    predictions.forEach((p, i) => {
      expect([...p.labels].sort()).toEqual([...(probes[i]?.labelIds ?? [])].sort());
    });
    head.setConfig({ unknownSimilarity: 0.99 });
    const far = new Float32Array(24).fill(0);
    far[0] = 1;
    const unknown = (await head.predict([far]))[0];
    expect(unknown?.top).toBeNull();
    expect(unknown?.labels).toEqual([]);
    head.dispose();
  });

  it('serializes and deserializes to identical predictions', async () => {
    const data = clusters(5, [['a'], ['b']], 10, 8, 1);
    const head = KnnHead.build(data, {
      kind: 'single-label',
      labels: ['b', 'a'],
      config: { k: 3, weighted: true },
    });
    head.remove('s5-c0-0');
    const serialized = head.serialize();
    expect(serialized.tensors[0]?.shape).toEqual([19, 8]);
    const copy = deserializeHead(structuredClone(serialized));
    const queries = data.slice(0, 6).map((d) => d.embedding);
    expect(await copy.predict(queries)).toEqual(await head.predict(queries));
    expect(copy.labels).toEqual(['b', 'a']);
    copy.dispose();
    head.dispose();
  });

  it('handles 10k examples (3 chunks of <= 4096 rows)', async () => {
    const data = clusters(6, [['a'], ['b'], ['c'], ['d']], 2500, 64, 0.9);
    const head = KnnHead.build(data, { kind: 'single-label', config: { chunkRows: 4096 } });
    const queries = clusters(6, [['a'], ['b'], ['c'], ['d']], 2503, 64, 0.9).filter(
      (_, i) => i % 2503 >= 2500,
    );
    const predictions = await head.predict(queries.map((q) => q.embedding));
    expect(head.tensorCount).toBe(3);
    expect(predictions.map((p) => p.top)).toEqual(queries.map((q) => q.labelIds[0]));
    head.dispose();
  });

  it('returns tensors to baseline after build / add / remove / predict / serialize / dispose', async () => {
    const data = clusters(7, [['a'], ['b']], 25, 16, 0.35);
    const warm = KnnHead.build(data, { kind: 'single-label' });
    await warm.predict([data[0]?.embedding as Float32Array]);
    warm.dispose();
    const baseline = tf.memory().numTensors;

    const head = KnnHead.build(data, { kind: 'single-label', config: { chunkRows: 16 } });
    await head.predict(data.slice(0, 5).map((d) => d.embedding));
    expect(tf.memory().numTensors).toBe(baseline + head.tensorCount);
    head.add({ id: 'new', embedding: data[3]?.embedding as Float32Array, labelIds: ['b'] });
    head.remove('s7-c0-1');
    await head.predict(data.slice(0, 5).map((d) => d.embedding));
    await head.neighbours([data[9]?.embedding as Float32Array], 4);
    head.serialize();
    expect(tf.memory().numTensors).toBe(baseline + head.tensorCount);
    head.dispose();
    expect(tf.memory().numTensors).toBe(baseline);
  });

  it('chooseK returns one of the candidates with a score for each', async () => {
    const data = clusters(8, [['a'], ['b'], ['c']], 15, 16, 1.5);
    const baseline = tf.memory().numTensors;
    const result = await chooseK(data, { kind: 'single-label', folds: 5, seed: 1 });
    expect(KNN_K_CANDIDATES).toContain(result.k);
    expect(result.scores.map((s) => s.k)).toEqual([...KNN_K_CANDIDATES]);
    for (const s of result.scores) expect(s.score).toBeGreaterThan(0.5);
    expect(tf.memory().numTensors).toBe(baseline);
    const again = await chooseK(data, { kind: 'single-label', folds: 5, seed: 1 });
    expect(again).toEqual(result);
    expect((await chooseK(data.slice(0, 1), { kind: 'single-label' })).k).toBe(5);
  });
});

describe('crossValidateHead', () => {
  it('scores KNN and a dense head on identical folds with no tensor left behind', async () => {
    const data = clusters(9, [['a'], ['b'], ['c']], 12, 16, 0.8);
    const unlabelled = { id: 'u', embedding: new Float32Array(16).fill(1), labelIds: [] };
    const baseline = tf.memory().numTensors;
    const knn = await crossValidateHead({
      items: [...data, unlabelled],
      kind: 'single-label',
      folds: 4,
      seed: 2,
      fit: async (train, labels) => {
        expect(train.some((t) => t.id === 'u')).toBe(false); // unlabelled items are never used
        return KnnHead.build(train, { kind: 'single-label', labels, config: { k: 3 } });
      },
    });
    const dense = await crossValidateHead({
      items: data,
      kind: 'single-label',
      folds: 4,
      seed: 2,
      fit: async (train, labels) => {
        const result = await trainDenseHead(train, {
          kind: 'single-label',
          labels,
          config: { hiddenUnits: 16, epochs: 40, learningRate: 0.01, patience: 0, refit: false },
        });
        if (!result.head) throw new Error('aborted');
        return result.head;
      },
    });
    expect(knn.labels).toEqual(['a', 'b', 'c']);
    expect(knn.folds.map((f) => f.validationIds)).toEqual(dense.folds.map((f) => f.validationIds));
    expect(knn.pooled.kind === 'single-label' && knn.pooled.accuracy).toBeGreaterThan(0.9);
    expect(dense.pooled.kind === 'single-label' && dense.pooled.accuracy).toBeGreaterThan(0.9);
    expect(tf.memory().numTensors).toBe(baseline);
  });
});
