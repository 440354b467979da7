import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LazyWorker, type Connection } from '../../src/worker/lazyWorker';
import { deferred } from '../fixtures/clients';

/** A fake worker: its remote says which connection answered; `terminated` records closes. */
interface Remote {
  id: number;
}

let connections: { remote: Remote; terminated: boolean }[];

function connect(): Connection<Remote> {
  const connection = { remote: { id: connections.length + 1 }, terminated: false };
  connections.push(connection);
  return { remote: connection.remote, terminate: () => (connection.terminated = true) };
}

const idleMs = 1000;
const whoAnswers = (remote: Remote): Promise<number> => Promise.resolve(remote.id);

beforeEach(() => {
  connections = [];
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('LazyWorker', () => {
  it('starts the worker on first use only, and reuses it', async () => {
    const worker = new LazyWorker(connect, { idleMs });
    expect(connections).toHaveLength(0);
    expect(worker.running).toBe(false);
    expect(await worker.use(whoAnswers)).toBe(1);
    expect(worker.running).toBe(true);
    expect(await worker.use(whoAnswers)).toBe(1);
    expect(connections).toHaveLength(1);
  });

  it('closes the worker after it sat idle for idleMs', async () => {
    const worker = new LazyWorker(connect, { idleMs });
    await worker.use(whoAnswers);
    vi.advanceTimersByTime(idleMs - 1);
    expect(connections[0]?.terminated).toBe(false);
    vi.advanceTimersByTime(1);
    expect(connections[0]?.terminated).toBe(true);
    expect(worker.running).toBe(false);
  });

  it('defaults to a minute of idle time', async () => {
    const worker = new LazyWorker(connect);
    await worker.use(whoAnswers);
    vi.advanceTimersByTime(59_999);
    expect(worker.running).toBe(true);
    vi.advanceTimersByTime(1);
    expect(worker.running).toBe(false);
  });

  it('never closes while a call is in flight, and counts idle time from its end', async () => {
    const worker = new LazyWorker(connect, { idleMs });
    await worker.use(whoAnswers); // the idle clock runs
    vi.advanceTimersByTime(idleMs / 2);
    const slow = deferred<string>();
    const long = worker.use(() => slow.promise);
    vi.advanceTimersByTime(idleMs * 5);
    expect(connections[0]?.terminated).toBe(false);
    // A short call ending meanwhile does not start the clock either.
    expect(await worker.use(whoAnswers)).toBe(1);
    vi.advanceTimersByTime(idleMs * 5);
    expect(connections[0]?.terminated).toBe(false);

    slow.resolve('done');
    expect(await long).toBe('done');
    vi.advanceTimersByTime(idleMs - 1);
    expect(worker.running).toBe(true);
    vi.advanceTimersByTime(1);
    expect(connections[0]?.terminated).toBe(true);
    expect(connections).toHaveLength(1);
  });

  it('a call restarts the idle clock', async () => {
    const worker = new LazyWorker(connect, { idleMs });
    await worker.use(whoAnswers);
    vi.advanceTimersByTime(idleMs - 100);
    await worker.use(whoAnswers);
    vi.advanceTimersByTime(idleMs - 1);
    expect(worker.running).toBe(true);
    vi.advanceTimersByTime(1);
    expect(worker.running).toBe(false);
    expect(connections).toHaveLength(1);
  });

  it('a failed call also counts as ended', async () => {
    const worker = new LazyWorker(connect, { idleMs });
    await expect(worker.use(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    vi.advanceTimersByTime(idleMs);
    expect(connections[0]?.terminated).toBe(true);
  });

  it('keepAlive vetoes the close; scheduleClose re-arms it', async () => {
    let keep = true;
    const worker = new LazyWorker(connect, { idleMs, keepAlive: () => keep });
    await worker.use(whoAnswers);
    vi.advanceTimersByTime(idleMs * 3);
    expect(worker.running).toBe(true);

    keep = false;
    vi.advanceTimersByTime(idleMs * 3);
    expect(worker.running).toBe(true); // nothing closes it until the clock is re-armed
    worker.scheduleClose();
    vi.advanceTimersByTime(idleMs - 1);
    expect(worker.running).toBe(true);
    vi.advanceTimersByTime(1);
    expect(worker.running).toBe(false);
    expect(connections[0]?.terminated).toBe(true);
  });

  it('scheduleClose does nothing while a call is in flight or no worker runs', async () => {
    const worker = new LazyWorker(connect, { idleMs });
    worker.scheduleClose();
    vi.advanceTimersByTime(idleMs);
    expect(connections).toHaveLength(0);

    const slow = deferred<void>();
    const call = worker.use(() => slow.promise);
    worker.scheduleClose();
    vi.advanceTimersByTime(idleMs * 2);
    expect(worker.running).toBe(true);
    slow.resolve();
    await call;
  });

  it('a use after a close starts a fresh worker', async () => {
    const worker = new LazyWorker(connect, { idleMs });
    expect(await worker.use(whoAnswers)).toBe(1);
    vi.advanceTimersByTime(idleMs);
    expect(worker.running).toBe(false);
    expect(await worker.use(whoAnswers)).toBe(2);
    expect(connections.map((c) => c.terminated)).toEqual([true, false]);

    // close() ends the worker at once, idle or not; the next use starts another.
    worker.close();
    expect(connections[1]?.terminated).toBe(true);
    expect(worker.running).toBe(false);
    expect(await worker.use(whoAnswers)).toBe(3);
    expect(connections).toHaveLength(3);
  });
});
