/**
 * Bridges heads (label ids, embeddings) and src/core/eval (label indices): cross-validates any
 * head factory on the same stratified folds (the "Compare heads" table), and runs several variants
 * of a model on shared folds (used by KNN's chooseK). Validation items never reach the fit.
 */
import { crossValidate, scorePredictions } from '../eval/crossValidate';
import type { CrossValidationResult, FoldResult } from '../eval/crossValidate';
import { headlineScore } from '../eval/metrics';
import type { Metrics } from '../eval/metrics';
import { kFoldSplit } from '../eval/split';
import type { Fold } from '../eval/split';
import type { Head } from './types';
import type { ProjectKind } from '../kinds';

export interface LabelledEmbedding {
  id: string;
  embedding: Float32Array;
  labelIds: readonly string[];
}

/** An item as eval sees it: label indices into a fixed label list. */
export interface IndexedItem extends LabelledEmbedding {
  labels: number[];
}

/**
 * Keeps labelled items and gives each label an index: `labels` first (in order), then any other
 * label in order of appearance. Single-label items keep only their first label.
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
  return { items: out, labels: list };
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
  fit: (train: LabelledEmbedding[], labels: string[], fold: number) => Promise<Head>;
  folds?: number;
  seed?: number;
  /** Reuse exact folds (e.g. from a previous comparison). */
  splits?: readonly Fold[];
  signal?: AbortSignal;
  onFold?: (result: FoldResult) => void;
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
          const predictions = await head.predict(validation.map((v) => v.embedding));
          return predictions.map((p) => {
            const picked =
              options.kind === 'single-label' ? (p.top === null ? [] : [p.top]) : p.labels;
            return picked.map((id) => labels.indexOf(id)).filter((i) => i >= 0);
          });
        },
        dispose() {
          head.dispose();
        },
      };
    },
  });
  return { ...result, labels };
}
