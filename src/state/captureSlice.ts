/**
 * Capture slice: camera frames stored into one label. Each frame goes through the same data-worker
 * import as a dropped file (validated, hashed, thumbnailed, source `webcam`), committed in small
 * runs while a burst goes on: every committed run reaches `appendSamples`, which schedules the
 * embedding job, so the KNN head follows the recording. One notice per capture session; a label
 * deleted meanwhile (in another tab) is never written into a frame: those frames are stored
 * unlabelled and the notice says so.
 */
import { describeDroppedLabels, type RejectedFile } from '../core/dataset/importer';
import type { DroppedLabel } from '../core/storage/samples';
import type { SliceCreator } from './store';
import { announce } from './tabSync';
import { labelNames, modelInputsFor } from './importSlice';

export interface CaptureSession {
  /**
   * Queues one encoded frame. Frames queued while a commit runs are stored together by the next
   * one: at a few frames per second that is one or two frames per commit, and never a backlog.
   */
  add(frame: Blob): void;
  /** Waits until every queued frame is stored, posts one notice, and returns how many were added. */
  finish(): Promise<number>;
}

export interface CaptureSlice {
  /** Starts storing frames into `labelId` of the open project. */
  startCapture(labelId: string): CaptureSession;
}

const EXTENSIONS: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
};

/**
 * "Captured 12 images." plus duplicates skipped, frames rejected, frames stored without their
 * deleted label (named by `nameOf`) and a storage error, if any.
 */
export function summariseCapture(
  outcome: {
    added: number;
    duplicates: number;
    rejected: number;
    droppedLabels?: readonly DroppedLabel[];
    error?: string | undefined;
  },
  nameOf: (labelId: string) => string | undefined = () => undefined,
): string {
  const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;
  const parts = [`Captured ${plural(outcome.added, 'image', 'images')}.`];
  if (outcome.duplicates > 0)
    parts.push(`${plural(outcome.duplicates, 'duplicate', 'duplicates')} skipped.`);
  if (outcome.rejected > 0) parts.push(`${plural(outcome.rejected, 'frame', 'frames')} rejected.`);
  parts.push(...describeDroppedLabels(outcome.droppedLabels ?? [], nameOf, 'capture'));
  if (outcome.error) parts.push(`Capture stopped: ${outcome.error}`);
  return parts.join(' ');
}

export const createCaptureSlice: SliceCreator<CaptureSlice> = (_set, get, services) => ({
  startCapture(labelId) {
    const project = get().project;
    const names = labelNames(get().labels);
    // File names sort in capture order: the session's start time, then the frame's number.
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
    let numbered = 0;
    let pending: File[] = [];
    let pump: Promise<void> | null = null;
    let added = 0;
    let duplicates = 0;
    const rejected: RejectedFile[] = [];
    let unlabelled = 0;
    let error: string | undefined;

    const commit = async (files: File[]): Promise<void> => {
      if (!project || error) return;
      try {
        const report = await services.runImport({
          projectId: project.id,
          items: files.map((file) => ({ file, labelIds: [labelId] })),
          source: 'webcam',
          onProgress: () => undefined,
          onChunk: (changed) => {
            get().appendSamples(changed);
            // Committed: other tabs on the project read the frames from the database.
            announce(
              services,
              project.id,
              'samples',
              changed.map((s) => s.id),
            );
          },
          mergeDuplicateLabels: project.kind === 'multi-label',
          dropMissingLabels: true,
          ...modelInputsFor(project, services, get().engineStatus !== null),
        });
        added += report.added.length;
        duplicates += report.duplicates.length;
        rejected.push(...report.rejected);
        for (const d of report.droppedLabels ?? []) unlabelled += d.count;
        if (report.error) error = report.error;
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
      }
    };
    const drain = async (): Promise<void> => {
      while (pending.length > 0) {
        const files = pending;
        pending = [];
        await commit(files);
      }
      pump = null;
    };

    return {
      add(frame) {
        numbered += 1;
        const ext = EXTENSIONS[frame.type] ?? 'jpg';
        const name = `webcam-${stamp}-${String(numbered).padStart(4, '0')}.${ext}`;
        pending.push(new File([frame], name, { type: frame.type }));
        pump ??= drain();
      },
      async finish() {
        while (pump) await pump;
        if (numbered === 0) return 0;
        // Every frame goes into the one label: all the dropped ones were stored unlabelled.
        const droppedLabels =
          unlabelled > 0 ? [{ labelId, count: unlabelled, unlabelled }] : undefined;
        get().pushNotice({
          kind: rejected.length > 0 || error || droppedLabels ? 'error' : 'info',
          message: summariseCapture(
            { added, duplicates, rejected: rejected.length, error, droppedLabels },
            (id) => names.get(id),
          ),
          rejected,
        });
        void get().loadProjects();
        if (added > 0) void globalThis.navigator?.storage?.persist?.().catch(() => false);
        return added;
      },
    };
  },
});
