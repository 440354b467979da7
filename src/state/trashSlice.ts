/**
 * Trash slice: the open project's trash (deleted images and labels), the project list's trash
 * (deleted projects) and the bytes the whole trash holds; restoring an entry (which brings the
 * board and the worker's heads up to date) and emptying a trash, the only permanent delete.
 */
import * as trashRepo from '../core/storage/trash';
import type { TrashEntry } from '../core/storage/schema';
import type { SliceCreator } from './store';
import { announce } from './tabSync';

export type TrashScope = 'project' | 'projects';

export interface TrashSlice {
  /** The open project's deleted images and labels, newest first. */
  trash: TrashEntry[];
  /** Deleted projects, newest first. */
  projectTrash: TrashEntry[];
  /** Bytes held by every trash together (they count toward the site's storage). */
  trashBytes: number;
  loadTrash(): Promise<void>;
  /** Writes an entry back; resolves false (with an error notice) when it cannot be restored. */
  restoreFromTrash(entryId: string): Promise<boolean>;
  /** Deletes a trash's entries for good. */
  emptyTrash(scope: TrashScope): Promise<void>;
}

const message = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

export const createTrashSlice: SliceCreator<TrashSlice> = (set, get, services) => {
  /**
   * Restored samples come back with their embeddings: the worker's heads are reopened from the
   * database so the KNN holds them (label changes alone reach it through the store's
   * subscription), and the embedding pipeline computes any the current backbone lacks.
   */
  const reloadOpenProject = async (): Promise<void> => {
    await get().reloadBoard();
    if (services.engine && get().headsReady) await get().openHeads({ reload: true });
    void get().scheduleEmbedding();
  };

  return {
    trash: [],
    projectTrash: [],
    trashBytes: 0,

    async loadTrash() {
      const db = await services.db();
      const projectId = get().project?.id;
      const [trash, projectTrash, trashBytes] = await Promise.all([
        projectId ? trashRepo.listTrash(db, projectId) : Promise.resolve([]),
        trashRepo.listProjectTrash(db),
        trashRepo.trashBytes(db),
      ]);
      set({ trash, projectTrash, trashBytes });
    },

    async restoreFromTrash(entryId) {
      let outcome: trashRepo.RestoreOutcome;
      try {
        outcome = await trashRepo.restoreTrash(await services.db(), entryId);
      } catch (error) {
        get().pushNotice({ kind: 'error', message: message(error), rejected: [] });
        await get().loadTrash();
        return false;
      }
      const { entry, skippedDuplicates } = outcome;
      // Other tabs read the restored records back (a reopened heads picks up their embeddings).
      for (const kind of ['project', 'labels', 'samples', 'embeddings'] as const)
        announce(services, entry.projectId, kind);
      if (entry.kind === 'project') await get().loadProjects();
      else if (get().project?.id === entry.projectId) await reloadOpenProject();
      if (skippedDuplicates > 0) {
        const images = skippedDuplicates === 1 ? '1 image was' : `${skippedDuplicates} images were`;
        get().pushNotice({
          kind: 'info',
          message: `Restored “${entry.name}”; ${images} left out: the project holds the same file again.`,
          rejected: [],
        });
      }
      await get().loadTrash();
      return true;
    },

    async emptyTrash(scope) {
      const projectId = scope === 'project' ? (get().project?.id ?? null) : null;
      if (scope === 'project' && projectId === null) return;
      await trashRepo.emptyTrash(await services.db(), projectId);
      await get().loadTrash();
    },
  };
};
