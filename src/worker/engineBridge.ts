/**
 * The page's `EngineClient`: starts the engine worker lazily, wraps its API with comlink, gives
 * every long call a job id and turns its AbortSignal into `cancel(jobId)`, proxies progress
 * callbacks and transfers bitmaps. The store talks to the engine only through this. The engine
 * worker is not closed when idle: it holds the loaded backbone and the open project's heads,
 * which take seconds to rebuild.
 */
import * as Comlink from 'comlink';
import type { EngineApi } from './engine.worker';
import type { EngineClient } from './api';
import { callWithCancel } from './jobs';
import { appBaseUrl } from '../core/sameOrigin';
import { preparedBuffers } from '../core/dataset/preparedInput';

export function createEngineClient(): EngineClient {
  let remote: Comlink.Remote<EngineApi> | null = null;
  const worker = (): Comlink.Remote<EngineApi> => {
    if (!remote) {
      remote = Comlink.wrap<EngineApi>(
        new Worker(new URL('./engine.worker.ts', import.meta.url), {
          type: 'module',
          name: 'loupe-engine',
        }),
      );
      // The first message, so every model URL the worker fetches resolves against the page.
      const base = appBaseUrl();
      if (base !== null) void remote.setAppBase(base);
    }
    return remote;
  };
  const withCancel = <T>(
    signal: AbortSignal | undefined,
    run: (jobId: string) => Promise<T>,
  ): Promise<T> => callWithCancel(signal, (jobId) => worker().cancel(jobId), run);

  return {
    init: (options) => worker().init(options),
    embedProject: ({ signal, onProgress, onBatch, ...call }) =>
      withCancel(signal, (jobId) =>
        worker().embedProject(jobId, call, Comlink.proxy(onProgress), Comlink.proxy(onBatch)),
      ),
    openHeads: (options) => worker().openHeads(options),
    closeHeads: () => worker().closeHeads(),
    applyLabelChanges: (changes, removed) => worker().applyLabelChanges(changes, removed),
    predictTry: () => worker().predictTry(),
    setHeadSettings: (settings) => worker().setHeadSettings(settings),
    refreshK: () => worker().refreshK(),
    tryImage: ({ image, ...call }) =>
      worker().tryImage({
        ...call,
        image: image instanceof Blob ? image : Comlink.transfer(image, [image]),
      }),
    clearTry: () => worker().clearTry(),
    trainDense: ({ signal, onEpoch, ...call }) =>
      withCancel(signal, (jobId) => worker().trainDense(jobId, call, Comlink.proxy(onEpoch))),
    listDenseVersions: () => worker().listDenseVersions(),
    pinDenseVersion: (id, pinned) => worker().pinDenseVersion(id, pinned),
    useDenseVersion: (id) => worker().useDenseVersion(id),
    compareHeads: ({ signal, onProgress, ...call }) =>
      withCancel(signal, (jobId) =>
        worker().compareHeads(jobId, call, Comlink.proxy(onProgress ?? (() => {}))),
      ),
    evaluateVariants: ({ signal, ...call }) =>
      withCancel(signal, (jobId) => worker().evaluateVariants(jobId, call)),
    exportTfjs: ({ signal, ...call }) =>
      withCancel(signal, (jobId) => worker().exportTfjs(jobId, call)),
    exportKnn: ({ signal, ...call }) =>
      withCancel(signal, (jobId) => worker().exportKnn(jobId, call)),
    classifySample: ({ signal, ...call }) =>
      withCancel(signal, (jobId) => worker().classifySample(jobId, call)),
    denseOnSample: (call) => worker().denseOnSample(call),
    measureForward: ({ signal, ...call }) =>
      withCancel(signal, (jobId) => worker().measureForward(jobId, call)),
    stats: () => worker().stats(),
    classifyImages: ({ signal, onChunk, onProgress, ...call }) =>
      withCancel(signal, (jobId) =>
        worker().classifyImages(jobId, call, Comlink.proxy(onChunk), Comlink.proxy(onProgress)),
      ),
    outOfFoldPredictions: ({ signal, ...call }) =>
      withCancel(signal, (jobId) => worker().outOfFoldPredictions(jobId, call)),
    nearDuplicates: ({ signal, ...call }) =>
      withCancel(signal, (jobId) => worker().nearDuplicates(jobId, call)),
    labelNext: ({ signal, ...call }) =>
      withCancel(signal, (jobId) => worker().labelNext(jobId, call)),
    clusters: ({ signal, ...call }) =>
      withCancel(signal, (jobId) => worker().clusters(jobId, call)),
    simulateReview: ({ signal, ...call }) =>
      withCancel(signal, (jobId) => worker().simulateReview(jobId, call)),
    simulateMislabels: ({ signal, ...call }) =>
      withCancel(signal, (jobId) => worker().simulateMislabels(jobId, call)),
    benchReview: ({ signal, ...call }) =>
      withCancel(signal, (jobId) => worker().benchReview(jobId, call)),
    benchAnalysis: ({ signal, ...call }) =>
      withCancel(signal, (jobId) => worker().benchAnalysis(jobId, call)),
    explain: ({ signal, ...call }) => withCancel(signal, (jobId) => worker().explain(jobId, call)),
    storeModelFiles: (call) => worker().storeModelFiles(call),
    warmBackbone: (spec) => worker().warmBackbone(spec),
    offerInputs: (inputs) =>
      void worker().offerInputs(Comlink.transfer(inputs, preparedBuffers(inputs))),
  };
}
