/**
 * Main-thread client of the engine worker: starts it lazily, wraps its API with comlink, and
 * turns AbortSignals into cancel messages. The store talks to the engine only through this.
 */
import * as Comlink from 'comlink';
import type { Augmentation, AugmentView } from '../core/backbone/augment';
import type { AspectMode, BackboneSpec, ClassPrediction } from '../core/backbone/types';
import type { BackendName } from './backends';
import type { EmbedProgress, EmbedReport } from './embedPipeline';
import type { EngineApi, EngineStatus } from './engine.worker';
import { callWithCancel } from './jobs';
import type {
  CompareRow,
  DenseModelSummary,
  HeadSettings,
  EvalRow,
  EvalVariant,
  TryPredictions,
} from './headsService';
import type { DenseConfig, EpochLog } from '../core/heads';

export type {
  Augmentation,
  CompareRow,
  DenseModelSummary,
  HeadSettings,
  TryPredictions,
  EpochLog,
  DenseConfig,
};

export type { BackendName, EmbedProgress, EmbedReport, EngineStatus };

export interface EngineClient {
  /** Direct calls that need no cancellation (open/close heads, try image, apply label changes…). */
  api(): Comlink.Remote<EngineApi>;
  trainDense(call: {
    labelOrder: string[];
    config: Partial<DenseConfig>;
    signal: AbortSignal;
    onEpoch: (log: EpochLog) => void;
    /** Train on augmented copies too (compute their views first: `embedProject` with `view`). */
    augmentation?: Augmentation;
  }): Promise<DenseModelSummary | null>;
  /** With an augmentation, both heads are also scored trained with it (views computed first). */
  compareHeads(
    labelOrder: string[],
    signal: AbortSignal,
    augmentation?: Augmentation,
  ): Promise<CompareRow[]>;
  /** Cross-validated accuracy of head variants (the `npm run eval` report). */
  evaluateVariants(variants: EvalVariant[], trainPerClass?: number): Promise<EvalRow[]>;
  init(
    spec: BackboneSpec,
    opts: { override?: BackendName; remembered?: BackendName },
  ): Promise<EngineStatus>;
  embedProject(call: {
    projectId: string;
    spec: BackboneSpec;
    aspectMode: AspectMode;
    signal: AbortSignal;
    onProgress: (p: EmbedProgress) => void;
    onBatch: (sampleIds: string[]) => void;
    /** Compute an augmentation view (mirror, crop) instead of the plain embeddings. */
    view?: AugmentView;
  }): Promise<EmbedReport>;
  classifySample(
    sampleId: string,
    spec: BackboneSpec,
    aspectMode: AspectMode,
  ): Promise<ClassPrediction[]>;
  stats(): Promise<{ computedThisSession: number; numTensors: number; backend: string }>;
  measureForward(
    projectId: string,
    spec: BackboneSpec,
    aspectMode: AspectMode,
    n: number,
  ): Promise<{ images: number; imgPerSec: number; batchSize: number }>;
}

export function createEngineClient(): EngineClient {
  let remote: Comlink.Remote<EngineApi> | null = null;
  const worker = (): Comlink.Remote<EngineApi> => {
    remote ??= Comlink.wrap<EngineApi>(
      new Worker(new URL('./engine.worker.ts', import.meta.url), {
        type: 'module',
        name: 'loupe-engine',
      }),
    );
    return remote;
  };
  const withCancel = <T>(signal: AbortSignal, run: (jobId: string) => Promise<T>): Promise<T> =>
    callWithCancel(signal, (jobId) => worker().cancel(jobId), run);
  return {
    api: worker,
    trainDense: (call) =>
      withCancel(call.signal, (jobId) =>
        worker().trainDense(
          jobId,
          call.labelOrder,
          call.config,
          Comlink.proxy(call.onEpoch),
          call.augmentation ?? { flips: false, crops: 0 },
        ),
      ),
    compareHeads: (labelOrder, signal, augmentation) =>
      withCancel(signal, (jobId) => worker().compareHeads(jobId, labelOrder, augmentation)),
    evaluateVariants: (variants, trainPerClass) =>
      worker().evaluateVariants(crypto.randomUUID(), variants, trainPerClass),
    init: (spec, opts) => worker().init(spec, opts),
    embedProject: (call) =>
      withCancel(call.signal, (jobId) =>
        worker().embedProject(
          jobId,
          call.projectId,
          call.spec,
          call.aspectMode,
          Comlink.proxy(call.onProgress),
          Comlink.proxy(call.onBatch),
          call.view ?? { flip: false, crop: 0 },
        ),
      ),
    classifySample: (id, spec, mode) => worker().classifySample(id, spec, mode),
    stats: () => worker().stats(),
    measureForward: (projectId, spec, mode, n) => worker().measureForward(projectId, spec, mode, n),
  };
}
