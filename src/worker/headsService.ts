/**
 * Heads inside the engine worker: the live KNN head of the open project (kept in sync with every
 * embedding and label change), the latest trained dense head (restored from IndexedDB), training
 * with hold-out evaluation, k-fold head comparison, and predictions for the "try" image.
 * Everything here runs off the main thread; only plain data crosses back.
 */
import * as tf from '@tensorflow/tfjs';
import { singleLabelMetrics, multiLabelMetrics, type Metrics } from '../core/eval/metrics';
import { holdoutSplit } from '../core/eval/split';
import type { DenseHead } from '../core/heads';
import {
  chooseK,
  crossValidateHead,
  deserializeHead,
  indexItems,
  KnnHead,
  trainDenseHead,
  DENSE_DEFAULTS,
  type DenseConfig,
  type EpochLog,
  type Head,
  type HeadKind,
  type LabelledEmbedding,
  type Prediction,
  type SerializedDenseHead,
} from '../core/heads';
import type { LoupeDatabase } from '../core/storage/db';
import { listEmbeddings } from '../core/storage/embeddings';
import { listModels, saveModel } from '../core/storage/models';
import { listSampleMeta } from '../core/storage/samples';
import { newId } from '../core/ids';

export const EVAL_SEED = 1234;

export interface HeadEvaluation {
  head: 'knn' | 'dense';
  metrics: Metrics;
  /** Label ids in the order of the metrics' per-class rows and confusion matrix. */
  labels: string[];
  validationSize: number;
  trainSize: number;
}

/** What the UI needs to know about the saved dense model (no tensors). */
export interface DenseModelSummary {
  id: string;
  createdAt: number;
  labels: string[];
  config: DenseConfig;
  history: EpochLog[];
  bestEpoch: number;
  evaluations: HeadEvaluation[];
  /** sampleId -> sorted label ids used for training + validation: tells whether data changed since. */
  snapshot: Record<string, string[]>;
  embeddingKey: string;
  backboneId: string;
  kind: HeadKind;
  /** Training-time augmentation; absent on models saved before it existed (= none). */
  augmentation?: Augmentation;
}

/** Extra training copies: `flips` adds each training image's horizontal flip (cached embeddings). */
export interface Augmentation {
  flips: boolean;
}

export interface DenseModelPayload {
  summary: DenseModelSummary;
  head: SerializedDenseHead;
}

export interface TryPredictions {
  knn: Prediction | null;
  dense: Prediction | null;
  /** Label ids in the order of each prediction's probabilities. */
  knnLabels: string[];
  denseLabels: string[];
}

export const FLIP_SUFFIX = '~flip';

export type EvalVariant = 'knn' | 'knn+flip' | 'dense' | 'dense+flip' | 'logreg';

export interface EvalRow {
  variant: EvalVariant;
  accuracy: number;
  macroF1: number;
  std: number;
  folds: number;
  trainPerClass: number | null;
  k: number;
}

export interface CompareRow {
  variant: EvalVariant;
  head: string;
  accuracy: number;
  macroF1: number;
  std: number;
  folds: number;
}

interface Example {
  id: string;
  embedding: Float32Array;
  labelIds: string[];
}

