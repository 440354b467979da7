/**
 * What the page and the workers share: the plain data that crosses the worker boundary and the
 * client interfaces (`EngineClient`, `DataClient`) the store calls. Types only: importing this
 * module loads no worker and no TF.js. Every long call takes an `AbortSignal`; aborting cancels
 * the job in the worker.
 */
import type { Augmentation, AugmentView } from '../core/backbone/augment';
import type { BackboneSpec, ClassPrediction } from '../core/backbone/types';
import type { OutOfFoldResult } from '../core/analysis/outOfFold';
import type { DuplicateGroup } from '../core/analysis/nearDuplicates';
import type { Clustering } from '../core/analysis/clusters';
import type { LabelNextItem } from '../core/analysis/labelNext';
import type { LabelNextResult } from './labelNext';
import type { DenseVersion } from './denseVersions';
import type { ReviewBench, ReviewSimulation, ReviewSimulationOptions } from './reviewSimulation';
import type {
  ImportItem,
  ImportProgress,
  ImportReport,
  PreparedInput,
} from '../core/dataset/importer';
import type { ModelInputTarget } from '../core/dataset/decoder';
import type { PreparedStats } from './preparedInputs';
import type { KnnExportDtype } from '../core/formats/knnExport';
import type { DenseConfig, EpochLog, Prediction } from '../core/heads';
import type { HeadSettings } from '../core/heads/settings';
import type { CompareProgress, CompareRow, EvalRow, EvalVariant } from '../core/heads/variants';
import type { AspectMode, ProjectKind } from '../core/kinds';
import type { ProjectRecord, SampleMeta, SampleSource } from '../core/storage/schema';
import type { BackendName, BackendReport } from './backends';
import type { EmbedProgress, EmbedReport } from './embedPipeline';
import type { DenseModelSummary, HeadEvaluation } from '../core/heads/savedModel';
import type { AnalysisBench, MislabelSimulation } from './reviewBench';

export type {
  Augmentation,
  AugmentView,
  BackendName,
  BackendReport,
  ClassPrediction,
  CompareProgress,
  CompareRow,
  DenseVersion,
  DenseConfig,
  DenseModelSummary,
  EmbedProgress,
  EmbedReport,
  EpochLog,
  EvalRow,
  EvalVariant,
  HeadEvaluation,
  HeadSettings,
  KnnExportDtype,
  OutOfFoldResult,
  DuplicateGroup,
  Clustering,
  LabelNextItem,
  LabelNextResult,
  ReviewBench,
  ReviewSimulation,
  ReviewSimulationOptions,
  MislabelSimulation,
  AnalysisBench,
};

/** The engine's backend, and how it was picked. */
export interface EngineStatus {
  backend: BackendName;
  detail: string;
  reports: BackendReport[];
  /** Measured now, remembered from an earlier probe on this device, or forced by the user. */
  how: 'probed' | 'remembered' | 'override';
}

/** Live predictions of both heads for the try image. */
export interface TryPredictions {
  knn: Prediction | null;
  dense: Prediction | null;
  /** Label ids in the order of each prediction's probabilities. */
  knnLabels: string[];
  denseLabels: string[];
}

/** The open project's heads, as the page sees them after `openHeads`. */
export interface OpenedHeads {
  /** Labelled examples the KNN head holds. */
  examples: number;
  /** The k KNN uses now (chosen or fixed). */
  k: number;
  /** The saved dense model for these embeddings, if any. */
  summary: DenseModelSummary | null;
}

/** A sample's new labels (empty = unlabelled). */
export interface LabelChange {
  sampleId: string;
  labelIds: string[];
}

/** Which backbone and preprocessing a call embeds with. */
export interface EmbeddingTarget {
  spec: BackboneSpec;
  aspectMode: AspectMode;
}

export interface EngineStats {
  computedThisSession: number;
  numTensors: number;
  backend: string;
  /** Cancellable jobs running in the worker now (0 once a cancelled job has stopped). */
  runningJobs: number;
  /** Images embedded from inputs drawn at import vs decoded again by the pipeline. */
  prepared: PreparedStats;
}

