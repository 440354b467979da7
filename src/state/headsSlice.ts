/**
 * Heads slice: the classifier used for predictions (KNN or dense), the try image and its live
 * predictions, dense training with per-epoch logs, the saved model's summary and evaluation, and
 * the k-fold head comparison. The classifier choice and the dense-training settings are stored in
 * the project's settings and restored when its heads open. Label changes reach the worker's KNN
 * through `syncHeadsWithSamples`, which the store subscribes to every change of the samples.
 */
import type { ProjectKind } from '../core/kinds';
import type { DenseConfig } from '../core/heads/dense';
import type { ProjectRecord, ProjectSettings, SampleMeta } from '../core/storage/schema';
import * as projectsRepo from '../core/storage/projects';
import { augmentationViews, NO_AUGMENTATION, type Augmentation } from '../core/backbone/augment';
import type {
  HeadSettings,
  CompareRow,
  DenseModelSummary,
  EpochLog,
  LabelChange,
  TryPredictions,
} from '../worker/api';
import {
  projectAugmentation,
  projectBackboneSpec,
  projectClassifier,
  projectDenseConfig,
  projectHeadSettings,
} from '../core/projectSettings';
import type { SliceCreator } from './store';
import { announce, claimJob } from './tabSync';

export type ClassifierChoice = 'knn' | 'dense';

export interface HeadsSlice {
  classifier: ClassifierChoice;
  headsReady: boolean;
  knnK: number;
  modelSummary: DenseModelSummary | null;
  tryResult: TryPredictions | null;
  tryPreviewUrl: string | null;
  training: {
    epochs: EpochLog[];
    maxEpochs: number;
    /** Computing the augmented copies' embeddings before the first epoch. */
    preparing: { done: number; total: number } | null;
  } | null;
  headsError: string | null;
  compareRows: CompareRow[] | null;
  comparing: boolean;
  /** The running comparison's folds done and in all, and the time left (null: not known yet). */
  compareProgress: { done: number; total: number; etaSeconds: number | null } | null;
  denseConfig: Partial<DenseConfig>;
  /** Stores the open project's head settings (read them with `projectHeadSettings`), applies them. */
  setHeadSettings(patch: Partial<HeadSettings>): Promise<void>;
  /** Auto k: re-chosen (debounced) after labelled data changed. */
  scheduleKRefresh(): void;
  /** Augmented copies of every training image for Train and Compare heads (default none). */
  augmentation: Augmentation;
  setAugmentation(patch: Partial<Augmentation>): void;
  setClassifier(choice: ClassifierChoice): void;
  setDenseConfig(patch: Partial<DenseConfig>): void;
  /**
   * Opens the worker's heads for the open project; `reload` rebuilds them from the database
   * (records changed by another tab, a restore from the trash).
   */
  openHeads(options?: { reload?: boolean }): Promise<void>;
  tryImage(image: Blob): Promise<void>;
  tryFrame(frame: ImageBitmap): Promise<void>;
  clearTry(): void;
  refreshTry(): Promise<void>;
  train(): Promise<void>;
  stopTraining(): void;
  compareHeads(): Promise<void>;
  cancelCompare(): void;
  /** Label changes between two versions of the samples, pushed to the worker's KNN in order. */
  syncHeadsWithSamples(before: readonly SampleMeta[], after: readonly SampleMeta[]): Promise<void>;
}

/** Samples removed, and samples whose labels changed, from `before` to `after`. */
export function labelChanges(
  before: readonly SampleMeta[],
  after: readonly SampleMeta[],
): { changes: LabelChange[]; removed: string[] } {
  const now = new Map(after.map((s) => [s.id, s]));
  const removed: string[] = [];
  const changes: LabelChange[] = [];
  for (const old of before) {
    const current = now.get(old.id);
    if (current === old) continue;
    if (!current) removed.push(old.id);
    else if (current.labelIds.join('|') !== old.labelIds.join('|')) {
      changes.push({ sampleId: old.id, labelIds: [...current.labelIds] });
    }
  }
  return { changes, removed };
}

/** Number of labelled samples added, removed or relabelled since the model's training snapshot. */
export function changesSince(summary: DenseModelSummary, samples: readonly SampleMeta[]): number {
  let changes = 0;
  const seen = new Set<string>();
  for (const s of samples) {
    if (s.labelIds.length === 0) continue;
    seen.add(s.id);
    const before = summary.snapshot[s.id];
    if (!before || before.join('|') !== [...s.labelIds].sort().join('|')) changes++;
  }
  for (const id of Object.keys(summary.snapshot)) if (!seen.has(id)) changes++;
  return changes;
}

/** Why Train / Compare heads did not start: the project's job runs in another tab. */
export const ELSEWHERE = {
  training: 'A model is training on this project in another tab; it appears here once saved.',
  evaluation: 'Classifiers are being compared on this project in another tab.',
} as const;

function projectKind(kind: string | undefined): ProjectKind {
  return kind === 'multi-label' ? 'multi-label' : 'single-label';
}

