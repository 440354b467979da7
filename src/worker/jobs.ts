/**
 * Cancellable worker calls, both sides of the comlink boundary. An AbortSignal cannot be posted to
 * a worker, so the client gives each call a job id and turns an abort into a `cancel(jobId)`
 * message (`callWithCancel`); the worker keeps one AbortController per running job (`JobRegistry`)
 * and hands its signal to the work.
 */

/** Worker side: the running jobs of one worker. */
export class JobRegistry {
  private readonly running = new Map<string, AbortController>();

  /** `onIdle` runs whenever the last running job settles. */
  constructor(private readonly onIdle?: () => void) {}

  /** Runs `work` with a signal that `cancel(jobId)` aborts; the job is forgotten when it settles. */
  async run<T>(jobId: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    this.running.set(jobId, controller);
    try {
      return await work(controller.signal);
    } finally {
      this.running.delete(jobId);
      if (this.running.size === 0) this.onIdle?.();
    }
  }

  /** Aborts a running job; an unknown or finished job id is ignored. */
  cancel(jobId: string): void {
    this.running.get(jobId)?.abort();
  }

  get size(): number {
    return this.running.size;
  }
}

/**
 * Client side: makes a job id for one call and, while the call runs, sends `cancel(jobId)` when
 * `signal` aborts.
 */
export async function callWithCancel<T>(
  signal: AbortSignal | undefined,
  cancel: (jobId: string) => unknown,
  call: (jobId: string) => Promise<T>,
): Promise<T> {
  const jobId = crypto.randomUUID();
  const onAbort = (): void => void cancel(jobId);
  signal?.addEventListener('abort', onAbort);
  try {
    return await call(jobId);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
