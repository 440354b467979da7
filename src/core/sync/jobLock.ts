/**
 * One long job per project across tabs, through Web Locks: `claimLock` takes a named lock and
 * holds it until the returned release is called (or the tab goes away: the browser releases a
 * closed tab's locks, and a tab waiting for the lock gets it). Without `navigator.locks` (older
 * browsers, Node) every claim succeeds at once: the single-tab behaviour.
 */
import type { JobKind } from './tabMessages';

/** The part of `LockManager` used here (a fake in unit tests). */
export interface LockRequester {
  request(
    name: string,
    options: { ifAvailable?: boolean; signal?: AbortSignal },
    callback: (lock: unknown) => Promise<void> | void,
  ): Promise<unknown>;
}

export function jobLockName(projectId: string, job: JobKind): string {
  return `loupe-job-${projectId}-${job}`;
}

/** The platform's lock manager, if any. */
export function platformLocks(): LockRequester | undefined {
  return globalThis.navigator?.locks;
}

/**
 * Takes lock `name`. `wait: false`: resolves null at once when another holder has it.
 * `wait: true`: waits for it; resolves null if `signal` aborts first. Otherwise resolves the
 * release function (idempotent).
 */
export function claimLock(
  locks: LockRequester | undefined,
  name: string,
  options: { wait: boolean; signal?: AbortSignal },
): Promise<(() => void) | null> {
  if (options.signal?.aborted) return Promise.resolve(null);
  if (!locks) return Promise.resolve(() => {});
  return new Promise((resolve) => {
    const request = options.wait
      ? { ...(options.signal ? { signal: options.signal } : {}) }
      : { ifAvailable: true };
    locks
      .request(name, request, (lock) => {
        if (!lock) {
          resolve(null);
          return;
        }
        return new Promise<void>((release) => resolve(() => release()));
      })
      // An aborted wait rejects with an AbortError; any other failure also means "not held".
      .catch(() => resolve(null));
  });
}