export const createHeadsSlice: SliceCreator<HeadsSlice> = (set, get, services) => {
  let trainController: AbortController | null = null;
  let compareController: AbortController | null = null;
  let framePending = false;
  let kTimer: ReturnType<typeof setTimeout> | null = null;
  let syncing: Promise<void> = Promise.resolve();

  const engine = () => {
    if (!services.engine) throw new Error('The model engine is not available.');
    return services.engine;
  };
  const report = (error: unknown): void =>
    set({ headsError: error instanceof Error ? error.message : String(error) });

  /**
   * Stores the classifier choice and dense-training settings in the open project's settings (so
   * they survive a reload and travel in its archive); read back by `openHeads`.
   */
  const storeChoices = async (
    patch: Pick<ProjectSettings, 'classifier' | 'denseConfig' | 'augmentation'>,
  ): Promise<void> => {
    const project = get().project;
    if (!project) return;
    const settings = { ...project.settings, ...patch };
    set({ project: { ...project, settings } });
    try {
      // Only these keys: settings changed meanwhile (in another tab too) are kept.
      await projectsRepo.updateProject(await services.db(), project.id, { settings: patch });
      announce(services, project.id, 'project');
    } catch (error) {
      report(error);
    }
  };

  /**
   * Computes the embeddings of the augmentation views that are not cached yet (in the worker, like
   * the originals; progress counts images over all views). Resolves false when cancelled.
   */
  const ensureViews = async (
    augmentation: Augmentation,
    signal: AbortSignal,
    onProgress: (p: { done: number; total: number }) => void,
  ): Promise<boolean> => {
    const project = get().project;
    if (!project) return false;
    const views = augmentationViews(augmentation);
    for (const [i, view] of views.entries()) {
      const result = await engine().embedProject({
        projectId: project.id,
        spec: projectBackboneSpec(project),
        aspectMode: project.settings.aspectMode,
        signal,
        onProgress: (p) =>
          onProgress({ done: i * p.total + p.done, total: views.length * p.total }),
        onBatch: () => {},
        view,
      });
      if (result.cancelled || signal.aborted) return false;
    }
    return true;
  };

  return {
    classifier: 'knn',
    headsReady: false,
    knnK: 5,
    modelSummary: null,
    tryResult: null,
    tryPreviewUrl: null,
    training: null,
    headsError: null,
    compareRows: null,
    comparing: false,
    compareProgress: null,
    denseConfig: {},
    augmentation: { ...NO_AUGMENTATION },
    setAugmentation(patch) {
      const augmentation = { ...get().augmentation, ...patch };
      set({ augmentation });
      void storeChoices({ augmentation });
    },
    setClassifier(classifier) {
      set({ classifier });
      void storeChoices({ classifier });
    },
    setDenseConfig(patch) {
      const denseConfig = { ...get().denseConfig, ...patch };
      set({ denseConfig });
      void storeChoices({ denseConfig });
    },

    async openHeads(options = {}) {
      const project = get().project;
      if (!project) return;
      set({ denseConfig: projectDenseConfig(project), augmentation: projectAugmentation(project) });
      if (!services.engine) return;
      try {
        await get().engineReady();
        const spec = projectBackboneSpec(project);
        const headSettings = projectHeadSettings(project);
        const opened = await engine().openHeads({
          projectId: project.id,
          spec,
          aspectMode: project.settings.aspectMode,
          kind: projectKind(project.kind),
          settings: headSettings,
          ...(options.reload ? { reload: true } : {}),
        });
        if (get().project?.id !== project.id) return;
        set({
          headsReady: true,
          knnK: opened.k,
          modelSummary: opened.summary,
          classifier: opened.summary ? projectClassifier(get().project ?? project) : 'knn',
          headsError: null,
        });
      } catch (error) {
        report(error);
      }
    },

    async setHeadSettings(patch) {
      const project = get().project;
      if (!project) return;
      const headSettings = { ...projectHeadSettings(project), ...patch };
      const settings = { ...project.settings, heads: headSettings };
      // Shown at once (controls stay where the user put them), then stored.
      set({ project: { ...project, settings } });
      try {
        let updated: ProjectRecord;
        try {
          updated = await projectsRepo.updateProject(await services.db(), project.id, {
            settings: { heads: headSettings },
          });
        } catch (error) {
          if (get().project?.id === project.id) set({ project }); // not stored: show what is
          throw error;
        }
        if (get().project?.id === project.id) set({ project: updated });
        announce(services, project.id, 'project');
        if (!services.engine || !get().headsReady) return;
        const knnK = await engine().setHeadSettings(headSettings);
        set({ knnK });
        await get().refreshTry();
      } catch (error) {
        report(error);
      }
    },

    scheduleKRefresh() {
      const project = get().project;
      if (!services.engine || !project || projectHeadSettings(project).k !== 'auto') return;
      if (kTimer) clearTimeout(kTimer);
      kTimer = setTimeout(() => {
        kTimer = null;
        // Not while images are still arriving: the choice would be stale at once.
        if (get().embedProgress || get().importProgress) {
          get().scheduleKRefresh();
          return;
        }
        void (async () => {
          try {
            const knnK = await engine().refreshK();
            if (knnK !== get().knnK) {
              set({ knnK });
              await get().refreshTry();
            }
          } catch (error) {
            report(error);
          }
        })();
      }, 1500);
    },

    async tryImage(image) {
      const project = get().project;
      if (!project) return;
      const previous = get().tryPreviewUrl;
      if (previous) URL.revokeObjectURL(previous);
      set({ tryPreviewUrl: URL.createObjectURL(image) });
      try {
        const result = await engine().tryImage({
          image,
          spec: projectBackboneSpec(project),
          aspectMode: project.settings.aspectMode,
        });
        set({ tryResult: result, headsError: null });
      } catch (error) {
        report(error);
      }
    },

    async tryFrame(frame) {
      const project = get().project;
      if (!project || framePending) {
        frame.close();
        return;
      }
      framePending = true;
      try {
        const result = await engine().tryImage({
          image: frame,
          spec: projectBackboneSpec(project),
          aspectMode: project.settings.aspectMode,
        });
        set({ tryResult: result });
      } catch (error) {
        report(error);
      } finally {
        framePending = false;
      }
    },

    clearTry() {
      const previous = get().tryPreviewUrl;
      if (previous) URL.revokeObjectURL(previous);
      set({ tryResult: null, tryPreviewUrl: null });
      void services.engine?.clearTry();
    },

    async refreshTry() {
      if (!get().tryResult || !services.engine) return;
      const result = await engine().predictTry();
      if (result) set({ tryResult: result });
    },

    async train() {
      const project = get().project;
      if (!project || trainController) return;
      const controller = new AbortController();
      trainController = controller;
      const maxEpochs = get().denseConfig.epochs ?? 50;
      const augmentation = get().augmentation;
      const augmented = augmentationViews(augmentation).length > 0;
      // One training per project across tabs: the other tab's model reaches this one when saved.
      const lease = await claimJob(services, project.id, 'training', { wait: false });
      if (!lease) {
        trainController = null;
        report(new Error(ELSEWHERE.training));
        return;
      }
      lease.progress(0, maxEpochs);
      set({
        training: { epochs: [], maxEpochs, preparing: augmented ? { done: 0, total: 0 } : null },
        headsError: null,
      });
      try {
        if (augmented) {
          const ready = await ensureViews(augmentation, controller.signal, (preparing) => {
            const training = get().training;
            if (training) set({ training: { ...training, preparing } });
          });
          if (!ready) return;
          const training = get().training;
          if (training) set({ training: { ...training, preparing: null } });
        }
        const summary = await engine().trainDense({
          labelOrder: get().labels.map((l) => l.id),
          config: get().denseConfig,
          signal: controller.signal,
          augmentation,
          onEpoch: (log) => {
            const training = get().training;
            if (training) set({ training: { ...training, epochs: [...training.epochs, log] } });
            lease.progress(log.epoch, maxEpochs);
          },
        });
        if (summary) {
          announce(services, project.id, 'models');
          set({ modelSummary: summary });
          get().setClassifier('dense');
          await get().refreshTry();
        }
      } catch (error) {
        report(error);
      } finally {
        lease.end();
        trainController = null;
        set({ training: null });
      }
    },

    stopTraining() {
      trainController?.abort();
    },

    async compareHeads() {
      const project = get().project;
      if (compareController || !project) return;
      const controller = new AbortController();
      compareController = controller;
      const lease = await claimJob(services, project.id, 'evaluation', { wait: false });
      if (!lease) {
        compareController = null;
        report(new Error(ELSEWHERE.evaluation));
        return;
      }
      set({ comparing: true, compareProgress: null, headsError: null });
      try {
        const augmentation = get().augmentation;
        if (!(await ensureViews(augmentation, controller.signal, () => {}))) return;
        const started = performance.now();
        const rows = await engine().compareHeads({
          labelOrder: get().labels.map((l) => l.id),
          augmentation,
          signal: controller.signal,
          onProgress: ({ done, total }) => {
            // A cancelled run's last fold can report after the next run started.
            if (compareController !== controller) return;
            const perFold = (performance.now() - started) / 1000 / done;
            set({ compareProgress: { done, total, etaSeconds: perFold * (total - done) } });
          },
        });
        set({ compareRows: rows });
      } catch (error) {
        if (!compareController?.signal.aborted) report(error);
      } finally {
        lease.end();
        compareController = null;
        set({ comparing: false, compareProgress: null });
      }
    },

    cancelCompare() {
      compareController?.abort();
    },

    syncHeadsWithSamples(before, after) {
      if (!services.engine || !get().headsReady) return syncing;
      const { changes, removed } = labelChanges(before, after);
      if (removed.length === 0 && changes.length === 0) return syncing;
      // One call at a time, in the order the board changed: the worker's KNN replays the same edits.
      syncing = syncing.then(async () => {
        try {
          const result = await engine().applyLabelChanges(changes, removed);
          if (result) set({ tryResult: result });
          get().scheduleKRefresh();
        } catch (error) {
          report(error);
        }
      });
      return syncing;
    },
  };
};