/** Model files picked for a custom backbone, checked and stored (see `storeModelFiles`). */
export interface ModelFilesInfo {
  /** Content hash: the custom spec's `files`. */
  key: string;
  name: string;
  byteSize: number;
  /** Square input size the model declares, or null when dynamic. */
  inputSize: number | null;
  layerCount: number;
  paramCount: number;
  /** Usable embedding layers, deepest first. */
  candidates: { name: string; embeddingSize: number }[];
}

/** The engine worker (every tensor of Loupe), seen from the page. */
export interface EngineClient {
  /** Picks the backend (forced, remembered or probed with the real backbone). */
  init(options: {
    spec: BackboneSpec;
    override?: BackendName;
    remembered?: BackendName;
  }): Promise<EngineStatus>;
  /** Embeds every sample of the project that has no embedding under the target (or a view). */
  embedProject(
    call: EmbeddingTarget & {
      projectId: string;
      signal: AbortSignal;
      onProgress: (p: EmbedProgress) => void;
      onBatch: (sampleIds: string[]) => void;
      /** Compute an augmentation view (mirror, crop) instead of the plain embeddings. */
      view?: AugmentView;
    },
  ): Promise<EmbedReport>;
  /** Opens (or reopens) a project's heads: KNN from cached embeddings, the latest dense model. */
  openHeads(
    options: EmbeddingTarget & {
      projectId: string;
      kind: ProjectKind;
      settings: HeadSettings;
      /** Rebuild from the database even when these heads are open (changed elsewhere). */
      reload?: boolean;
    },
  ): Promise<OpenedHeads>;
  closeHeads(): Promise<void>;
  /** Label changes and deletions, applied to the KNN at once; fresh try predictions. */
  applyLabelChanges(changes: LabelChange[], removed: string[]): Promise<TryPredictions | null>;
  /** The try image's predictions with the heads as they are now (null without a try image). */
  predictTry(): Promise<TryPredictions | null>;
  /** Applies the project's head settings (auto k is chosen now); returns k. */
  setHeadSettings(settings: HeadSettings): Promise<number>;
  /** Auto k: re-chosen when the labelled data changed since the last choice; returns k. */
  refreshK(): Promise<number>;
  /** Embeds an image (a Blob, or a bitmap that is transferred) and predicts with both heads. */
  tryImage(call: EmbeddingTarget & { image: Blob | ImageBitmap }): Promise<TryPredictions | null>;
  clearTry(): Promise<void>;
  trainDense(call: {
    labelOrder: string[];
    config: Partial<DenseConfig>;
    /** Train on augmented copies too (embed their views first: `embedProject` with `view`). */
    augmentation?: Augmentation;
    signal: AbortSignal;
    onEpoch: (log: EpochLog) => void;
  }): Promise<DenseModelSummary | null>;
  /** The open project's saved dense models for its backbone, current first. */
  listDenseVersions(): Promise<DenseVersion[]>;
  /** Pins or unpins a saved version (pruning keeps pinned ones); the list after the change. */
  pinDenseVersion(id: string, pinned: boolean): Promise<DenseVersion[]>;
  /** Makes a saved version current: the heads adopt it, and it stays current after a reload. */
  useDenseVersion(id: string): Promise<DenseModelSummary>;
  /** With an augmentation, both heads are also scored trained with it (views embedded first). */
  compareHeads(call: {
    labelOrder: string[];
    augmentation?: Augmentation;
    signal: AbortSignal;
    /** After each cross-validation fold of each head. */
    onProgress?: (progress: CompareProgress) => void;
  }): Promise<CompareRow[]>;
  /** Cross-validated accuracy of head variants (the `npm run eval` report). */
  evaluateVariants(call: {
    variants: EvalVariant[];
    trainPerClass?: number;
    /** Dense settings over the defaults for the dense and ensemble variants. */
    denseConfig?: Partial<DenseConfig>;
    signal?: AbortSignal;
  }): Promise<EvalRow[]>;
  /** The TF.js classifier export (zip). */
  exportTfjs(
    call: EmbeddingTarget & {
      modelName: string;
      labelNames: [string, string][];
      signal?: AbortSignal;
    },
  ): Promise<Blob>;
  /** The KNN export (zip). */
  exportKnn(
    call: EmbeddingTarget & {
      labelNames: [string, string][];
      dtype: KnnExportDtype;
      signal?: AbortSignal;
    },
  ): Promise<Blob>;
  /** "Base model sees": the backbone's own top-3 ImageNet classes for one stored sample. */
  classifySample(
    call: EmbeddingTarget & { sampleId: string; signal?: AbortSignal },
  ): Promise<ClassPrediction[]>;
  /** Diagnostics: one stored sample's exact model input and the dense head's probabilities. */
  denseOnSample(
    call: EmbeddingTarget & { sampleId: string },
  ): Promise<{ input: Float32Array; shape: number[]; probabilities: number[] }>;
  /** Benchmark: the raw forward-pass rate on the project's first `n` samples. */
  measureForward(
    call: EmbeddingTarget & { projectId: string; n: number; signal?: AbortSignal },
  ): Promise<{ images: number; imgPerSec: number; batchSize: number }>;
  stats(): Promise<EngineStats>;
  /**
   * Model inputs an import drew from its own decode (transferred, not copied), kept until the
   * embedding pipeline takes them instead of decoding those images again.
   */
  offerInputs(inputs: PreparedInput[]): void;
  /** Loads the backbone ahead of use (a project just opened), so its first images embed at once. */
  warmBackbone(spec: BackboneSpec): Promise<void>;
  /**
   * Classifies files that are not added to the project (nothing is stored) with the open
   * project's backbone and the chosen head; rows stream back in chunks, one per batch.
   */
  classifyImages(
    call: EmbeddingTarget & {
      files: BatchFile[];
      head: 'knn' | 'dense';
      signal: AbortSignal;
      onChunk: (chunk: BatchChunk) => void;
      onProgress: (p: BatchProgress) => void;
    },
  ): Promise<BatchReport>;
  /** Each labelled image's KNN probabilities from a head that never saw it (seeded 5 folds). */
  outOfFoldPredictions(call: {
    labelOrder: string[];
    signal: AbortSignal;
  }): Promise<OutOfFoldResult>;
  /**
   * Groups of near-identical embedded images (cosine >= threshold, default 0.95); `leakage` is set
   * against the dense head's hold-out split for the labels in `labelOrder`.
   */
  nearDuplicates(call: {
    threshold?: number;
    labelOrder?: string[];
    signal: AbortSignal;
  }): Promise<DuplicateGroup[]>;
  /** Unlabelled images ranked by uncertainty of the live KNN, with diversity (`Label next`). */
  labelNext(call: { limit?: number; signal: AbortSignal }): Promise<LabelNextResult>;
  /** The unlabelled images clustered by similarity (k automatic, or the given k). */
  clusters(call: { k?: number | 'auto'; signal: AbortSignal }): Promise<Clustering>;
  /** The eval's label-next simulation and cluster scores on the open (fully labelled) project. */
  simulateReview(
    call: ReviewSimulationOptions & { signal?: AbortSignal },
  ): Promise<ReviewSimulation>;
  /** Bench: clustering and label-next ranking timed on synthetic embeddings in the worker. */
  benchReview(call: { n?: number; dim?: number; signal?: AbortSignal }): Promise<ReviewBench>;
  /**
   * Measurement: flips a seeded share of a copy of the labelled examples' labels and scores the
   * Probable-mislabels ranking against them (the project's data is not changed).
   */
  simulateMislabels(call: {
    fraction: number;
    seed: number;
    labelOrder?: string[];
    signal?: AbortSignal;
  }): Promise<MislabelSimulation>;
  /** Benchmark: out-of-fold KNN and near-duplicate search on `count` synthetic embeddings. */
  benchAnalysis(call: {
    count: number;
    dim?: number;
    seed: number;
    signal?: AbortSignal;
  }): Promise<AnalysisBench>;
  /**
   * Checks model files picked for a custom backbone (model.json + weight files, nothing fetched),
   * loads them once to describe them and stores them; a custom spec with `files: key` uses them.
   */
  storeModelFiles(call: { files: File[]; folder?: string }): Promise<ModelFilesInfo>;
  /**
   * Explain a prediction: a heatmap of the regions that drive a head's score for a label (default:
   * the head's predicted label) on one image (a Blob, or a stored sample), over the backbone's
   * square input after the project's aspect mode. Grad-CAM for the dense head on a layers
   * backbone, occlusion sensitivity otherwise (or as `method` forces).
   */
  explain(
    call: EmbeddingTarget & {
      image: Blob | { sampleId: string };
      head: 'knn' | 'dense';
      labelIds?: string[];
      method?: ExplainMethod;
      signal?: AbortSignal;
    },
  ): Promise<Explanation>;
}

