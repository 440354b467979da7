/**
 * The live heads of the open project, inside the engine worker: the KNN head (kept in sync with
 * every embedding and label change), the latest trained dense head (restored from IndexedDB), the
 * project's head settings and k, and predictions for the "try" image. Training lives in
 * trainDense.ts and cross-validation in evaluateHeads.ts; both work on what this class holds.
 * Everything here runs off the main thread; only plain data crosses back.
 */
import {
  chooseK,
  DenseHead,
  KnnHead,
  KNN_DEFAULTS,
  type LabelledEmbedding,
  type Prediction,
} from '../core/heads';
import { DEFAULT_HEAD_SETTINGS, type HeadSettings } from '../core/heads/settings';
import { byPosition, compareByContent } from '../core/heads/trainingSet';
import { EVAL_SEED } from '../core/eval/split';
import type { ProjectKind } from '../core/kinds';
import type { LoupeDatabase } from '../core/storage/db';
import { listEmbeddings } from '../core/storage/embeddings';
import { latestDenseModel } from '../core/storage/models';
import { listSampleMeta } from '../core/storage/samples';
import type { DenseModelSummary } from '../core/heads/savedModel';
import type { TryPredictions } from './api';

/** Which project's heads, on which embeddings. */
export interface HeadsTarget {
  projectId: string;
  embeddingKey: string;
  backboneId: string;
  kind: ProjectKind;
}

/** A labelled (or not yet labelled) example the live heads hold. */
interface Example extends LabelledEmbedding {
  labelIds: string[];
}

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

  readonly projectId: string;
  readonly embeddingKey: string;
  readonly backboneId: string;
  readonly kind: ProjectKind;

  private constructor(target: HeadsTarget) {
    this.projectId = target.projectId;
    this.embeddingKey = target.embeddingKey;
    this.backboneId = target.backboneId;
    this.kind = target.kind;
    this.knn = new KnnHead({ kind: this.kind });
  }

  /** What these heads were opened for. */
  get target(): HeadsTarget {
    const { projectId, embeddingKey, backboneId, kind } = this;
    return { projectId, embeddingKey, backboneId, kind };
  }

  /** Reads the project's cached embeddings, labels and latest dense model (for `embeddingKey`). */
  static async open(db: LoupeDatabase, target: HeadsTarget): Promise<ProjectHeads> {
    const heads = new ProjectHeads(target);
    const { projectId, embeddingKey } = target;
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
      heads.dense = DenseHead.deserialize(latest.payload.head);
      heads.denseSummary = latest.payload.summary;
    }
    return heads;
  }

  /**
   * Labelled examples in a content-defined order (by embedding values, then labels), so training
   * and evaluation depend on the data, not on the order images happened to be imported or
   * embedded: the same data and settings give the same model.
   */
  labelled(): Example[] {
    return [...this.examples.values()].filter((e) => e.labelIds.length > 0).sort(compareByContent);
  }

  private rebuildKnn(): void {
    this.knn.dispose();
    this.knn = KnnHead.build(this.labelled(), { kind: this.kind, config: this.liveKnnConfig() });
  }

  /** KNN settings for a head built on `k` (evaluations score plain classification). */
  knnConfig(k = this.k): { k: number; weighted: boolean } {
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
  async kFor(train: readonly LabelledEmbedding[]): Promise<number> {
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

  /** Makes a newly trained (and saved) dense head the active one, with the unknown threshold. */
  adoptDense(head: DenseHead, summary: DenseModelSummary): void {
    this.replaceDense(head, summary)?.dispose();
  }

  /**
   * Makes a saved dense head the active one, with the unknown threshold; returns the head it
   * replaced, undisposed (a running job may still hold it).
   */
  replaceDense(head: DenseHead, summary: DenseModelSummary): DenseHead | null {
    const replaced = this.dense;
    this.dense = head;
    head.setUnknownThreshold(this.headSettings.denseUnknownBelow);
    this.denseSummary = summary;
    return replaced;
  }

  get exampleCount(): number {
    let count = 0;
    for (const example of this.examples.values()) if (example.labelIds.length > 0) count++;
    return count;
  }

  /**
   * New embeddings (from the pipeline) with the labels their samples had when the batch was read.
   * A label change or deletion the UI sent while the batch was in flight is newer and wins.
   */
  addEmbeddings(items: { sampleId: string; vector: Float32Array; labelIds: string[] }[]): void {
    for (const item of items) {
      if (this.removedEarly.delete(item.sampleId)) continue;
      const labelIds = this.changedEarly.get(item.sampleId) ?? item.labelIds;
      this.changedEarly.delete(item.sampleId);
      this.examples.set(item.sampleId, { id: item.sampleId, embedding: item.vector, labelIds });
      if (labelIds.length > 0) {
        this.knn.add({ id: item.sampleId, embedding: item.vector, labelIds });
        this.changesSinceK++;
      }
    }
  }

  /**
   * Changes and deletions of samples whose embedding has not arrived yet (a batch in flight read
   * their labels before the change): applied when it arrives. Forgotten with these heads.
   */
  private readonly changedEarly = new Map<string, string[]>();
  private readonly removedEarly = new Set<string>();

  /** Label changes and deletions from the UI: O(d) each, so predictions update at once. */
  applyChanges(changes: { sampleId: string; labelIds: string[] }[], removed: string[]): void {
    this.changesSinceK += changes.length + removed.length;
    for (const id of removed) {
      if (!this.examples.has(id)) this.removedEarly.add(id);
      this.changedEarly.delete(id);
      this.examples.delete(id);
      this.knn.remove(id);
    }
    for (const { sampleId, labelIds } of changes) {
      const example = this.examples.get(sampleId);
      if (!example) {
        this.changedEarly.set(sampleId, labelIds);
        continue;
      }
      example.labelIds = labelIds;
      if (labelIds.length === 0) this.knn.remove(sampleId);
      else if (this.knn.has(sampleId)) this.knn.updateLabels(sampleId, labelIds);
      else this.knn.add({ id: sampleId, embedding: example.embedding, labelIds });
    }
  }

  /** Keeps the try image of the heads these replace (the try panel shows it still). */
  adoptTryEmbedding(previous: ProjectHeads): void {
    this.tryEmbedding = previous.tryEmbedding;
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

  /**
   * One head's predictions for a batch of embeddings, with the head's label order (null when the
   * head cannot predict yet: no labelled example, or no trained dense model).
   */
  async predictWith(
    head: 'knn' | 'dense',
    embeddings: Float32Array[],
  ): Promise<{ predictions: Prediction[]; labels: string[] } | null> {
    if (head === 'knn') {
      if (this.knn.size === 0) return null;
      return { predictions: await this.knn.predict(embeddings), labels: [...this.knn.labels] };
    }
    if (!this.dense) return null;
    return { predictions: await this.dense.predict(embeddings), labels: [...this.dense.labels] };
  }

  dispose(): void {
    this.knn.dispose();
    this.dense?.dispose();
  }
}
