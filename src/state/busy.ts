/**
 * Whether a long run is under way (import, embedding, training, head comparison, export or
 * archive import, batch classification), as one sentence, and a promise for the moment none is.
 * A page reload or a service-worker update waits for these, so no run is cut off midway.
 */
import type { LoupeState, LoupeStore } from './store';

export type BusyFields = Pick<
  LoupeState,
  | 'importProgress'
  | 'importQueueLength'
  | 'embedProgress'
  | 'training'
  | 'comparing'
  | 'transfer'
  | 'batch'
>;

/** What is running, e.g. 'an import is running', or null when nothing is. */
export function runningTask(s: BusyFields): string | null {
  if (s.importProgress || s.importQueueLength > 0) return 'an import is running';
  if (s.embedProgress) return 'embeddings are being computed';
  if (s.training) return 'a model is training';
  if (s.comparing) return 'classifiers are being compared';
  if (s.transfer) return 'an export or archive import is running';
  if (s.batch?.progress) return 'images are being classified';
  return null;
}

/** Resolves once no run is under way (at once when none is). */
export function whenIdle(store: LoupeStore): Promise<void> {
  return new Promise((resolve) => {
    if (runningTask(store.getState()) === null) {
      resolve();
      return;
    }
    const unsubscribe = store.subscribe((state) => {
      if (runningTask(state) !== null) return;
      unsubscribe();
      resolve();
    });
  });
}
