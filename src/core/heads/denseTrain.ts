/**
 * Training of the dense head: our own seeded epoch loop (Adam steps on shuffled batches with
 * hand-written gradients, denseStep.ts), so the same data, settings and seed give bit-identical
 * weights on a given backend. Owns the training run (class weights, early stopping on validation
 * loss with best-weight restore, per-epoch logs, abort), the validation split and refit, the
 * batch growth with the data (`batchGrowth`, where the caller left batch size and learning rate at
 * their defaults), and multi-label threshold tuning.
 *
 * - Class weights 'balanced': single-label n / (C * n_c) per sample; multi-label per label, positives
 *   n / (2 * pos) and negatives n / (2 * neg). They weight the training loss only; the reported
 *   validation loss is unweighted. Multi-label accuracy is per (item, label) at 0.5.
 * - Validation: the explicit `validation` set, else a seeded stratified hold-out of
 *   `validationFraction` of the items. Without validation items there is no early stopping and the
 *   multi-label thresholds stay 0.5. With the hold-out and `refit` (default), a second run with the
 *   same seed trains on every item for the best epoch count (logged with `phase: 'refit'`). With an
 *   explicit `validation` set, `refitOn` does the same on the caller's items, after the caller has
 *   seen (and scored) the search run's head.
 * - Abort (AbortSignal) is checked between batches; an aborted run disposes everything it built and
 *   returns `{ status: 'aborted', head: null }`, so the previous model stays the one in use.
 */
import * as tf from '@tensorflow/tfjs';
import { tuneThresholds } from '../eval/metrics';
import { holdoutSplit } from '../eval/split';
import { deriveSeed, mulberry32, randomSeed, shuffleInPlace } from '../random';
import type { ProjectKind } from '../kinds';
import { DenseHead } from './dense';
import { batchGrowth } from './denseConfig';
import {
  accuracyOf,
  buildDenseModel,
  checkDenseConfig,
  denseLogits,
  DENSE_DEFAULTS,
  packInputs,
  perItemLoss,
  type DenseConfig,
} from './denseModel';
import { denseVariables, trainStep, type PackedRows } from './denseStep';
import { indexItems } from './evaluate';
import type { IndexedItem, LabelledEmbedding } from './evaluate';

export interface EpochLog {
  /** 1-based. */
  epoch: number;
  /**
   * Unweighted loss / accuracy on the training part, measured after the epoch without dropout (on
   * TRAIN_METRICS_ROWS evenly spaced training items when there are more).
   */
  loss: number;
  acc: number;
  valLoss: number | null;
  valAcc: number | null;
  /** 'refit': the final run on all items (no validation), after the search run chose the epochs. */
  phase?: 'refit';
}

export interface TrainDenseOptions {
  kind: ProjectKind;
  /** Label ids in order (default: in order of appearance in the items). */
  labels?: readonly string[];
  config?: Partial<DenseConfig>;
  /** Explicit validation items; otherwise a seeded hold-out of the items. */
  validation?: readonly LabelledEmbedding[];
  /**
   * With `validation`: once the search run has chosen the epoch count, `beforeRefit` gets its head
   * (to score it on the validation items; it is disposed afterwards), then a fresh model with the
   * same seed trains on `items` (typically training + validation items and their augmented
   * copies) for that many epochs and is the head returned. Multi-label thresholds come from the
   * search run.
   */
  refitOn?: {
    items: readonly LabelledEmbedding[];
    beforeRefit?: (searched: DenseHead) => Promise<void>;
  };
  onEpoch?: (log: EpochLog) => void;
  signal?: AbortSignal;
}

export type TrainDenseResult =
  | {
      status: 'completed' | 'early-stopped';
      head: DenseHead;
      history: EpochLog[];
      /** Epoch with the lowest validation loss (1-based): the kept weights, or the refit length. */
      bestEpoch: number;
      trainIds: string[];
      /** Items that never trained this head (score them for an honest estimate). */
      validationIds: string[];
    }
  | { status: 'aborted'; head: null; history: EpochLog[] };

/** Batches between yields to the event loop (lets an abort message in). */
const YIELD_EVERY_BATCHES = 32;

/**
 * The per-epoch training loss and accuracy are measured on at most this many training items: a
 * forward pass over all of them cost about a quarter of each epoch at 5,000 images.
 */
export const TRAIN_METRICS_ROWS = 1024;

