/**
 * Undo slice: a bounded stack of inverse operations for the open project's board actions (move,
 * relabel, tag, delete, merge, rename), cleared whenever the open project changes. Board actions
 * push a step after they succeed (`undoSteps.ts` builds them); `undo` runs the newest one. Steps
 * change the board's state like the actions do, so the store's subscriptions (the worker's heads,
 * Review) follow an undo as they follow the action.
 */
import type { LoupeStore, SliceCreator } from './store';

/** At least this many board actions can be undone in a row. */
export const UNDO_LIMIT = 50;

export interface UndoStep {
  /** What is undone, e.g. "move 3 images" (shown on the Undo button's tooltip). */
  description: string;
  run(): Promise<void>;
}

export interface UndoSlice {
  /** Steps `undo` can revert, oldest first. */
  undoSteps: readonly UndoStep[];
  /** True while a step runs (actions it calls push nothing). */
  undoing: boolean;
  pushUndo(step: UndoStep): void;
  /** Reverts the newest step; a step that fails is dropped with an error notice. */
  undo(): Promise<void>;
  clearUndo(): void;
}

export const createUndoSlice: SliceCreator<UndoSlice> = (set, get) => ({
  undoSteps: [],
  undoing: false,
  pushUndo(step) {
    if (get().undoing) return;
    set({ undoSteps: [...get().undoSteps, step].slice(-UNDO_LIMIT) });
  },
  async undo() {
    const steps = get().undoSteps;
    const step = steps[steps.length - 1];
    if (!step || get().undoing) return;
    set({ undoSteps: steps.slice(0, -1), undoing: true });
    try {
      await step.run();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      get().pushNotice({
        kind: 'error',
        message: `Could not undo ${step.description}: ${reason}`,
        rejected: [],
      });
    } finally {
      set({ undoing: false });
    }
  },
  clearUndo() {
    set({ undoSteps: [] });
  },
});

/** The undo stack belongs to one open project: opening, switching or closing clears it. */
export function keepUndoPerProject(store: LoupeStore): void {
  store.subscribe((state, previous) => {
    if (state.project?.id !== previous.project?.id && state.undoSteps.length > 0) state.clearUndo();
  });
}
