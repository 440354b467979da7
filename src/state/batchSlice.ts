/**
 * Batch slice: classifying picked or dropped images without adding them to the project. The
 * files go to the engine worker (`EngineClient.classifyImages`) with the classifier chosen in the
 * try panel; rows and unreadable files stream back into `batch`, with progress and a stop. The
 * CSV of the results is built here from the board's label names (`batchCsv` in core). The files
 * themselves are only referenced, never read into the store or written to IndexedDB, until the
 * user accepts rows into a label (`addBatchRowsTo`, an ordinary import).
 */
import { isSystemFile, type PathedFile } from '../core/dataset/folders';
import { batchCsv } from '../core/formats/batchCsv';
import { projectBackboneSpec } from '../core/projectSettings';
import type { SampleSource } from '../core/storage/schema';
import type { BatchChunk, BatchProgress, BatchRow } from '../worker/api';
import type { SliceCreator } from './store';

const FLUSH_MS = 250;

export interface BatchResults {
  projectId: string;
  head: 'knn' | 'dense';
  /** How the files came (picker, folder, drop): the source they get when added to a label. */
  source: SampleSource;
  total: number;
  rows: BatchRow[];
  failed: { path: string; reason: string }[];
  /** While classifying; null once the run has ended (finished, stopped or failed). */
  progress: BatchProgress | null;
  cancelled: boolean;
  error: string | null;
}

export interface BatchSlice {
  batch: BatchResults | null;
  /** Classifies the files with the open project's chosen head (a running batch is stopped). */
  classifyImages(files: PathedFile[], source?: SampleSource): Promise<void>;
  /**
   * Accepts rows into the project: their files are imported into the label like picked files
   * (the import slice's `importFiles`), and the rows leave the results.
   */
  addBatchRowsTo(paths: readonly string[], labelId: string): Promise<void>;
  stopBatch(): void;
  /** Stops a running batch and forgets the results. */
  closeBatch(): void;
  /** The file behind a row (for its thumbnail; a reference, never stored). */
  batchFile(path: string): File | undefined;
  /** The results as CSV (see core/formats/batchCsv.ts), or null without results. */
  batchCsvBlob(): Blob | null;
}

export const createBatchSlice: SliceCreator<BatchSlice> = (set, get, services) => {
  let controller: AbortController | null = null;
  /** The running or last batch's files by path (references only: nothing is read or stored). */
  let filesByPath = new Map<string, File>();

  const update = (projectId: string, patch: (b: BatchResults) => Partial<BatchResults>): void => {
    const batch = get().batch;
    if (batch?.projectId === projectId) set({ batch: { ...batch, ...patch(batch) } });
  };

  return {
    batch: null,
    async classifyImages(files, source = 'file-picker') {
      const project = get().project;
      const engine = services.engine;
      if (!project || !engine) return;
      controller?.abort();
      const own = new AbortController();
      controller = own;
      const items = files.filter((f) => !isSystemFile(f.path));
      filesByPath = new Map(items.map((f) => [f.path, f.file]));
      const head = get().classifier;
      set({
        batch: {
          projectId: project.id,
          head,
          source,
          total: items.length,
          rows: [],
          failed: [],
          progress: { done: 0, total: items.length, rate: 0, etaSeconds: null },
          cancelled: false,
          error: null,
        },
      });
      const mine = (): boolean => controller === own;
      // Rows reach the store at most every FLUSH_MS, so the table re-sorts a few times a second
      // rather than once per batch of a long run.
      const pending: BatchChunk = { rows: [], failed: [] };
      let timer: ReturnType<typeof setTimeout> | null = null;
      const flush = (): void => {
        if (timer) clearTimeout(timer);
        timer = null;
        const rows = pending.rows.splice(0);
        const failed = pending.failed.splice(0);
        if (!mine() || (rows.length === 0 && failed.length === 0)) return;
        update(project.id, (b) => ({
          rows: rows.length > 0 ? [...b.rows, ...rows] : b.rows,
          failed: failed.length > 0 ? [...b.failed, ...failed] : b.failed,
        }));
      };
      try {
        await get().engineReady();
        if (!get().headsReady) await get().openHeads();
        const report = await engine.classifyImages({
          files: items.map((f) => ({ path: f.path, file: f.file })),
          head,
          spec: projectBackboneSpec(project),
          aspectMode: project.settings.aspectMode,
          signal: own.signal,
          onChunk: (chunk) => {
            if (!mine()) return;
            pending.rows.push(...chunk.rows);
            pending.failed.push(...chunk.failed);
            timer ??= setTimeout(flush, FLUSH_MS);
          },
          onProgress: (progress) => {
            if (mine()) update(project.id, () => ({ progress }));
          },
        });
        flush();
        if (mine()) update(project.id, () => ({ progress: null, cancelled: report.cancelled }));
      } catch (error) {
        flush();
        if (!mine()) return;
        const message = error instanceof Error ? error.message : String(error);
        update(project.id, () => ({
          progress: null,
          cancelled: own.signal.aborted,
          error: own.signal.aborted ? null : message,
        }));
      } finally {
        if (mine()) controller = null;
      }
    },
    async addBatchRowsTo(paths, labelId) {
      const batch = get().batch;
      if (!batch || batch.projectId !== get().project?.id) return;
      const picked = paths.flatMap((path) => {
        const file = filesByPath.get(path);
        return file ? [{ path, file }] : [];
      });
      if (picked.length === 0) return;
      const moved = new Set(picked.map((p) => p.path));
      update(batch.projectId, (b) => ({ rows: b.rows.filter((r) => !moved.has(r.path)) }));
      await get().importFiles(
        picked.map(({ path, file }) => ({
          file,
          labelIds: [labelId],
          ...(path !== file.name ? { relativePath: path } : {}),
        })),
        batch.source,
      );
    },
    stopBatch() {
      controller?.abort();
    },
    closeBatch() {
      controller?.abort();
      controller = null;
      filesByPath = new Map();
      set({ batch: null });
    },
    batchFile(path) {
      return filesByPath.get(path);
    },
    batchCsvBlob() {
      const batch = get().batch;
      if (!batch) return null;
      const known = new Set(batch.rows.flatMap((r) => Object.keys(r.probabilities)));
      const labels = get().labels.filter((l) => known.has(l.id));
      const nameOf = new Map(get().labels.map((l) => [l.id, l.name]));
      const text = batchCsv(
        labels.map((l) => l.name),
        batch.rows.map((r) => ({
          path: r.path,
          predicted: r.predicted.map((id) => nameOf.get(id) ?? id),
          confidence: r.confidence,
          probabilities: labels.map((l) => r.probabilities[l.id] ?? 0),
        })),
      );
      return new Blob([text], { type: 'text/csv;charset=utf-8' });
    },
  };
};