/** Multi-label thresholds are tuned only for labels with at least this many validation positives. */
const MIN_THRESHOLD_POSITIVES = 5;

const nextTick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

function targets(items: readonly IndexedItem[], numLabels: number): Float32Array {
  const y = new Float32Array(items.length * numLabels);
  items.forEach((item, i) => {
    for (const l of item.labels) y[i * numLabels + l] = 1;
  });
  return y;
}

/** Loss weights: [n] per sample (single-label) or [n, C] per element (multi-label); null = none. */
function lossWeights(
  kind: ProjectKind,
  items: readonly IndexedItem[],
  numLabels: number,
  setting: DenseConfig['classWeights'],
): Float32Array | null {
  if (setting === 'none') return null;
  const n = items.length;
  const positives = new Array<number>(numLabels).fill(0);
  for (const item of items)
    for (const l of new Set(item.labels)) positives[l] = (positives[l] ?? 0) + 1;
  if (kind === 'single-label') {
    const present = positives.filter((c) => c > 0).length;
    const perClass = positives.map((c, l) =>
      Array.isArray(setting)
        ? ((setting as readonly number[])[l] ?? 1)
        : c > 0
          ? n / (present * c)
          : 1,
    );
    return Float32Array.from(items, (item) => perClass[item.labels[0] ?? 0] ?? 1);
  }
  const w = new Float32Array(n * numLabels);
  const pos = positives.map((p, l) =>
    Array.isArray(setting)
      ? ((setting as readonly number[])[l] ?? 1)
      : p > 0 && p < n
        ? n / (2 * p)
        : 1,
  );
  const neg = positives.map((p) =>
    Array.isArray(setting) ? 1 : p > 0 && p < n ? n / (2 * (n - p)) : 1,
  );
  items.forEach((item, i) => {
    const has = new Set(item.labels);
    for (let l = 0; l < numLabels; l++)
      w[i * numLabels + l] = has.has(l) ? (pos[l] ?? 1) : (neg[l] ?? 1);
  });
  return w;
}

interface FitData {
  /** The training rows on the CPU, batches are packed from them. */
  rows: PackedRows;
  /** The rows the per-epoch training loss and accuracy are measured on, on the backend. */
  x: tf.Tensor2D;
  y: tf.Tensor2D;
  xVal: tf.Tensor2D | null;
  yVal: tf.Tensor2D | null;
}

interface FitOutcome {
  status: 'completed' | 'early-stopped' | 'aborted';
  /** The trained model (best validation-loss weights restored); null when aborted. */
  model: tf.Sequential | null;
  bestEpoch: number;
}

interface FitOptions {
  kind: ProjectKind;
  data: FitData;
  numLabels: number;
  config: DenseConfig;
  /** Epochs to run (fewer when early stopping ends the run). */
  epochs: number;
  /** Each epoch's log is appended here (and passed to `onEpoch`). */
  history: EpochLog[];
  /** Marks the logs of the refit run. */
  phase?: EpochLog['phase'];
  onEpoch?: (log: EpochLog) => void;
  signal?: AbortSignal;
}

