/**
 * Transfer slice: exports (TF.js model, KNN model, project archive, dataset) and project-archive
 * imports, with one progress indicator. Files are produced in the workers and downloaded locally.
 */
import * as Comlink from 'comlink';
import { projectBackboneSpec } from './engineSlice';
import type { SliceCreator } from './store';
import type { ArchiveSummary } from '../worker/data.worker';
import type { KnnExportDtype } from '../core/formats/knnExport';

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
}

const slug = (name: string): string =>
  name
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60) || 'project';

export const createTransferSlice: SliceCreator<TransferSlice> = (set, get, services) => {
  const fail = (error: unknown): null => {
    get().pushNotice({
      kind: 'error',
      message: error instanceof Error ? error.message : String(error),
      rejected: [],
    });
    return null;
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
      const onProgress = Comlink.proxy((p: { done: number; total: number }) =>
        set({ transfer: { task: 'Exporting', done: p.done, total: p.total } }),
      );
      set({ transfer: { task: 'Exporting', done: 0, total: 1 } });
      try {
        let blob: Blob;
        const spec = projectBackboneSpec(project);
        const labelNames = get().labels.map((l) => [l.id, l.name] as [string, string]);
        if (kind === 'archive' || kind === 'dataset') {
          if (!services.data) throw new Error('Exports are unavailable here.');
          const id = crypto.randomUUID();
          blob =
            kind === 'archive'
              ? await services.data().exportArchive(id, project.id, onProgress)
              : await services.data().exportDataset(id, project.id, onProgress);
        } else {
          if (!services.engine) throw new Error('The model engine is unavailable.');
          blob =
            kind === 'tfjs'
              ? await services.engine
                  .api()
                  .exportTfjs(spec, project.settings.aspectMode, project.name, labelNames)
              : await services.engine
                  .api()
                  .exportKnn(
                    spec,
                    project.settings.aspectMode,
                    project.name,
                    labelNames,
                    options.dtype ?? 'float32',
                  );
        }
        return { blob, fileName: names[kind] };
      } catch (error) {
        return fail(error);
      } finally {
        set({ transfer: null });
      }
    },
    async inspectArchive(file) {
      if (!services.data) return null;
      set({ transfer: { task: 'Reading archive', done: 0, total: 1 } });
      try {
        const summary = await services.data().inspectArchive(file);
        set({ pendingArchive: summary });
        return summary;
      } catch (error) {
        return fail(
          new Error(
            `${file.name} cannot be imported: ${error instanceof Error ? error.message : String(error)} Your projects were not changed.`,
          ),
        );
      } finally {
        set({ transfer: null });
      }
    },
    async importArchive(options) {
      const pending = get().pendingArchive;
      if (!pending || !services.data) return null;
      set({ transfer: { task: 'Importing project', done: 0, total: 1 } });
      try {
        const project = await services.data().importArchive(pending.token, options);
        set({ pendingArchive: null });
        await get().loadProjects();
        get().pushNotice({
          kind: 'info',
          message: `Imported “${project.name}”: ${pending.images} images, ${pending.labels} labels, ${pending.models} models.${pending.warnings.length ? ' ' + pending.warnings.join(' ') : ''}`,
          rejected: [],
        });
        return project.id;
      } catch (error) {
        return fail(error);
      } finally {
        set({ transfer: null });
      }
    },
    dismissArchive() {
      set({ pendingArchive: null });
    },
  };
};