export type ExplainMethod = 'grad-cam' | 'occlusion';

/** Heatmaps of one image: row-major grids over the model's square input, values in [0, 1]. */
export interface Explanation {
  method: ExplainMethod;
  rows: number;
  cols: number;
  /** The head's predicted (most probable) label on the image. */
  predicted: string | null;
  /** One grid per explained label (labels the head does not know are left out). */
  heatmaps: { labelId: string; values: number[] }[];
  /** Time in the worker, from the preprocessed input to the grids. */
  ms: number;
}

/** A file to classify, with its relative path (folder/sub-folder/file). */
export interface BatchFile {
  path: string;
  file: Blob;
}

/** One classified image. */
export interface BatchRow {
  path: string;
  /** Predicted label ids: single-label `[top]`; multi-label the set; empty = unknown. */
  predicted: string[];
  /** Probability of the most probable label (whether or not it passed the threshold). */
  confidence: number;
  /** Label id -> probability, for every label the head knows. */
  probabilities: Record<string, number>;
}

/** What one batch produced: its rows and the files that could not be read. */
export interface BatchChunk {
  rows: BatchRow[];
  failed: { path: string; reason: string }[];
}

export interface BatchProgress {
  done: number;
  total: number;
  /** Images per second so far. */
  rate: number;
  etaSeconds: number | null;
}

