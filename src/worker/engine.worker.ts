/**
 * The engine worker owns every tensor of Loupe: backend choice, the backbone, embeddings, and
 * (later) the heads. The UI thread never runs a model; it talks to this worker through comlink
 * (see engineBridge.ts). Jobs are cancelled by id; progress flows back through proxied callbacks.
 */
import * as Comlink from 'comlink';
import * as tf from '@tensorflow/tfjs';
import { createBackbone } from '../core/backbone/registry';
import { decodeImage, pixelsToTensor, drawToPixels } from '../core/backbone/preprocess';
import type { AspectMode, Backbone, BackboneSpec, ClassPrediction } from '../core/backbone/types';
import { embeddingKey } from '../core/backbone/types';
import {
  NO_AUGMENTATION,
  ORIGINAL_VIEW,
  viewSuffix,
  type Augmentation,
  type AugmentView,
} from '../core/backbone/augment';
import { lazyDatabase } from '../core/storage/db';
import { listSampleMeta } from '../core/storage/samples';
import {
  describeBackend,
  probeBackends,
  useBackend,
  type BackendName,
  type BackendReport,
} from './backends';
import { embedMissing, type EmbedProgress, type EmbedReport } from './embedPipeline';
import { flipHorizontally } from './decodeBatch';
import { knnFiles, tfjsClassifierFiles, zipExport } from './exportBundle';
import { JobRegistry } from './jobs';
import type { PreprocessWorkerApi } from './preprocess.worker';
import type { KnnExportDtype } from '../core/formats/knnExport';
import {
  ProjectHeads,
  DEFAULT_HEAD_SETTINGS,
  type HeadSettings,
  type CompareRow,
  type DenseModelSummary,
  type EvalRow,
  type EvalVariant,
  type TryPredictions,
} from './headsService';
import { KNN_DEFAULTS, type DenseConfig, type EpochLog } from '../core/heads';
import type { ProjectKind } from '../core/kinds';

const db = lazyDatabase();

const jobs = new JobRegistry();
let loaded: { key: string; backbone: Backbone } | null = null;
let computedThisSession = 0;
let heads: ProjectHeads | null = null;

/** The open project's heads, for calls that make no sense without one. */
function openHeads(): ProjectHeads {
  if (!heads) throw new Error('No project is open.');
  return heads;
}
let preprocessor: Comlink.Remote<PreprocessWorkerApi> | null = null;

/** A second worker that prepares batches while this one runs the model (null where unavailable). */
function preprocessWorker(): Comlink.Remote<PreprocessWorkerApi> | null {
  if (preprocessor) return preprocessor;
  if (typeof Worker === 'undefined') return null;
  try {
    preprocessor = Comlink.wrap<PreprocessWorkerApi>(
      new Worker(new URL('./preprocess.worker.ts', import.meta.url), {
        type: 'module',
        name: 'loupe-preprocess',
      }),
    );
  } catch {
    return null;
  }
  return preprocessor;
}
let backendInfo: { name: BackendName; detail: string; reports: BackendReport[] } | null = null;

async function backboneFor(spec: BackboneSpec): Promise<Backbone> {
  const key = `${spec.id}|${tf.getBackend()}`;
  if (loaded?.key === key) return loaded.backbone;
  loaded?.backbone.dispose();
  loaded = null;
  const backbone = createBackbone(spec);
  await backbone.load();
  loaded = { key, backbone };
  return backbone;
}

/** Images/s of the backbone's forward pass on the active backend, on random input. */
async function timeForward(spec: BackboneSpec, batch = 4, rounds = 2): Promise<number> {
  const backbone = await backboneFor(spec);
  const input = tf.randomUniform(
    [batch, spec.inputSize, spec.inputSize, 3],
    spec.inputRange[0],
    spec.inputRange[1],
  ) as tf.Tensor4D;
  try {
    const warm = backbone.embed(input);
    await warm.data();
    warm.dispose();
    const t0 = performance.now();
    for (let r = 0; r < rounds; r++) {
      const out = backbone.embed(input);
      await out.data();
      out.dispose();
    }
    return (batch * rounds) / ((performance.now() - t0) / 1000);
  } finally {
    input.dispose();
  }
}

