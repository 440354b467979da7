/**
 * The Review view's sections on unlabelled images: `Label next` (ranked by the live KNN's
 * uncertainty with diversity) and `Clusters` (k-means on the embeddings, k automatic or the
 * user's), both computed in the engine worker while Review is open and again, debounced, after
 * labels, samples or embeddings change (a newer run aborts the older one; clusters are recomputed
 * only when the set of unlabelled embedded images or k changed). Labelling from these sections
 * uses the board's own actions (`moveSamples`, `tagSamples`, `addLabel`).
 */
import type { Clustering, LabelNextResult } from '../worker/api';
import { REVIEW_DEBOUNCE_MS } from './reviewSlice';
import type { LoupeStore, SliceCreator } from './store';

export interface UnlabelledReviewSlice {
  /** `Label next` of the open project (null before the first run). */
  labelNext: LabelNextResult | null;
  /** `Clusters` of the open project's unlabelled images (null before the first run). */
  clustering: Clustering | null;
  /** The number of clusters the user asked for, or 'auto'. */
  clusterK: number | 'auto';
  unlabelledBusy: boolean;
  unlabelledError: string | null;
  /** Recomputes both sections now (aborting a run in progress). */
  refreshUnlabelledReview(): Promise<void>;
  scheduleUnlabelledReviewRefresh(): void;
  /** Sets k ('auto' = chosen automatically) and re-clusters. */
  setClusterK(k: number | 'auto'): void;
  /** Gives unlabelled images a label (single-label: moves them; multi-label: adds the label). */
  labelSamples(sampleIds: string[], labelId: string): Promise<void>;
  /** `Make label from cluster`: a new label named `name` holding the images. */
  makeLabelFromCluster(sampleIds: string[], name: string): Promise<void>;
}

export const createUnlabelledReviewSlice: SliceCreator<UnlabelledReviewSlice> = (
  set,
  get,
  services,
) => {
  let controller: AbortController | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  /** What the clusters were computed for (project, k and the unlabelled embedded images). */
  let clustersKey = '';

  const unlabelledKey = (): string => {
    const s = get();
    const ids = s.samples.filter((x) => x.labelIds.length === 0).map((x) => x.id);
    return `${s.project?.id ?? ''}:${s.clusterK}:${s.embeddedCount}:${ids.length}:${ids.join(',')}`;
  };

  return {
    labelNext: null,
    clustering: null,
    clusterK: 'auto',
    unlabelledBusy: false,
    unlabelledError: null,

    async refreshUnlabelledReview() {
      if (timer) clearTimeout(timer);
      timer = null;
      const project = get().project;
      const engine = services.engine;
      if (!project || !engine || !get().headsReady) return;
      controller?.abort();
      const mine = new AbortController();
      controller = mine;
      const current = (): boolean => !mine.signal.aborted && get().project?.id === project.id;
      set({ unlabelledBusy: true, unlabelledError: null });
      try {
        const labelNext = await engine.labelNext({ signal: mine.signal });
        if (current()) set({ labelNext });
        const key = unlabelledKey();
        if (key !== clustersKey || !get().clustering) {
          const clustering = await engine.clusters({ k: get().clusterK, signal: mine.signal });
          if (current()) {
            clustersKey = key;
            set({ clustering });
          }
        }
      } catch (error) {
        if (!mine.signal.aborted)
          set({ unlabelledError: error instanceof Error ? error.message : String(error) });
      } finally {
        if (controller === mine) {
          controller = null;
          set({ unlabelledBusy: false });
        }
      }
    },

    scheduleUnlabelledReviewRefresh() {
      if (!get().reviewOpen) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => void get().refreshUnlabelledReview(), REVIEW_DEBOUNCE_MS);
    },

    setClusterK(k) {
      set({ clusterK: k });
      if (get().reviewOpen) void get().refreshUnlabelledReview();
    },

    async labelSamples(sampleIds, labelId) {
      if (sampleIds.length === 0) return;
      if (get().project?.kind === 'multi-label') await get().tagSamples(sampleIds, labelId, true);
      else await get().moveSamples(sampleIds, labelId);
    },

    async makeLabelFromCluster(sampleIds, name) {
      const label = await get().addLabel(name);
      await get().labelSamples(sampleIds, label.id);
    },
  };
};

/**
 * Keeps both sections in step: cleared when another project opens; computed when Review opens or
 * the heads become ready; recomputed (debounced) while Review is open after the samples, the
 * labels or the embedded count change.
 */
export function keepUnlabelledReviewInStep(store: LoupeStore): void {
  store.subscribe((state, previous) => {
    if (state.project?.id !== previous.project?.id) {
      if (
        previous.labelNext ||
        previous.clustering ||
        previous.unlabelledError ||
        previous.clusterK !== 'auto'
      )
        store.setState({
          labelNext: null,
          clustering: null,
          clusterK: 'auto',
          unlabelledError: null,
        });
      return;
    }
    if (!state.reviewOpen) return;
    if ((state.headsReady && !previous.headsReady) || (state.reviewOpen && !previous.reviewOpen))
      void state.refreshUnlabelledReview();
    else if (
      state.samples !== previous.samples ||
      state.labels !== previous.labels ||
      state.embeddedCount !== previous.embeddedCount
    )
      state.scheduleUnlabelledReviewRefresh();
  });
}