/** One seeded training run. Owns and (unless returned) disposes its model and optimizer. */
async function fit(options: FitOptions): Promise<FitOutcome> {
  const { kind, numLabels, config, epochs, history, phase } = options;
  const { rows, x, y, xVal, yVal } = options.data;
  const n = rows.x.length / rows.dim;
  const model = buildDenseModel(rows.dim, numLabels, config);
  const optimizer = tf.train.adam(config.learningRate);
  const variables = model.trainableWeights.map((v) => v.read() as tf.Variable);
  const layerVariables = denseVariables(model);
  let best: tf.Tensor[] | null = null;
  let bestLoss = Infinity;
  let bestEpoch = 0;
  let status: FitOutcome['status'] = 'completed';
  let keepModel = false;
  try {
    const rng = mulberry32(deriveSeed(config.seed, 1));
    const order = Array.from({ length: n }, (_, i) => i);
    let sinceBest = 0;
    epochLoop: for (let epoch = 1; epoch <= epochs; epoch++) {
      shuffleInPlace(order, rng);
      for (let start = 0, b = 0; start < n; start += config.batchSize, b++) {
        if (options.signal?.aborted) {
          status = 'aborted';
          break epochLoop;
        }
        const batchIdx = order.slice(start, start + config.batchSize);
        const dropoutSeed = randomSeed(rng);
        trainStep(kind, layerVariables, optimizer, rows, batchIdx, config.dropout, dropoutSeed);
        if ((b + 1) % YIELD_EVERY_BATCHES === 0) await nextTick();
      }

      const measured = tf.tidy(() => {
        const stats = (xs: tf.Tensor2D, ys: tf.Tensor2D): tf.Tensor[] => {
          const logits = denseLogits(model, xs, 0, null);
          return [tf.mean(perItemLoss(kind, logits, ys, null)), accuracyOf(kind, logits, ys)];
        };
        return tf.stack([...stats(x, y), ...(xVal && yVal ? stats(xVal, yVal) : [])]);
      });
      const values = await measured.data();
      measured.dispose();
      const log: EpochLog = {
        epoch,
        loss: values[0] ?? NaN,
        acc: values[1] ?? NaN,
        valLoss: xVal ? (values[2] ?? NaN) : null,
        valAcc: xVal ? (values[3] ?? NaN) : null,
        ...(phase ? { phase } : {}),
      };
      history.push(log);
      options.onEpoch?.(log);

      if (log.valLoss !== null) {
        if (log.valLoss < bestLoss - 1e-6) {
          bestLoss = log.valLoss;
          bestEpoch = epoch;
          sinceBest = 0;
          if (best) tf.dispose(best);
          best = variables.map((v) => tf.clone(v));
        } else if (config.patience > 0 && ++sinceBest >= config.patience) {
          status = 'early-stopped';
          break;
        }
      } else {
        bestEpoch = epoch;
      }
      await nextTick();
    }
    if (options.signal?.aborted) status = 'aborted';
    if (status === 'aborted') return { status, model: null, bestEpoch };
    if (best) variables.forEach((v, i) => v.assign((best as tf.Tensor[])[i] as tf.Tensor));
    keepModel = true;
    return { status, model, bestEpoch };
  } finally {
    if (best) tf.dispose(best);
    optimizer.dispose();
    if (!keepModel) model.dispose();
  }
}

/**
 * Multi-label decision thresholds: per label, the one maximising F1 on the validation items (the
 * search run's sigmoid outputs); labels with fewer than MIN_THRESHOLD_POSITIVES positives keep 0.5.
 */
async function tunedThresholds(
  model: tf.Sequential,
  xVal: tf.Tensor2D,
  validation: readonly IndexedItem[],
  numLabels: number,
): Promise<number[]> {
  const probs = tf.tidy(() => tf.sigmoid(denseLogits(model, xVal, 0, null)));
  const flat = await probs.data();
  probs.dispose();
  return tuneThresholds(
    validation.map((_, i) => flat.subarray(i * numLabels, (i + 1) * numLabels)),
    validation.map((item) => item.labels),
    { minPositives: MIN_THRESHOLD_POSITIVES },
  );
}

/**
 * Trains a dense head. Resolves with the trained head (best validation-loss weights, or the refit
 * model), or `{ status: 'aborted', head: null }` when `signal` fires; no tensor outlives a run.
 */
