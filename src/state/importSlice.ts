/** Import slice: one import at a time with progress and cancel, and notices about its outcome. */
import type { ImportItem, ImportProgress } from '../core/dataset/importer';
import { summariseImport, type RejectedFile } from '../core/dataset/importer';
import type { SampleMeta, SampleSource } from '../core/storage/schema';
import { labelsFromFolders, type PathedFile } from '../core/dataset/folders';
import { screenFiles, SYSTEM_FILE_REASON } from '../core/dataset/screen';
import { ensureLabels } from '../core/storage/labels';
import type { SliceCreator } from './store';
import { announce } from './tabSync';
import type { ImportCall } from '../worker/api';
import type { LabelRecord, ProjectRecord } from '../core/storage/schema';
import { embeddingTarget } from '../core/projectSettings';
import type { Services } from './services';

/**
 * While an engine runs: the import also draws each image's model input from the decode that makes
 * its thumbnail and hands those to the engine, so the embedding pipeline does not decode the
 * image again. The engine checks size and aspect mode when it uses them.
 */
export function modelInputsFor(
  project: ProjectRecord,
  services: Services,
  engineRunning: boolean,
): Pick<ImportCall, 'modelInput' | 'onPrepared'> {
  const engine = services.engine;
  if (!engine || !engineRunning) return {};
  const { spec, aspectMode } = embeddingTarget(project);
  return {
    modelInput: { size: spec.inputSize, mode: aspectMode },
    onPrepared: (inputs) => engine.offerInputs(inputs),
  };
}

/** Label id -> name, for notices about labels that may be gone by the time they are posted. */
export function labelNames(labels: readonly LabelRecord[]): Map<string, string> {
  return new Map(labels.map((l) => [l.id, l.name]));
}

export interface Notice {
  id: string;
  kind: 'info' | 'error';
  message: string;
  rejected: RejectedFile[];
}

/**
 * Coalesces committed import chunks into at most one store update per 250 ms (the first chunk goes
 * at once, so thumbnails and embeddings start immediately): a 2,588-photo drop then re-renders the
 * board a few times per second instead of after every chunk.
 */
function chunkAppender(append: (added: SampleMeta[]) => void, intervalMs = 250) {
  let buffer: SampleMeta[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  let first = true;
  const flush = (): void => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (buffer.length === 0) return;
    const batch = buffer;
    buffer = [];
    append(batch);
  };
  return {
    push(added: SampleMeta[]): void {
      buffer.push(...added);
      if (first) {
        first = false;
        flush();
      } else timer ??= setTimeout(flush, intervalMs);
    },
    flush,
  };
}

export type DropTarget = { kind: 'label'; labelId: string } | { kind: 'inbox' } | { kind: 'board' };

export interface ImportSlice {
  importProgress: ImportProgress | null;
  notices: Notice[];
  /** Files waiting for the running import to finish (drops queue up rather than run in parallel). */
  importQueueLength: number;
  importFiles(
    items: ImportItem[],
    source: SampleSource,
    rejectedUpFront?: RejectedFile[],
  ): Promise<void>;
  /**
   * Adds dropped or picked files: into one label, into the inbox, or (for the board) by folder
   * name, creating or reusing one label per sub-folder.
   */
  addFiles(files: PathedFile[], target: DropTarget, source: SampleSource): Promise<void>;
  cancelImport(): void;
  dismissNotice(id: string): void;
  pushNotice(notice: Omit<Notice, 'id'>): void;
}

