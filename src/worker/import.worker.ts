/**
 * Import worker: validates, hashes, decodes and thumbnails dropped files and writes them to
 * IndexedDB, so a drop of thousands of photos never blocks the page. Owns no UI and no tensors.
 */
import * as Comlink from 'comlink';
import { browserDecoder } from '../core/dataset/decoder';
import {
  importFiles,
  type ImportItem,
  type ImportProgress,
  type ImportReport,
} from '../core/dataset/importer';
import { openLoupeDb, type LoupeDatabase } from '../core/storage/db';
import type { SampleMeta, SampleSource } from '../core/storage/schema';

let dbPromise: Promise<LoupeDatabase> | null = null;
const jobs = new Map<string, AbortController>();

function db(): Promise<LoupeDatabase> {
  dbPromise ??= openLoupeDb({ onVersionChange: () => (dbPromise = null) });
  return dbPromise;
}

const api = {
  async importFiles(
    jobId: string,
    projectId: string,
    items: ImportItem[],
    source: SampleSource,
    onProgress: (p: ImportProgress) => void,
    onChunk: (added: SampleMeta[]) => void,
    mergeDuplicateLabels = false,
  ): Promise<ImportReport> {
    const controller = new AbortController();
    jobs.set(jobId, controller);
    try {
      return await importFiles(await db(), items, {
        projectId,
        source,
        decoder: browserDecoder,
        signal: controller.signal,
        onProgress,
        onChunk,
        mergeDuplicateLabels,
      });
    } finally {
      jobs.delete(jobId);
    }
  },
  cancel(jobId: string): void {
    jobs.get(jobId)?.abort();
  },
};

export type ImportWorkerApi = typeof api;
Comlink.expose(api);
