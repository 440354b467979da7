/**
 * Near-duplicate search: every pair of images whose unit-normalised embeddings have a cosine
 * similarity at or above a floor (`similarPairs`), computed as chunked matrix products (one block
 * of rows against every later row, on the TF.js backend, each block tidied), so memory stays at
 * one [chunk, n] block besides the matrix and its transpose; and `nearDuplicateGroups`, which links the pairs at a threshold into
 * groups (duplicateGroups.ts) so a re-encoded or resized copy lands in its original's group. Any
 * threshold at or above the floor regroups the same pairs without another search.
 */
import * as tf from '@tensorflow/tfjs';
import { packUnitRows } from '../heads/unitRows';
import {
  flagGroups,
  groupPairs,
  type DuplicateGroup,
  type SimilarPairs,
  type SplitPart,
} from './duplicateGroups';

export type { DuplicateGroup, SimilarPairs, SplitPart };

export interface DuplicateItem {
  id: string;
  embedding: Float32Array;
  /** Empty for an unlabelled image. */
  labelIds: readonly string[];
  /** Its part of the hold-out split (absent: in neither, e.g. unlabelled). */
  part?: SplitPart;
}

export interface PairSearchOptions {
  /** Pairs with a cosine similarity at or above this are kept. */
  floor: number;
  /** Rows per matrix-product block (default 512). */
  chunkRows?: number;
  signal?: AbortSignal;
}

export interface NearDuplicateOptions {
  /** Cosine similarity at or above which two images are linked. */
  threshold: number;
  /** Rows per matrix-product block (default 512). */
  chunkRows?: number;
  signal?: AbortSignal;
}

/** Appends pairs, doubling its typed arrays as needed. */
class PairBuffer implements SimilarPairs {
  a = new Uint32Array(1024);
  b = new Uint32Array(1024);
  similarity = new Float32Array(1024);
  count = 0;
  push(i: number, j: number, s: number): void {
    if (this.count === this.a.length) {
      const grow = <T extends Uint32Array | Float32Array>(old: T, next: T): T => {
        next.set(old);
        return next;
      };
      const size = this.a.length * 2;
      this.a = grow(this.a, new Uint32Array(size));
      this.b = grow(this.b, new Uint32Array(size));
      this.similarity = grow(this.similarity, new Float32Array(size));
    }
    this.a[this.count] = i;
    this.b[this.count] = j;
    this.similarity[this.count] = s;
    this.count++;
  }
}

/** Every pair (i < j) of `embeddings` with cosine similarity >= `options.floor`. */
export async function similarPairs(
  embeddings: readonly Float32Array[],
  options: PairSearchOptions,
): Promise<SimilarPairs> {
  const pairs = new PairBuffer();
  const n = embeddings.length;
  const dim = embeddings[0]?.length ?? 0;
  if (n < 2 || dim === 0) return pairs;
  const chunk = Math.max(1, options.chunkRows ?? 512);
  const all = tf.tensor2d(packUnitRows(embeddings, dim), [n, dim]);
  // Transposed once: matMul with an explicit [dim, n] operand is ~10x faster on wasm than with
  // its transposeB flag.
  const columns = tf.tidy(() => tf.transpose(all));
  try {
    for (let start = 0; start < n; start += chunk) {
      options.signal?.throwIfAborted();
      const end = Math.min(n, start + chunk);
      // Rows [start, end) against rows [start, n): each pair once (the upper triangle, by block).
      const block = tf.tidy(() =>
        tf.matMul(
          all.slice([start, 0], [end - start, dim]),
          columns.slice([0, start], [dim, n - start]),
        ),
      );
      const sims = (await block.data()) as Float32Array;
      block.dispose();
      const width = n - start;
      for (let r = 0; r < end - start; r++) {
        const row = r * width;
        for (let c = r + 1; c < width; c++) {
          const s = sims[row + c] ?? 0;
          if (s >= options.floor) pairs.push(start + r, start + c, s);
        }
      }
    }
  } finally {
    all.dispose();
    columns.dispose();
  }
  return pairs;
}

/** Groups of near-identical images with their flags, largest similarity first. */
export async function nearDuplicateGroups(
  items: readonly DuplicateItem[],
  options: NearDuplicateOptions,
): Promise<DuplicateGroup[]> {
  const pairs = await similarPairs(
    items.map((i) => i.embedding),
    {
      floor: options.threshold,
      ...(options.chunkRows ? { chunkRows: options.chunkRows } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    },
  );
  const byId = new Map(items.map((i) => [i.id, i]));
  const groups = groupPairs(items.length, pairs, options.threshold).map((g) => ({
    sampleIds: g.members.map((i) => items[i]?.id ?? ''),
    similarity: g.similarity,
  }));
  return flagGroups(
    groups,
    (id) => byId.get(id)?.labelIds ?? [],
    (id) => byId.get(id)?.part,
  );
}
