/**
 * Transfer slice: exports (TF.js model, KNN model, project archive, dataset) and project-archive
 * imports, one at a time, with one progress indicator and one cancel. Files are produced in the
 * workers and downloaded locally.
 */
import { projectBackboneSpec } from '../core/projectSettings';
import type { SliceCreator } from './store';
import { announce } from './tabSync';
import type { ArchiveSummary, KnnExportDtype, TransferProgress } from '../worker/api';

export type ExportKind = 'tfjs' | 'knn' | 'archive' | 'dataset';

export interface TransferSlice {
  transfer: { task: string; done: number; total: number } | null;
  pendingArchive: ArchiveSummary | null;
  exportAs(
    kind: ExportKind,
    options?: { dtype?: KnnExportDtype },
  ): Promise<{ blob: Blob; fileName: string } | null>;
  inspectArchive(file: File): Promise<ArchiveSummary | null>;
  importArchive(options: { name?: string; replaceProjectId?: string }): Promise<string | null>;
  dismissArchive(): void;
  /** Cancels the running export, archive read or archive import (nothing is written). */
  cancelTransfer(): void;
}

const slug = (name: string): string =>
  name
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60) || 'project';

const message = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

export const createTransferSlice: SliceCreator<TransferSlice> = (set, get, services) => {
  let controller: AbortController | null = null;

  /** Runs one transfer with progress under `task`; a cancelled one resolves null quietly. */
  const run = async <T>(
    task: string,
    work: (signal: AbortSignal, onProgress: (p: TransferProgress) => void) => Promise<T>,
    describeError: (error: unknown) => string = message,
  ): Promise<T | null> => {
    if (controller) return null;
    const current = new AbortController();
    controller = current;
    set({ transfer: { task, done: 0, total: 1 } });
    try {
      return await work(current.signal, (p) => {
        if (controller === current) set({ transfer: { task, done: p.done, total: p.total } });
      });
    } catch (error) {
      if (!current.signal.aborted) {
        get().pushNotice({ kind: 'error', message: describeError(error), rejected: [] });
      }
      return null;
    } finally {
      controller = null;
      set({ transfer: null });
    }
  };

  const dataClient = () => {
    if (!services.data) throw new Error('Exports are unavailable here.');
    return services.data;
  };
  const engineClient = () => {
    if (!services.engine) throw new Error('The model engine is unavailable.');
    return services.engine;
  };

  return {
    transfer: null,
    pendingArchive: null,
    async exportAs(kind, options = {}) {
      const project = get().project;
      if (!project) return null;
      const names = {
        tfjs: `${slug(project.name)}-tfjs-model.zip`,
        knn: `${slug(project.name)}-knn-model.zip`,
        archive: `${slug(project.name)}.loupe`,
        dataset: `${slug(project.name)}-dataset.zip`,
      };
      const target = {
        spec: projectBackboneSpec(project),
        aspectMode: project.settings.aspectMode,
      };
      const labelNames = get().labels.map((l) => [l.id, l.name] as [string, string]);
      return run('Exporting', async (signal, onProgress) => {
        const projectId = project.id;
        let blob: Blob;
        if (kind === 'archive') {
          blob = await dataClient().exportArchive({ projectId, signal, onProgress });
        } else if (kind === 'dataset') {
          blob = await dataClient().exportDataset({ projectId, signal, onProgress });
        } else if (kind === 'tfjs') {
          blob = await engineClient().exportTfjs({
            ...target,
            modelName: project.name,
            labelNames,
            signal,
          });
        } else {
          blob = await engineClient().exportKnn({
            ...target,
            labelNames,
            dtype: options.dtype ?? 'float32',
            signal,
          });
        }
        return { blob, fileName: names[kind] };
      });
    },
    async inspectArchive(file) {
      if (!services.data) return null;
      const data = services.data;
      const failed = (error: unknown): string =>
        `${file.name} cannot be imported: ${message(error)} Your projects were not changed.`;
      // The room check uses the sizes the archive declares uncompressed (what a restore stores).
      const bytes = await run(
        'Reading archive',
        (signal) => data.measureArchive({ file, signal }),
        failed,
      );
      if (bytes === null) return null;
      if (!(await get().ensureRoomFor({ kind: 'archive', name: file.name, bytes }))) {
        return null;
      }
      const summary = await run(
        'Reading archive',
        (signal, onProgress) => data.inspectArchive({ file, signal, onProgress }),
        failed,
      );
      if (summary) set({ pendingArchive: summary });
      return summary;
    },
    async importArchive(options) {
      const pending = get().pendingArchive;
      if (!pending || !services.data) return null;
      const data = services.data;
      const project = await run('Importing project', (signal) =>
        data.importArchive({ token: pending.token, ...options, signal }),
      );
      if (!project) return null;
      set({ pendingArchive: null });
      // A replaced project keeps its id: an open board elsewhere reloads it.
      for (const kind of ['project', 'samples', 'models', 'embeddings'] as const)
        announce(services, project.id, kind);
      await get().loadProjects();
      get().pushNotice({
        kind: 'info',
        message: `Imported “${project.name}”: ${pending.images} images, ${pending.labels} labels, ${pending.models} models.${pending.warnings.length ? ' ' + pending.warnings.join(' ') : ''}`,
        rejected: [],
      });
      return project.id;
    },
    dismissArchive() {
      const pending = get().pendingArchive;
      set({ pendingArchive: null });
      if (pending) void services.data?.dismissArchive(pending.token);
    },
    cancelTransfer() {
      controller?.abort();
    },
  };
};
