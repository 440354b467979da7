/**
 * Out-of-fold KNN predictions: every labelled image predicted by a KNN head that never saw it.
 * The labelled examples are split into seeded stratified folds (`kFoldSplit` with EVAL_SEED, keyed
 * on positions in the given content order, like the head comparison, so the same images give the
 * same folds in any project); each fold's validation part is predicted by a KNN built on the rest.
 * One head is alive at a time and every head is disposed, also on abort or error.
 */
import { KnnHead } from '../heads/knn';
import { indexItems, type LabelledEmbedding } from '../heads/evaluate';
import { EVAL_SEED, kFoldSplit } from '../eval/split';
import type { ProjectKind } from '../kinds';

export interface OutOfFoldOptions {
  kind: ProjectKind;
  /** Label ids in display order; labels met only in the data come after. */
  labels?: readonly string[];
  /** The project's KNN settings (k is clamped to each fold's training size). */
  k: number;
  weighted: boolean;
  /** Number of folds (default 5), clamped to the number of items. */
  folds?: number;
  seed?: number;
  signal?: AbortSignal;
}

/** One labelled image, predicted by a head trained without it. */
export interface OutOfFoldPrediction {
  sampleId: string;
  /** The labels the image had when predicted (single-label: one). */
  labelIds: string[];
  /** Per-label probability, aligned with `OutOfFoldResult.labels`. */
  probabilities: number[];
  /**
   * Per label (same order), the mean cosine similarity of the voting neighbours that carry it
   * (0 when none does): how close the evidence for each label is.
   */
  support: number[];
}

export interface OutOfFoldResult {
  labels: string[];
  predictions: OutOfFoldPrediction[];
}

export class OutOfFoldAborted extends Error {
  constructor() {
    super('Out-of-fold predictions cancelled.');
    this.name = 'OutOfFoldAborted';
  }
}

/** Fewer labelled images than this give no predictions (a fold needs something to train on). */
export const MIN_OUT_OF_FOLD_ITEMS = 2;

/**
 * Out-of-fold probabilities for each of `items` (labelled examples in a content-defined order,
 * e.g. `ProjectHeads.labelled()`). Items without a label are skipped.
 */
export async function outOfFoldPredictions(
  items: readonly LabelledEmbedding[],
  options: OutOfFoldOptions,
): Promise<OutOfFoldResult> {
  const { kind } = options;
  const indexed = indexItems(items, kind, options.labels ?? []);
  const labels = indexed.labels;
  if (indexed.items.length < MIN_OUT_OF_FOLD_ITEMS) return { labels, predictions: [] };
  const folds = kFoldSplit(
    indexed.items.map((item, position) => ({
      id: String(position),
      labels: item.labels,
      ...(item.group === undefined ? {} : { group: item.group }),
    })),
    { folds: options.folds ?? 5, seed: options.seed ?? EVAL_SEED },
  );
  const at = (position: string): (typeof indexed.items)[number] => {
    const item = indexed.items[Number(position)];
    if (!item) throw new Error(`outOfFold: no item at position ${position}`);
    return item;
  };
  const byPosition = new Map<number, OutOfFoldPrediction>();
  for (const fold of folds) {
    if (options.signal?.aborted) throw new OutOfFoldAborted();
    const train = fold.train.map(at);
    const validation = fold.validation.map(at);
    if (train.length === 0 || validation.length === 0) continue;
    const head = KnnHead.build(train, {
      kind,
      labels,
      config: { k: options.k, weighted: options.weighted },
    });
    try {
      const predicted = await head.predict(validation.map((v) => v.embedding));
      // The head was given every label up front, so its label order is `labels`.
      fold.validation.forEach((position, i) => {
        const item = validation[i];
        const prediction = predicted[i];
        if (!item || !prediction) return;
        byPosition.set(Number(position), {
          sampleId: item.id,
          labelIds: item.labels.map((l) => labels[l] ?? ''),
          probabilities: labels.map((_, l) => prediction.probabilities[l] ?? 0),
          support: labels.map((label) => {
            const near = (prediction.neighbours ?? []).filter((n) => n.labelIds.includes(label));
            return near.length === 0
              ? 0
              : near.reduce((sum, n) => sum + n.similarity, 0) / near.length;
          }),
        });
      });
    } finally {
      head.dispose();
    }
  }
  const predictions = [...byPosition.entries()].sort((a, b) => a[0] - b[0]).map(([, p]) => p);
  return { labels, predictions };
}
