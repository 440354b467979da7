import { describe, expect, it } from 'vitest';
import { holdoutSplit, kFoldSplit, strataOf } from '../../src/core/eval/split';
import type { SplitItem } from '../../src/core/eval/split';
import { deriveSeed, mulberry32, seededShuffle } from '../../src/core/random';

/** Class sizes 10, 5, 2, 1 -> 18 items, ids "c<class>-<i>". */
function dataset(): SplitItem[] {
  const sizes = [10, 5, 2, 1];
  return sizes.flatMap((n, c) =>
    Array.from({ length: n }, (_, i) => ({ id: `c${c}-${i}`, labels: [c] })),
  );
}

const classOf = (id: string): number => Number(id.slice(1, id.indexOf('-')));
const countByClass = (ids: string[]): number[] =>
  ids.reduce(
    (acc, id) => {
      acc[classOf(id)] = (acc[classOf(id)] ?? 0) + 1;
      return acc;
    },
    [0, 0, 0, 0],
  );

describe('random', () => {
  it('mulberry32 and seededShuffle are deterministic for a seed', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const seqA = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(seqA);
    for (const v of seqA) expect(v >= 0 && v < 1).toBe(true);
    const items = Array.from({ length: 20 }, (_, i) => i);
    expect(seededShuffle(items, 3)).toEqual(seededShuffle(items, 3));
    expect(seededShuffle(items, 3)).not.toEqual(seededShuffle(items, 4));
    expect([...seededShuffle(items, 3)].sort((x, y) => x - y)).toEqual(items);
    expect(deriveSeed(1, 0)).not.toBe(deriveSeed(1, 1));
  });
});

describe('holdoutSplit', () => {
  it('is stratified with at least one validation item per class of >= 2', () => {
    // target = round(18 * 0.2) = round(3.6) = 4
    // per class floor(n * 0.2): 10 -> 2, 5 -> 1, 2 -> floor(0.4) = 0 raised to 1, 1 -> 0 (a single item trains)
    const split = holdoutSplit(dataset(), { seed: 1 });
    expect(countByClass(split.validation)).toEqual([2, 1, 1, 0]);
    expect(countByClass(split.train)).toEqual([8, 4, 1, 1]);
  });

  it('never puts an id in both parts and covers every id', () => {
    const items = dataset();
    for (const seed of [0, 1, 2, 99]) {
      const { train, validation } = holdoutSplit(items, { seed, validationFraction: 0.3 });
      const t = new Set(train);
      expect(validation.filter((id) => t.has(id))).toEqual([]);
      expect([...train, ...validation].sort()).toEqual(items.map((i) => i.id).sort());
    }
  });

  it('is deterministic for a seed, independent of input order, and changes with the seed', () => {
    const items = dataset();
    const a = holdoutSplit(items, { seed: 5 });
    const b = holdoutSplit(seededShuffle(items, 123), { seed: 5 });
    expect(b).toEqual(a);
    const others = [6, 7, 8, 9].map((seed) =>
      holdoutSplit(items, { seed }).validation.sort().join(),
    );
    expect(others.some((v) => v !== a.validation.slice().sort().join())).toBe(true);
  });

  it('fraction 0 trains on everything; duplicate ids throw', () => {
    expect(holdoutSplit(dataset(), { validationFraction: 0 }).validation).toEqual([]);
    expect(() =>
      holdoutSplit([
        { id: 'a', labels: [0] },
        { id: 'a', labels: [1] },
      ]),
    ).toThrow(/duplicate/);
  });

  it('stratifies multi-label items by their rarest label', () => {
    // label counts: 0 -> 4, 1 -> 2, 2 -> 1
    const items: SplitItem[] = [
      { id: 'a', labels: [0] },
      { id: 'b', labels: [0, 1] },
      { id: 'c', labels: [0, 1] },
      { id: 'd', labels: [0, 2] },
      { id: 'e', labels: [] },
    ];
    expect(strataOf(items)).toEqual([0, 1, 1, 2, -1]);
    const { validation } = holdoutSplit(items, { seed: 3, validationFraction: 0.2 });
    // group {b, c} (rarest label 1) has two items, so it must give one to validation
    expect(validation.filter((id) => id === 'b' || id === 'c')).toHaveLength(1);
  });
});

