/**
 * Tabs in step: what this tab tells other tabs, and what it does with what they tell it.
 *
 * - `announce` publishes a change event after a committed write (called by the slices' actions).
 * - `claimJob` takes a project's job lock (embedding, training, evaluation, Review's out-of-fold
 *   analysis) so a job runs in one tab at a time, and broadcasts its throttled progress until it
 *   ends.
 * - `keepTabsInStep` subscribes the store to other tabs: change events are coalesced, then the
 *   project list, and for the open project its record, labels, sample metas, embedding count and
 *   heads are read again from IndexedDB (the one truth); job progress lands in `remoteJobs`.
 *
 * Heads: a relabel or removal reaches this tab's worker through the store's own subscription
 * (`keepHeadsInStep`), as for a local edit; embeddings and models written elsewhere reopen the
 * heads (`openHeads`), at most one reopen at a time and at most one per second.
 */
import { getProject } from '../core/storage/projects';
import { listLabels } from '../core/storage/labels';
import { listSampleMeta } from '../core/storage/samples';
import { countEmbeddings } from '../core/storage/embeddings';
import { embeddingKey } from '../core/backbone/types';
import { embeddingTarget } from '../core/projectSettings';
import {
  changeCoalescer,
  progressThrottle,
  JOB_KINDS,
  type ChangeKind,
  type JobKind,
  type JobMessage,
  type PendingChanges,
} from '../core/sync/tabMessages';
import { claimLock, jobLockName } from '../core/sync/jobLock';
import type { Services } from './services';
import type { LoupeStore, SliceCreator } from './store';
import { forgetThumbnails } from './thumbnails';

/** A job on the open project that runs in another tab, as last reported. */
export interface RemoteJob {
  done: number;
  total: number;
  /** Date.now() of the last report: a tab that closed mid-job sends no end. */
  at: number;
}

export interface TabsSlice {
  remoteJobs: Partial<Record<JobKind, RemoteJob>>;
  /** Set when the open project was deleted in another tab (its id), so the board can say so. */
  projectDeletedElsewhere: string | null;
}

export const createTabsSlice: SliceCreator<TabsSlice> = () => ({
  remoteJobs: {},
  projectDeletedElsewhere: null,
});

/** Tells other tabs that `kind` records of the project were written. */
export function announce(
  services: Services,
  projectId: string,
  kind: ChangeKind,
  ids?: readonly string[],
): void {
  services.tabs?.publish({ type: 'change', projectId, kind, ...(ids ? { ids: [...ids] } : {}) });
}

export interface JobLease {
  /** This tab's progress, broadcast at most 4 times a second. */
  progress(done: number, total: number): void;
  /** Releases the lock and tells other tabs the job ended (idempotent). */
  end(): void;
}

/**
 * Claims the project's `job` lock. `wait: false`: null when another tab runs it. `wait: true`:
 * waits until that tab's job ends (or the tab closes); null when `signal` aborts first.
 */
export async function claimJob(
  services: Services,
  projectId: string,
  job: JobKind,
  options: { wait: boolean; signal?: AbortSignal },
): Promise<JobLease | null> {
  const release = await claimLock(services.locks, jobLockName(projectId, job), options);
  if (!release) return null;
  const send = (done: number, total: number, ended: boolean): void =>
    services.tabs?.publish({ type: 'job', projectId, job, done, total, ended });
  const throttle = progressThrottle((done, total) => send(done, total, false));
  let last: [number, number] = [0, 0];
  let ended = false;
  const lease: JobLease = {
    progress(done, total) {
      if (ended) return;
      last = [done, total];
      throttle.report(done, total);
    },
    end() {
      if (ended) return;
      ended = true;
      liveLeases.delete(lease);
      throttle.stop();
      release();
      send(last[0], last[1], true);
    },
  };
  liveLeases.add(lease);
  return lease;
}

/** The jobs this tab runs now (their leases), ended together when the tab goes away. */
const liveLeases = new Set<JobLease>();

/**
 * Ends every job lease this tab holds: other tabs hear at once that the jobs stopped here (rather
 * than after `REMOTE_JOB_STALE_MS`) and the next of them to wait takes the lock. Called on
 * `pagehide` (the browser releases the locks of a closed tab itself; the broadcast is the news).
 */
export function endAllJobs(): void {
  for (const lease of [...liveLeases]) lease.end();
}

/** A remote job not heard of for this long is taken as gone (its tab closed mid-job). */
export const REMOTE_JOB_STALE_MS = 15_000;

const HEADS_REOPEN_GAP_MS = 1000;

