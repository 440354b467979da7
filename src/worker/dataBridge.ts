/**
 * Main-thread side of the data worker: starts it lazily, forwards progress, and turns an
 * AbortSignal into a cancel message (the worker finishes the chunk it is writing, keeping it).
 */
import * as Comlink from 'comlink';
import type { ImportItem, ImportProgress, ImportReport } from '../core/dataset/importer';
import type { SampleMeta, SampleSource } from '../core/storage/schema';
import type { DataWorkerApi } from './data.worker';
import { callWithCancel } from './jobs';

let remote: Comlink.Remote<DataWorkerApi> | null = null;

function worker(): Comlink.Remote<DataWorkerApi> {
  remote ??= Comlink.wrap<DataWorkerApi>(
    new Worker(new URL('./data.worker.ts', import.meta.url), {
      type: 'module',
      name: 'loupe-import',
    }),
  );
  return remote;
}

export interface ImportCall {
  projectId: string;
  items: ImportItem[];
  source: SampleSource;
  signal?: AbortSignal;
  onProgress: (p: ImportProgress) => void;
  onChunk: (added: SampleMeta[]) => void;
  mergeDuplicateLabels?: boolean;
}

/** The data worker's API for archive and dataset calls (no cancellation needed from the UI yet). */
export function dataWorker(): Comlink.Remote<DataWorkerApi> {
  return worker();
}

export async function runImport(call: ImportCall): Promise<ImportReport> {
  const api = worker();
  return callWithCancel(
    call.signal,
    (jobId) => api.cancel(jobId),
    (jobId) =>
      api.importFiles(
        jobId,
        call.projectId,
        call.items,
        call.source,
        Comlink.proxy(call.onProgress),
        Comlink.proxy(call.onChunk),
        call.mergeDuplicateLabels ?? false,
      ),
  );
}
