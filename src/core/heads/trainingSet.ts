/**
 * Building training sets from labelled embeddings: augmentation views' copies of the training
 * items (`withViews`) and position keys (`byPosition`), so splits and folds depend on the data's
 * content order, never on random sample ids. Pure functions; no tensors.
 */
import type { LabelledEmbedding } from './evaluate';

/** Cached embeddings of one augmentation view: item key -> vector. */
export interface ViewEmbeddings {
  suffix: string;
  vectors: ReadonlyMap<string, Float32Array>;
}

/**
 * `train` plus, per view, the copy of each item that has one (ids suffixed, same labels). An item
 * and its copies share a `group` (its own, else "image:" + its id), so a split of the result never
 * validates on a view of a training image.
 */
export function withViews(
  train: readonly LabelledEmbedding[],
  views: readonly ViewEmbeddings[],
): LabelledEmbedding[] {
  if (views.length === 0) return [...train];
  const copies = views.flatMap((view) =>
    train.flatMap((t) => {
      const v = view.vectors.get(t.id);
      const group = t.group ?? `image:${t.id}`;
      return v ? [{ id: t.id + view.suffix, embedding: v, labelIds: t.labelIds, group }] : [];
    }),
  );
  return [...train.map((t) => ({ ...t, group: t.group ?? `image:${t.id}` })), ...copies];
}

/** Items re-keyed by their position (ids "0", "1", ...), for splits that ignore random ids. */
export function byPosition<T extends { id: string }>(items: readonly T[]): T[] {
  return items.map((item, position) => ({ ...item, id: String(position) }));
}

/**
 * Orders labelled examples by their embedding values, then labels: training and evaluation then
 * depend on the data, not on the order images happened to be imported or embedded.
 */
export function compareByContent(a: LabelledEmbedding, b: LabelledEmbedding): number {
  const n = Math.min(a.embedding.length, b.embedding.length);
  for (let i = 0; i < n; i++) {
    const d = (a.embedding[i] ?? 0) - (b.embedding[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.labelIds.join('|').localeCompare(b.labelIds.join('|'));
}

/** The first `perClass` items of each (first) label, in order; all items when null. */
export function firstPerClass<T extends LabelledEmbedding>(
  items: readonly T[],
  perClass: number | null,
): T[] {
  if (!perClass) return [...items];
  const seen = new Map<string, number>();
  return items.filter((t) => {
    const label = t.labelIds[0] ?? '';
    const n = seen.get(label) ?? 0;
    seen.set(label, n + 1);
    return n < perClass;
  });
}