export async function trainDenseHead(
  items: readonly LabelledEmbedding[],
  options: TrainDenseOptions,
): Promise<TrainDenseResult> {
  const requested = checkDenseConfig({ ...DENSE_DEFAULTS, ...options.config });
  const { kind, signal } = options;
  const { labels } = indexItems([...items, ...(options.validation ?? [])], kind, options.labels);
  let train = indexItems(items, kind, labels).items;
  let validation: IndexedItem[];
  if (options.validation) {
    validation = indexItems(options.validation, kind, labels).items;
    const held = new Set(validation.map((v) => v.id));
    train = train.filter((item) => !held.has(item.id));
  } else {
    const split = holdoutSplit(train, {
      validationFraction: requested.validationFraction,
      seed: requested.seed,
    });
    const held = new Set(split.validation);
    validation = train.filter((item) => held.has(item.id));
    train = train.filter((item) => !held.has(item.id));
  }
  if (train.length === 0) throw new Error('dense: no labelled training items');
  // Batch size and learning rate grow together with the data unless the caller set either.
  const growth =
    options.config?.batchSize === undefined && options.config?.learningRate === undefined
      ? batchGrowth(train.length)
      : 1;
  const config: DenseConfig =
    growth > 1
      ? {
          ...requested,
          batchSize: DENSE_DEFAULTS.batchSize * growth,
          learningRate: DENSE_DEFAULTS.learningRate * growth,
        }
      : requested;
  if (kind === 'single-label' && labels.length < 2) {
    throw new Error('dense: label at least two classes to train');
  }
  const dim = train[0]?.embedding.length ?? 0;
  const numLabels = labels.length;
  const history: EpochLog[] = [];
  if (signal?.aborted) return { status: 'aborted', head: null, history };

  const owned: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor>(t: T): T => {
    owned.push(t);
    return t;
  };
  /**
   * A part's rows packed on the CPU (for the batches), and uploaded for the epoch metrics: every
   * row, or TRAIN_METRICS_ROWS evenly spaced ones with `sample`.
   */
  const dataFor = (
    part: readonly IndexedItem[],
    sample: boolean,
  ): { rows: PackedRows; x: tf.Tensor2D; y: tf.Tensor2D } => {
    const measured =
      sample && part.length > TRAIN_METRICS_ROWS
        ? Array.from(
            { length: TRAIN_METRICS_ROWS },
            (_, i) => part[Math.floor((i * part.length) / TRAIN_METRICS_ROWS)] as IndexedItem,
          )
        : part;
    const rows: PackedRows = {
      x: packInputs(
        part.map((p) => p.embedding),
        dim,
        config,
      ),
      y: targets(part, numLabels),
      w: lossWeights(kind, part, numLabels, config.classWeights),
      dim,
      numLabels,
    };
    const m = measured.length;
    return {
      rows,
      x: keep(
        tf.tensor2d(
          measured === part
            ? rows.x
            : packInputs(
                measured.map((p) => p.embedding),
                dim,
                config,
              ),
          [m, dim],
        ),
      ),
      y: keep(
        tf.tensor2d(measured === part ? rows.y : targets(measured, numLabels), [m, numLabels]),
      ),
    };
  };

  let searched: tf.Sequential | null = null;
  let head: DenseHead | null = null;
  try {
    const t = dataFor(train, true);
    const v = validation.length > 0 ? dataFor(validation, false) : null;
    const run = { kind, numLabels, config, history, onEpoch: options.onEpoch, signal };
    const first = await fit({
      ...run,
      data: { rows: t.rows, x: t.x, y: t.y, xVal: v?.x ?? null, yVal: v?.y ?? null },
      epochs: config.epochs,
    });
    searched = first.model;
    if (!searched) return { status: 'aborted', head: null, history };

    const thresholds =
      kind === 'multi-label' && v
        ? await tunedThresholds(searched, v.x, validation, numLabels)
        : new Array<number>(numLabels).fill(0.5);

    let finalModel = searched;
    let trainIds = train.map((item) => item.id);
    let validationIds = validation.map((item) => item.id);
    const refitItems = options.validation
      ? options.refitOn && v
        ? indexItems(options.refitOn.items, kind, labels).items
        : null
      : config.refit && v
        ? [...train, ...validation]
        : null;
    if (refitItems) {
      const beforeRefit = options.refitOn?.beforeRefit;
      if (beforeRefit) {
        const state = { thresholds, bestEpoch: first.bestEpoch, history: history.slice() };
        const searchHead = new DenseHead({ kind, labels, dim, config, model: searched, state });
        searched = null;
        try {
          await beforeRefit(searchHead);
        } finally {
          searchHead.dispose();
        }
        if (signal?.aborted) return { status: 'aborted', head: null, history };
      }
      // Same seed and settings, all items, for the epoch count validation chose.
      const a = dataFor(refitItems, true);
      const second = await fit({
        ...run,
        data: { rows: a.rows, x: a.x, y: a.y, xVal: null, yVal: null },
        epochs: Math.max(1, first.bestEpoch),
        phase: 'refit',
      });
      if (!second.model) return { status: 'aborted', head: null, history };
      searched?.dispose();
      searched = null;
      finalModel = second.model;
      trainIds = refitItems.map((item) => item.id);
      validationIds = [];
    }
    searched = null;
    head = new DenseHead({
      kind,
      labels,
      dim,
      config,
      model: finalModel,
      state: { thresholds, bestEpoch: first.bestEpoch, history: history.slice() },
    });
    return {
      status: first.status === 'aborted' ? 'completed' : first.status,
      head,
      history,
      bestEpoch: first.bestEpoch,
      trainIds,
      validationIds,
    };
  } finally {
    searched?.dispose();
    tf.dispose(owned);
  }
}