export function keepTabsInStep(store: LoupeStore, services: Services): () => void {
  const channel = services.tabs;
  if (!channel) return () => {};
  const onLeave = (): void => endAllJobs();
  if (typeof addEventListener === 'function') addEventListener('pagehide', onLeave);

  let reopening: Promise<void> | null = null;
  let reopenAgain = false;
  const reopenHeads = (): void => {
    if (reopening) {
      reopenAgain = true;
      return;
    }
    reopening = (async () => {
      do {
        reopenAgain = false;
        await store.getState().openHeads({ reload: true });
        await new Promise((r) => setTimeout(r, HEADS_REOPEN_GAP_MS));
      } while (reopenAgain);
      reopening = null;
    })();
  };

  const reloadOpenProject = async (kinds: ReadonlySet<ChangeKind>): Promise<void> => {
    const open = store.getState().project;
    if (!open) return;
    const db = await services.db();
    const record = await getProject(db, open.id);
    if (store.getState().project?.id !== open.id) return;
    if (!record) {
      store.getState().closeProject();
      store.setState({ projectDeletedElsewhere: open.id });
      store.getState().pushNotice({
        kind: 'error',
        message: `“${open.name}” was deleted in another tab.`,
        rejected: [],
      });
      return;
    }
    let reopen = kinds.has('models') || kinds.has('embeddings');
    if (kinds.has('project')) {
      const current = store.getState().project ?? open;
      const settingsChanged =
        current.kind !== record.kind ||
        JSON.stringify(current.settings) !== JSON.stringify(record.settings);
      store.setState({ project: record });
      if (settingsChanged) reopen = true;
    }
    if (kinds.has('samples') || kinds.has('labels')) {
      const [labels, samples] = await Promise.all([
        listLabels(db, open.id),
        listSampleMeta(db, open.id),
      ]);
      const state = store.getState();
      if (state.project?.id !== open.id) return;
      const alive = new Set(samples.map((s) => s.id));
      const gone = state.samples.filter((s) => !alive.has(s.id)).map((s) => s.id);
      const known = new Set(state.samples.map((s) => s.id));
      const added = samples.some((s) => !known.has(s.id));
      const labelIds = new Set(labels.map((l) => l.id));
      // One update: keepHeadsInStep sees the removals and relabels as for a local edit.
      store.setState({
        labels,
        samples,
        selection: new Set([...state.selection].filter((id) => alive.has(id))),
        activeLabelId:
          state.activeLabelId && labelIds.has(state.activeLabelId) ? state.activeLabelId : null,
      });
      if (gone.length > 0) forgetThumbnails(gone);
      // New images: this tab's embedding job waits for the other tab's (one job per project).
      if (added) void store.getState().scheduleEmbedding();
    }
    if (kinds.has('embeddings') || kinds.has('project')) {
      const { spec, aspectMode } = embeddingTarget(record);
      const embeddedCount = await countEmbeddings(db, open.id, embeddingKey(spec, aspectMode));
      if (store.getState().project?.id === open.id) store.setState({ embeddedCount });
    }
    if (reopen && store.getState().headsReady) reopenHeads();
  };

  const coalescer = changeCoalescer((changes: PendingChanges) => {
    void store.getState().loadProjects();
    const open = store.getState().project;
    const kinds = open ? changes.get(open.id) : undefined;
    if (kinds) void reloadOpenProject(kinds).catch(() => undefined);
  });

  // Runs only while remote jobs are listed: drops those whose tab went silent.
  let sweep: ReturnType<typeof setInterval> | null = null;
  const sweepStale = (): void => {
    const { remoteJobs } = store.getState();
    const now = Date.now();
    const kept = { ...remoteJobs };
    for (const job of JOB_KINDS) {
      const at = remoteJobs[job]?.at;
      if (at !== undefined && now - at > REMOTE_JOB_STALE_MS) delete kept[job];
    }
    if (Object.keys(kept).length < Object.keys(remoteJobs).length)
      store.setState({ remoteJobs: kept });
    if (Object.keys(kept).length === 0 && sweep) {
      clearInterval(sweep);
      sweep = null;
    }
  };

  const onJob = (message: JobMessage): void => {
    const open = store.getState().project;
    if (open?.id !== message.projectId) return;
    const remoteJobs = { ...store.getState().remoteJobs };
    if (message.ended) delete remoteJobs[message.job];
    else remoteJobs[message.job] = { done: message.done, total: message.total, at: Date.now() };
    store.setState({ remoteJobs });
    sweep ??= setInterval(sweepStale, 2000);
  };

  const unsubscribeChannel = channel.subscribe((message) => {
    if (message.type === 'change') coalescer.push(message);
    else onJob(message);
  });
  const unsubscribeStore = store.subscribe((state, previous) => {
    // Another project's jobs are no news on this one.
    if (state.project?.id !== previous.project?.id) {
      store.setState({
        remoteJobs: {},
        ...(state.project ? { projectDeletedElsewhere: null } : {}),
      });
      return;
    }
    // A job running here took the lock: the tab that reported it is gone (closed mid-job).
    const local: Record<JobKind, boolean> = {
      embedding: state.embedProgress !== null,
      training: state.training !== null,
      evaluation: state.comparing,
      outOfFold: state.outOfFoldRunning,
    };
    const stale = JOB_KINDS.filter((job) => local[job] && state.remoteJobs[job]);
    if (stale.length === 0) return;
    const remoteJobs = { ...state.remoteJobs };
    for (const job of stale) delete remoteJobs[job];
    store.setState({ remoteJobs });
  });
  return () => {
    if (typeof removeEventListener === 'function') removeEventListener('pagehide', onLeave);
    coalescer.cancel();
    if (sweep) clearInterval(sweep);
    unsubscribeChannel();
    unsubscribeStore();
  };
}
