/**
 * What tabs of one origin tell each other over a `BroadcastChannel`: a change event after each
 * committed write (which project, which kind of record, optionally which ids) and the progress of
 * a long job running in the sending tab. Also the channel itself (a no-op where `BroadcastChannel`
 * is missing, so a lone tab behaves as before) and the coalescer that turns a burst of change
 * events into one reload per project. Messages are validated on receipt: another tab may run
 * another version of the app.
 */
import { isPlainObject } from '../objects';

export const TAB_CHANNEL_NAME = 'loupe-changes';

export const CHANGE_KINDS = ['samples', 'labels', 'project', 'models', 'embeddings'] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

export const JOB_KINDS = ['embedding', 'training', 'evaluation', 'outOfFold'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** Records of `kind` in project `projectId` were written (and committed). */
export interface ChangeMessage {
  type: 'change';
  projectId: string;
  kind: ChangeKind;
  ids?: string[];
}

/** A job runs in the sending tab (`ended` once it stopped, however it stopped). */
export interface JobMessage {
  type: 'job';
  projectId: string;
  job: JobKind;
  done: number;
  total: number;
  ended: boolean;
}

export type TabMessage = ChangeMessage | JobMessage;

const isOneOf = <T extends string>(values: readonly T[], v: unknown): v is T =>
  typeof v === 'string' && (values as readonly string[]).includes(v);

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/** The message, or null when `data` is not one this version understands. */
export function parseTabMessage(data: unknown): TabMessage | null {
  if (!isPlainObject(data)) return null;
  const projectId = data['projectId'];
  if (typeof projectId !== 'string' || projectId === '') return null;
  if (data['type'] === 'change') {
    const kind = data['kind'];
    if (!isOneOf(CHANGE_KINDS, kind)) return null;
    const ids = data['ids'];
    if (ids === undefined) return { type: 'change', projectId, kind };
    if (!Array.isArray(ids) || !ids.every((id): id is string => typeof id === 'string'))
      return null;
    return { type: 'change', projectId, kind, ids };
  }
  if (data['type'] === 'job') {
    const { job, done, total, ended } = data;
    if (!isOneOf(JOB_KINDS, job) || !isCount(done) || !isCount(total)) return null;
    if (typeof ended !== 'boolean') return null;
    return { type: 'job', projectId, job, done, total, ended };
  }
  return null;
}

export interface TabChannel {
  /** Sends to every other tab (never to this one). */
  publish(message: TabMessage): void;
  /** Valid messages from other tabs; returns the unsubscribe. */
  subscribe(listener: (message: TabMessage) => void): () => void;
  close(): void;
}

/** A channel that reaches no one: the single-tab behaviour. */
export const LONE_TAB: TabChannel = {
  publish() {},
  subscribe: () => () => {},
  close() {},
};

/** The named `BroadcastChannel`, or `LONE_TAB` where the platform has none. */
export function openTabChannel(name = TAB_CHANNEL_NAME): TabChannel {
  if (typeof BroadcastChannel !== 'function') return LONE_TAB;
  const channel = new BroadcastChannel(name);
  const listeners = new Set<(message: TabMessage) => void>();
  channel.onmessage = (event: MessageEvent<unknown>) => {
    const message = parseTabMessage(event.data);
    if (message) for (const listener of listeners) listener(message);
  };
  return {
    publish(message) {
      try {
        channel.postMessage(message);
      } catch {
        // A closed channel (page unloading): other tabs simply keep their state.
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      listeners.clear();
      channel.close();
    },
  };
}

/** Kinds changed per project since the last flush. */
export type PendingChanges = Map<string, Set<ChangeKind>>;

/**
 * Collects change events and flushes them together once `quietMs` passed without a new one, or at
 * the latest `maxWaitMs` after the first, so a steady stream (an import's chunks) still reaches
 * the screen a few times per second rather than only when it stops.
 */
export function changeCoalescer(
  flush: (changes: PendingChanges) => void,
  options: { quietMs?: number; maxWaitMs?: number } = {},
) {
  const quietMs = options.quietMs ?? 150;
  const maxWaitMs = options.maxWaitMs ?? 600;
  let pending: PendingChanges = new Map();
  let quiet: ReturnType<typeof setTimeout> | null = null;
  let deadline: ReturnType<typeof setTimeout> | null = null;
  const clear = (): void => {
    if (quiet) clearTimeout(quiet);
    if (deadline) clearTimeout(deadline);
    quiet = deadline = null;
  };
  const run = (): void => {
    clear();
    if (pending.size === 0) return;
    const changes = pending;
    pending = new Map();
    flush(changes);
  };
  return {
    push(message: ChangeMessage): void {
      const kinds = pending.get(message.projectId) ?? new Set<ChangeKind>();
      kinds.add(message.kind);
      pending.set(message.projectId, kinds);
      if (quiet) clearTimeout(quiet);
      quiet = setTimeout(run, quietMs);
      deadline ??= setTimeout(run, maxWaitMs);
    },
    /** Flushes now (nothing when nothing is pending). */
    flush: run,
    /** Drops what is pending. */
    cancel(): void {
      clear();
      pending = new Map();
    },
  };
}

/**
 * Progress reports at most every `intervalMs` (the first at once, the latest kept for the next
 * slot), so a job's progress costs other tabs a few messages per second.
 */
export function progressThrottle(
  send: (done: number, total: number) => void,
  intervalMs = 250,
  now: () => number = () => Date.now(),
) {
  let last = -Infinity;
  let latest: [number, number] | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const emit = (): void => {
    timer = null;
    if (!latest) return;
    last = now();
    const [done, total] = latest;
    latest = null;
    send(done, total);
  };
  return {
    report(done: number, total: number): void {
      latest = [done, total];
      const wait = last + intervalMs - now();
      if (wait <= 0) emit();
      else timer ??= setTimeout(emit, wait);
    },
    /** Drops a report still waiting for its slot. */
    stop(): void {
      if (timer) clearTimeout(timer);
      timer = null;
      latest = null;
    },
  };
}
