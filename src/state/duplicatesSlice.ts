/**
 * Near-duplicates actions of the Review view: the similarity threshold (a project setting; the
 * groups are regrouped, debounced, after a change) and `Keep one`, which keeps the best image of a
 * group (`keepOneChoice`) and deletes the others through the board's `deleteSamples`, so the
 * board, the heads and the review lists follow as after any delete. The UI confirms first.
 */
import { keepOneChoice } from '../core/analysis/duplicateGroups';
import * as projectsRepo from '../core/storage/projects';
import type { SliceCreator } from './store';
import { announce } from './tabSync';

export interface DuplicatesSlice {
  /** Stores the project's near-duplicate threshold and regroups (debounced). */
  setDuplicateThreshold(threshold: number): Promise<void>;
  /** Which image of `sampleIds` `Keep one` keeps, and which it deletes. */
  keepOnePlan(sampleIds: readonly string[]): { keep: string; remove: string[] };
  /** Keeps one image of the group and deletes the others; returns the deleted ids. */
  keepOneOfGroup(sampleIds: readonly string[]): Promise<string[]>;
}

export const createDuplicatesSlice: SliceCreator<DuplicatesSlice> = (set, get, services) => ({
  async setDuplicateThreshold(threshold) {
    const project = get().project;
    if (!project) return;
    const settings = { ...project.settings, duplicateThreshold: threshold };
    set({ project: { ...project, settings } });
    get().scheduleReviewRefresh();
    try {
      const updated = await projectsRepo.updateProject(await services.db(), project.id, {
        settings: { duplicateThreshold: threshold },
      });
      announce(services, project.id, 'project');
      // A later change (another threshold, a kept image) wins over this write's echo.
      if (get().project?.settings === settings) set({ project: updated });
    } catch (error) {
      set({ reviewError: error instanceof Error ? error.message : String(error) });
    }
  },

  keepOnePlan(sampleIds) {
    const wanted = new Set(sampleIds);
    return keepOneChoice(get().samples.filter((s) => wanted.has(s.id)));
  },

  async keepOneOfGroup(sampleIds) {
    const { remove } = get().keepOnePlan(sampleIds);
    if (remove.length > 0) await get().deleteSamples(remove);
    return remove;
  },
});
