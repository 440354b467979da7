/**
 * Near-duplicate groups without tensors: linking similar pairs into groups at a threshold
 * (union-find, so a chain of copies forms one group), the flags of a group (`conflict`: its
 * labelled images disagree on their labels; `leakage`: it has images in both the training and the
 * evaluation part of the dense head's hold-out split, so a copy of a training image is scored) and
 * which image `Keep one` keeps. Pure functions.
 */

/**
 * Cosine similarity at or above which two images count as near-duplicates by default. Measured on
 * all 2,585 distinct photos of flowers5-dev with MobileNet v1 embeddings
 * (scripts/measureDuplicates.mjs): of 3.3 million pairs of different photos none reaches 0.95
 * (the highest 0.949), while the dataset's own resized copies score 0.966 and 0.977, copies resized
 * to 75 % or 50 % at least 0.958, WebP copies 0.949 at the 5th percentile; JPEG at quality 50, a
 * 90 % crop or a quarter-size copy fall below it about half the time (the slider goes lower).
 */
export const DEFAULT_DUPLICATE_THRESHOLD = 0.95;
/** The lowest threshold offered: pairs are searched down to it once, then regrouped. */
export const MIN_DUPLICATE_THRESHOLD = 0.85;

/** A threshold in [MIN_DUPLICATE_THRESHOLD, 1], or the default for anything else. */
export function validDuplicateThreshold(value: unknown): number {
  return typeof value === 'number' && value >= MIN_DUPLICATE_THRESHOLD && value <= 1
    ? value
    : DEFAULT_DUPLICATE_THRESHOLD;
}

/** Pairs of items (indices into one list) with their cosine similarity. */
export interface SimilarPairs {
  a: Uint32Array;
  b: Uint32Array;
  similarity: Float32Array;
  /** Pairs in use (the arrays may be longer). */
  count: number;
}

export interface DuplicateGroup {
  /** Members in input order (at least two). */
  sampleIds: string[];
  /** Highest similarity of a linked pair in the group. */
  similarity: number;
  /** Labelled members disagree on their labels. */
  conflict: boolean;
  /** Members in both the training and the evaluation part of the hold-out split. */
  leakage: boolean;
}

/** Which part of the hold-out split an image is in (unlabelled images are in neither). */
export type SplitPart = 'train' | 'validation';

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

/**
 * Groups of `n` items linked by the pairs at or above `threshold`: members in ascending index
 * order, with the highest similarity of a linked pair; groups of one are left out.
 */
export function groupPairs(
  n: number,
  pairs: SimilarPairs,
  threshold: number,
): { members: number[]; similarity: number }[] {
  const links = new UnionFind(n);
  const best = new Float32Array(n).fill(-Infinity);
  for (let p = 0; p < pairs.count; p++) {
    const s = pairs.similarity[p] ?? -Infinity;
    if (s < threshold) continue;
    const i = pairs.a[p] ?? 0;
    const j = pairs.b[p] ?? 0;
    links.union(i, j);
    if (s > (best[i] ?? -Infinity)) best[i] = s;
    if (s > (best[j] ?? -Infinity)) best[j] = s;
  }
  const byRoot = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    if (best[i] === -Infinity) continue;
    const root = links.find(i);
    const members = byRoot.get(root);
    if (members) members.push(i);
    else byRoot.set(root, [i]);
  }
  return [...byRoot.values()]
    .filter((members) => members.length >= 2)
    .map((members) => ({
      members,
      similarity: Math.max(...members.map((i) => best[i] ?? -Infinity)),
    }));
}

/** Sorted label ids joined, so label sets compare as strings. */
const keyOf = (labelIds: readonly string[]): string => [...labelIds].sort().join('|');

/** Whether the labelled images among `labelIds` (one entry per image) carry different labels. */
export function hasConflict(labelIds: readonly (readonly string[])[]): boolean {
  return new Set(labelIds.filter((l) => l.length > 0).map(keyOf)).size > 1;
}

/** Whether the images' split parts include both training and evaluation. */
export function hasLeakage(parts: readonly (SplitPart | undefined)[]): boolean {
  return parts.includes('train') && parts.includes('validation');
}

/** Groups with their flags, largest similarity first (ties: first member's id). */
export function flagGroups(
  groups: readonly { sampleIds: string[]; similarity: number }[],
  labelsOf: (sampleId: string) => readonly string[],
  partOf: (sampleId: string) => SplitPart | undefined,
): DuplicateGroup[] {
  return groups
    .map((g) => ({
      sampleIds: g.sampleIds,
      similarity: g.similarity,
      conflict: hasConflict(g.sampleIds.map(labelsOf)),
      leakage: hasLeakage(g.sampleIds.map(partOf)),
    }))
    .sort(
      (x, y) =>
        y.similarity - x.similarity || ((x.sampleIds[0] ?? '') < (y.sampleIds[0] ?? '') ? -1 : 1),
    );
}

/** What `Keep one` needs to know of each image of a group. */
export interface KeepCandidate {
  id: string;
  labelIds: readonly string[];
  width: number;
  height: number;
  byteSize: number;
  createdAt: number;
}

/**
 * The image `Keep one` keeps, and the others (to delete): a labelled image before an unlabelled
 * one (its label is the information worth keeping), then the most pixels, then the most bytes
 * (least compressed), then the oldest, then the first in the group.
 */
export function keepOneChoice(group: readonly KeepCandidate[]): { keep: string; remove: string[] } {
  let best: KeepCandidate | undefined;
  for (const c of group) {
    if (!best) {
      best = c;
      continue;
    }
    const d =
      Number(c.labelIds.length > 0) - Number(best.labelIds.length > 0) ||
      c.width * c.height - best.width * best.height ||
      c.byteSize - best.byteSize ||
      best.createdAt - c.createdAt;
    if (d > 0) best = c;
  }
  if (!best) return { keep: '', remove: [] };
  const keep = best.id;
  return { keep, remove: group.filter((c) => c.id !== keep).map((c) => c.id) };
}