export interface BatchReport {
  total: number;
  classified: number;
  failed: number;
  cancelled: boolean;
  elapsedMs: number;
}

export interface ImportCall {
  projectId: string;
  items: ImportItem[];
  source: SampleSource;
  signal?: AbortSignal;
  onProgress: (p: ImportProgress) => void;
  onChunk: (added: SampleMeta[]) => void;
  mergeDuplicateLabels?: boolean;
  /** Store only label ids whose label still exists when each chunk is written (reported). */
  dropMissingLabels?: boolean;
  /** Draw each image's model input at import too, handed to `onPrepared` (one decode per image). */
  modelInput?: ModelInputTarget;
  onPrepared?: (inputs: PreparedInput[]) => void;
}

/** A project archive read and validated in the data worker, waiting for `importArchive`. */
export interface ArchiveSummary {
  token: string;
  name: string;
  images: number;
  labels: number;
  models: number;
  warnings: string[];
  /** An existing project with the same name (the UI asks: rename or replace). */
  conflict: { id: string; name: string } | null;
}

export interface TransferProgress {
  done: number;
  total: number;
}

/** The data worker (archives and dataset zips), seen from the page. */
export interface DataClient {
  exportArchive(call: {
    projectId: string;
    signal?: AbortSignal;
    onProgress: (p: TransferProgress) => void;
  }): Promise<Blob>;
  exportDataset(call: {
    projectId: string;
    signal?: AbortSignal;
    onProgress: (p: TransferProgress) => void;
  }): Promise<Blob>;
  /**
   * Reads and validates an archive completely and stages it in the worker, invisible until
   * `importArchive` (or deleted by `dismissArchive`, a failure or a cancel).
   */
  inspectArchive(call: {
    file: Blob;
    signal?: AbortSignal;
    onProgress?: (p: TransferProgress) => void;
  }): Promise<ArchiveSummary>;
  /** Makes an inspected archive a new project or the replacement of one (one transaction). */
  importArchive(call: {
    token: string;
    name?: string;
    replaceProjectId?: string;
    signal?: AbortSignal;
  }): Promise<ProjectRecord>;
  /** Forgets an inspected archive that will not be imported. */
  dismissArchive(token: string): Promise<void>;
  /** Bytes an archive's entries take uncompressed, as its file list declares (nothing inflated). */
  measureArchive(call: { file: Blob; signal?: AbortSignal }): Promise<number>;
}

export type { ImportItem, ImportProgress, ImportReport };
