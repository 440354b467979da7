/**
 * The engine worker owns every tensor of Loupe: backend choice, the backbone, embeddings, the
 * live heads of the open project, training, cross-validation and model exports. The page never
 * runs a model; it calls this worker through `EngineClient` (engineBridge.ts). Long jobs take a
 * job id that `cancel(jobId)` aborts; progress flows back through proxied callbacks.
 */
import * as Comlink from 'comlink';
import * as tf from '@tensorflow/tfjs';
import { backboneFor, pipelineBatchSize, setBackboneSources } from './backboneCache';
import { exclusive, onReadyBackend, pickBackend } from './backendSwitch';
import {
  flipHorizontally,
  imageToPixels,
  pixelsToTensor,
  preprocess,
} from '../core/backbone/preprocess';
import type { AspectMode, Backbone, BackboneSpec, ClassPrediction } from '../core/backbone/types';
import { embeddingKey } from '../core/backbone/types';
import {
  ORIGINAL_VIEW,
  viewSuffix,
  type Augmentation,
  type AugmentView,
} from '../core/backbone/augment';
import { KNN_DEFAULTS, type DenseConfig, type EpochLog } from '../core/heads';
import type { HeadSettings } from '../core/heads/settings';
import type { CompareProgress, CompareRow, EvalRow, EvalVariant } from '../core/heads/variants';
import type { KnnExportDtype } from '../core/formats/knnExport';
import type { ProjectKind } from '../core/kinds';
import { lazyDatabase } from '../core/storage/db';
import { listSampleMeta } from '../core/storage/samples';
import { embedMissing, type EmbedJob, type EmbedProgress, type EmbedReport } from './embedPipeline';
import { knnFiles, tfjsClassifierFiles, zipExport } from './exportBundle';
import { JobRegistry } from './jobs';
import { LazyWorker } from './lazyWorker';
import type { PreprocessWorkerApi } from './preprocess.worker';
import type {
  BatchReport,
  EmbeddingTarget,
  EngineStats,
  EngineStatus,
  LabelChange,
  OpenedHeads,
  TryPredictions,
  Explanation,
  ModelFilesInfo,
} from './api';
import type { DenseModelSummary } from '../core/heads/savedModel';
import type { ProjectHeads } from './headsService';
import { trainDense } from './trainDense';
import { timeForward } from './timeForward';
import { compareHeads, evaluateVariants } from './evaluateHeads';
import { setAppBaseUrl } from '../core/sameOrigin';
import { classifyFiles, type ClassifyCall, type ClassifyJob } from './classifyBatch';
import { storedProjectOutOfFold } from './outOfFold';
import { projectNearDuplicates } from './nearDuplicates';
import type { DuplicateGroup } from '../core/analysis/nearDuplicates';
import type { OutOfFoldResult } from '../core/analysis/outOfFold';
import { reviewJobs } from './reviewJobs';
import { listDenseVersions, pinDenseVersion, useDenseVersion } from './denseVersions';
import { followSamples } from './followSamples';
import { PreparedInputs } from './preparedInputs';
import { HeadsHolder } from './headsHolder';
import type { PreparedInput } from '../core/dataset/importer';
import { explainCall, type ExplainCall } from './explain';
import { modelFilesSource, storeModelFiles } from './modelFiles';

const db = lazyDatabase();
setBackboneSources(async (spec) => modelFilesSource(await db(), spec));
const jobs = new JobRegistry(() => holder.sweep());
const holder = new HeadsHolder(db, () => jobs.size > 0);
const prepared = new PreparedInputs();
let computedThisSession = 0;
let backendInfo: EngineStatus | null = null;

/** The open project's heads, for calls that make no sense without one. */
function openHeads(): ProjectHeads {
  const heads = holder.current;
  if (!heads) throw new Error('No project is open.');
  return heads;
}

/**
 * A second worker that prepares batches while this one runs the model; closed after a minute
 * without embedding work (it holds nothing), started again by the next job.
 */
const preprocessor = new LazyWorker<Comlink.Remote<PreprocessWorkerApi>>(() => {
  const worker = new Worker(new URL('./preprocess.worker.ts', import.meta.url), {
    type: 'module',
    name: 'loupe-preprocess',
  });
  const remote = Comlink.wrap<PreprocessWorkerApi>(worker);
  return {
    remote,
    terminate: () => {
      remote[Comlink.releaseProxy]();
      worker.terminate();
    },
  };
});

/** One stored sample, decoded and preprocessed exactly as the pipeline does, as a tensor. */
async function sampleInput(
  sampleId: string,
  backbone: Backbone,
  aspectMode: AspectMode,
): Promise<tf.Tensor4D | null> {
  const sample = await (await db()).get('samples', sampleId);
  return sample ? preprocess([sample.blob], backbone, aspectMode) : null;
}

