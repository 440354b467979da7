/**
 * One zustand store built from eight slices (projects, board, import, prefs, engine, heads,
 * transfer, batch, review, tabs). Components read it with selectors; actions call the storage repositories and the
 * worker bridges through `Services`. Only small UI preferences are persisted (localStorage via
 * `persist`); data lives in IndexedDB.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import { persist, createJSONStorage } from 'zustand/middleware';
import type { Services } from './services';
import { createProjectsSlice, type ProjectsSlice } from './projectsSlice';
import { createBoardSlice, type BoardSlice } from './boardSlice';
import { createImportSlice, type ImportSlice } from './importSlice';
import { createPrefsSlice, type PrefsSlice } from './prefsSlice';
import { createEngineSlice, type EngineSlice } from './engineSlice';
import { createHeadsSlice, type HeadsSlice } from './headsSlice';
import { createTransferSlice, type TransferSlice } from './transferSlice';
import { createBatchSlice, type BatchSlice } from './batchSlice';
import { createReviewSlice, keepReviewInStep, type ReviewSlice } from './reviewSlice';
import {
  createUnlabelledReviewSlice,
  keepUnlabelledReviewInStep,
  type UnlabelledReviewSlice,
} from './unlabelledReviewSlice';
import { createDuplicatesSlice, type DuplicatesSlice } from './duplicatesSlice';
import { createStorageSlice, type StorageSlice } from './storageSlice';
import { createTabsSlice, keepTabsInStep, type TabsSlice } from './tabSync';
import { createCaptureSlice, type CaptureSlice } from './captureSlice';
import { createExplainSlice, type ExplainSlice } from './explainSlice';
import { createTrashSlice, type TrashSlice } from './trashSlice';
import { createUndoSlice, keepUndoPerProject, type UndoSlice } from './undoSlice';
import { createVersionsSlice, type VersionsSlice } from './versionsSlice';

export type LoupeState = ProjectsSlice &
  BoardSlice &
  ImportSlice &
  PrefsSlice &
  EngineSlice &
  HeadsSlice &
  TransferSlice &
  BatchSlice &
  ReviewSlice &
  UnlabelledReviewSlice &
  DuplicatesSlice &
  StorageSlice &
  TabsSlice &
  CaptureSlice &
  ExplainSlice &
  TrashSlice &
  UndoSlice &
  VersionsSlice;
export type LoupeStore = StoreApi<LoupeState>;

export type SliceCreator<T> = (
  set: StoreApi<LoupeState>['setState'],
  get: StoreApi<LoupeState>['getState'],
  services: Services,
) => T;

export function createLoupeStore(
  services: Services,
  options: { persistPrefs?: boolean } = {},
): LoupeStore {
  const slices = (
    set: StoreApi<LoupeState>['setState'],
    get: StoreApi<LoupeState>['getState'],
  ): LoupeState => ({
    ...createProjectsSlice(set, get, services),
    ...createBoardSlice(set, get, services),
    ...createImportSlice(set, get, services),
    ...createPrefsSlice(set, get, services),
    ...createEngineSlice(set, get, services),
    ...createHeadsSlice(set, get, services),
    ...createTransferSlice(set, get, services),
    ...createBatchSlice(set, get, services),
    ...createReviewSlice(set, get, services),
    ...createUnlabelledReviewSlice(set, get, services),
    ...createDuplicatesSlice(set, get, services),
    ...createStorageSlice(set, get, services),
    ...createTabsSlice(set, get, services),
    ...createCaptureSlice(set, get, services),
    ...createExplainSlice(set, get, services),
    ...createTrashSlice(set, get, services),
    ...createUndoSlice(set, get, services),
    ...createVersionsSlice(set, get, services),
  });
  const store = options.persistPrefs
    ? createStore<LoupeState>()(
        persist(slices, {
          name: 'loupe-prefs',
          version: 1,
          storage: createJSONStorage(() => localStorage),
          partialize: (s) => ({
            thumbSize: s.thumbSize,
            rememberedBackends: s.rememberedBackends,
            backendOverride: s.backendOverride,
          }),
        }),
      )
    : createStore<LoupeState>()(slices);
  keepHeadsInStep(store);
  keepReviewInStep(store);
  keepUnlabelledReviewInStep(store);
  keepTabsInStep(store, services);
  keepUndoPerProject(store);
  return store;
}

/**
 * One subscription keeps the worker's heads in step with the board: whenever the open project's
 * samples change (move, tag, merge, delete, a re-import that adds labels), the label changes and
 * removals reach the KNN head, whichever action made them.
 */
function keepHeadsInStep(store: LoupeStore): void {
  store.subscribe((state, previous) => {
    if (state.samples === previous.samples) return;
    if (!state.project || state.project.id !== previous.project?.id) return;
    void state.syncHeadsWithSamples(previous.samples, state.samples);
  });
}
