import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  outOfFoldPredictions,
  OutOfFoldAborted,
  type OutOfFoldResult,
} from '../../src/core/analysis/outOfFold';
import { labelKey, rankMislabels } from '../../src/core/analysis/mislabels';
import { confusionCells } from '../../src/core/analysis/confusionCells';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

/** Two tight clusters on the axes: `a` near (1, 0), `b` near (0, 1). */
function twoClusters(n: number): { id: string; embedding: Float32Array; labelIds: string[] }[] {
  const out = [];
  for (let i = 0; i < n; i++) {
    const e = 0.01 * (i + 1);
    out.push({ id: `a${i}`, embedding: Float32Array.from([1, e]), labelIds: ['a'] });
    out.push({ id: `b${i}`, embedding: Float32Array.from([e, 1]), labelIds: ['b'] });
  }
  return out;
}

describe('outOfFoldPredictions', () => {
  it('predicts every labelled image with a head that never saw it', async () => {
    const items = twoClusters(6);
    // An image of cluster a labelled b: alone, its own vote would make it look right.
    items.push({ id: 'wrong', embedding: Float32Array.from([1, 0.05]), labelIds: ['b'] });
    const before = tf.memory().numTensors;
    const oof = await outOfFoldPredictions(items, {
      kind: 'single-label',
      labels: ['a', 'b'],
      k: 1,
      weighted: false,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(oof.labels).toEqual(['a', 'b']);
    expect(oof.predictions.map((p) => p.sampleId).sort()).toEqual(items.map((i) => i.id).sort());
    const wrong = oof.predictions.find((p) => p.sampleId === 'wrong');
    expect(wrong?.labelIds).toEqual(['b']);
    expect(wrong?.probabilities).toEqual([1, 0]); // its nearest other image is an `a`
    expect(wrong?.support[0]).toBeGreaterThan(0.99);
    expect(wrong?.support[1]).toBe(0);
    const a0 = oof.predictions.find((p) => p.sampleId === 'a0');
    expect(a0?.probabilities).toEqual([1, 0]);
  });

  it('is the same for the same content in the same order, and skips unlabelled items', async () => {
    const items = [
      ...twoClusters(5),
      { id: 'u', embedding: Float32Array.from([1, 1]), labelIds: [] },
    ];
    const options = { kind: 'single-label' as const, k: 3, weighted: true };
    const one = await outOfFoldPredictions(items, options);
    const two = await outOfFoldPredictions(items, options);
    expect(two).toEqual(one);
    expect(one.predictions).toHaveLength(10);
  });

  it('returns nothing for fewer than 2 images; stops when aborted (tensors released)', async () => {
    const one = await outOfFoldPredictions(twoClusters(1).slice(0, 1), {
      kind: 'single-label',
      k: 5,
      weighted: false,
    });
    expect(one.predictions).toEqual([]);
    const controller = new AbortController();
    controller.abort();
    const before = tf.memory().numTensors;
    await expect(
      outOfFoldPredictions(twoClusters(4), {
        kind: 'single-label',
        k: 3,
        weighted: false,
        signal: controller.signal,
      }),
    ).rejects.toBeInstanceOf(OutOfFoldAborted);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('rankMislabels', () => {
  const oof: OutOfFoldResult = {
    labels: ['a', 'b', 'c'],
    predictions: [
      { sampleId: 'agree', labelIds: ['a'], probabilities: [0.8, 0.2, 0], support: [0.9, 0.5, 0] },
      { sampleId: 'strong', labelIds: ['a'], probabilities: [0, 1, 0], support: [0, 0.8, 0] },
      { sampleId: 'copy', labelIds: ['a'], probabilities: [0, 1, 0], support: [0, 0.95, 0] },
      {
        sampleId: 'weak',
        labelIds: ['b'],
        probabilities: [0.4, 0.2, 0.4],
        support: [0.5, 0.5, 0.5],
      },
      {
        sampleId: 'tieA',
        labelIds: ['c'],
        probabilities: [0.6, 0.2, 0.2],
        support: [0.7, 0.6, 0.6],
      },
      {
        sampleId: 'tieB',
        labelIds: ['c'],
        probabilities: [0.4, 0.4, 0.2],
        support: [0.5, 0.5, 0.5],
      },
    ],
  };

  it('ranks by 1 - p(given), ties by margin then support; agreeing images are left out', () => {
    const ranked = rankMislabels(oof);
    expect(ranked.map((r) => r.sampleId)).toEqual(['copy', 'strong', 'tieA', 'tieB', 'weak']);
    const [copy, strong, tieA, tieB, weak] = ranked;
    expect(copy?.support).toBe(0.95); // closer neighbours of b than `strong` has
    expect(strong).toMatchObject({ given: 'a', suggested: 'b', score: 1, margin: 1 });
    expect(tieA?.score).toBeCloseTo(0.8, 12);
    expect(tieA?.margin).toBeCloseTo(0.4, 12);
    expect(tieB?.margin).toBeCloseTo(0.2, 12);
    expect(tieB?.suggested).toBe('a'); // a and b tie at 0.4: the first label in order wins
    expect(weak).toMatchObject({ given: 'b', suggested: 'a' });
  });

  it('skips kept images until their labels change, and keeps the top N', () => {
    const kept = rankMislabels(oof, { reviewed: { strong: labelKey(['a']) } });
    expect(kept.map((r) => r.sampleId)).not.toContain('strong');
    const changed = rankMislabels(oof, { reviewed: { strong: labelKey(['b']) } });
    expect(changed.map((r) => r.sampleId)).toContain('strong');
    expect(rankMislabels(oof, { limit: 2 }).map((r) => r.sampleId)).toEqual(['copy', 'strong']);
  });

  it('multi-label: the given label believed least, the best label not given', () => {
    const ranked = rankMislabels({
      labels: ['a', 'b', 'c'],
      predictions: [
        { sampleId: 'm', labelIds: ['a', 'b'], probabilities: [0.9, 0.1, 0.7], support: [1, 1, 1] },
      ],
    });
    expect(ranked).toMatchObject([{ sampleId: 'm', given: 'b', suggested: 'c' }]);
    expect(labelKey(['b', 'a'])).toBe('a|b');
  });
});

describe('confusionCells', () => {
  it('puts each scored held-out image in its [true][predicted] cell', () => {
    const validation = [
      { id: 'x', labelIds: ['a'] },
      { id: 'gone', labelIds: ['z'] }, // label not in the list: not scored
      { id: 'y', labelIds: ['b'] },
      { id: 'w', labelIds: ['a'] },
      { id: 'u', labelIds: ['b'] },
    ];
    const cells = confusionCells(validation, [[0], [0], [1], []], ['a', 'b']);
    expect(cells).toEqual([
      [['x'], ['w']],
      [['y'], []], // u was predicted unknown: in no cell
    ]);
    expect(() => confusionCells(validation, [[0]], ['a', 'b'])).toThrow(/2|4/);
  });
});
