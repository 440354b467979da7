/**
 * Data worker: validates, hashes, decodes and thumbnails dropped files and writes them to
 * IndexedDB, so a drop of thousands of photos never blocks the page; also writes and reads project
 * archives and dataset zips. Owns no UI and no tensors.
 */
import * as Comlink from 'comlink';
import { browserDecoder } from '../core/dataset/decoder';
import {
  importFiles,
  type ImportItem,
  type ImportProgress,
  type ImportReport,
} from '../core/dataset/importer';
import { lazyDatabase } from '../core/storage/db';
import { findNameConflict } from '../core/storage/projects';
import { writeRestoredProject } from '../core/storage/restoreProject';
import type { ProjectRecord, SampleMeta, SampleSource } from '../core/storage/schema';
import { exportProjectArchive } from '../core/formats/archive';
import { exportDataset } from '../core/formats/dataset';
import { readProjectArchive, type RestoredProject } from '../core/formats/restore';
import { JobRegistry } from './jobs';

export interface ArchiveSummary {
  token: string;
  name: string;
  images: number;
  labels: number;
  models: number;
  warnings: string[];
  /** An existing project with the same name (the UI asks: rename or replace). */
  conflict: { id: string; name: string } | null;
}

const restoredArchives = new Map<string, RestoredProject>();

const db = lazyDatabase();
const jobs = new JobRegistry();

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
    return jobs.run(jobId, async (signal) =>
      importFiles(await db(), items, {
        projectId,
        source,
        decoder: browserDecoder,
        signal,
        onProgress,
        onChunk,
        mergeDuplicateLabels,
      }),
    );
  },
  async exportArchive(
    jobId: string,
    projectId: string,
    onProgress: (p: { done: number; total: number }) => void,
  ): Promise<Blob> {
    return jobs.run(jobId, async (signal) =>
      exportProjectArchive(await db(), projectId, { onProgress, signal }),
    );
  },

  async exportDataset(
    jobId: string,
    projectId: string,
    onProgress: (p: { done: number; total: number }) => void,
  ): Promise<Blob> {
    return jobs.run(jobId, async (signal) =>
      exportDataset(await db(), projectId, { onProgress, signal }),
    );
  },

  /** Validates an archive completely (nothing is written) and keeps it for `importArchive`. */
  async inspectArchive(file: Blob): Promise<ArchiveSummary> {
    const restored = await readProjectArchive(file);
    const token = crypto.randomUUID();
    restoredArchives.clear();
    restoredArchives.set(token, restored);
    const conflict = await findNameConflict(await db(), restored.project.name);
    return {
      token,
      name: restored.project.name,
      images: restored.samples.length,
      labels: restored.labels.length,
      models: restored.models.length,
      warnings: restored.warnings,
      conflict: conflict ? { id: conflict.id, name: conflict.name } : null,
    };
  },

  async importArchive(
    token: string,
    options: { name?: string; replaceProjectId?: string },
  ): Promise<ProjectRecord> {
    const restored = restoredArchives.get(token);
    if (!restored) throw new Error('The archive is no longer loaded; choose the file again.');
    const name = options.name ? { name: options.name } : {};
    const project = await writeRestoredProject(
      await db(),
      restored,
      options.replaceProjectId
        ? { ...name, mode: 'replace', replaceProjectId: options.replaceProjectId }
        : { ...name, mode: 'new' },
    );
    restoredArchives.delete(token);
    return project;
  },

  cancel(jobId: string): void {
    jobs.cancel(jobId);
  },
};

export type DataWorkerApi = typeof api;
Comlink.expose(api);