const api = {
  /** Picks the backend (`pickBackend`), never while picked model files are being checked. */
  async init(options: Parameters<typeof pickBackend>[0]): Promise<EngineStatus> {
    return exclusive(async () => (backendInfo = await pickBackend(options, backendInfo)));
  },

  async embedProject(
    jobId: string,
    call: EmbeddingTarget & { projectId: string; view?: AugmentView },
    onProgress: (p: EmbedProgress) => void,
    onBatch: (sampleIds: string[]) => void,
  ): Promise<EmbedReport> {
    return jobs.run(jobId, async (signal) => {
      const { projectId, spec, aspectMode } = call;
      const view = call.view ?? ORIGINAL_VIEW;
      const database = await db();
      const backbone = await backboneFor(spec);
      const ids = (await listSampleMeta(database, projectId)).map((m) => m.id);
      // Augmentation views are cached under their own key and never reach the live heads.
      const key = embeddingKey(spec, aspectMode) + viewSuffix(view);
      // The live view follows samples stored while it runs (an import in progress).
      const more =
        view.crop === 0 && !view.flip
          ? followSamples(database, projectId, { known: new Set(ids), prepared, signal })
          : undefined;
      const run = (prepare?: EmbedJob['prepare']) =>
        embedMissing({
          db: database,
          projectId,
          sampleIds: ids,
          backbone,
          embeddingKey: key,
          aspectMode,
          view,
          ...(prepare ? { prepare } : {}),
          more,
          batchSize: pipelineBatchSize(),
          signal,
          onProgress,
          onBatch(batch) {
            holder.apply((heads) => heads.addEmbeddings(batch), projectId, key);
            onBatch(batch.map((b) => b.sampleId));
          },
        });
      const report =
        typeof Worker === 'undefined'
          ? await run()
          : await preprocessor.use((remote) =>
              run(
                prepared.withPrepared(db, (ids, size, mode, v) =>
                  remote.prepare(ids, size, mode, v),
                ),
              ),
            );
      computedThisSession += report.computed;
      return report;
    });
  },

  cancel(jobId: string): void {
    jobs.cancel(jobId);
  },

  /** "Base model sees": the backbone's own top-3 ImageNet classes for one stored sample. */
  async classifySample(
    jobId: string,
    call: EmbeddingTarget & { sampleId: string },
  ): Promise<ClassPrediction[]> {
    return jobs.run(jobId, async (signal) => {
      const backbone = await backboneFor(call.spec);
      if (!backbone.classify || signal.aborted) return [];
      const input = await sampleInput(call.sampleId, backbone, call.aspectMode);
      if (!input) return [];
      try {
        return (await backbone.classify(input, 3))[0] ?? [];
      } finally {
        input.dispose();
      }
    });
  },

  /**
   * Raw forward-pass rate on the first `n` samples of a project: images are decoded and
   * preprocessed first (not timed), then only `embed` + read-back is timed, in the same batches
   * the pipeline uses. The benchmark compares this with the full pipeline.
   */
  async measureForward(
    jobId: string,
    call: EmbeddingTarget & { projectId: string; n: number },
  ): Promise<{ images: number; imgPerSec: number; batchSize: number }> {
    return jobs.run(jobId, async (signal) =>
      timeForward(await db(), await backboneFor(call.spec), call, pipelineBatchSize(), signal),
    );
  },

  /** Opens (or reopens) the heads of a project: KNN from cached embeddings, latest dense model. */
  async openHeads(
    options: EmbeddingTarget & {
      projectId: string;
      kind: ProjectKind;
      settings: HeadSettings;
      /** Rebuild from the database even when these heads are open (changed elsewhere). */
      reload?: boolean;
    },
  ): Promise<OpenedHeads> {
    const target = {
      projectId: options.projectId,
      embeddingKey: embeddingKey(options.spec, options.aspectMode),
      backboneId: options.spec.id,
      kind: options.kind,
    };
    const heads = await holder.open(target, options.reload ?? false);
    const k = await heads.setHeadSettings(options.settings);
    return { examples: heads.exampleCount, k, summary: heads.summary };
  },

  closeHeads(): void {
    holder.close();
  },

  /** Label changes / deletions; returns fresh predictions for the try image. */
  async applyLabelChanges(
    changes: LabelChange[],
    removed: string[],
  ): Promise<TryPredictions | null> {
    holder.apply((heads) => heads.applyChanges(changes, removed));
    return holder.current?.predictTry() ?? null;
  },

  async predictTry(): Promise<TryPredictions | null> {
    return holder.current?.predictTry() ?? null;
  },

  /** The project's head settings changed: applies them (auto k is chosen now); returns k. */
  async setHeadSettings(settings: HeadSettings): Promise<number> {
    return openHeads().setHeadSettings(settings);
  },

  /** Auto k: re-chosen if the labelled data changed since the last choice. Returns k. */
  async refreshK(): Promise<number> {
    return holder.current?.refreshK() ?? KNN_DEFAULTS.k;
  },

  /** Embeds an image (Blob or bitmap) with the project's backbone and predicts with both heads. */
  async tryImage(
    call: EmbeddingTarget & { image: Blob | ImageBitmap },
  ): Promise<TryPredictions | null> {
    const backbone = await backboneFor(call.spec);
    const pixels = await imageToPixels(call.image, backbone.inputSize, call.aspectMode);
    // Test-time flip (a project setting): the mean of the image's and its mirror's embeddings.
    const views = holder.current?.settings.flipTta
      ? [pixels, flipHorizontally(new ImageData(pixels.data.slice(), pixels.width, pixels.height))]
      : [pixels];
    const out = tf.tidy(() =>
      tf.mean(backbone.embed(pixelsToTensor(views, backbone.inputRange)), 0),
    );
    const vector = (await out.data()) as Float32Array;
    out.dispose();
    const heads = holder.current;
    if (!heads) return null;
    heads.setTryEmbedding(vector.slice());
    return heads.predictTry();
  },

  clearTry(): void {
    holder.current?.setTryEmbedding(null);
  },

  async trainDense(
    jobId: string,
    call: { labelOrder: string[]; config: Partial<DenseConfig>; augmentation?: Augmentation },
    onEpoch: (log: EpochLog) => void,
  ): Promise<DenseModelSummary | null> {
    const open = openHeads();
    return jobs.run(jobId, async (signal) => {
      const summary = await trainDense(await db(), open, { ...call, onEpoch, signal });
      // Heads rebuilt meanwhile (another tab's change) read the models before this one was saved.
      const now = holder.current;
      if (summary && now && now !== open && now.projectId === open.projectId)
        await holder.open(now.target, true);
      return summary;
    });
  },

  async evaluateVariants(
    jobId: string,
    call: { variants: EvalVariant[]; trainPerClass?: number; denseConfig?: Partial<DenseConfig> },
  ): Promise<EvalRow[]> {
    const open = openHeads();
    return jobs.run(jobId, async (signal) =>
      evaluateVariants(await db(), open, {
        variants: call.variants,
        signal,
        ...(call.trainPerClass ? { trainPerClass: call.trainPerClass } : {}),
        ...(call.denseConfig ? { denseConfig: call.denseConfig } : {}),
      }),
    );
  },

  async compareHeads(
    jobId: string,
    call: { labelOrder: string[]; augmentation?: Augmentation },
    onProgress: (progress: CompareProgress) => void,
  ): Promise<CompareRow[]> {
    const open = openHeads();
    return jobs.run(jobId, async (signal) =>
      compareHeads(await db(), open, { ...call, signal, onProgress }),
    );
  },

  /** The TF.js classifier export (zip): backbone + pooling + dense head, with metadata.json. */
  async exportTfjs(
    jobId: string,
    call: EmbeddingTarget & { modelName: string; labelNames: [string, string][] },
  ): Promise<Blob> {
    return jobs.run(jobId, async (signal) => {
      const heads = holder.current;
      const head = heads?.denseHead;
      if (!heads || !head) throw new Error('Train the dense head first: the TF.js model needs it.');
      const backbone = await backboneFor(call.spec);
      signal.throwIfAborted();
      const files = await tfjsClassifierFiles({
        backbone,
        spec: call.spec,
        head,
        labelNames: new Map(call.labelNames),
        aspectMode: call.aspectMode,
        modelName: call.modelName,
        metrics: heads.summary?.evaluations,
      });
      signal.throwIfAborted();
      return zipExport(files);
    });
  },

  /** The KNN export (zip): examples + manifest + the backbone's embedding model + runtime. */
  async exportKnn(
    jobId: string,
    call: EmbeddingTarget & { labelNames: [string, string][]; dtype: KnnExportDtype },
  ): Promise<Blob> {
    return jobs.run(jobId, async (signal) => {
      const heads = holder.current;
      if (!heads || heads.exampleCount === 0)
        throw new Error('Label some images first: the KNN model is made of them.');
      const backbone = await backboneFor(call.spec);
      signal.throwIfAborted();
      const files = await knnFiles({
        backbone,
        spec: call.spec,
        examples: heads.knnExamples(),
        labels: call.labelNames.map(([id, name]) => ({ id, name })),
        kind: heads.kind,
        k: heads.k,
        weighted: heads.settings.weighted,
        unknownSimilarity: heads.settings.knnUnknownBelow,
        aspectMode: call.aspectMode,
        dtype: call.dtype,
      });
      signal.throwIfAborted();
      return zipExport(files);
    });
  },

  /**
   * Parity check for tests and diagnostics: the exact preprocessed input of one stored sample and
   * the dense head's probabilities on it, computed the way the app predicts.
   */
  async denseOnSample(
    call: EmbeddingTarget & { sampleId: string },
  ): Promise<{ input: Float32Array; shape: number[]; probabilities: number[] }> {
    const head = holder.current?.denseHead;
    if (!head) throw new Error('No trained dense head.');
    const backbone = await backboneFor(call.spec);
    const input = await sampleInput(call.sampleId, backbone, call.aspectMode);
    if (!input) throw new Error('No such sample.');
    try {
      const embedding = tf.tidy(() => backbone.embed(input));
      const vector = (await embedding.data()) as Float32Array;
      embedding.dispose();
      const [prediction] = await head.predict([vector]);
      return {
        input: (await input.data()) as Float32Array,
        shape: input.shape,
        probabilities: prediction?.probabilities ?? [],
      };
    } finally {
      input.dispose();
    }
  },

  stats(): EngineStats {
    return {
      computedThisSession,
      numTensors: tf.memory().numTensors,
      backend: tf.getBackend(),
      runningJobs: jobs.size,
      prepared: prepared.stats(),
    };
  },

  /** The page's base URL, which model paths resolve against (`location` here is this script). */
  setAppBase(url: string): void {
    setAppBaseUrl(url);
  },

  /** Classifies files that are not stored, with the open project's backbone and chosen head. */
  async classifyImages(
    jobId: string,
    call: ClassifyCall,
    onChunk: ClassifyJob['onChunk'],
    onProgress: ClassifyJob['onProgress'],
  ): Promise<BatchReport> {
    const open = openHeads();
    return jobs.run(jobId, async (signal) => {
      const [backbone, batchSize] = [await backboneFor(call.spec), pipelineBatchSize()];
      const job = { ...call, backbone, heads: open, batchSize, signal, onChunk, onProgress };
      // Files are decoded on another core while this one runs the model, as for embedding.
      return typeof Worker === 'undefined'
        ? classifyFiles(job)
        : preprocessor.use((remote) =>
            classifyFiles({ ...job, prepare: (...args) => remote.prepareFiles(...args) }),
          );
    });
  },

  async outOfFoldPredictions(
    jobId: string,
    call: { labelOrder: string[] },
  ): Promise<OutOfFoldResult> {
    const open = openHeads();
    return jobs.run(jobId, async (signal) =>
      storedProjectOutOfFold(await db(), open, { ...call, signal }),
    );
  },

  async nearDuplicates(
    jobId: string,
    call: { threshold?: number; labelOrder?: string[] },
  ): Promise<DuplicateGroup[]> {
    const open = openHeads();
    return jobs.run(jobId, async (signal) =>
      projectNearDuplicates(await db(), open, { ...call, signal }),
    );
  },

  ...reviewJobs(jobs, db, openHeads),

  /** The dense head's saved versions (denseVersions.ts): list, pin, make one current. */
  listDenseVersions: async () => listDenseVersions(await db(), openHeads()),
  pinDenseVersion: async (id: string, pinned: boolean) =>
    pinDenseVersion(await db(), openHeads(), id, pinned),
  useDenseVersion: async (id: string) => useDenseVersion(await db(), holder, id),

  /** A heatmap of what drives a head's prediction on one image (explain.ts). */
  async explain(jobId: string, call: ExplainCall): Promise<Explanation> {
    const open = openHeads();
    return jobs.run(jobId, async (signal) => explainCall(await db(), open, call, signal));
  },

  async warmBackbone(spec: BackboneSpec): Promise<void> {
    await backboneFor(spec);
  },

  /** Model inputs an import drew from its own decode, for the embedding pipeline. */
  offerInputs(inputs: PreparedInput[]): void {
    prepared.offer(inputs);
  },

  /** Checks, describes and stores model files picked for a custom backbone. */
  async storeModelFiles(call: { files: File[]; folder?: string }): Promise<ModelFilesInfo> {
    return onReadyBackend(async () => storeModelFiles(await db(), call));
  },
};

export type EngineApi = typeof api;
Comlink.expose(api);
