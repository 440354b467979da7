/**
 * Heads inside the engine worker: the live KNN head of the open project (kept in sync with every
 * embedding and label change), the latest trained dense head (restored from IndexedDB), training
 * with hold-out evaluation, k-fold head comparison, and predictions for the "try" image.
 * Everything here runs off the main thread; only plain data crosses back.
 */
import * as tf from '@tensorflow/tfjs';
import { singleLabelMetrics, multiLabelMetrics, type Metrics } from '../core/eval/metrics';
import { holdoutSplit } from '../core/eval/split';
import {
  augmentationViews,
  CROPS_PER_IMAGE,
  NO_AUGMENTATION,
  viewSuffix,
  type Augmentation,
  type AugmentView,
} from '../core/backbone/augment';
import type { DenseHead } from '../core/heads';
import {
  chooseK,
  crossValidateHead,
  deserializeHead,
  indexItems,
  KnnHead,
  KNN_DEFAULTS,
  trainDenseHead,
  DENSE_DEFAULTS,
  type DenseConfig,
  type EpochLog,
  type Head,
  type LabelledEmbedding,
  type Prediction,
} from '../core/heads';
import type { LoupeDatabase } from '../core/storage/db';
import { listEmbeddings } from '../core/storage/embeddings';
import { latestDenseModel, saveModel } from '../core/storage/models';
import { listSampleMeta } from '../core/storage/samples';
import { newId } from '../core/ids';
import type { ProjectKind } from '../core/kinds';
import type {
  DenseModelPayload,
  DenseModelSummary,
  HeadEvaluation,
} from '../core/heads/savedModel';
export type {
  DenseModelPayload,
  DenseModelSummary,
  HeadEvaluation,
} from '../core/heads/savedModel';

export const EVAL_SEED = 1234;

export interface TryPredictions {
  knn: Prediction | null;
  dense: Prediction | null;
  /** Label ids in the order of each prediction's probabilities. */
  knnLabels: string[];
  denseLabels: string[];
}

export const FLIP_SUFFIX = viewSuffix({ flip: true, crop: 0 });

type VariantHead = 'knn' | 'dense' | 'logreg';
/** A head, optionally trained with flips and/or `CROPS_PER_IMAGE` random crops. */
export type EvalVariant =
  VariantHead | `${VariantHead}+flip` | `${VariantHead}+crops` | `${VariantHead}+flip+crops`;

export function parseVariant(variant: EvalVariant): {
  head: VariantHead;
  augmentation: Augmentation;
} {
  const [head, ...extras] = variant.split('+') as [VariantHead, ...string[]];
  return {
    head,
    augmentation: {
      flips: extras.includes('flip'),
      crops: extras.includes('crops') ? CROPS_PER_IMAGE : 0,
    },
  };
}

/** The variant suffix ('', '+flip', '+crops', '+flip+crops') of an augmentation. */
export function augmentationSuffix(augmentation: Augmentation): string {
  return `${augmentation.flips ? '+flip' : ''}${augmentation.crops > 0 ? '+crops' : ''}`;
}