describe('kFoldSplit', () => {
  it('partitions the items: each is validated exactly once, never trained on in its own fold', () => {
    const items = dataset();
    const folds = kFoldSplit(items, { folds: 5, seed: 11 });
    expect(folds).toHaveLength(5);
    const validated = folds.flatMap((f) => f.validation);
    expect(validated.slice().sort()).toEqual(items.map((i) => i.id).sort());
    for (const fold of folds) {
      const v = new Set(fold.validation);
      expect(fold.train.filter((id) => v.has(id))).toEqual([]);
      expect(fold.train.length + fold.validation.length).toBe(items.length);
    }
    // 18 items into 5 folds: sizes 4, 4, 4, 3, 3 in some order
    expect(folds.map((f) => f.validation.length).sort()).toEqual([3, 3, 4, 4, 4]);
  });

  it('is stratified: a class of 10 gives 2 items to each of 5 folds', () => {
    const folds = kFoldSplit(dataset(), { folds: 5, seed: 2 });
    for (const fold of folds) expect(countByClass(fold.validation)[0]).toBe(2);
    for (const fold of folds) expect(countByClass(fold.validation)[1]).toBe(1);
  });

  it('is deterministic for a seed and clamps folds to the item count', () => {
    const items = dataset();
    expect(kFoldSplit(seededShuffle(items, 9), { seed: 4 })).toEqual(
      kFoldSplit(items, { seed: 4 }),
    );
    expect(kFoldSplit(items.slice(0, 3), { folds: 5 })).toHaveLength(3);
    expect(() => kFoldSplit(items.slice(0, 1))).toThrow();
    expect(() => kFoldSplit(items, { folds: 1 })).toThrow();
  });
});

describe('grouped splits', () => {
  /** 60 items in 3 classes; copies of an image share a group of 1-4 ids (seeded sizes). */
  function grouped(seed: number): SplitItem[] {
    const rng = mulberry32(seed);
    const items: SplitItem[] = [];
    for (let g = 0; items.length < 60; g++) {
      const copies = 1 + Math.floor(rng() * 4);
      for (let c = 0; c < copies && items.length < 60; c++) {
        items.push({ id: `g${g}-${c}`, labels: [g % 3], group: `img${g}` });
      }
    }
    return items;
  }
  const groupOf = (id: string): string => id.slice(0, id.indexOf('-'));

  it('never puts two items of a group on different sides (hold-out and every fold)', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const items = grouped(seed);
      const splits = [holdoutSplit(items, { seed }), ...kFoldSplit(items, { seed })];
      for (const split of splits) {
        const trained = new Set(split.train.map(groupOf));
        for (const id of split.validation) expect(trained.has(groupOf(id))).toBe(false);
        expect(split.train.length + split.validation.length).toBe(items.length);
      }
      // Hold-out size: 20 % of 60 = 12, each of the 3 classes off by at most half a group of 4.
      expect(Math.abs(holdoutSplit(items, { seed }).validation.length - 12)).toBeLessThanOrEqual(6);
      // Folds stay within one group's size of each other and partition the items.
      const sizes = kFoldSplit(items, { seed }).map((f) => f.validation.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(4);
      const validated = kFoldSplit(items, { seed }).flatMap((f) => f.validation);
      expect(new Set(validated).size).toBe(items.length);
    }
  });

  it('validates every class of 2 groups or more, even when its groups are large', () => {
    // 3 classes x 2 images, each image with 5 augmented views: groups of 6, a 20 % share of 2.4.
    const items: SplitItem[] = [];
    for (let c = 0; c < 3; c++)
      for (let g = 0; g < 2; g++)
        for (let v = 0; v < 6; v++)
          items.push({ id: `c${c}-${g}-${v}`, labels: [c], group: `${c}-${g}` });
    for (const seed of [1, 2, 3]) {
      const { train, validation } = holdoutSplit(items, { seed });
      expect(new Set(validation.map(classOf))).toEqual(new Set([0, 1, 2]));
      expect(new Set(train.map(classOf))).toEqual(new Set([0, 1, 2]));
      expect(validation).toHaveLength(18);
    }
  });

  it('splits exactly as without groups when every group is a single item', () => {
    const plain = dataset();
    const own = plain.map((item) => ({ ...item, group: `own-${item.id}` }));
    for (const seed of [0, 7]) {
      expect(holdoutSplit(own, { seed })).toEqual(holdoutSplit(plain, { seed }));
      expect(kFoldSplit(own, { seed })).toEqual(kFoldSplit(plain, { seed }));
    }
  });

  it('is independent of input order, and ignores a group holding every item', () => {
    const items = grouped(9);
    const reversed = [...items].reverse();
    expect(holdoutSplit(reversed, { seed: 3 })).toEqual(holdoutSplit(items, { seed: 3 }));
    expect(kFoldSplit(reversed, { seed: 3 })).toEqual(kFoldSplit(items, { seed: 3 }));
    const one = dataset().map((item) => ({ ...item, group: 'all' }));
    const plain = dataset();
    expect(kFoldSplit(one, { seed: 1 })).toEqual(kFoldSplit(plain, { seed: 1 }));
    expect(holdoutSplit(one, { seed: 1 })).toEqual(holdoutSplit(plain, { seed: 1 }));
  });
});
