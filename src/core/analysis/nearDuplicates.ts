/**
 * Near-duplicate groups: images whose unit-normalised embeddings have a cosine similarity at or
 * above a threshold, linked transitively (union-find), so a re-encoded or resized copy lands in
 * its original's group. Similarities are computed as chunked matrix products (one block of rows
 * against every later row, on the TF.js backend, each block tidied), so memory stays at one
 * [chunk, n] block. A group whose labelled members carry different labels is a `conflict`.
 */
import * as tf from '@tensorflow/tfjs';
import { packUnitRows } from '../heads/unitRows';

export interface DuplicateItem {
  id: string;
  embedding: Float32Array;
  /** Empty for an unlabelled image. */
  labelIds: readonly string[];
}

export interface DuplicateGroup {
  /** Members in input order (at least two). */
  sampleIds: string[];
  /** Highest similarity of a linked pair in the group. */
  similarity: number;
  /** Labelled members disagree on their labels. */
  conflict: boolean;
}

export interface NearDuplicateOptions {
  /** Cosine similarity at or above which two images are linked. */
  threshold: number;
  /** Rows per matrix-product block (default 512). */
  chunkRows?: number;
  signal?: AbortSignal;
}

class UnionFind {
  private readonly parent: number[];
  constructor(n: number) {
    this.parent = Array.from({ length: n }, (_, i) => i);
  }
  find(i: number): number {
    let root = i;
    while (this.parent[root] !== root) root = this.parent[root] ?? root;
    let node = i;
    while (node !== root) {
      const next = this.parent[node] ?? root;
      this.parent[node] = root;
      node = next;
    }
    return root;
  }
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
}

/** Groups of near-identical images, largest similarity first. */
export async function nearDuplicateGroups(
  items: readonly DuplicateItem[],
  options: NearDuplicateOptions,
): Promise<DuplicateGroup[]> {
  const n = items.length;
  const dim = items[0]?.embedding.length ?? 0;
  if (n < 2 || dim === 0) return [];
  const chunk = Math.max(1, options.chunkRows ?? 512);
  const rows = packUnitRows(
    items.map((i) => i.embedding),
    dim,
  );
  const links = new UnionFind(n);
  const best = new Float32Array(n).fill(-Infinity);
  const all = tf.tensor2d(rows, [n, dim]);
  try {
    for (let start = 0; start < n; start += chunk) {
      options.signal?.throwIfAborted();
      const end = Math.min(n, start + chunk);
      // Rows [start, end) against rows [start, n): each pair once (the upper triangle, by block).
      const block = tf.tidy(() =>
        tf.matMul(
          all.slice([start, 0], [end - start, dim]),
          all.slice([start, 0], [n - start, dim]),
          false,
          true,
        ),
      );
      const sims = (await block.data()) as Float32Array;
      block.dispose();
      const width = n - start;
      for (let r = 0; r < end - start; r++) {
        const i = start + r;
        for (let c = r + 1; c < width; c++) {
          const s = sims[r * width + c] ?? 0;
          if (s < options.threshold) continue;
          const j = start + c;
          links.union(i, j);
          if (s > (best[i] ?? -Infinity)) best[i] = s;
          if (s > (best[j] ?? -Infinity)) best[j] = s;
        }
      }
    }
  } finally {
    all.dispose();
  }
  const byRoot = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const root = links.find(i);
    const members = byRoot.get(root);
    if (members) members.push(i);
    else byRoot.set(root, [i]);
  }
  const groups: DuplicateGroup[] = [];
  for (const members of byRoot.values()) {
    if (members.length < 2) continue;
    const keys = new Set(
      members
        .map((i) => items[i]?.labelIds ?? [])
        .filter((l) => l.length > 0)
        .map((l) => [...l].sort().join('|')),
    );
    groups.push({
      sampleIds: members.map((i) => items[i]?.id ?? ''),
      similarity: Math.max(...members.map((i) => best[i] ?? -Infinity)),
      conflict: keys.size > 1,
    });
  }
  return groups.sort((a, b) => b.similarity - a.similarity);
}
