// The one scoring rule (scoreHead) and the one L2 normalisation (unitRows): an unknown prediction
// counts as wrong, never as label 0; multi-label sets; truths outside the label list; zero rows.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { multiLabelMetrics, singleLabelMetrics, UNKNOWN } from '../../src/core/eval/metrics';
import { scoreHead } from '../../src/core/heads/evaluate';
import { KnnHead } from '../../src/core/heads/knn';
import { unitRowsTensor } from '../../src/core/heads/tensors';
import { l2NormalizeRowsInPlace, packUnitRows } from '../../src/core/heads/unitRows';
import type { Head, Prediction } from '../../src/core/heads/types';
import type { ProjectKind } from '../../src/core/kinds';
import { clusters } from '../fixtures/embeddings';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

/** A head that answers fixed label sets, one per query in order. */
function stubHead(kind: ProjectKind, labels: string[], answers: string[][]): Head {
  return {
    type: 'knn',
    kind,
    labels,
    dim: 1,
    async predict(embeddings): Promise<Prediction[]> {
      const n = Array.isArray(embeddings) ? embeddings.length : 0;
      return answers.slice(0, n).map((set) => ({
        probabilities: labels.map(() => 0),
        top: set[0] ?? null,
        topProbability: 0,
        labels: set,
      }));
    },
    serialize() {
      throw new Error('not used');
    },
    dispose() {},
  };
}

const item = (...labelIds: string[]) => ({ embedding: new Float32Array(1), labelIds });

describe('scoreHead', () => {
  it('single-label: a prediction with no label counts as wrong, never as label 0', async () => {
    const labels = ['a', 'b'];
    const head = stubHead('single-label', labels, [['a'], [], ['b'], []]);
    const { metrics, predicted } = await scoreHead(
      head,
      [item('a'), item('a'), item('b'), item('b')],
      labels,
      'single-label',
    );
    expect(predicted).toEqual([[0], [], [1], []]);
    if (metrics.kind !== 'single-label') throw new Error('wrong kind');
    expect(metrics.n).toBe(4);
    expect(metrics.accuracy).toBe(0.5);
    expect(metrics.unknownByClass).toEqual([1, 1]);
    expect(metrics.confusion).toEqual([
      [1, 0],
      [0, 1],
    ]);
    expect(metrics.perClass[0]?.recall).toBe(0.5);
    expect(metrics.perClass[0]?.precision).toBe(1);
    expect(metrics).toEqual(singleLabelMetrics([0, 0, 1, 1], [0, UNKNOWN, 1, UNKNOWN], 2));
  });

  it('multi-label: label sets, an empty prediction misses every true label', async () => {
    const labels = ['x', 'y', 'z'];
    const head = stubHead('multi-label', labels, [['x', 'y'], [], ['z', 'x'], ['y']]);
    const validation = [item('x', 'y'), item('z'), item('x'), item('y', 'z')];
    const { metrics, predicted } = await scoreHead(head, validation, labels, 'multi-label');
    expect(predicted).toEqual([[0, 1], [], [2, 0], [1]]);
    expect(metrics).toEqual(
      multiLabelMetrics([[0, 1], [2], [0], [1, 2]], [[0, 1], [], [2, 0], [1]], 3),
    );
    if (metrics.kind !== 'multi-label') throw new Error('wrong kind');
    expect(metrics.subsetAccuracy).toBe(0.25);
    // tp = 4 (x, y, x, y), fp = 1 (z), fn = 2 (z, z)
    expect(metrics.micro.precision).toBeCloseTo(4 / 5, 12);
    expect(metrics.micro.recall).toBeCloseTo(4 / 6, 12);
  });

  it('drops truth and predicted labels outside the list; items left without a label are not scored', async () => {
    const labels = ['a', 'b'];
    const head = stubHead('single-label', labels, [['gone'], ['b']]);
    const { metrics, predicted } = await scoreHead(
      head,
      [item('gone', 'a'), item('gone'), item('b')],
      labels,
      'single-label',
    );
    expect(metrics.n).toBe(2);
    // The first item is scored on its first listed label ('a'); its answer 'gone' is no label.
    expect(predicted).toEqual([[], [1]]);
    expect(metrics.kind === 'single-label' && metrics.accuracy).toBe(0.5);
  });

  it('scores nothing (and predicts nothing) without scorable items', async () => {
    const head = stubHead('multi-label', ['a'], []);
    const { metrics, predicted } = await scoreHead(head, [item('other')], ['a'], 'multi-label');
    expect(metrics.n).toBe(0);
    expect(predicted).toEqual([]);
  });

  it('for ordinary single-label predictions equals accuracy over the top labels', async () => {
    const data = clusters(11, [['a'], ['b'], ['c']], 12, 6, 1.2);
    const train = data.filter((_, i) => i % 3 !== 0);
    const validation = data.filter((_, i) => i % 3 === 0);
    const head = KnnHead.build(train, { kind: 'single-label', config: { k: 3 } });
    try {
      const labels = [...head.labels];
      const { metrics } = await scoreHead(head, validation, labels, 'single-label');
      const predictions = await head.predict(validation.map((v) => v.embedding));
      const expected = singleLabelMetrics(
        validation.map((v) => labels.indexOf(v.labelIds[0] ?? '')),
        predictions.map((p) => labels.indexOf(p.top ?? '')),
        labels.length,
      );
      expect(metrics).toEqual(expected);
      if (metrics.kind !== 'single-label') throw new Error('wrong kind');
      expect(metrics.unknownByClass).toEqual([0, 0, 0]);
    } finally {
      head.dispose();
    }
  });
});

describe('unit rows (the one L2 normalisation)', () => {
  it('scales each row to unit length; a zero row stays zero', () => {
    const data = Float32Array.from([3, 4, 0, 0, 0, 0, 0, -2, 0]);
    expect(l2NormalizeRowsInPlace(data, 3)).toBe(data);
    expect(Array.from(data)).toEqual([Math.fround(0.6), Math.fround(0.8), 0, 0, 0, 0, 0, -1, 0]);
    expect(data.every((v) => Number.isFinite(v))).toBe(true);
  });

  it('packUnitRows copies (inputs untouched) and refuses a width mismatch', () => {
    const a = Float32Array.from([0, 5]);
    const packed = packUnitRows([a, Float32Array.from([0, 0])], 2);
    expect(Array.from(packed)).toEqual([0, 1, 0, 0]);
    expect(Array.from(a)).toEqual([0, 5]);
    expect(() => packUnitRows([Float32Array.from([1, 2, 3])], 2)).toThrow(/width 3/);
  });

  it('agrees with the tensor path, zero rows included', () => {
    const rows = [Float32Array.from([1, 2, 2]), Float32Array.from([0, 0, 0])];
    const before = tf.memory().numTensors;
    const batch = tf.tensor2d([1, 2, 2, 0, 0, 0], [2, 3]);
    const t = unitRowsTensor(rows, 3);
    const fromBatch = unitRowsTensor(batch, 3);
    try {
      expect(Array.from(t.dataSync())).toEqual(Array.from(packUnitRows(rows, 3)));
      const viaTensor = Array.from(fromBatch.dataSync());
      expect(viaTensor.slice(3)).toEqual([0, 0, 0]);
      viaTensor.slice(0, 3).forEach((v, i) => expect(v).toBeCloseTo([1 / 3, 2 / 3, 2 / 3][i]!, 6));
    } finally {
      tf.dispose([batch, t, fromBatch]);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
