/**
 * Review slice: whether the Review view is open, the open project's out-of-fold KNN predictions
 * and near-duplicate groups (computed in the engine worker when Review opens and again, debounced,
 * after labels, samples or embeddings change; a newer run aborts the older one) and `Keep`, which
 * remembers an image with its current labels in the project's settings so it is not flagged again
 * until they change. The worker stores the predictions per project: they are read back when the
 * project opens (for the sample detail and an instant Review) and, once known, kept up to date in
 * the background after edits settle, also while Review is closed. The predictions are one job per
 * project across tabs (job lock `outOfFold`): a tab waits while another computes them, then the
 * worker reads that tab's stored result (same fingerprint) instead of computing again.
 */
import * as projectsRepo from '../core/storage/projects';
import { getOutOfFold } from '../core/storage/outOfFold';
import { embeddingKey } from '../core/backbone/types';
import { projectBackboneSpec, projectDuplicateThreshold } from '../core/projectSettings';
import { labelKey } from '../core/analysis/mislabels';
import type { DuplicateGroup, OutOfFoldResult } from '../worker/api';
import type { LoupeStore, SliceCreator } from './store';
import { announce, claimJob } from './tabSync';

export interface ReviewSlice {
  reviewOpen: boolean;
  /** Out-of-fold predictions of the open project (null before the first run). */
  outOfFold: OutOfFoldResult | null;
  /** Near-duplicate groups of the open project's embedded images (null before the first run). */
  duplicates: DuplicateGroup[] | null;
  reviewBusy: boolean;
  /** This tab holds the project's out-of-fold job lock and runs the predictions. */
  outOfFoldRunning: boolean;
  reviewError: string | null;
  setReviewOpen(open: boolean): void;
  /** Recomputes the out-of-fold predictions now (aborting a run in progress). */
  refreshReview(): Promise<void>;
  /** Recomputes after a short quiet period (label edits come in bursts). */
  scheduleReviewRefresh(): void;
  /**
   * `Move to {label}`: single-label moves the image to `to`; multi-label swaps the label `from`
   * for `to`, keeping its other labels.
   */
  applySuggestion(sampleId: string, from: string, to: string): Promise<void>;
  /** Marks an image reviewed with its current labels (stored in the project's settings). */
  keepSample(sampleId: string): Promise<void>;
  /** Reads the open project's stored out-of-fold predictions (for its current embeddings). */
  loadStoredOutOfFold(): Promise<void>;
}

/** Quiet period after a change before the predictions are recomputed. */
export const REVIEW_DEBOUNCE_MS = 400;

/**
 * How often a running out-of-fold job tells other tabs it still runs: it has no progress to
 * report, a job not heard of for `REMOTE_JOB_STALE_MS` is taken as gone, and a tab that opens
 * the project meanwhile learns of it by the next one.
 */
export const OUT_OF_FOLD_HEARTBEAT_MS = 2000;

