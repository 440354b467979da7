/**
 * Bridges heads (label ids, embeddings) and src/core/eval (label indices): scores a head on
 * validation items (`scoreHead`, the one way a head's predictions become metrics), cross-validates
 * any head factory on the same stratified folds (the "Compare heads" table), and runs several
 * variants of a model on shared folds (used by KNN's chooseK). Validation items never reach the fit.
 */
import { crossValidate, scorePredictions } from '../eval/crossValidate';
import type { CrossValidationResult, FoldResult } from '../eval/crossValidate';
import { headlineScore } from '../eval/metrics';
import type { Metrics } from '../eval/metrics';
import { splitGroups } from '../eval/copies';
import { kFoldSplit } from '../eval/split';
import type { Fold } from '../eval/split';
import { averagePredictions, type Predictor } from './ensemble';
import type { Head, Prediction } from './types';
import type { ProjectKind } from '../kinds';

export interface LabelledEmbedding {
  id: string;
  embedding: Float32Array;
  labelIds: readonly string[];
  /** Items of one group (an image and its augmented views) stay on one side of every split. */
  group?: string;
}

/**
 * An item as eval sees it: label indices into a fixed label list, and its split group: its given
 * group merged with its copies (bit-equal embeddings, `splitGroups`).
 */
export interface IndexedItem extends LabelledEmbedding {
  labels: number[];
}

/**
 * Keeps labelled items and gives each label an index: `labels` first (in order), then any other
 * label in order of appearance. Single-label items keep only their first label. Each item's
 * `group` becomes its split group (`splitGroups`).
 */
export function indexItems(
  items: readonly LabelledEmbedding[],
  kind: ProjectKind,
  labels: readonly string[] = [],
): { items: IndexedItem[]; labels: string[] } {
  const list = [...new Set(labels)];
  const index = new Map(list.map((l, i) => [l, i]));
  const indexOf = (label: string): number => {
    let i = index.get(label);
    if (i === undefined) {
      i = list.length;
      list.push(label);
      index.set(label, i);
    }
    return i;
  };
  const out: IndexedItem[] = [];
  for (const item of items) {
    const ids = kind === 'single-label' ? item.labelIds.slice(0, 1) : [...new Set(item.labelIds)];
    if (ids.length === 0) continue;
    out.push({ ...item, labels: ids.map(indexOf) });
  }
  splitGroups(out).forEach((group, i) => {
    const item = out[i];
    if (!item) return;
    if (group === undefined) delete item.group;
    else item.group = group;
  });
  return { items: out, labels: list };
}

/** Label id -> index in `labels` (the first index of a repeated id). */
function labelIndex(labels: readonly string[]): Map<string, number> {
  const index = new Map<string, number>();
  labels.forEach((label, i) => {
    if (!index.has(label)) index.set(label, i);
  });
  return index;
}

/**
 * A prediction's label set as indices: `prediction.labels` (single-label `[top]`, or `[]` for
 * "unknown") mapped through `index`, labels outside it dropped. How an empty set is scored is
 * `scorePredictions`' rule.
 */
export function predictedIndices(
  prediction: Prediction,
  index: ReadonlyMap<string, number>,
): number[] {
  return prediction.labels.flatMap((id) => {
    const i = index.get(id);
    return i === undefined ? [] : [i];
  });
}

export interface HeadScore {
  /** Label indices follow the `labels` given to `scoreHead`; `metrics.n` items were scored. */
  metrics: Metrics;
  /** Predicted label indices of each scored item, in order (`[]`: no label, i.e. unknown). */
  predicted: number[][];
}

/**
 * Scores `head` on `validation` (`scorePredictions`, so a prediction with no label counts as wrong,
 * never as label 0). Truth labels outside `labels` are dropped and items left without one are not
 * scored; single-label items are scored on their first remaining label.
 */
export async function scoreHead(
  head: Head,
  validation: readonly Pick<LabelledEmbedding, 'embedding' | 'labelIds'>[],
  labels: readonly string[],
  kind: ProjectKind,
): Promise<HeadScore> {
  const index = labelIndex(labels);
  const scored = validation.flatMap((item) => {
    const known = [...new Set(item.labelIds)].flatMap((id) => {
      const i = index.get(id);
      return i === undefined ? [] : [i];
    });
    const truth = kind === 'single-label' ? known.slice(0, 1) : known;
    return truth.length > 0 ? [{ embedding: item.embedding, truth }] : [];
  });
  const predictions = scored.length > 0 ? await head.predict(scored.map((s) => s.embedding)) : [];
  const predicted = predictions.map((p) => predictedIndices(p, index));
  const truths = scored.map((s) => s.truth);
  return { metrics: scorePredictions(kind, truths, predicted, labels.length), predicted };
}

