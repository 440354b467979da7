/**
 * Versions slice: the dense head's saved versions for the open project's backbone (current
 * first), pinning one so pruning keeps it, and making an older one current again (the model
 * summary, the try panel and other tabs follow).
 */
import type { DenseVersion } from '../worker/api';
import type { SliceCreator } from './store';
import { announce } from './tabSync';

export interface VersionsSlice {
  /** Loaded by `loadDenseVersions` (when the list is shown); null = not loaded. */
  denseVersions: DenseVersion[] | null;
  loadDenseVersions(): Promise<void>;
  pinDenseVersion(id: string, pinned: boolean): Promise<void>;
  useDenseVersion(id: string): Promise<void>;
}

export const createVersionsSlice: SliceCreator<VersionsSlice> = (set, get, services) => {
  const engine = () => {
    if (!services.engine) throw new Error('The model engine is not available.');
    return services.engine;
  };
  const report = (error: unknown): void =>
    set({ headsError: error instanceof Error ? error.message : String(error) });
  /** Runs `step` for the open project; its result is dropped if another project opened. */
  const forProject = async <T>(step: () => Promise<T>): Promise<T | undefined> => {
    const projectId = get().project?.id;
    if (!projectId || !services.engine || !get().headsReady) return undefined;
    const result = await step();
    return get().project?.id === projectId ? result : undefined;
  };
  return {
    denseVersions: null,
    async loadDenseVersions() {
      try {
        const versions = await forProject(() => engine().listDenseVersions());
        if (versions) set({ denseVersions: versions });
      } catch (error) {
        report(error);
      }
    },
    async pinDenseVersion(id, pinned) {
      try {
        const versions = await forProject(() => engine().pinDenseVersion(id, pinned));
        if (versions) set({ denseVersions: versions });
      } catch (error) {
        report(error);
      }
    },
    async useDenseVersion(id) {
      const projectId = get().project?.id;
      try {
        const summary = await forProject(() => engine().useDenseVersion(id));
        if (!summary || !projectId) return;
        set({ modelSummary: summary });
        announce(services, projectId, 'models');
        await get().refreshTry();
        await get().loadDenseVersions();
      } catch (error) {
        report(error);
      }
    },
  };
};