export const createImportSlice: SliceCreator<ImportSlice> = (set, get, services) => {
  let controller: AbortController | null = null;
  let queue: Promise<void> = Promise.resolve();

  return {
    importProgress: null,
    notices: [],
    importQueueLength: 0,
    importFiles(items, source, rejectedUpFront = []) {
      const project = get().project;
      if (!project) return Promise.resolve();
      set({ importQueueLength: get().importQueueLength + 1 });
      // The names as shown now: a label deleted while the import waits or runs is named in its
      // notice, though its record (and soon the board's copy) is gone.
      const names = labelNames(get().labels);
      const run = async (): Promise<void> => {
        const bytes = items.reduce((n, item) => n + item.file.size, 0);
        if (!(await get().ensureRoomFor({ kind: 'files', files: items.length, bytes }))) {
          set({ importQueueLength: get().importQueueLength - 1 });
          return;
        }
        controller = new AbortController();
        // Progress callbacks cross the worker boundary on their own message port, so the last one
        // can arrive after the import's result: once this run is over, late ones are ignored
        // (otherwise a finished import would leave its bar on screen until the next one).
        let running = true;
        const appender = chunkAppender((added) => get().appendSamples(added));
        set({
          importProgress: {
            done: 0,
            total: items.length,
            added: 0,
            duplicates: 0,
            rejected: 0,
            rate: 0,
            etaSeconds: null,
          },
        });
        try {
          const report = await services.runImport({
            projectId: project.id,
            items,
            source,
            signal: controller.signal,
            onProgress: (p) => {
              if (running) set({ importProgress: p });
            },
            onChunk: (added) => {
              appender.push(added);
              // The chunk is committed: other tabs read it from the database.
              announce(
                services,
                project.id,
                'samples',
                added.map((s) => s.id),
              );
            },
            mergeDuplicateLabels: project.kind === 'multi-label',
            dropMissingLabels: true,
            ...modelInputsFor(project, services, get().engineStatus !== null),
          });
          report.rejected.unshift(...rejectedUpFront);
          // System files (.DS_Store, Thumbs.db) are listed but are no error: such a notice fades.
          const serious =
            report.rejected.some((r) => r.reason !== SYSTEM_FILE_REASON) ||
            (report.droppedLabels?.length ?? 0) > 0;
          get().pushNotice({
            kind: serious || report.error ? 'error' : 'info',
            message: summariseImport(report, (id) => names.get(id)),
            rejected: report.rejected,
          });
          void get().loadProjects();
          // Ask once that the browser never evicts the user's images under storage pressure.
          if (report.added.length > 0)
            void globalThis.navigator?.storage?.persist?.().catch(() => false);
        } catch (error) {
          get().pushNotice({
            kind: 'error',
            message: `Import failed: ${error instanceof Error ? error.message : String(error)}. Images added before the failure were kept.`,
            rejected: rejectedUpFront,
          });
          if (get().project?.id === project.id) await get().reloadBoard();
        } finally {
          running = false;
          appender.flush();
          controller = null;
          set({ importProgress: null, importQueueLength: get().importQueueLength - 1 });
        }
      };
      const next = queue.then(run);
      // A failed run must not stall the queue: later imports still run after it.
      queue = next.catch(() => undefined);
      return next;
    },
    async addFiles(dropped, target, source) {
      if (dropped.length === 0) return;
      const project = get().project;
      if (!project) return;
      const { files, rejected } = screenFiles(dropped);
      let items: ImportItem[];
      if (target.kind === 'board') {
        const labelled = labelsFromFolders(files);
        const names = [
          ...new Set(labelled.map((f) => f.labelName).filter((n): n is string => !!n)),
        ];
        const byName =
          names.length > 0 ? await ensureLabels(await services.db(), project.id, names) : new Map();
        if (names.length > 0) await get().reloadBoard();
        items = labelled.map((f) => {
          const label = f.labelName ? byName.get(f.labelName) : undefined;
          return { file: f.file, labelIds: label ? [label.id] : [], relativePath: f.path };
        });
      } else {
        const labelIds = target.kind === 'label' ? [target.labelId] : [];
        items = files.map((f) => ({
          file: f.file,
          labelIds,
          ...(f.path !== f.file.name ? { relativePath: f.path } : {}),
        }));
      }
      await get().importFiles(items, source, rejected);
    },
    cancelImport() {
      controller?.abort();
    },
    dismissNotice(id) {
      set({ notices: get().notices.filter((n) => n.id !== id) });
    },
    pushNotice(notice) {
      set({ notices: [...get().notices.slice(-4), { ...notice, id: crypto.randomUUID() }] });
    },
  };
};
