/**
 * Data worker: validates, hashes, decodes and thumbnails dropped files and writes them to
 * IndexedDB, so a drop of thousands of photos never blocks the page; also writes project archives
 * and dataset zips, and restores archives (archiveImport.ts). Owns no UI and no tensors.
 */
import * as Comlink from 'comlink';
import { browserDecoder } from '../core/dataset/decoder';
import {
  importFiles,
  type ImportProgress,
  type ImportReport,
  type PreparedInput,
} from '../core/dataset/importer';
import { lazyDatabase, type LoupeDatabase } from '../core/storage/db';
import { preparedBuffers } from '../core/dataset/preparedInput';
import type { ProjectRecord, SampleMeta } from '../core/storage/schema';
import { exportProjectArchive } from '../core/formats/archive';
import { exportDataset } from '../core/formats/dataset';
import { archiveImports } from './archiveImport';
import { JobRegistry } from './jobs';
import type { ArchiveSummary, ImportCall, TransferProgress } from './api';

const openDb = lazyDatabase();
const archives = archiveImports(openDb);
/** The database; the first open also sweeps archive stagings a closed or reloaded tab left. */
const db = async (): Promise<LoupeDatabase> => {
  const database = await openDb();
  void archives.sweep(database);
  return database;
};
const jobs = new JobRegistry();

const api = {
  async importFiles(
    jobId: string,
    call: Omit<ImportCall, 'signal' | 'onProgress' | 'onChunk' | 'onPrepared'>,
    onProgress: (p: ImportProgress) => void,
    onChunk: (added: SampleMeta[]) => void,
    onPrepared?: (inputs: PreparedInput[]) => void,
  ): Promise<ImportReport> {
    return jobs.run(jobId, async (signal) =>
      importFiles(await db(), call.items, {
        projectId: call.projectId,
        source: call.source,
        decoder: browserDecoder,
        signal,
        onProgress,
        onChunk,
        mergeDuplicateLabels: call.mergeDuplicateLabels ?? false,
        dropMissingLabels: call.dropMissingLabels ?? false,
        ...(onPrepared && call.modelInput
          ? {
              modelInput: call.modelInput,
              // Moved, not copied: the page hands them on to the engine the same way.
              onPrepared: (inputs: PreparedInput[]) =>
                void onPrepared(Comlink.transfer(inputs, preparedBuffers(inputs))),
            }
          : {}),
      }),
    );
  },

  async exportArchive(
    jobId: string,
    call: { projectId: string },
    onProgress: (p: TransferProgress) => void,
  ): Promise<Blob> {
    return jobs.run(jobId, async (signal) =>
      exportProjectArchive(await db(), call.projectId, { onProgress, signal }),
    );
  },

  async exportDataset(
    jobId: string,
    call: { projectId: string },
    onProgress: (p: TransferProgress) => void,
  ): Promise<Blob> {
    return jobs.run(jobId, async (signal) =>
      exportDataset(await db(), call.projectId, { onProgress, signal }),
    );
  },

  /** Sums the archive's declared uncompressed sizes (the room check before `inspectArchive`). */
  async measureArchive(jobId: string, call: { file: Blob }): Promise<number> {
    return jobs.run(jobId, async () => archives.measure(call.file));
  },

  /** Validates an archive completely and stages it, invisible, for `importArchive`. */
  async inspectArchive(
    jobId: string,
    call: { file: Blob },
    onProgress?: (p: TransferProgress) => void,
  ): Promise<ArchiveSummary> {
    return jobs.run(jobId, async (signal) => archives.inspect(call.file, signal, onProgress));
  },

  /** Makes an inspected archive's project visible in one transaction; cancelled before it starts, nothing changes. */
  async importArchive(
    jobId: string,
    call: { token: string; name?: string; replaceProjectId?: string },
  ): Promise<ProjectRecord> {
    return jobs.run(jobId, async (signal) => {
      signal.throwIfAborted();
      const name = call.name ? { name: call.name } : {};
      return archives.finish(
        call.token,
        call.replaceProjectId
          ? { ...name, mode: 'replace', replaceProjectId: call.replaceProjectId }
          : { ...name, mode: 'new' },
      );
    });
  },

  /** Deletes an inspected archive's staging. */
  async dismissArchive(token: string): Promise<void> {
    await archives.dismiss(token);
  },

  cancel(jobId: string): void {
    jobs.cancel(jobId);
  },
};

export type DataWorkerApi = typeof api;
Comlink.expose(api);
