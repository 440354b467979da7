// What stored out-of-fold predictions depend on: the fingerprint changes with the labelled set,
// the labels, the settings and the embeddings, never with the order images are listed in;
// staleness against current labels; one image's own prediction for the sample detail. Also the
// seeded label flips and the top-N score of the mislabel measurement.
import { describe, expect, it } from 'vitest';
import {
  isOutOfFoldStale,
  outOfFoldFingerprint,
  samplePrediction,
  type OutOfFoldBasis,
} from '../../src/core/analysis/storedOutOfFold';
import type { OutOfFoldResult } from '../../src/core/analysis/outOfFold';
import { flipLabels, scoreRanking } from '../../src/core/analysis/simulateMislabels';

const basis: OutOfFoldBasis = {
  embeddingKey: 'mobilenet@centre-crop#1',
  k: 5,
  weighted: true,
  folds: 5,
  labelOrder: ['rose', 'tulip'],
  labelled: [
    { id: 's1', labelIds: ['rose'] },
    { id: 's2', labelIds: ['tulip'] },
    { id: 's3', labelIds: ['rose'] },
  ],
};

describe('outOfFoldFingerprint', () => {
  const fp = outOfFoldFingerprint(basis);

  it('ignores the listing order and unlabelled images', () => {
    expect(
      outOfFoldFingerprint({
        ...basis,
        labelled: [...basis.labelled].reverse().concat([{ id: 's4', labelIds: [] }]),
      }),
    ).toBe(fp);
    expect(fp).toMatch(/^3:[0-9a-f]{16}$/);
  });

  it('changes with a relabel, an added or removed image, the settings or the embeddings', () => {
    const changed: OutOfFoldBasis[] = [
      { ...basis, labelled: [...basis.labelled.slice(0, 2), { id: 's3', labelIds: ['tulip'] }] },
      { ...basis, labelled: basis.labelled.slice(0, 2) },
      { ...basis, labelled: [...basis.labelled, { id: 's5', labelIds: ['rose'] }] },
      { ...basis, k: 3 },
      { ...basis, weighted: false },
      { ...basis, folds: 3 },
      { ...basis, labelOrder: ['tulip', 'rose'] },
      { ...basis, embeddingKey: 'mobilenet_v2@centre-crop#1' },
    ];
    const prints = changed.map(outOfFoldFingerprint);
    for (const p of prints) expect(p).not.toBe(fp);
    expect(new Set(prints).size).toBe(prints.length);
  });
});

const result: OutOfFoldResult = {
  labels: ['rose', 'tulip'],
  predictions: [
    { sampleId: 's1', labelIds: ['rose'], probabilities: [0.2, 0.8], support: [0.5, 0.9] },
    { sampleId: 's2', labelIds: ['tulip'], probabilities: [0.07, 0.93], support: [0.4, 0.9] },
  ],
};

describe('isOutOfFoldStale', () => {
  const current = [
    { id: 's1', labelIds: ['rose'] },
    { id: 's2', labelIds: ['tulip'] },
    { id: 'u', labelIds: [] },
  ];

  it('holds while every labelled image has its prediction with the same labels', () => {
    expect(isOutOfFoldStale(result, current)).toBe(false);
  });

  it('is stale after a relabel, a new labelled image, or a predicted image unlabelled or gone', () => {
    expect(isOutOfFoldStale(result, [current[0]!, { id: 's2', labelIds: ['rose'] }])).toBe(true);
    expect(isOutOfFoldStale(result, [...current, { id: 's9', labelIds: ['rose'] }])).toBe(true);
    expect(isOutOfFoldStale(result, [current[0]!, { id: 's2', labelIds: [] }])).toBe(true);
    expect(isOutOfFoldStale(result, [current[0]!])).toBe(true);
  });
});

describe('samplePrediction', () => {
  it('gives the top label, its probability and whether it agrees', () => {
    expect(samplePrediction(result, { id: 's1', labelIds: ['rose'] })).toEqual({
      predicted: 'tulip',
      probability: 0.8,
      agrees: false,
    });
    expect(samplePrediction(result, { id: 's2', labelIds: ['tulip'] })).toEqual({
      predicted: 'tulip',
      probability: 0.93,
      agrees: true,
    });
  });

  it('nothing before predictions, for unlabelled, unpredicted or relabelled images', () => {
    expect(samplePrediction(null, { id: 's1', labelIds: ['rose'] })).toBeNull();
    expect(samplePrediction(result, { id: 'u', labelIds: [] })).toBeNull();
    expect(samplePrediction(result, { id: 's9', labelIds: ['rose'] })).toBeNull();
    expect(samplePrediction(result, { id: 's1', labelIds: ['tulip'] })).toBeNull();
  });
});

describe('simulated mislabels', () => {
  const items = Array.from({ length: 50 }, (_, i) => ({
    id: `i${i}`,
    labelIds: [['a', 'b', 'c'][i % 3] ?? 'a'],
  }));

  it('flips a seeded share to another label, on a copy', () => {
    const { items: copy, flipped } = flipLabels(items, ['a', 'b', 'c'], 0.1, 7);
    expect(flipped.size).toBe(5);
    expect(flipLabels(items, ['a', 'b', 'c'], 0.1, 7).flipped).toEqual(flipped);
    expect(flipLabels(items, ['a', 'b', 'c'], 0.1, 8).flipped).not.toEqual(flipped);
    copy.forEach((c, i) => {
      const before = items[i]!.labelIds[0];
      if (flipped.has(c.id)) expect(c.labelIds[0]).not.toBe(before);
      else expect(c.labelIds[0]).toBe(before);
    });
    expect(items.every((item, i) => item.labelIds[0] === ['a', 'b', 'c'][i % 3])).toBe(true);
    expect(flipLabels(items, ['a'], 0.5, 1).flipped.size).toBe(0);
  });

  it('scores the top N (N = number flipped)', () => {
    const flipped = new Set(['x', 'y']);
    expect(scoreRanking(['x', 'q', 'y'], flipped)).toEqual({
      n: 2,
      hits: 1,
      precision: 0.5,
      recall: 0.5,
    });
    expect(scoreRanking(['y'], flipped).hits).toBe(1);
    expect(scoreRanking([], new Set()).precision).toBe(0);
  });
});
