/**
 * Main-thread client of the engine worker: starts it lazily, wraps its API with comlink, and
 * turns AbortSignals into cancel messages. The store talks to the engine only through this.
 */
import * as Comlink from 'comlink';
import type { AspectMode, BackboneSpec, ClassPrediction } from '../core/backbone/types';
import type { BackendName } from './backends';
import type { EmbedProgress, EmbedReport } from './embedPipeline';
import type { EngineApi, EngineStatus } from './engine.worker';

export type { BackendName, EmbedProgress, EmbedReport, EngineStatus };

export interface EngineClient {
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
  return {
    init: (spec, opts) => worker().init(spec, opts),
    async embedProject(call) {
      const jobId = crypto.randomUUID();
      const api = worker();
      const onAbort = (): void => void api.cancel(jobId);
      call.signal.addEventListener('abort', onAbort);
      try {
        return await api.embedProject(
          jobId,
          call.projectId,
          call.spec,
          call.aspectMode,
          Comlink.proxy(call.onProgress),
          Comlink.proxy(call.onBatch),
        );
      } finally {
        call.signal.removeEventListener('abort', onAbort);
      }
    },
    classifySample: (id, spec, mode) => worker().classifySample(id, spec, mode),
    stats: () => worker().stats(),
    measureForward: (projectId, spec, mode, n) => worker().measureForward(projectId, spec, mode, n),
  };
}
