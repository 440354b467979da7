/**
 * Storage slice: each project's size for the project list (core/storage/projectSize.ts), and the
 * room check imports run before they start (core/importFit.ts against the browser's estimate).
 */
import { importFit, type ImportNeed } from '../core/importFit';
import { projectSizes } from '../core/storage/projectSize';
import { readStorageFacts } from '../core/storageStatus';
import type { SliceCreator } from './store';

export interface StorageSlice {
  /** Bytes stored per project id (images, thumbnails, embeddings, models); absent = none. */
  projectSizes: Record<string, number>;
  loadProjectSizes(): Promise<void>;
  /**
   * Resolves true when `need` fits the free storage (or the browser does not say); otherwise
   * shows an error notice with the sizes and what to do, and resolves false.
   */
  ensureRoomFor(need: ImportNeed): Promise<boolean>;
}

export const createStorageSlice: SliceCreator<StorageSlice> = (set, get, services) => ({
  projectSizes: {},
  async loadProjectSizes() {
    const sizes = await projectSizes(await services.db());
    set({ projectSizes: Object.fromEntries([...sizes].map(([id, size]) => [id, size.total])) });
  },
  async ensureRoomFor(need) {
    const facts = await readStorageFacts(services.storage ?? globalThis.navigator?.storage);
    const verdict = importFit(need, facts);
    if (verdict.fits) return true;
    get().pushNotice({ kind: 'error', message: verdict.message, rejected: [] });
    return false;
  },
});
