/**
 * Data worker: validates, hashes, decodes and thumbnails dropped files and writes them to
 * IndexedDB, so a drop of thousands of photos never blocks the page; also writes and reads project
 * archives and dataset zips. Owns no UI and no tensors.
 */
import * as Comlink from 'comlink';
import { browserDecoder } from '../core/dataset/decoder';
import {
  importFiles,
  type ImportProgress,
  type ImportReport,
  type PreparedInput,
} from '../core/dataset/importer';
import { lazyDatabase } from '../core/storage/db';
import { preparedBuffers } from '../core/dataset/preparedInput';
import { findNameConflict } from '../core/storage/projects';
import { writeRestoredProject } from '../core/storage/restoreProject';
import type { ProjectRecord, SampleMeta } from '../core/storage/schema';
import { exportProjectArchive } from '../core/formats/archive';
import { exportDataset } from '../core/formats/dataset';
import { readProjectArchive, type RestoredProject } from '../core/formats/restore';
import { JobRegistry } from './jobs';
import type { ArchiveSummary, ImportCall, TransferProgress } from './api';

const restoredArchives = new Map<string, RestoredProject>();

const db = lazyDatabase();
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

  /** Validates an archive completely (nothing is written) and keeps it for `importArchive`. */
  async inspectArchive(
    jobId: string,
    call: { file: Blob },
    onProgress?: (p: TransferProgress) => void,
  ): Promise<ArchiveSummary> {
    return jobs.run(jobId, async (signal) => {
      const restored = await readProjectArchive(call.file, {
        signal,
        ...(onProgress ? { onProgress } : {}),
      });
      const conflict = await findNameConflict(await db(), restored.project.name);
      signal.throwIfAborted();
      const token = crypto.randomUUID();
      // One archive at a time: a newer inspection replaces one that was never imported.
      restoredArchives.clear();
      restoredArchives.set(token, restored);
      return {
        token,
        name: restored.project.name,
        images: restored.samples.length,
        labels: restored.labels.length,
        models: restored.models.length,
        warnings: restored.warnings,
        conflict: conflict ? { id: conflict.id, name: conflict.name } : null,
      };
    });
  },

  /** Writes an inspected archive in one transaction; cancelled before it starts, nothing is written. */
  async importArchive(
    jobId: string,
    call: { token: string; name?: string; replaceProjectId?: string },
  ): Promise<ProjectRecord> {
    return jobs.run(jobId, async (signal) => {
      const restored = restoredArchives.get(call.token);
      if (!restored) throw new Error('The archive is no longer loaded; choose the file again.');
      const database = await db();
      signal.throwIfAborted();
      const name = call.name ? { name: call.name } : {};
      const project = await writeRestoredProject(
        database,
        restored,
        call.replaceProjectId
          ? { ...name, mode: 'replace', replaceProjectId: call.replaceProjectId }
          : { ...name, mode: 'new' },
      );
      restoredArchives.delete(call.token);
      return project;
    });
  },

  dismissArchive(token: string): void {
    restoredArchives.delete(token);
  },

  cancel(jobId: string): void {
    jobs.cancel(jobId);
  },
};

export type DataWorkerApi = typeof api;
Comlink.expose(api);
