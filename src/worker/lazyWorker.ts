/**
 * A worker that starts on first use and is closed after it sat idle for a while: every call goes
 * through `use()`, which counts calls in flight, so a worker is never closed under a running call.
 * The next `use()` after a close starts a fresh one. `keepAlive` vetoes a close while the worker
 * holds state the page still needs (e.g. an inspected archive waiting to be imported).
 */

export interface Connection<R> {
  remote: R;
  terminate(): void;
}

export interface LazyWorkerOptions {
  /** Close after this many ms without a call in flight (default 60 s). */
  idleMs?: number;
  /** While this returns true the worker stays open even when idle. */
  keepAlive?: () => boolean;
}

export class LazyWorker<R> {
  private connection: Connection<R> | null = null;
  private inFlight = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly idleMs: number;
  private readonly keepAlive: () => boolean;

  constructor(
    private readonly connect: () => Connection<R>,
    options: LazyWorkerOptions = {},
  ) {
    this.idleMs = options.idleMs ?? 60_000;
    this.keepAlive = options.keepAlive ?? (() => false);
  }

  /** Whether a worker is running now. */
  get running(): boolean {
    return this.connection !== null;
  }

  /** Runs `call` on the worker (starting it if needed); the idle clock stops meanwhile. */
  async use<T>(call: (remote: R) => Promise<T>): Promise<T> {
    this.connection ??= this.connect();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.inFlight++;
    try {
      return await call(this.connection.remote);
    } finally {
      this.inFlight--;
      this.scheduleClose();
    }
  }

  /** Re-arms the idle clock (after `keepAlive` stopped vetoing, say). */
  scheduleClose(): void {
    if (this.inFlight > 0 || !this.connection) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.inFlight === 0 && !this.keepAlive()) this.close();
    }, this.idleMs);
  }

  /** Closes the worker now (calls in flight are the caller's concern). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.connection?.terminate();
    this.connection = null;
  }
}
