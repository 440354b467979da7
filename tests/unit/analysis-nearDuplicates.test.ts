import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { nearDuplicateGroups } from '../../src/core/analysis/nearDuplicates';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const item = (id: string, values: number[], labelIds: string[] = []) => ({
  id,
  embedding: Float32Array.from(values),
  labelIds,
});

describe('nearDuplicateGroups', () => {
  const items = [
    item('a', [1, 0, 0], ['x']),
    item('b', [0, 1, 0], ['x']),
    item('a-copy', [2, 0.02, 0], ['y']), // a scaled and nudged: cosine 0.99995
    item('c', [0, 0, 1]),
    item('b-copy', [0, 1, 0.03]), // cosine 0.99955 to b
    item('chain', [1, 0.04, 0], ['x']), // 0.9992 to a, 0.99955 to a-copy
  ];

  it('links pairs above the threshold transitively, across chunks; flags label conflicts', async () => {
    const before = tf.memory().numTensors;
    for (const chunkRows of [1, 2, 512]) {
      const groups = await nearDuplicateGroups(items, { threshold: 0.999, chunkRows });
      expect(groups.map((g) => g.sampleIds)).toEqual([
        ['a', 'a-copy', 'chain'],
        ['b', 'b-copy'],
      ]);
      expect(groups.map((g) => g.conflict)).toEqual([true, false]);
      expect(groups[0]?.similarity).toBeCloseTo(2 / Math.sqrt(4.0004), 5);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a higher threshold splits a group; fewer than two items give none', async () => {
    const strict = await nearDuplicateGroups(items, { threshold: 0.9999 });
    expect(strict.map((g) => g.sampleIds)).toEqual([['a', 'a-copy']]);
    expect(await nearDuplicateGroups(items.slice(0, 1), { threshold: 0.5 })).toEqual([]);
  });
});