export const createReviewSlice: SliceCreator<ReviewSlice> = (set, get, services) => {
  let controller: AbortController | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;

  return {
    reviewOpen: false,
    outOfFold: null,
    duplicates: null,
    reviewBusy: false,
    outOfFoldRunning: false,
    reviewError: null,

    setReviewOpen(open) {
      set({ reviewOpen: open });
      if (open) void get().refreshReview();
      else {
        controller?.abort();
        if (timer) clearTimeout(timer);
      }
    },

    async refreshReview() {
      if (timer) clearTimeout(timer);
      timer = null;
      const project = get().project;
      const engine = services.engine;
      if (!project || !engine || !get().headsReady) return;
      controller?.abort();
      const mine = new AbortController();
      controller = mine;
      set({ reviewBusy: true, reviewError: null });
      try {
        // One run per project across tabs: while another tab computes, wait (it shows here as
        // running there); then the worker finds its stored result, computed from the same data,
        // and reads it back. A tab that closes mid-run frees the lock and this one computes.
        const lease = await claimJob(services, project.id, 'outOfFold', {
          wait: true,
          signal: mine.signal,
        });
        if (!lease) return;
        set({ outOfFoldRunning: true });
        lease.progress(0, 0);
        const heartbeat = setInterval(() => lease.progress(0, 0), OUT_OF_FOLD_HEARTBEAT_MS);
        let outOfFold: OutOfFoldResult;
        try {
          outOfFold = await engine.outOfFoldPredictions({
            labelOrder: get().labels.map((l) => l.id),
            signal: mine.signal,
          });
        } finally {
          clearInterval(heartbeat);
          set({ outOfFoldRunning: false });
          lease.end();
        }
        if (!mine.signal.aborted && get().project?.id === project.id) set({ outOfFold });
        // The worker keeps the all-pairs search until the embedded images change: a label edit
        // or another threshold only regroups and re-flags (leakage follows the current split).
        if (get().reviewOpen) {
          const duplicates = await engine.nearDuplicates({
            threshold: projectDuplicateThreshold(get().project ?? project),
            labelOrder: get().labels.map((l) => l.id),
            signal: mine.signal,
          });
          if (!mine.signal.aborted && get().project?.id === project.id) set({ duplicates });
        }
      } catch (error) {
        if (!mine.signal.aborted)
          set({ reviewError: error instanceof Error ? error.message : String(error) });
      } finally {
        if (controller === mine) {
          controller = null;
          set({ reviewBusy: false });
        }
      }
    },

    scheduleReviewRefresh() {
      if (!get().reviewOpen && !get().outOfFold) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => void get().refreshReview(), REVIEW_DEBOUNCE_MS);
    },

    async applySuggestion(sampleId, from, to) {
      if (get().project?.kind === 'multi-label') {
        await get().tagSamples([sampleId], to, true);
        await get().tagSamples([sampleId], from, false);
      } else await get().moveSamples([sampleId], to);
    },

    async keepSample(sampleId) {
      const project = get().project;
      const sample = get().samples.find((s) => s.id === sampleId);
      if (!project || !sample) return;
      const reviewedMislabels = {
        ...project.settings.reviewedMislabels,
        [sampleId]: labelKey(sample.labelIds),
      };
      const settings = { ...project.settings, reviewedMislabels };
      set({ project: { ...project, settings } });
      try {
        const updated = await projectsRepo.updateProject(await services.db(), project.id, {
          settings: { reviewedMislabels },
        });
        announce(services, project.id, 'project');
        if (get().project?.id === project.id) set({ project: updated });
      } catch (error) {
        if (get().project?.id === project.id) set({ project });
        set({ reviewError: error instanceof Error ? error.message : String(error) });
      }
    },

    async loadStoredOutOfFold() {
      const project = get().project;
      if (!project) return;
      const record = await getOutOfFold(await services.db(), project.id);
      const key = embeddingKey(projectBackboneSpec(project), project.settings.aspectMode);
      if (!record || record.embeddingKey !== key) return;
      if (get().project?.id !== project.id || get().outOfFold) return;
      set({ outOfFold: record.result });
      if (get().headsReady) get().scheduleReviewRefresh();
    },
  };
};

/**
 * Keeps the review predictions in step: cleared when another project opens, whose stored
 * predictions are then read; recomputed (debounced) after the samples, the labels or the embedded
 * count change, and once the heads become ready, while Review is open, or while it is closed once
 * predictions are known and no embedding is running.
 */
export function keepReviewInStep(store: LoupeStore): void {
  store.subscribe((state, previous) => {
    if (state.project?.id !== previous.project?.id) {
      if (previous.reviewOpen || previous.outOfFold || previous.duplicates)
        store.setState({ outOfFold: null, duplicates: null, reviewOpen: false, reviewError: null });
      if (state.project) void state.loadStoredOutOfFold().catch(() => undefined);
      return;
    }
    if (!state.reviewOpen) {
      if (!state.outOfFold || state.embedProgress) return;
      if (previous.embedProgress && state.headsReady) state.scheduleReviewRefresh();
    }
    if (state.headsReady && !previous.headsReady) void state.refreshReview();
    else if (
      state.samples !== previous.samples ||
      state.labels !== previous.labels ||
      state.embeddedCount !== previous.embeddedCount
    )
      state.scheduleReviewRefresh();
  });
}
