import { describe, expect, it } from 'vitest';
import { CrossValidationAborted, crossValidate } from '../../src/core/eval/crossValidate';
import type { Predictor } from '../../src/core/eval/crossValidate';
import { kFoldSplit } from '../../src/core/eval/split';

interface Item {
  id: string;
  labels: number[];
}

// 20 items: ids i0..i19, class = index % 2 (10 per class).
const items: Item[] = Array.from({ length: 20 }, (_, i) => ({ id: `i${i}`, labels: [i % 2] }));

describe('crossValidate', () => {
  it('never fits on a validation item (a memorising predictor scores 0)', async () => {
    const seenByFold: Set<string>[] = [];
    const result = await crossValidate<Item>({
      items,
      kind: 'single-label',
      numLabels: 2,
      folds: 5,
      seed: 1,
      async fit(train): Promise<Predictor<Item>> {
        const memory = new Map(train.map((t) => [t.id, t.labels]));
        seenByFold.push(new Set(memory.keys()));
        // Returns the memorised label, or [] (unknown) for anything it did not train on.
        return { predict: async (batch) => batch.map((b) => memory.get(b.id) ?? []) };
      },
    });
    expect(result.folds).toHaveLength(5);
    result.folds.forEach((f, i) => {
      for (const id of f.validationIds) expect(seenByFold[i]?.has(id)).toBe(false);
      expect(f.trainIds.length + f.validationIds.length).toBe(20);
    });
    // every prediction is unknown -> accuracy 0 in every fold and pooled
    expect(result.pooled.kind === 'single-label' && result.pooled.accuracy).toBe(0);
    expect(result.predictions.size).toBe(20);
  });

  it('pools out-of-fold predictions (hand-computed) and reports per-fold scores', async () => {
    // Rule predictor: right on ids i0..i14, wrong (other class) on i15..i19.
    // Pooled accuracy = 15 / 20 = 0.75.
    // Pooled confusion: wrong items i15 (c1), i16 (c0), i17 (c1), i18 (c0), i19 (c1)
    //   true 0: 10 items, wrong 2 (i16, i18) -> [8, 2]; true 1: wrong 3 -> [3, 7]
    let disposed = 0;
    const result = await crossValidate<Item>({
      items,
      kind: 'single-label',
      numLabels: 2,
      folds: 4,
      seed: 3,
      async fit() {
        return {
          predict: async (batch) =>
            batch.map((b) => {
              const index = Number(b.id.slice(1));
              const truth = b.labels[0] as number;
              return [index < 15 ? truth : 1 - truth];
            }),
          dispose: () => {
            disposed++;
          },
        };
      },
    });
    expect(disposed).toBe(4);
    const pooled = result.pooled;
    expect(pooled.kind).toBe('single-label');
    if (pooled.kind !== 'single-label') return;
    expect(pooled.accuracy).toBeCloseTo(0.75, 12);
    expect(pooled.confusion).toEqual([
      [8, 2],
      [3, 7],
    ]);
    const foldAccuracies = result.folds.map((f) =>
      f.metrics.kind === 'single-label' ? f.metrics.accuracy : NaN,
    );
    const mean = foldAccuracies.reduce((a, b) => a + b, 0) / 4;
    expect(result.headline.mean).toBeCloseTo(mean, 12);
  });

  it('reuses given splits exactly, scores multi-label, and stops on abort', async () => {
    const multi = items.map((it, i) => ({
      ...it,
      labels: i % 3 === 0 ? [0, 1] : (it.labels as number[]),
    }));
    const splits = kFoldSplit(multi, { folds: 3, seed: 8 });
    const result = await crossValidate({
      items: multi,
      kind: 'multi-label',
      numLabels: 2,
      splits,
      fit: async () => ({ predict: async (batch: readonly Item[]) => batch.map((b) => b.labels) }),
    });
    expect(result.folds.map((f) => f.validationIds)).toEqual(splits.map((s) => s.validation));
    expect(result.pooled.kind === 'multi-label' && result.pooled.subsetAccuracy).toBe(1);

    const controller = new AbortController();
    controller.abort();
    await expect(
      crossValidate({
        items,
        kind: 'single-label',
        numLabels: 2,
        signal: controller.signal,
        fit: async () => ({
          predict: async (batch: readonly Item[]) => batch.map((b) => b.labels),
        }),
      }),
    ).rejects.toBeInstanceOf(CrossValidationAborted);
  });
});
