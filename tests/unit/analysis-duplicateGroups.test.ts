// Near-duplicate grouping without tensors, on hand-made pairs: a threshold links pairs into groups
// (transitively) and a higher one splits them; `conflict` and `leakage` flags; which image
// `Keep one` keeps; and the threshold setting's validation.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DUPLICATE_THRESHOLD,
  flagGroups,
  groupPairs,
  hasLeakage,
  keepOneChoice,
  MIN_DUPLICATE_THRESHOLD,
  validDuplicateThreshold,
  type SimilarPairs,
} from '../../src/core/analysis/duplicateGroups';

/** Pairs [i, j, similarity]. */
function pairs(list: [number, number, number][]): SimilarPairs {
  return {
    a: Uint32Array.from(list.map((p) => p[0])),
    b: Uint32Array.from(list.map((p) => p[1])),
    similarity: Float32Array.from(list.map((p) => p[2])),
    count: list.length,
  };
}

describe('groupPairs', () => {
  // 0-1 a near copy, 1-2 a looser copy (chain), 3-4 a loose pair, 5 alone.
  const found = pairs([
    [0, 1, 0.99],
    [1, 2, 0.96],
    [3, 4, 0.91],
  ]);

  it('links pairs at or above the threshold transitively', () => {
    expect(groupPairs(6, found, 0.9)).toEqual([
      { members: [0, 1, 2], similarity: expect.closeTo(0.99, 5) },
      { members: [3, 4], similarity: expect.closeTo(0.91, 5) },
    ]);
  });

  it('a higher threshold splits and drops groups', () => {
    expect(groupPairs(6, found, 0.97).map((g) => g.members)).toEqual([[0, 1]]);
    expect(groupPairs(6, found, 0.995)).toEqual([]);
    expect(groupPairs(6, pairs([]), 0.5)).toEqual([]);
  });
});

describe('flagGroups', () => {
  const labels: Record<string, string[]> = {
    a: ['rose'],
    b: ['rose'],
    c: ['tulip'],
    d: [],
    e: ['rose'],
  };
  const parts: Record<string, 'train' | 'validation'> = {
    a: 'train',
    b: 'validation',
    c: 'train',
    e: 'train',
  };
  const flag = (groups: { sampleIds: string[]; similarity: number }[]) =>
    flagGroups(
      groups,
      (id) => labels[id] ?? [],
      (id) => parts[id],
    );

  it('conflict: labelled members disagree (unlabelled ones do not count)', () => {
    const [x, y] = flag([
      { sampleIds: ['a', 'c'], similarity: 0.99 },
      { sampleIds: ['a', 'd', 'e'], similarity: 0.98 },
    ]);
    expect(x?.conflict).toBe(true);
    expect(y?.conflict).toBe(false);
  });

  it('leakage: members in both the training and the evaluation part', () => {
    const flagged = flag([
      { sampleIds: ['a', 'e'], similarity: 0.97 }, // both train
      { sampleIds: ['a', 'b'], similarity: 0.99 }, // train + validation
      { sampleIds: ['b', 'd'], similarity: 0.98 }, // validation + unlabelled
    ]);
    expect(flagged.map((g) => [g.sampleIds.join(''), g.leakage])).toEqual([
      ['ab', true],
      ['bd', false],
      ['ae', false],
    ]);
    expect(hasLeakage([undefined, 'train'])).toBe(false);
  });
});

describe('keepOneChoice', () => {
  const base = { labelIds: [] as string[], width: 100, height: 100, byteSize: 1000, createdAt: 5 };

  it('keeps a labelled image, then the largest, the least compressed, the oldest', () => {
    expect(
      keepOneChoice([
        { ...base, id: 'big-unlabelled', width: 400, height: 400 },
        { ...base, id: 'labelled', labelIds: ['rose'] },
      ]),
    ).toEqual({ keep: 'labelled', remove: ['big-unlabelled'] });
    expect(
      keepOneChoice([
        { ...base, id: 'small' },
        { ...base, id: 'resized-up', width: 200, height: 200 },
        { ...base, id: 'small-2' },
      ]),
    ).toEqual({ keep: 'resized-up', remove: ['small', 'small-2'] });
    expect(
      keepOneChoice([
        { ...base, id: 'reencoded', byteSize: 500 },
        { ...base, id: 'original', byteSize: 900, createdAt: 9 },
        { ...base, id: 'original-older', byteSize: 900, createdAt: 1 },
      ]).keep,
    ).toBe('original-older');
  });

  it('ties keep the first image; an empty group keeps nothing', () => {
    expect(
      keepOneChoice([
        { ...base, id: 'x' },
        { ...base, id: 'y' },
      ]).keep,
    ).toBe('x');
    expect(keepOneChoice([])).toEqual({ keep: '', remove: [] });
  });
});

it('validDuplicateThreshold keeps [min, 1] and defaults anything else', () => {
  expect(validDuplicateThreshold(0.97)).toBe(0.97);
  expect(validDuplicateThreshold(1)).toBe(1);
  expect(validDuplicateThreshold(MIN_DUPLICATE_THRESHOLD - 0.01)).toBe(DEFAULT_DUPLICATE_THRESHOLD);
  expect(validDuplicateThreshold('0.9')).toBe(DEFAULT_DUPLICATE_THRESHOLD);
  expect(validDuplicateThreshold(undefined)).toBe(DEFAULT_DUPLICATE_THRESHOLD);
});
