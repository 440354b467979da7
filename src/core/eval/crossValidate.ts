/**
 * Generic k-fold cross-validation: splits items with `kFoldSplit`, fits any model on each fold's
 * training part, predicts its validation part, and scores per fold and pooled (all out-of-fold
 * predictions together). Model-agnostic (plain TS): a KNN and a dense head compared with the same
 * items, folds and seed are scored on exactly the same splits; validation items never reach `fit`.
 */
import { headlineScore, multiLabelMetrics, singleLabelMetrics, UNKNOWN } from './metrics';
import type { Metrics } from './metrics';
import { DEFAULT_FOLDS, kFoldSplit } from './split';
import type { Fold, SplitItem } from './split';
import type { ProjectKind } from '../kinds';

/** A fitted model, as cross-validation sees it. */
export interface Predictor<T> {
  /**
   * Predicted label indices for each item, in order. Single-label: `[classIndex]`, or `[]` for
   * "unknown". Multi-label: the predicted label set.
   */
  predict(items: readonly T[]): Promise<(readonly number[])[]>;
  /** Called once the fold is scored (release tensors here). */
  dispose?(): void;
}

export interface FitContext<T> {
  fold: number;
  /** The fold's validation items: for reporting only; fitting on them would leak. */
  validation: readonly T[];
  signal?: AbortSignal;
}

export interface CrossValidateOptions<T extends SplitItem> {
  items: readonly T[];
  kind: ProjectKind;
  /** Number of classes / labels (indices in `labels` are below it). */
  numLabels: number;
  fit: (train: T[], context: FitContext<T>) => Promise<Predictor<T>>;
  folds?: number;
  seed?: number;
  /** Precomputed folds (ids) to reuse exactly; overrides `folds` and `seed`. */
  splits?: readonly Fold[];
  signal?: AbortSignal;
  onFold?: (result: FoldResult) => void;
}

export interface FoldResult {
  fold: number;
  trainIds: string[];
  validationIds: string[];
  metrics: Metrics;
  /** Wall time of fit + predict, ms. */
  millis: number;
}

export interface CrossValidationResult {
  folds: FoldResult[];
  /** Metrics over every out-of-fold prediction at once. */
  pooled: Metrics;
  /** Mean and standard deviation (population) of the per-fold headline score. */
  headline: { mean: number; std: number };
  /** Out-of-fold prediction per item id. */
  predictions: Map<string, readonly number[]>;
}

export class CrossValidationAborted extends Error {
  constructor() {
    super('cross-validation aborted');
    this.name = 'CrossValidationAborted';
  }
}

/**
 * Metrics of predicted label indices against true ones (both into a list of `numLabels` labels).
 * The one rule for a prediction with no label (an "unknown" answer, or multi-label with no label
 * over its threshold): single-label it is UNKNOWN, so it counts as wrong (and lowers the true
 * class's recall), never as class 0; multi-label it is the empty set, so every true label is missed.
 * A single-label truth must hold a class (an empty one throws).
 */
export function scorePredictions(
  kind: ProjectKind,
  truths: readonly (readonly number[])[],
  predicted: readonly (readonly number[])[],
  numLabels: number,
): Metrics {
  if (kind === 'multi-label') return multiLabelMetrics(truths, predicted, numLabels);
  return singleLabelMetrics(
    truths.map((t) => t[0] ?? UNKNOWN),
    predicted.map((p) => p[0] ?? UNKNOWN),
    numLabels,
  );
}

/** Runs the folds one after another (one model alive at a time). Throws CrossValidationAborted. */
export async function crossValidate<T extends SplitItem>(
  options: CrossValidateOptions<T>,
): Promise<CrossValidationResult> {
  const { items, kind, numLabels, fit, signal } = options;
  const splits =
    options.splits ??
    kFoldSplit(items, { folds: options.folds ?? DEFAULT_FOLDS, seed: options.seed ?? 0 });
  const byId = new Map(items.map((item) => [item.id, item]));
  const lookup = (id: string): T => {
    const item = byId.get(id);
    if (!item) throw new Error(`crossValidate: unknown id "${id}" in splits`);
    return item;
  };

  const folds: FoldResult[] = [];
  const predictions = new Map<string, readonly number[]>();
  for (let f = 0; f < splits.length; f++) {
    if (signal?.aborted) throw new CrossValidationAborted();
    const split = splits[f] as Fold;
    const train = split.train.map(lookup);
    const validation = split.validation.map(lookup);
    const started = Date.now();
    const predictor = await fit(train, { fold: f, validation, signal });
    let predicted: (readonly number[])[];
    try {
      predicted = await predictor.predict(validation);
    } finally {
      predictor.dispose?.();
    }
    if (predicted.length !== validation.length)
      throw new Error('crossValidate: predictor returned wrong count');
    validation.forEach((item, i) => predictions.set(item.id, predicted[i] ?? []));
    const result: FoldResult = {
      fold: f,
      trainIds: split.train.slice(),
      validationIds: split.validation.slice(),
      metrics: scorePredictions(
        kind,
        validation.map((v) => v.labels),
        predicted,
        numLabels,
      ),
      millis: Date.now() - started,
    };
    folds.push(result);
    options.onFold?.(result);
  }

  const scored = items.filter((item) => predictions.has(item.id));
  const pooled = scorePredictions(
    kind,
    scored.map((item) => item.labels),
    scored.map((item) => predictions.get(item.id) ?? []),
    numLabels,
  );
  const values = folds.map((f) => headlineScore(f.metrics));
  const mean = values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  const std = Math.sqrt(
    values.reduce((a, v) => a + (v - mean) ** 2, 0) / Math.max(1, values.length),
  );
  return { folds, pooled, headline: { mean, std }, predictions };
}
