/**
 * The page's side of the data worker: `runImport` for dropped files and a `DataClient` for
 * archives and dataset zips. The worker starts on first use and is closed after a minute without
 * work (unless it holds an inspected archive waiting to be imported); every call takes an
 * AbortSignal that becomes `cancel(jobId)` in the worker. A cancelled import keeps the chunks it
 * already wrote.
 */
import * as Comlink from 'comlink';
import type { DataWorkerApi } from './data.worker';
import type { DataClient, ImportCall, ImportReport } from './api';
import { callWithCancel } from './jobs';
import { LazyWorker } from './lazyWorker';

/** Tokens of inspected archives the worker holds (closing it would lose them). */
const heldArchives = new Set<string>();

const data = new LazyWorker<Comlink.Remote<DataWorkerApi>>(
  () => {
    const worker = new Worker(new URL('./data.worker.ts', import.meta.url), {
      type: 'module',
      name: 'loupe-data',
    });
    const remote = Comlink.wrap<DataWorkerApi>(worker);
    return {
      remote,
      terminate: () => {
        remote[Comlink.releaseProxy]();
        worker.terminate();
      },
    };
  },
  { keepAlive: () => heldArchives.size > 0 },
);

/** One cancellable call on the data worker. */
function call<T>(
  signal: AbortSignal | undefined,
  run: (remote: Comlink.Remote<DataWorkerApi>, jobId: string) => Promise<T>,
): Promise<T> {
  return data.use((remote) =>
    callWithCancel(
      signal,
      (jobId) => remote.cancel(jobId),
      (jobId) => run(remote, jobId),
    ),
  );
}

export function runImport({
  signal,
  onProgress,
  onChunk,
  onPrepared,
  ...rest
}: ImportCall): Promise<ImportReport> {
  return call(signal, (remote, jobId) =>
    remote.importFiles(
      jobId,
      rest,
      Comlink.proxy(onProgress),
      Comlink.proxy(onChunk),
      onPrepared ? Comlink.proxy(onPrepared) : undefined,
    ),
  );
}

export function createDataClient(): DataClient {
  const forget = (token: string): void => {
    heldArchives.delete(token);
    data.scheduleClose();
  };
  return {
    exportArchive: ({ signal, onProgress, ...rest }) =>
      call(signal, (remote, jobId) => remote.exportArchive(jobId, rest, Comlink.proxy(onProgress))),
    exportDataset: ({ signal, onProgress, ...rest }) =>
      call(signal, (remote, jobId) => remote.exportDataset(jobId, rest, Comlink.proxy(onProgress))),
    async inspectArchive({ signal, onProgress, file }) {
      const summary = await call(signal, (remote, jobId) =>
        remote.inspectArchive(jobId, { file }, onProgress ? Comlink.proxy(onProgress) : undefined),
      );
      // The worker keeps only the newest inspected archive.
      heldArchives.clear();
      heldArchives.add(summary.token);
      return summary;
    },
    async importArchive({ signal, ...rest }) {
      const project = await call(signal, (remote, jobId) => remote.importArchive(jobId, rest));
      forget(rest.token);
      return project;
    },
    async dismissArchive(token) {
      if (!data.running) return forget(token);
      await data.use((remote) => remote.dismissArchive(token));
      forget(token);
    },
    measureArchive: ({ signal, file }) =>
      call(signal, (remote, jobId) => remote.measureArchive(jobId, { file })),
  };
}
