// Split groups from embeddings: bit-equal embeddings (copies of one image) and given groups (an
// image and its augmented views) merge transitively; an item sharing neither has no group; the
// heads' indexing and `withViews` carry the groups into every split.
import { describe, expect, it } from 'vitest';
import { embeddingKey, splitGroups } from '../../src/core/eval/copies';
import { holdoutSplit } from '../../src/core/eval/split';
import { indexItems } from '../../src/core/heads/evaluate';
import { withViews } from '../../src/core/heads/trainingSet';

const vec = (...values: number[]): Float32Array => Float32Array.from(values);

describe('splitGroups', () => {
  it('groups bit-equal embeddings and given groups, transitively', () => {
    const groups = splitGroups([
      { embedding: vec(1, 2, 3) },
      { embedding: vec(1, 2, 3) },
      { embedding: vec(1, 2, 3.0000002) },
      { embedding: vec(4, 5, 6), group: 'x' },
      { embedding: vec(7, 8, 9), group: 'x' },
      { embedding: vec(1, 2, 3.0000002), group: 'y' },
      { embedding: vec(0, 0, 1) },
    ]);
    expect(groups[0]).toBeDefined();
    expect(groups[1]).toBe(groups[0]);
    // A near copy is not a copy; it joins its own exact twin only.
    expect(groups[2]).not.toBe(groups[0]);
    expect(groups[5]).toBe(groups[2]);
    expect(groups[3]).toBeDefined();
    expect(groups[4]).toBe(groups[3]);
    expect(groups[6]).toBeUndefined();
    expect(new Set(groups.filter(Boolean)).size).toBe(3);
  });

  it('keys equal bytes alike, wherever they sit in a buffer', () => {
    const big = vec(9, 1, 2, 3);
    expect(embeddingKey(big.subarray(1))).toBe(embeddingKey(vec(1, 2, 3)));
    expect(embeddingKey(vec(1, 2, 3))).not.toBe(embeddingKey(vec(1, 3, 2)));
    expect(embeddingKey(vec(1, 2, 3))).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('groups in the heads', () => {
  it('never validates on a copy or a view of a training image', () => {
    const items = Array.from({ length: 40 }, (_, i) => ({
      id: `s${i}`,
      // Every image twice: items i and i + 20 are copies.
      embedding: vec(i % 20, (i % 20) * 0.5, 1),
      labelIds: [i % 2 === 0 ? 'a' : 'b'],
    }));
    const views = [
      {
        suffix: '#flip',
        vectors: new Map(items.map((item) => [item.id, vec(item.embedding[0] ?? 0, -1, 2)])),
      },
    ];
    const indexed = indexItems(withViews(items, views), 'single-label').items;
    expect(indexed).toHaveLength(80);
    const image = (id: string): number => Number(id.replace('#flip', '').slice(1)) % 20;
    for (const seed of [1, 2, 3]) {
      const split = holdoutSplit(indexed, { seed });
      expect(split.validation.length).toBeGreaterThan(0);
      const trained = new Set(split.train.map(image));
      for (const id of split.validation) expect(trained.has(image(id))).toBe(false);
    }
  });
});
