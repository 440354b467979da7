import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DENSE_DEFAULTS, DenseHead } from '../../src/core/heads/dense';
import { trainDenseHead, type EpochLog } from '../../src/core/heads/denseTrain';
import { deserializeHead } from '../../src/core/heads';
import type { LabelledEmbedding } from '../../src/core/heads/evaluate';
import { clusters } from '../fixtures/embeddings';

/** The last `held` samples of each cluster of size `total`. */
const tail = (items: LabelledEmbedding[], total: number, held: number): LabelledEmbedding[] =>
  items.filter((_, i) => i % total >= total - held);

const small = { hiddenUnits: 16, epochs: 25, batchSize: 16, patience: 0 };

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

describe('trainDenseHead', () => {
  it('learns separable clusters to > 95% on unseen samples and streams epoch logs', async () => {
    const labelSets = [['a'], ['b'], ['c']];
    const all = clusters(1, labelSets, 70, 32, 0.8);
    const train = all.filter((_, i) => i % 70 < 50);
    const test = tail(all, 70, 20);
    const logs: EpochLog[] = [];
    const result = await trainDenseHead(train, {
      kind: 'single-label',
      config: { ...small, epochs: 30, patience: 5, refit: false },
      onEpoch: (log) => logs.push(log),
    });
    expect(result.status).not.toBe('aborted');
    if (!result.head) return;
    expect(logs.length).toBeGreaterThan(0);
    expect(logs[0]).toMatchObject({ epoch: 1 });
    expect(typeof logs[0]?.valLoss).toBe('number');
    expect(result.validationIds).toHaveLength(30); // 20% of 150, 10 per class
    expect(result.trainIds.filter((id) => result.validationIds.includes(id))).toEqual([]);
    const predictions = await result.head.predict(test.map((t) => t.embedding));
    const correct = predictions.filter((p, i) => p.top === test[i]?.labelIds[0]).length;
    expect(correct / test.length).toBeGreaterThan(0.95);
    const p0 = predictions[0];
    expect(p0?.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(p0?.labels).toEqual([p0?.top]);
    result.head.dispose();
  });

  it('refit: after early stopping picks the epochs, retrains on every item', async () => {
    const data = clusters(9, [['a'], ['b']], 30, 16, 0.8);
    const result = await trainDenseHead(data, {
      kind: 'single-label',
      config: { ...small, epochs: 12, patience: 3, refit: true },
    });
    if (result.status === 'aborted') throw new Error('aborted');
    const search = result.history.filter((h) => h.phase === undefined);
    const refit = result.history.filter((h) => h.phase === 'refit');
    expect(search.every((h) => h.valLoss !== null)).toBe(true);
    expect(refit).toHaveLength(result.bestEpoch);
    expect(refit.every((h) => h.valLoss === null)).toBe(true);
    expect(result.validationIds).toEqual([]);
    expect(result.trainIds.slice().sort()).toEqual(data.map((d) => d.id).sort());
    result.head.dispose();
  });

  it('is deterministic for a seed (identical weights) and differs with another seed', async () => {
    const data = clusters(2, [['a'], ['b']], 30, 16, 1);
    const train = (seed: number) =>
      trainDenseHead(data, {
        kind: 'single-label',
        config: { ...small, epochs: 5, dropout: 0.5, seed },
      });
    const [r1, r2, r3] = [await train(7), await train(7), await train(8)];
    const weights = (h: DenseHead | null) =>
      h ? h.serialize().tensors.map((t) => Array.from(t.data)) : [];
    expect(weights(r1.head)).toEqual(weights(r2.head));
    expect(weights(r1.head)).not.toEqual(weights(r3.head));
    expect(r1.history).toEqual(r2.history);
    for (const r of [r1, r2, r3]) r.head?.dispose();
  });

  it('stops on AbortSignal, returns aborted with no head and leaks no tensor', async () => {
    const data = clusters(3, [['a'], ['b']], 40, 16, 0.5);
    const baseline = tf.memory().numTensors;
    const controller = new AbortController();
    const seen: number[] = [];
    const result = await trainDenseHead(data, {
      kind: 'single-label',
      config: { ...small, epochs: 50 },
      signal: controller.signal,
      onEpoch: (log) => {
        seen.push(log.epoch);
        if (log.epoch === 2) controller.abort();
      },
    });
    expect(result.status).toBe('aborted');
    expect(result.head).toBeNull();
    expect(seen).toEqual([1, 2]);
    expect(tf.memory().numTensors).toBe(baseline);
  });

  it('early-stops on validation loss and restores the best epoch weights', async () => {
    // Validation labels are the opposite of the training labels, so validation loss is lowest
    // near the start and rises as the model learns: best epoch early, stop `patience` epochs later.
    const data = clusters(4, [['a'], ['b']], 30, 16, 0.8);
    const flipped = tail(clusters(4, [['a'], ['b']], 40, 16, 0.8), 40, 10).map((v) => ({
      ...v,
      labelIds: v.labelIds[0] === 'a' ? ['b'] : ['a'],
    }));
    const patience = 3;
    const result = await trainDenseHead(data, {
      kind: 'single-label',
      labels: ['a', 'b'],
      validation: flipped,
      config: { ...small, epochs: 40, patience, learningRate: 0.01 },
    });
    expect(result.status).toBe('early-stopped');
    if (result.status === 'aborted') return;
    const losses = result.history.map((h) => h.valLoss as number);
    const bestIndex = losses.indexOf(Math.min(...losses));
    expect(result.bestEpoch).toBe(bestIndex + 1);
    expect(result.history).toHaveLength(result.bestEpoch + patience);
    // The returned head's validation loss (unweighted mean cross-entropy) is the best epoch's.
    const probs = await result.head.probabilities(flipped.map((v) => v.embedding));
    const ce =
      flipped.reduce(
        (sum, v, i) => sum - Math.log(probs[i * 2 + (v.labelIds[0] === 'a' ? 0 : 1)] ?? 1),
        0,
      ) / flipped.length;
    expect(ce).toBeCloseTo(losses[bestIndex] as number, 4);
    result.head.dispose();
  });

  it('multi-label: sigmoid head returns both labels for two-label items', async () => {
    const labelSets = [['cat'], ['dog'], ['cat', 'dog'], ['bird']];
    const all = clusters(5, labelSets, 45, 24, 0.6);
    const train = all.filter((_, i) => i % 45 < 35);
    const test = tail(all, 45, 10);
    const result = await trainDenseHead(train, {
      kind: 'multi-label',
      config: { ...small, hiddenUnits: 32, epochs: 40, patience: 8 },
    });
    if (!result.head) throw new Error('not trained');
    expect(result.head.thresholds).toHaveLength(3);
    const predictions = await result.head.predict(test.map((t) => t.embedding));
    const exact = predictions.filter(
      (p, i) => [...p.labels].sort().join() === [...(test[i]?.labelIds ?? [])].sort().join(),
    );
    expect(exact.length / test.length).toBeGreaterThan(0.9);
    const pairs = predictions.filter((_, i) => test[i]?.labelIds.length === 2);
    expect(
      pairs.filter((p) => p.labels.includes('cat') && p.labels.includes('dog')).length,
    ).toBeGreaterThanOrEqual(9);
    result.head.dispose();
  });

  it('logistic regression (no hidden layer), class weights and the unknown threshold', async () => {
    // Imbalanced: 60 'a', 12 'b'.
    const data = [...clusters(6, [['a']], 60, 16, 1), ...clusters(16, [['b']], 12, 16, 1)];
    const result = await trainDenseHead(data, {
      kind: 'single-label',
      config: {
        hiddenUnits: 0,
        epochs: 40,
        learningRate: 0.01,
        classWeights: 'balanced',
        patience: 0,
      },
    });
    if (!result.head) throw new Error('not trained');
    expect(result.head.serialize().tensors.map((t) => t.name)).toEqual([
      'output/kernel',
      'output/bias',
    ]);
    const predictions = await result.head.predict(data.map((d) => d.embedding));
    expect(
      predictions.filter((p, i) => p.top === data[i]?.labelIds[0]).length / data.length,
    ).toBeGreaterThan(0.95);
    result.head.setUnknownThreshold(1.01);
    const unknown = await result.head.predict([data[0]?.embedding as Float32Array]);
    expect(unknown[0]?.top).toBeNull();
    expect(unknown[0]?.labels).toEqual([]);
    result.head.dispose();
  });

  it('serialize / deserialize gives identical probabilities; tensors return to baseline', async () => {
    const data = clusters(7, [['a'], ['b'], ['c']], 20, 12, 0.5);
    // warm-up: let the backend and tfjs-layers create anything they keep for good
    const warm = await trainDenseHead(data, {
      kind: 'single-label',
      config: { ...small, epochs: 1 },
    });
    await warm.head?.predict([data[0]?.embedding as Float32Array]);
    warm.head?.dispose();
    const baseline = tf.memory().numTensors;

    const result = await trainDenseHead(data, {
      kind: 'multi-label',
      config: { ...small, epochs: 4 },
    });
    if (!result.head) throw new Error('not trained');
    const held = result.head.serialize();
    const json = structuredClone(held);
    const copy = deserializeHead(json);
    expect(copy).toBeInstanceOf(DenseHead);
    const batch = data.slice(0, 9).map((d) => d.embedding);
    expect(await copy.predict(batch)).toEqual(await result.head.predict(batch));
    const asTensor = tf.tensor2d(
      batch.flatMap((b) => Array.from(b)),
      [batch.length, 12],
    );
    expect((await copy.predict(asTensor)).map((p) => p.labels)).toEqual(
      (await result.head.predict(batch)).map((p) => p.labels),
    );
    asTensor.dispose();
    copy.dispose();
    result.head.dispose();
    expect(tf.memory().numTensors).toBe(baseline);
    expect(() => result.head?.serialize()).toThrow(/dispose/);
  });

  it('exposes sensible defaults', () => {
    expect(DENSE_DEFAULTS.hiddenUnits).toBeGreaterThan(0);
    expect(DENSE_DEFAULTS.learningRate).toBe(1e-3);
    expect(DENSE_DEFAULTS.classWeights).toBe('balanced');
  });
});
