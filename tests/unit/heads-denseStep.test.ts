// The dense head's hand-written training step against TF.js autodiff of the same loss: the
// gradients of every variable match for single- and multi-label, with and without class weights,
// hidden layer and dropout; batches are packed row for row; no tensor is left behind. The default
// batch and learning rate grow together with the training set, unless the caller set either.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildDenseModel,
  denseLogits,
  perItemLoss,
  DENSE_DEFAULTS,
} from '../../src/core/heads/denseModel';
import {
  batchTensors,
  denseGradients,
  denseVariables,
  type PackedRows,
} from '../../src/core/heads/denseStep';
import type { ProjectKind } from '../../src/core/kinds';
import { mulberry32, randomNormal } from '../../src/core/random';
import { batchGrowth, MAX_BATCH_GROWTH } from '../../src/core/heads/denseConfig';
import { trainDenseHead } from '../../src/core/heads/denseTrain';
import { clusters } from '../fixtures/embeddings';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

function packed(
  kind: ProjectKind,
  n: number,
  dim: number,
  c: number,
  weighted: boolean,
): PackedRows {
  const rng = mulberry32(3);
  const x = Float32Array.from({ length: n * dim }, () => randomNormal(rng) * 0.3);
  const y = new Float32Array(n * c);
  for (let i = 0; i < n; i++) {
    y[i * c + (i % c)] = 1;
    if (kind === 'multi-label' && i % 3 === 0) y[i * c + ((i + 1) % c)] = 1;
  }
  const w = weighted
    ? Float32Array.from(
        { length: kind === 'multi-label' ? n * c : n },
        (_, i) => 0.5 + (i % 4) * 0.4,
      )
    : null;
  return { x, y, w, dim, numLabels: c };
}

const cases: { kind: ProjectKind; hiddenUnits: number; dropout: number; weighted: boolean }[] = [
  { kind: 'single-label', hiddenUnits: 8, dropout: 0.5, weighted: true },
  { kind: 'single-label', hiddenUnits: 8, dropout: 0, weighted: false },
  { kind: 'single-label', hiddenUnits: 0, dropout: 0, weighted: true },
  { kind: 'multi-label', hiddenUnits: 8, dropout: 0.3, weighted: true },
  { kind: 'multi-label', hiddenUnits: 0, dropout: 0, weighted: false },
];

describe('dense training step', () => {
  for (const { kind, hiddenUnits, dropout, weighted } of cases) {
    it(`${kind}, ${hiddenUnits} hidden, dropout ${dropout}, ${weighted ? '' : 'un'}weighted: gradients match autodiff`, () => {
      const config = { ...DENSE_DEFAULTS, hiddenUnits, dropout, seed: 5 };
      const data = packed(kind, 12, 6, 3, weighted);
      const model = buildDenseModel(6, 3, config);
      const vars = denseVariables(model);
      const rows = [4, 0, 7, 7, 11, 2];
      const before = tf.memory().numTensors;
      const seed = 99;
      let ours: (readonly [string, number[]])[] = [];
      let theirs: number[][] = [];
      tf.tidy(() => {
        const batch = batchTensors(kind, data, rows, hiddenUnits > 0);
        const mine = denseGradients(kind, vars, batch, dropout, seed);
        const w = batch.w && kind === 'single-label' ? batch.w.reshape([rows.length]) : batch.w;
        const { grads } = tf.variableGrads(
          () =>
            tf.mean(
              perItemLoss(kind, denseLogits(model, batch.x, dropout, seed), batch.y, w),
            ) as tf.Scalar,
        );
        ours = mine.map((g) => [g.name, Array.from(g.tensor.dataSync())] as const);
        theirs = mine.map((g) => Array.from((grads[g.name] as tf.Tensor).dataSync()));
      });
      expect(tf.memory().numTensors).toBe(before);
      expect(ours.map(([name]) => name)).toEqual(
        model.trainableWeights.map((v) => (v.read() as tf.Variable).name),
      );
      ours.forEach(([, values], i) => {
        const reference = theirs[i] ?? [];
        expect(values).toHaveLength(reference.length);
        values.forEach((v, j) => expect(v).toBeCloseTo(reference[j] ?? NaN, 5));
      });
      model.dispose();
    });
  }

  it('packs the batch rows and their transpose in the order given', () => {
    const data = packed('single-label', 5, 3, 2, true);
    let [x, xT, y, w]: number[][] = [];
    tf.tidy(() => {
      const batch = batchTensors('single-label', data, [3, 1], true);
      [x, xT, y, w] = [batch.x, batch.xT, batch.y, batch.w].map((t) =>
        t ? Array.from(t.dataSync()) : [],
      );
    });
    const row = (r: number) => Array.from(data.x.subarray(r * 3, r * 3 + 3));
    expect(x).toEqual([...row(3), ...row(1)]);
    expect(xT).toEqual([0, 1, 2].flatMap((j) => [row(3)[j], row(1)[j]]));
    expect(y).toEqual([0, 1, 0, 1]);
    expect(w).toEqual([data.w?.[3], data.w?.[1]]);
  });
});

describe('batch growth with the data', () => {
  it('keeps batch 32 up to 2,559 training items, then grows to at most 3 times', () => {
    const sizes = [1, 2559, 2560, 3839, 3840, 5120, 100_000];
    expect(sizes.map(batchGrowth).join()).toBe('1,1,2,2,3,3,3');
    expect(MAX_BATCH_GROWTH).toBe(3);
  });

  it('grows batch and learning rate together only where the caller set neither', async () => {
    // 3,200 items, 2,560 of them in training after the 20 % hold-out: growth 2.
    const data = clusters(8, [['a'], ['b']], 1600, 4, 0.5);
    const train = (config: Record<string, number>) =>
      trainDenseHead(data, {
        kind: 'single-label',
        config: { hiddenUnits: 4, epochs: 1, refit: false, ...config },
      });
    const grown = await train({});
    expect([grown.head?.config.batchSize, grown.head?.config.learningRate]).toEqual([64, 0.002]);
    const fixed = await train({ batchSize: 32 });
    expect([fixed.head?.config.batchSize, fixed.head?.config.learningRate]).toEqual([32, 0.001]);
    const rate = await train({ learningRate: 0.01 });
    expect([rate.head?.config.batchSize, rate.head?.config.learningRate]).toEqual([32, 0.01]);
    for (const r of [grown, fixed, rate]) r.head?.dispose();
  });
});