export interface VariantFoldsOptions {
  items: readonly LabelledEmbedding[];
  kind: ProjectKind;
  labels?: readonly string[];
  folds?: number;
  seed?: number;
  /** Number of variants `evaluate` returns predictions for. */
  variants: number;
  /** Per fold: predicted label-index lists for each variant (variants x validation items). */
  evaluate: (
    train: IndexedItem[],
    validation: IndexedItem[],
    labels: string[],
  ) => Promise<number[][][]>;
}

export interface VariantFoldsResult {
  /** Pooled out-of-fold headline score per variant. */
  scores: number[];
  metrics: Metrics[];
}

/** Cross-validates several variants on shared folds; null when there are fewer than 2 labelled items. */
export async function crossValidateFolds(
  options: VariantFoldsOptions,
): Promise<VariantFoldsResult | null> {
  const { items, labels } = indexItems(options.items, options.kind, options.labels);
  if (items.length < 2) return null;
  const byId = new Map(items.map((item) => [item.id, item]));
  const splits = kFoldSplit(items, { folds: options.folds, seed: options.seed });
  const truths: number[][] = [];
  const predicted: number[][][] = Array.from({ length: options.variants }, () => []);
  for (const split of splits) {
    const train = split.train.map((id) => byId.get(id) as IndexedItem);
    const validation = split.validation.map((id) => byId.get(id) as IndexedItem);
    const results = await options.evaluate(train, validation, labels);
    truths.push(...validation.map((v) => v.labels));
    results.forEach((r, v) => predicted[v]?.push(...r));
  }
  const metrics = predicted.map((p) => scorePredictions(options.kind, truths, p, labels.length));
  return { scores: metrics.map(headlineScore), metrics };
}

export interface CrossValidateHeadOptions {
  items: readonly LabelledEmbedding[];
  kind: ProjectKind;
  labels?: readonly string[];
  /** Builds or trains a head on the fold's training items only. */
  fit: (train: LabelledEmbedding[], labels: string[], fold: number) => Promise<Predictor>;
  /**
   * Test-time views of a validation item (by id), e.g. its mirror image's embedding: the head's
   * predictions for the item and its views are averaged. Items without views are predicted once.
   */
  testViews?: (id: string) => readonly Float32Array[];
  folds?: number;
  seed?: number;
  /** Reuse exact folds (e.g. from a previous comparison). */
  splits?: readonly Fold[];
  signal?: AbortSignal;
  onFold?: (result: FoldResult) => void;
}

/** `head`'s predictions for `items`, averaged with those for their test-time views if any. */
async function predictWithViews(
  head: Predictor,
  items: readonly IndexedItem[],
  labels: readonly string[],
  options: Pick<CrossValidateHeadOptions, 'testViews' | 'kind'>,
): Promise<Prediction[]> {
  const plain = await head.predict(items.map((v) => v.embedding));
  const viewsOf = options.testViews;
  if (!viewsOf) return plain;
  const views = items.map((item) => viewsOf(item.id));
  const count = Math.max(0, ...views.map((v) => v.length));
  const runs: Prediction[][] = [plain];
  for (let j = 0; j < count; j++) {
    // An item lacking view j repeats its own embedding, so it keeps its plain prediction's weight.
    runs.push(await head.predict(items.map((item, i) => views[i]?.[j] ?? item.embedding)));
  }
  return averagePredictions(runs, labels, options.kind);
}

/**
 * k-fold cross-validation of a head: every head compared with the same items, folds and seed is
 * scored on identical splits. Label indices in the metrics follow the returned `labels`.
 */
export async function crossValidateHead(
  options: CrossValidateHeadOptions,
): Promise<CrossValidationResult & { labels: string[] }> {
  const { items, labels } = indexItems(options.items, options.kind, options.labels);
  const result = await crossValidate<IndexedItem>({
    items,
    kind: options.kind,
    numLabels: labels.length,
    folds: options.folds,
    seed: options.seed,
    splits: options.splits,
    signal: options.signal,
    onFold: options.onFold,
    async fit(train, context) {
      const head = await options.fit(train, labels.slice(), context.fold);
      return {
        async predict(validation) {
          const predictions = await predictWithViews(head, validation, labels, options);
          const index = labelIndex(labels);
          return predictions.map((p) => predictedIndices(p, index));
        },
        dispose() {
          head.dispose();
        },
      };
    },
  });
  return { ...result, labels };
}