/** Batch 8 on CPU-side backends (batching gains little without many threads), 16 on GPUs. */
function pipelineBatchSize(): number {
  return tf.getBackend() === 'wasm' || tf.getBackend() === 'cpu' ? 8 : 16;
}

export interface EngineStatus {
  backend: BackendName;
  detail: string;
  reports: BackendReport[];
  /** How the backend was picked: measured now, remembered from an earlier probe, or forced. */
  how: 'probed' | 'remembered' | 'override';
}

const api = {
  /**
   * Picks the backend: `override` forces one; `remembered` (from an earlier probe on this device)
   * is reused when it still works; otherwise every backend is probed with the real backbone.
   */
  async init(
    spec: BackboneSpec,
    opts: { override?: BackendName; remembered?: BackendName; timeSoftware?: boolean } = {},
  ): Promise<EngineStatus> {
    const pick = opts.override ?? opts.remembered;
    if (pick && (await useBackend(pick))) {
      const d = await describeBackend(pick);
      backendInfo = { name: pick, detail: d.detail, reports: backendInfo?.reports ?? [] };
      return {
        backend: pick,
        detail: d.detail,
        reports: backendInfo.reports,
        how: opts.override ? 'override' : 'remembered',
      };
    }
    const { reports, chosen } = await probeBackends((_name) => timeForward(spec), opts);
    await useBackend(chosen);
    const detail = reports.find((r) => r.name === chosen)?.detail ?? '';
    backendInfo = { name: chosen, detail, reports };
    return { backend: chosen, detail, reports, how: 'probed' };
  },

  async embedProject(
    jobId: string,
    projectId: string,
    spec: BackboneSpec,
    aspectMode: AspectMode,
    onProgress: (p: EmbedProgress) => void,
    onBatch: (sampleIds: string[]) => void,
    view: AugmentView = ORIGINAL_VIEW,
  ): Promise<EmbedReport> {
    return jobs.run(jobId, async (signal) => {
      const database = await db();
      const backbone = await backboneFor(spec);
      const metas = await listSampleMeta(database, projectId);
      // Augmentation views are cached under their own key and never reach the live heads.
      const key = embeddingKey(spec, aspectMode) + viewSuffix(view);
      const batchWorker = preprocessWorker();
      const report = await embedMissing({
        db: database,
        projectId,
        sampleIds: metas.map((m) => m.id),
        backbone,
        embeddingKey: key,
        aspectMode,
        view,
        ...(batchWorker
          ? {
              prepare: (ids: string[], size: number, mode: AspectMode, v: AugmentView) =>
                batchWorker.prepare(ids, size, mode, v),
            }
          : {}),
        batchSize: pipelineBatchSize(),
        signal,
        onProgress,
        onBatch(batch) {
          if (heads?.projectId === projectId && heads.embeddingKey === key) {
            heads.addEmbeddings(batch);
          }
          onBatch(batch.map((b) => b.sampleId));
        },
      });
      computedThisSession += report.computed;
      return report;
    });
  },

  cancel(jobId: string): void {
    jobs.cancel(jobId);
  },

  /** "Base model sees": the backbone's own top-3 ImageNet classes for one stored sample. */
  async classifySample(
    sampleId: string,
    spec: BackboneSpec,
    aspectMode: AspectMode,
  ): Promise<ClassPrediction[]> {
    const backbone = await backboneFor(spec);
    if (!backbone.classify) return [];
    const sample = await (await db()).get('samples', sampleId);
    if (!sample) return [];
    const bitmap = await decodeImage(sample.blob);
    const pixels = drawToPixels(bitmap, backbone.inputSize, aspectMode);
    bitmap.close();
    const input = pixelsToTensor([pixels], backbone.inputRange);
    try {
      return (await backbone.classify(input, 3))[0] ?? [];
    } finally {
      input.dispose();
    }
  },

  /**
   * Raw forward-pass rate on the first `n` samples of a project: images are decoded and
   * preprocessed first (not timed), then only `embed` + read-back is timed, in the same batches
   * the pipeline uses. The benchmark compares this with the full pipeline.
   */
  async measureForward(
    projectId: string,
    spec: BackboneSpec,
    aspectMode: AspectMode,
    n: number,
  ): Promise<{ images: number; imgPerSec: number; batchSize: number }> {
    const database = await db();
    const backbone = await backboneFor(spec);
    const metas = (await listSampleMeta(database, projectId)).slice(0, n);
    const batchSize = pipelineBatchSize();
    const inputs: tf.Tensor4D[] = [];
    try {
      for (let i = 0; i < metas.length; i += batchSize) {
        const pixels = [];
        for (const m of metas.slice(i, i + batchSize)) {
          const sample = await database.get('samples', m.id);
          if (!sample) continue;
          const bitmap = await decodeImage(sample.blob);
          pixels.push(drawToPixels(bitmap, backbone.inputSize, aspectMode));
          bitmap.close();
        }
        if (pixels.length > 0) inputs.push(pixelsToTensor(pixels, backbone.inputRange));
      }
      const warm = backbone.embed(inputs[0]!);
      await warm.data();
      warm.dispose();
      const t0 = performance.now();
      let images = 0;
      for (const input of inputs) {
        const out = backbone.embed(input);
        await out.data();
        out.dispose();
        images += input.shape[0];
      }
      return { images, imgPerSec: images / ((performance.now() - t0) / 1000), batchSize };
    } finally {
      inputs.forEach((t) => t.dispose());
    }
  },

  /** Opens (or reopens) the heads of a project: KNN from cached embeddings, latest dense model. */
  async openHeads(
    projectId: string,
    spec: BackboneSpec,
    aspectMode: AspectMode,
    kind: ProjectKind,
    settings: HeadSettings = DEFAULT_HEAD_SETTINGS,
  ): Promise<{ examples: number; k: number; summary: DenseModelSummary | null }> {
    const key = embeddingKey(spec, aspectMode);
    if (
      !heads ||
      heads.projectId !== projectId ||
      heads.embeddingKey !== key ||
      heads.kind !== kind
    ) {
      heads?.dispose();
      heads = null;
      heads = await ProjectHeads.open(await db(), projectId, key, spec.id, kind);
    }
    const k = await heads.setHeadSettings(settings);
    return { examples: heads.exampleCount, k, summary: heads.summary };
  },

  closeHeads(): void {
    heads?.dispose();
    heads = null;
  },

  /** Label changes / deletions; returns fresh predictions for the try image. */
  async applyChanges(
    changes: { sampleId: string; labelIds: string[] }[],
    removed: string[],
  ): Promise<TryPredictions | null> {
    if (!heads) return null;
    heads.applyChanges(changes, removed);
    return heads.predictTry();
  },

  /** The project's head settings changed: applies them (auto k is chosen now); returns k. */
  async setHeadSettings(settings: HeadSettings): Promise<number> {
    return openHeads().setHeadSettings(settings);
  },

  /** Auto k: re-chosen if the labelled data changed since the last choice. Returns k. */
  async refreshK(): Promise<number> {
    return heads ? heads.refreshK() : KNN_DEFAULTS.k;
  },

  /** Embeds an image (Blob or bitmap) with the project's backbone and predicts with both heads. */
  async tryImage(
    image: Blob | ImageBitmap,
    spec: BackboneSpec,
    aspectMode: AspectMode,
  ): Promise<TryPredictions | null> {
    const backbone = await backboneFor(spec);
    const bitmap = image instanceof Blob ? await decodeImage(image) : image;
    const pixels = drawToPixels(bitmap, backbone.inputSize, aspectMode);
    bitmap.close();
    // Test-time flip (a project setting): the mean of the image's and its mirror's embeddings.
    const views = heads?.settings.flipTta
      ? [pixels, flipHorizontally(new ImageData(pixels.data.slice(), pixels.width, pixels.height))]
      : [pixels];
    const out = tf.tidy(() =>
      tf.mean(backbone.embed(pixelsToTensor(views, backbone.inputRange)), 0),
    );
    const vector = (await out.data()) as Float32Array;
    out.dispose();
    if (!heads) return null;
    heads.setTryEmbedding(vector.slice());
    return heads.predictTry();
  },

  clearTry(): void {
    heads?.setTryEmbedding(null);
  },

  async trainDense(
    jobId: string,
    labelOrder: string[],
    config: Partial<DenseConfig>,
    onEpoch: (log: EpochLog) => void,
    augmentation: Augmentation = NO_AUGMENTATION,
  ): Promise<DenseModelSummary | null> {
    const open = openHeads();
    return jobs.run(jobId, async (signal) =>
      open.trainDense(await db(), labelOrder, config, onEpoch, signal, augmentation),
    );
  },

  async evaluateVariants(
    jobId: string,
    variants: EvalVariant[],
    trainPerClass?: number,
  ): Promise<EvalRow[]> {
    const open = openHeads();
    return jobs.run(jobId, async (signal) =>
      open.evaluateVariants(await db(), {
        variants,
        signal,
        ...(trainPerClass ? { trainPerClass } : {}),
      }),
    );
  },

  async compareHeads(
    jobId: string,
    labelOrder: string[],
    augmentation: Augmentation = NO_AUGMENTATION,
  ): Promise<CompareRow[]> {
    const open = openHeads();
    return jobs.run(jobId, async (signal) =>
      open.compareHeads(await db(), labelOrder, signal, augmentation),
    );
  },

  /** The TF.js classifier export (zip): backbone + pooling + dense head, with metadata.json. */
  async exportTfjs(
    spec: BackboneSpec,
    aspectMode: AspectMode,
    modelName: string,
    labelNames: [string, string][],
  ): Promise<Blob> {
    const head = heads?.denseHead;
    if (!heads || !head) throw new Error('Train the dense head first: the TF.js model needs it.');
    const files = await tfjsClassifierFiles({
      backbone: await backboneFor(spec),
      spec,
      head,
      labelNames: new Map(labelNames),
      aspectMode,
      modelName,
      metrics: heads.summary?.evaluations,
    });
    return zipExport(files);
  },

  /** The KNN export (zip): examples + manifest + the backbone's embedding model + runtime. */
  async exportKnn(
    spec: BackboneSpec,
    aspectMode: AspectMode,
    _modelName: string,
    labelNames: [string, string][],
    dtype: KnnExportDtype,
  ): Promise<Blob> {
    if (!heads || heads.exampleCount === 0)
      throw new Error('Label some images first: the KNN model is made of them.');
    const names = new Map(labelNames);
    const files = await knnFiles({
      backbone: await backboneFor(spec),
      spec,
      examples: heads.knnExamples(),
      labels: labelNames.filter(([id]) => names.has(id)).map(([id, name]) => ({ id, name })),
      kind: heads.kind,
      k: heads.k,
      weighted: heads.settings.weighted,
      unknownSimilarity: heads.settings.knnUnknownBelow,
      aspectMode,
      dtype,
    });
    return zipExport(files);
  },

  /**
   * Parity check for tests and diagnostics: the exact preprocessed input of one stored sample and
   * the dense head's probabilities on it, computed the way the app predicts.
   */
  async denseOnSample(
    sampleId: string,
    spec: BackboneSpec,
    aspectMode: AspectMode,
  ): Promise<{ input: Float32Array; shape: number[]; probabilities: number[] }> {
    const head = heads?.denseHead;
    if (!head) throw new Error('No trained dense head.');
    const backbone = await backboneFor(spec);
    const sample = await (await db()).get('samples', sampleId);
    if (!sample) throw new Error('No such sample.');
    const bitmap = await decodeImage(sample.blob);
    const pixels = drawToPixels(bitmap, backbone.inputSize, aspectMode);
    bitmap.close();
    const input = pixelsToTensor([pixels], backbone.inputRange);
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

  stats(): { computedThisSession: number; numTensors: number; backend: string } {
    return { computedThisSession, numTensors: tf.memory().numTensors, backend: tf.getBackend() };
  },
};

export type EngineApi = typeof api;
Comlink.expose(api);