function compareExamples(a: Example, b: Example): number {
  const n = Math.min(a.embedding.length, b.embedding.length);
  for (let i = 0; i < n; i++) {
    const d = (a.embedding[i] ?? 0) - (b.embedding[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.labelIds.join('|').localeCompare(b.labelIds.join('|'));
}

/** `train` plus the flipped copy of each item that has one (ids suffixed, same labels). */
export function withFlips(
  train: readonly LabelledEmbedding[],
  flips: ReadonlyMap<string, Float32Array>,
): LabelledEmbedding[] {
  const copies = train.flatMap((t) => {
    const f = flips.get(t.id);
    return f ? [{ id: t.id + FLIP_SUFFIX, embedding: f, labelIds: t.labelIds }] : [];
  });
  return [...train, ...copies];
}

/** How the Compare heads table names a variant. */
export function variantName(variant: EvalVariant, k: number): string {
  switch (variant) {
    case 'knn':
      return `KNN (k=${k})`;
    case 'knn+flip':
      return `KNN (k=${k}) + flips`;
    case 'dense':
      return 'Dense (defaults)';
    case 'dense+flip':
      return 'Dense (defaults) + flips';
    case 'logreg':
      return 'Logistic regression (reference)';
  }
}

export class ProjectHeads {
  private readonly examples = new Map<string, Example>();
  private knn: KnnHead;
  private dense: DenseHead | null = null;
  private denseSummary: DenseModelSummary | null = null;
  private tryEmbedding: Float32Array | null = null;
  k = 5;

  private constructor(
    readonly projectId: string,
    readonly embeddingKey: string,
    readonly backboneId: string,
    readonly kind: HeadKind,
  ) {
    this.knn = new KnnHead({ kind });
  }

  static async open(
    db: LoupeDatabase,
    projectId: string,
    embeddingKey: string,
    backboneId: string,
    kind: HeadKind,
  ): Promise<ProjectHeads> {
    const heads = new ProjectHeads(projectId, embeddingKey, backboneId, kind);
    const [metas, embeddings, models] = await Promise.all([
      listSampleMeta(db, projectId),
      listEmbeddings(db, projectId, embeddingKey),
      listModels(db, projectId),
    ]);
    const labelsOf = new Map(metas.map((m) => [m.id, m.labelIds]));
    for (const e of embeddings) {
      const labelIds = labelsOf.get(e.sampleId);
      if (labelIds)
        heads.examples.set(e.sampleId, {
          id: e.sampleId,
          embedding: e.vector,
          labelIds: [...labelIds],
        });
    }
    heads.rebuildKnn();
    const latest = models.find(
      (m) =>
        m.headType === 'dense' &&
        (m.payload as DenseModelPayload).summary?.embeddingKey === embeddingKey,
    );
    if (latest) {
      const payload = latest.payload as DenseModelPayload;
      heads.dense = deserializeHead(payload.head) as DenseHead;
      heads.denseSummary = payload.summary;
    }
    return heads;
  }

  /**
   * Labelled examples in a content-defined order (by embedding values, then labels), so training
   * and evaluation depend on the data, not on the order images happened to be imported or
   * embedded: the same data and settings give the same model.
   */
  private labelled(): Example[] {
    return [...this.examples.values()].filter((e) => e.labelIds.length > 0).sort(compareExamples);
  }

  private rebuildKnn(): void {
    this.knn.dispose();
    this.knn = KnnHead.build(this.labelled(), { kind: this.kind, config: { k: this.k } });
  }

  /** The active trained dense head (for export), or null before training. */
  get denseHead(): DenseHead | null {
    return this.dense;
  }

  /** Labelled examples as the KNN head sees them (for the KNN export). */
  knnExamples(): { id: string; embedding: Float32Array; labelIds: string[] }[] {
    return this.labelled();
  }

  get summary(): DenseModelSummary | null {
    return this.denseSummary;
  }

  get exampleCount(): number {
    return this.labelled().length;
  }

  /** New embeddings (from the pipeline) with their current labels. */
  addEmbeddings(items: { sampleId: string; vector: Float32Array; labelIds: string[] }[]): void {
    for (const item of items) {
      this.examples.set(item.sampleId, {
        id: item.sampleId,
        embedding: item.vector,
        labelIds: item.labelIds,
      });
      if (item.labelIds.length > 0)
        this.knn.add({ id: item.sampleId, embedding: item.vector, labelIds: item.labelIds });
    }
  }

  /** Label changes and deletions from the UI: O(d) each, so predictions update at once. */
  applyChanges(changes: { sampleId: string; labelIds: string[] }[], removed: string[]): void {
    for (const id of removed) {
      this.examples.delete(id);
      this.knn.remove(id);
    }
    for (const { sampleId, labelIds } of changes) {
      const example = this.examples.get(sampleId);
      if (!example) continue;
      example.labelIds = labelIds;
      if (labelIds.length === 0) this.knn.remove(sampleId);
      else if (this.knn.has(sampleId)) this.knn.updateLabels(sampleId, labelIds);
      else this.knn.add({ id: sampleId, embedding: example.embedding, labelIds });
    }
  }

  /** Picks k among {1, 3, 5, 7, 10} by 5-fold cross-validation on the project's own data. */
  async chooseK(): Promise<{ k: number; scores: { k: number; score: number }[] }> {
    const items = this.labelled();
    if (items.length < 10) return { k: this.k, scores: [] };
    const result = await chooseK(items, { kind: this.kind, folds: 5, seed: EVAL_SEED });
    this.k = result.k;
    this.knn.setConfig({ k: result.k });
    return result;
  }

  setTryEmbedding(vector: Float32Array | null): void {
    this.tryEmbedding = vector;
  }

  async predictTry(): Promise<TryPredictions | null> {
    if (!this.tryEmbedding) return null;
    const query = [this.tryEmbedding];
    const knn = this.knn.size > 0 ? ((await this.knn.predict(query))[0] ?? null) : null;
    const dense = this.dense ? ((await this.dense.predict(query))[0] ?? null) : null;
    return {
      knn,
      dense,
      knnLabels: [...this.knn.labels],
      denseLabels: this.dense ? [...this.dense.labels] : [],
    };
  }

  private snapshot(items: LabelledEmbedding[]): Record<string, string[]> {
    return Object.fromEntries(items.map((i) => [i.id, [...i.labelIds].sort()]));
  }

  /** Scores a head on validation items; label order = `labels`. */
  private async score(
    head: Head,
    validation: LabelledEmbedding[],
    labels: string[],
  ): Promise<Metrics> {
    const { items } = indexItems(validation, this.kind, labels);
    const predictions = await head.predict(items.map((i) => i.embedding));
    const index = new Map(labels.map((l, i) => [l, i]));
    const predicted = predictions.map((p) =>
      p.labels.map((l) => index.get(l) ?? -1).filter((i) => i >= 0),
    );
    const truths = items.map((i) => i.labels);
    if (this.kind === 'single-label') {
      return singleLabelMetrics(
        truths.map((t) => t[0] ?? 0),
        predicted.map((p) => p[0] ?? -1),
        labels.length,
      );
    }
    return multiLabelMetrics(truths, predicted, labels.length);
  }

  /**
   * Trains the dense head on a seeded stratified 80/20 split, scores it and a KNN head built on the
   * same training part, saves the model (IndexedDB) and makes it the active dense head. Aborting
   * leaves the previously saved model untouched.
   */
  async trainDense(
    db: LoupeDatabase,
    labelOrder: string[],
    config: Partial<DenseConfig>,
    onEpoch: (log: EpochLog) => void,
    signal: AbortSignal,
    augmentation: Augmentation = { flips: false },
  ): Promise<DenseModelSummary | null> {
    const items = this.labelled();
    const { items: indexed, labels } = indexItems(items, this.kind, labelOrder);
    const usedLabels = labels.filter((l) => indexed.some((i) => i.labelIds.includes(l)));
    // Split on positions in the content-sorted list, not on the random sample ids: the same images
    // get the same split (and so the same model) in any project they are imported into.
    const split = holdoutSplit(
      indexed.map((item, position) => ({ ...item, id: String(position) })),
      { seed: EVAL_SEED },
    );
    const held = new Set(split.validation.map(Number));
    const train = items.filter((_, position) => !held.has(position));
    const validation = items.filter((_, position) => held.has(position));
    // Flipped copies of the training part only: a validation image never trains the scored model.
    const flips = augmentation.flips ? await this.flipped(db) : null;
    const result = await trainDenseHead(flips ? withFlips(train, flips) : train, {
      kind: this.kind,
      labels: usedLabels,
      config: { ...config, seed: config.seed ?? DENSE_DEFAULTS.seed },
      ...(validation.length > 0 ? { validation } : {}),
      onEpoch,
      signal,
    });
    if (result.status === 'aborted') return null;
    const head = result.head;
    const evaluations: HeadEvaluation[] = [];
    if (validation.length > 0) {
      evaluations.push({
        head: 'dense',
        metrics: await this.score(head, validation, [...head.labels]),
        labels: [...head.labels],
        validationSize: validation.length,
        trainSize: train.length,
      });
      const knn = KnnHead.build(train, {
        kind: this.kind,
        labels: [...head.labels],
        config: { k: this.k },
      });
      try {
        evaluations.push({
          head: 'knn',
          metrics: await this.score(knn, validation, [...head.labels]),
          labels: [...head.labels],
          validationSize: validation.length,
          trainSize: train.length,
        });
      } finally {
        knn.dispose();
      }
    }
    const summary: DenseModelSummary = {
      id: newId(),
      createdAt: Date.now(),
      labels: [...head.labels],
      config: { ...head.config },
      history: [...head.history],
      bestEpoch: head.bestEpoch,
      evaluations,
      snapshot: this.snapshot(items),
      embeddingKey: this.embeddingKey,
      backboneId: this.backboneId,
      kind: this.kind,
      augmentation: { flips: flips !== null },
    };
    const payload: DenseModelPayload = { summary, head: head.serialize() };
    await saveModel(db, {
      id: summary.id,
      projectId: this.projectId,
      createdAt: summary.createdAt,
      headType: 'dense',
      payload,
    });
    this.dense?.dispose();
    this.dense = head;
    this.denseSummary = summary;
    return summary;
  }

  /**
   * The "Compare heads" table: KNN (current k), dense defaults and the logistic-regression
   * reference, plus both heads with flipped training copies when `flips`, on the same 5 folds.
   */
  async compareHeads(
    db: LoupeDatabase,
    labelOrder: string[],
    signal: AbortSignal,
    flips = false,
  ): Promise<CompareRow[]> {
    const variants: EvalVariant[] = flips
      ? ['knn', 'knn+flip', 'dense', 'dense+flip', 'logreg']
      : ['knn', 'dense', 'logreg'];
    const rows = await this.evaluateVariants(db, { variants, labelOrder, signal });
    return rows.map((row) => ({
      variant: row.variant,
      head: variantName(row.variant, this.k),
      accuracy: row.accuracy,
      macroF1: row.macroF1,
      std: row.std,
      folds: row.folds,
    }));
  }

  /** Horizontal-flip embeddings of this project (computed by the pipeline with `flip`). */
  private async flipped(db: LoupeDatabase): Promise<Map<string, Float32Array>> {
    const records = await listEmbeddings(db, this.projectId, this.embeddingKey + FLIP_SUFFIX);
    return new Map(records.map((r) => [r.sampleId, r.vector]));
  }

  /**
   * Cross-validates head variants on the same seeded folds (Compare heads, and the `npm run eval`
   * accuracy report): KNN with the current k, dense defaults, each with and without flip
   * augmentation (flipped copies of the training images only), and a plain logistic-regression
   * probe. `trainPerClass` keeps only that many training images per label in each fold
   * (validation folds stay whole).
   */
  async evaluateVariants(
    db: LoupeDatabase,
    options: {
      variants: EvalVariant[];
      labelOrder?: string[];
      folds?: number;
      trainPerClass?: number;
      signal: AbortSignal;
    },
  ): Promise<EvalRow[]> {
    const items = this.labelled();
    const flips = options.variants.some((v) => v.endsWith('+flip'))
      ? await this.flipped(db)
      : new Map<string, Float32Array>();
    const limit = (train: LabelledEmbedding[]): LabelledEmbedding[] => {
      if (!options.trainPerClass) return train;
      const seen = new Map<string, number>();
      // Folds are already seeded shuffles; keep the first N of each label.
      return train.filter((t) => {
        const label = t.labelIds[0] ?? '';
        const n = seen.get(label) ?? 0;
        seen.set(label, n + 1);
        return n < (options.trainPerClass ?? Infinity);
      });
    };
    const rows: EvalRow[] = [];
    for (const variant of options.variants) {
      const result = await crossValidateHead({
        items,
        kind: this.kind,
        ...(options.labelOrder ? { labels: options.labelOrder } : {}),
        folds: options.folds ?? 5,
        seed: EVAL_SEED,
        signal: options.signal,
        fit: async (fold, labels) => {
          let train = limit(fold);
          if (variant.endsWith('+flip')) train = withFlips(train, flips);
          if (variant.startsWith('knn')) {
            return KnnHead.build(train, { kind: this.kind, labels, config: { k: this.k } });
          }
          const config = variant === 'logreg' ? { hiddenUnits: 0, dropout: 0 } : {};
          const r = await trainDenseHead(train, {
            kind: this.kind,
            labels,
            config,
            signal: options.signal,
          });
          if (r.status === 'aborted') throw new Error('Evaluation cancelled.');
          return r.head;
        },
      });
      const pooled = result.pooled;
      rows.push({
        variant,
        accuracy: pooled.kind === 'single-label' ? pooled.accuracy : pooled.subsetAccuracy,
        macroF1: pooled.macro.f1,
        std: result.headline.std,
        folds: result.folds.length,
        trainPerClass: options.trainPerClass ?? null,
        k: this.k,
      });
    }
    return rows;
  }

  dispose(): void {
    this.knn.dispose();
    this.dense?.dispose();
  }
}

export function tensorCount(): number {
  return tf.memory().numTensors;
}