export interface EvalRow {
  variant: EvalVariant;
  accuracy: number;
  macroF1: number;
  std: number;
  folds: number;
  trainPerClass: number | null;
  /** KNN variants: the k used in each fold (auto k is chosen inside each fold); else empty. */
  kPerFold: number[];
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

/** Cached embeddings of one augmentation view: sample id -> vector. */
export interface ViewEmbeddings {
  suffix: string;
  vectors: ReadonlyMap<string, Float32Array>;
}

/** `train` plus, per view, the copy of each item that has one (ids suffixed, same labels). */
export function withViews(
  train: readonly LabelledEmbedding[],
  views: readonly ViewEmbeddings[],
): LabelledEmbedding[] {
  const copies = views.flatMap((view) =>
    train.flatMap((t) => {
      const v = view.vectors.get(t.id);
      return v ? [{ id: t.id + view.suffix, embedding: v, labelIds: t.labelIds }] : [];
    }),
  );
  return [...train, ...copies];
}

/** Items re-keyed by their position (ids "0", "1", ...), for splits that ignore random ids. */
function byPosition<T extends { id: string }>(items: readonly T[]): T[] {
  return items.map((item, position) => ({ ...item, id: String(position) }));
}

/** How the Compare heads table names a variant. */
export function variantName(variant: EvalVariant, k: number | 'auto'): string {
  const { head, augmentation } = parseVariant(variant);
  const base =
    head === 'knn'
      ? k === 'auto'
        ? 'KNN (auto k)'
        : `KNN (k=${k})`
      : head === 'dense'
        ? 'Dense (defaults)'
        : 'Logistic regression (reference)';
  return [
    base,
    ...(augmentation.flips ? ['flips'] : []),
    ...(augmentation.crops > 0 ? [`${augmentation.crops} crops`] : []),
  ].join(' + ');
}

/** The project's prediction settings for both heads. */
export interface HeadSettings {
  /** KNN neighbours: fixed, or 'auto' (cross-validated on the project's own data). */
  k: 'auto' | number;
  /** KNN votes weighted by cosine similarity. */
  weighted: boolean;
  /** KNN says unknown when the nearest example's cosine similarity is below this; null = never. */
  knnUnknownBelow: number | null;
  /** The dense head says unknown when its top probability is below this; null = never. */
  denseUnknownBelow: number | null;
  /** Try panel: embed each image and its mirror and predict on their mean (test-time flip). */
  flipTta: boolean;
}

export const DEFAULT_HEAD_SETTINGS: Readonly<HeadSettings> = {
  k: 'auto',
  weighted: false,
  knnUnknownBelow: null,
  denseUnknownBelow: null,
  flipTta: false,
};

/** Auto k needs this many labelled examples; below it the default k (5) is used. */
const MIN_ITEMS_TO_CHOOSE_K = 10;

export class ProjectHeads {
  private readonly examples = new Map<string, Example>();
  private knn: KnnHead;
  private dense: DenseHead | null = null;
  private denseSummary: DenseModelSummary | null = null;
  private tryEmbedding: Float32Array | null = null;
  private headSettings: HeadSettings = { ...DEFAULT_HEAD_SETTINGS };
  /** Labelled-data changes since k was last chosen (auto k is re-chosen only when > 0). */
  private changesSinceK = 1;
  k = 5;

  private constructor(
    readonly projectId: string,
    readonly embeddingKey: string,
    readonly backboneId: string,
    readonly kind: ProjectKind,
  ) {
    this.knn = new KnnHead({ kind });
  }

  static async open(
    db: LoupeDatabase,
    projectId: string,
    embeddingKey: string,
    backboneId: string,
    kind: ProjectKind,
  ): Promise<ProjectHeads> {
    const heads = new ProjectHeads(projectId, embeddingKey, backboneId, kind);
    const [metas, embeddings, latest] = await Promise.all([
      listSampleMeta(db, projectId),
      listEmbeddings(db, projectId, embeddingKey),
      latestDenseModel(db, projectId, embeddingKey),
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
    if (latest) {
      heads.dense = deserializeHead(latest.payload.head) as DenseHead;
      heads.denseSummary = latest.payload.summary;
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
    this.knn = KnnHead.build(this.labelled(), { kind: this.kind, config: this.liveKnnConfig() });
  }

  /** KNN settings for a head built on `k` (evaluations score plain classification). */
  private knnConfig(k = this.k): { k: number; weighted: boolean } {
    return { k, weighted: this.headSettings.weighted };
  }

  /** The live KNN's settings: those of `knnConfig` plus the "unknown" threshold. */
  private liveKnnConfig(): { k: number; weighted: boolean; unknownSimilarity: number | null } {
    return { ...this.knnConfig(), unknownSimilarity: this.headSettings.knnUnknownBelow };
  }

  get settings(): HeadSettings {
    return { ...this.headSettings };
  }

  /** Applies the project's head settings; with auto k, k is chosen now (see `refreshK`). */
  async setHeadSettings(settings: HeadSettings): Promise<number> {
    const before = this.headSettings;
    this.headSettings = { ...settings };
    if (settings.k !== before.k || settings.weighted !== before.weighted) this.changesSinceK++;
    if (settings.k !== 'auto') this.k = settings.k;
    this.knn.setConfig(this.liveKnnConfig());
    this.dense?.setUnknownThreshold(settings.denseUnknownBelow);
    return this.refreshK();
  }

  /**
   * With auto k, re-chooses k among {1, 3, 5, 7, 10} by 5-fold cross-validation on the project's
   * own labelled data when it changed since the last choice. Returns the k in use.
   */
  async refreshK(): Promise<number> {
    if (this.headSettings.k !== 'auto' || this.changesSinceK === 0) return this.k;
    this.changesSinceK = 0;
    const k = await this.chooseKOn(this.labelled());
    if (this.changesSinceK === 0) {
      this.k = k;
      this.knn.setConfig(this.liveKnnConfig());
    }
    return this.k;
  }

  /** The k a KNN trained on `train` uses: fixed, or chosen on `train` alone (nested CV). */
  private async kFor(train: readonly LabelledEmbedding[]): Promise<number> {
    return this.headSettings.k === 'auto' ? this.chooseKOn(train) : this.headSettings.k;
  }

  /** Cross-validated k for `items` (in a content-defined order); the default k for few items. */
  private async chooseKOn(items: readonly LabelledEmbedding[]): Promise<number> {
    if (items.length < MIN_ITEMS_TO_CHOOSE_K) return KNN_DEFAULTS.k;
    const result = await chooseK(byPosition(items), {
      kind: this.kind,
      folds: 5,
      seed: EVAL_SEED,
      config: { weighted: this.headSettings.weighted },
    });
    return result.k;
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
    let count = 0;
    for (const example of this.examples.values()) if (example.labelIds.length > 0) count++;
    return count;
  }

  /** New embeddings (from the pipeline) with their current labels. */
  addEmbeddings(items: { sampleId: string; vector: Float32Array; labelIds: string[] }[]): void {
    for (const item of items) {
      this.examples.set(item.sampleId, {
        id: item.sampleId,
        embedding: item.vector,
        labelIds: item.labelIds,
      });
      if (item.labelIds.length > 0) {
        this.knn.add({ id: item.sampleId, embedding: item.vector, labelIds: item.labelIds });
        this.changesSinceK++;
      }
    }
  }

  /** Label changes and deletions from the UI: O(d) each, so predictions update at once. */
  applyChanges(changes: { sampleId: string; labelIds: string[] }[], removed: string[]): void {
    this.changesSinceK += changes.length + removed.length;
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
    augmentation: Augmentation = NO_AUGMENTATION,
  ): Promise<DenseModelSummary | null> {
    const items = this.labelled();
    const { items: indexed, labels } = indexItems(items, this.kind, labelOrder);
    const usedLabels = labels.filter((l) => indexed.some((i) => i.labelIds.includes(l)));
    // Split on positions in the content-sorted list, not on the random sample ids: the same images
    // get the same split (and so the same model) in any project they are imported into.
    const split = holdoutSplit(byPosition(indexed), { seed: EVAL_SEED });
    const held = new Set(split.validation.map(Number));
    const train = items.filter((_, position) => !held.has(position));
    const validation = items.filter((_, position) => held.has(position));
    // Augmented copies of the training part only: a validation image never trains the scored model.
    const views = await this.viewEmbeddings(db, augmentationViews(augmentation));
    const result = await trainDenseHead(withViews(train, views), {
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
        config: this.knnConfig(await this.kFor(train)),
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
      augmentation: { flips: augmentation.flips, crops: augmentation.crops },
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
    head.setUnknownThreshold(this.headSettings.denseUnknownBelow);
    this.denseSummary = summary;
    return summary;
  }

  /**
   * The "Compare heads" table: KNN (current k), dense defaults and the logistic-regression
   * reference, plus both heads trained with `augmentation` when it adds anything, on the same 5
   * folds (the augmentation views' embeddings must be cached first).
   */
  async compareHeads(
    db: LoupeDatabase,
    labelOrder: string[],
    signal: AbortSignal,
    augmentation: Augmentation = NO_AUGMENTATION,
  ): Promise<CompareRow[]> {
    const suffix = augmentationSuffix(augmentation);
    const variants: EvalVariant[] = suffix
      ? ['knn', `knn${suffix}` as EvalVariant, 'dense', `dense${suffix}` as EvalVariant, 'logreg']
      : ['knn', 'dense', 'logreg'];
    const rows = await this.evaluateVariants(db, { variants, labelOrder, signal });
    return rows.map((row) => ({
      variant: row.variant,
      head: variantName(row.variant, this.headSettings.k === 'auto' ? 'auto' : this.k),
      accuracy: row.accuracy,
      macroF1: row.macroF1,
      std: row.std,
      folds: row.folds,
    }));
  }

  /**
   * Cached embeddings of augmentation views of this project (computed by the pipeline), keyed by
   * `keyOf(sampleId)`: the sample id itself, or another key items carry; undefined drops a record.
   */
  private async viewEmbeddings(
    db: LoupeDatabase,
    views: readonly AugmentView[],
    keyOf: (sampleId: string) => string | undefined = (sampleId) => sampleId,
  ): Promise<ViewEmbeddings[]> {
    return Promise.all(
      views.map(async (view) => {
        const suffix = viewSuffix(view);
        const records = await listEmbeddings(db, this.projectId, this.embeddingKey + suffix);
        const vectors = new Map<string, Float32Array>();
        for (const r of records) {
          const key = keyOf(r.sampleId);
          if (key !== undefined) vectors.set(key, r.vector);
        }
        return { suffix, vectors };
      }),
    );
  }

  /**
   * Cross-validates head variants on the same seeded folds (Compare heads, and the `npm run eval`
   * accuracy report): KNN with the current k, dense defaults, the logistic-regression probe,
   * each with or without augmented copies (flips, random crops) of the training images only.
   * `trainPerClass` keeps only that many training images per label in each fold (validation
   * folds stay whole).
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
    // Folds (and each fold's inner splits) are keyed on positions in the content-sorted list, not
    // on random sample ids: the same images give the same folds and numbers in any project.
    const labelled = this.labelled();
    const items = byPosition(labelled);
    const positionOf = new Map(labelled.map((item, position) => [item.id, String(position)]));
    const viewCache = new Map<string, Promise<ViewEmbeddings[]>>();
    const viewsFor = (augmentation: Augmentation): Promise<ViewEmbeddings[]> => {
      const key = augmentationSuffix(augmentation);
      let views = viewCache.get(key);
      if (!views) {
        views = this.viewEmbeddings(db, augmentationViews(augmentation), (id) =>
          positionOf.get(id),
        );
        viewCache.set(key, views);
      }
      return views;
    };
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
      const { head, augmentation } = parseVariant(variant);
      const views = await viewsFor(augmentation);
      const kPerFold: number[] = [];
      const result = await crossValidateHead({
        items,
        kind: this.kind,
        ...(options.labelOrder ? { labels: options.labelOrder } : {}),
        folds: options.folds ?? 5,
        seed: EVAL_SEED,
        signal: options.signal,
        fit: async (fold, labels) => {
          const original = limit(fold);
          const train = withViews(original, views);
          if (head === 'knn') {
            // Auto k is chosen on the fold's own (unaugmented) training images.
            const k = await this.kFor(original);
            kPerFold.push(k);
            return KnnHead.build(train, { kind: this.kind, labels, config: this.knnConfig(k) });
          }
          const config = head === 'logreg' ? { hiddenUnits: 0, dropout: 0 } : {};
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
        kPerFold,
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
