import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openLoupeDb, type LoupeDatabase } from '../../src/core/storage/db';
import * as labelsRepo from '../../src/core/storage/labels';
import {
  changeCoalescer,
  openTabChannel,
  parseTabMessage,
  progressThrottle,
  type ChangeMessage,
  type PendingChanges,
  type TabChannel,
} from '../../src/core/sync/tabMessages';
import { claimLock, jobLockName, type LockRequester } from '../../src/core/sync/jobLock';
import type { Services } from '../../src/state/services';
import { createLoupeStore, type LoupeStore } from '../../src/state/store';
import { claimJob, endAllJobs } from '../../src/state/tabSync';
import { importFiles } from '../../src/core/dataset/importer';
import { createFakeDecoder, pngFile } from '../fixtures/images';
import { fakeLocks } from '../fixtures/locks';

const change = (projectId: string, kind: ChangeMessage['kind']): ChangeMessage => ({
  type: 'change',
  projectId,
  kind,
});

describe('tab messages', () => {
  it('accepts the protocol and refuses anything else', () => {
    expect(parseTabMessage({ type: 'change', projectId: 'p', kind: 'labels' })).toEqual(
      change('p', 'labels'),
    );
    expect(
      parseTabMessage({ type: 'change', projectId: 'p', kind: 'samples', ids: ['a'] }),
    ).toEqual({ type: 'change', projectId: 'p', kind: 'samples', ids: ['a'] });
    const job = { type: 'job', projectId: 'p', job: 'embedding', done: 3, total: 9, ended: false };
    expect(parseTabMessage(job)).toEqual(job);
    for (const bad of [
      null,
      'change',
      [],
      { type: 'change', projectId: '', kind: 'labels' },
      { type: 'change', projectId: 'p', kind: 'thumbnails' },
      { type: 'change', projectId: 'p', kind: 'samples', ids: [1] },
      { ...job, done: -1 },
      { ...job, job: 'export' },
      { ...job, ended: 'no' },
      { type: 'other', projectId: 'p' },
    ])
      expect(parseTabMessage(bad)).toBeNull();
  });

  it('carries messages between two channels of one name, and not to the sender', async () => {
    const name = `test-${crypto.randomUUID()}`;
    const a = openTabChannel(name);
    const b = openTabChannel(name);
    const atA: unknown[] = [];
    const atB: unknown[] = [];
    a.subscribe((m) => atA.push(m));
    b.subscribe((m) => atB.push(m));
    a.publish(change('p', 'labels'));
    await vi.waitFor(() => expect(atB).toEqual([change('p', 'labels')]));
    expect(atA).toEqual([]);
    a.close();
    b.close();
  });

  describe('timers', () => {
    beforeEach(() => vi.useFakeTimers());
    afterEach(() => vi.useRealTimers());

    it('coalesces a burst into one flush per quiet period, and flushes a stream by maxWait', () => {
      const flushes: PendingChanges[] = [];
      const c = changeCoalescer((p) => flushes.push(p), { quietMs: 100, maxWaitMs: 400 });
      c.push(change('p', 'samples'));
      c.push(change('p', 'labels'));
      c.push(change('q', 'project'));
      vi.advanceTimersByTime(99);
      expect(flushes).toHaveLength(0);
      vi.advanceTimersByTime(1);
      expect(flushes).toHaveLength(1);
      expect([...(flushes[0]?.get('p') ?? [])].sort()).toEqual(['labels', 'samples']);
      expect([...(flushes[0]?.get('q') ?? [])]).toEqual(['project']);

      // A steady stream (every 50 ms) never goes quiet, yet flushes every 400 ms.
      for (let t = 0; t < 900; t += 50) {
        c.push(change('p', 'embeddings'));
        vi.advanceTimersByTime(50);
      }
      expect(flushes.length).toBe(3);
      c.cancel();
      vi.advanceTimersByTime(1000);
      expect(flushes.length).toBe(3);
    });

    it('throttles progress to one report per interval, keeping the latest', () => {
      const sent: [number, number][] = [];
      const t = progressThrottle(
        (d, n) => sent.push([d, n]),
        250,
        () => Date.now(),
      );
      t.report(1, 10);
      t.report(2, 10);
      t.report(3, 10);
      expect(sent).toEqual([[1, 10]]);
      vi.advanceTimersByTime(250);
      expect(sent).toEqual([
        [1, 10],
        [3, 10],
      ]);
      t.report(4, 10);
      t.stop();
      vi.advanceTimersByTime(1000);
      expect(sent).toHaveLength(2);
    });
  });
});

describe('job locks', () => {
  it('run every job at once where Web Locks are missing', async () => {
    const first = await claimLock(undefined, 'x', { wait: false });
    const second = await claimLock(undefined, 'x', { wait: false });
    expect(first).toBeTypeOf('function');
    expect(second).toBeTypeOf('function');
  });

  it('hold one job per name: a second claim is refused, or waits until the first ends', async () => {
    const locks = fakeLocks();
    const name = jobLockName('p', 'embedding');
    expect(name).toBe('loupe-job-p-embedding');
    const release = await claimLock(locks, name, { wait: false });
    expect(release).not.toBeNull();
    expect(await claimLock(locks, name, { wait: false })).toBeNull();
    expect(await claimLock(locks, jobLockName('p', 'training'), { wait: false })).not.toBeNull();

    let granted = false;
    const waiting = claimLock(locks, name, { wait: true }).then((r) => {
      granted = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(granted).toBe(false);
    release?.();
    expect(await waiting).toBeTypeOf('function');

    const controller = new AbortController();
    const cancelled = claimLock(locks, name, { wait: true, signal: controller.signal });
    controller.abort();
    expect(await cancelled).toBeNull();
  });
});

describe('two stores on one database (two tabs)', () => {
  let db: LoupeDatabase;
  let channelName: string;
  const opened: TabChannel[] = [];
  const stores: LoupeStore[] = [];

  const tab = (locks?: LockRequester): { store: LoupeStore; services: Services } => {
    const tabs = openTabChannel(channelName);
    opened.push(tabs);
    const dbPromise = Promise.resolve(db);
    const services: Services = {
      db: () => dbPromise,
      runImport: (call) =>
        importFiles(db, call.items, {
          projectId: call.projectId,
          source: call.source,
          decoder: createFakeDecoder(),
          signal: call.signal,
          onProgress: call.onProgress,
          onChunk: call.onChunk,
          chunkSize: 2,
        }),
      tabs,
      locks,
    };
    const store = createLoupeStore(services);
    stores.push(store);
    return { store, services };
  };

  beforeEach(async () => {
    db = await openLoupeDb();
    channelName = `test-${crypto.randomUUID()}`;
  });
  afterEach(() => {
    for (const c of opened.splice(0)) c.close();
    stores.splice(0);
  });

  it('shows labels, images and deletions made in the other tab', async () => {
    const a = tab().store;
    const b = tab().store;
    const id = await a.getState().createProject('Shared');
    await a.getState().openProject(id);
    await b.getState().openProject(id);
    await vi.waitFor(() => expect(b.getState().projects.map((p) => p.id)).toEqual([id]));

    const daisy = await a.getState().addLabel('daisy');
    await vi.waitFor(() => expect(b.getState().labels.map((l) => l.name)).toEqual(['daisy']));

    // An import in A: each committed chunk is announced, and B reads it from the database.
    const files = [1, 2, 3].map((n) => ({
      file: pngFile(`d${n}.png`, 4, 3, n),
      labelIds: [daisy.id],
    }));
    await a.getState().importFiles(files, 'drop');
    expect(a.getState().samples).toHaveLength(3);
    await vi.waitFor(() => expect(b.getState().samples).toHaveLength(3));
    await vi.waitFor(() => expect(b.getState().projects[0]?.imageCount).toBe(3));
    b.getState().selectMany(b.getState().samples.map((s) => s.id));

    await a.getState().deleteLabel(daisy.id, 'delete-images');
    await vi.waitFor(() => expect(b.getState().labels).toEqual([]));
    expect(b.getState().samples).toEqual([]);
    expect(b.getState().selection.size).toBe(0);
    expect(await labelsRepo.listLabels(db, id)).toEqual([]);
  });

  it('closes a project deleted in the other tab, with a notice', async () => {
    const a = tab().store;
    const b = tab().store;
    const id = await a.getState().createProject('Doomed');
    await b.getState().openProject(id);
    await a.getState().deleteProject(id);
    await vi.waitFor(() => expect(b.getState().project).toBeNull());
    expect(b.getState().projectDeletedElsewhere).toBe(id);
    expect(b.getState().notices.map((n) => n.message)).toEqual([
      '“Doomed” was deleted in another tab.',
    ]);
    expect(b.getState().projects).toEqual([]);
  });

  it('shows a job that runs in the other tab, and lets one tab run it at a time', async () => {
    const locks = fakeLocks();
    const a = tab(locks);
    const b = tab(locks);
    const id = await a.store.getState().createProject('Jobs');
    await b.store.getState().openProject(id);

    const lease = await claimJob(a.services, id, 'embedding', { wait: false });
    expect(lease).not.toBeNull();
    expect(await claimJob(b.services, id, 'embedding', { wait: false })).toBeNull();
    lease?.progress(5, 20);
    await vi.waitFor(() =>
      expect(b.store.getState().remoteJobs.embedding).toMatchObject({ done: 5, total: 20 }),
    );
    const next = claimJob(b.services, id, 'embedding', { wait: true });
    lease?.end();
    await vi.waitFor(() => expect(b.store.getState().remoteJobs.embedding).toBeUndefined());
    const taken = await next;
    expect(taken).not.toBeNull();
    taken?.end();

    // A tab that closes mid-job sends no end; once this tab runs the job, the report goes.
    const comparing = await claimJob(a.services, id, 'evaluation', { wait: false });
    comparing?.progress(1, 5);
    await vi.waitFor(() => expect(b.store.getState().remoteJobs.evaluation).toBeDefined());
    b.store.setState({ comparing: true });
    expect(b.store.getState().remoteJobs.evaluation).toBeUndefined();
  });

  it('keeps settings changed in both tabs at once (each writes only its own keys)', async () => {
    const a = tab().store;
    const b = tab().store;
    const id = await a.getState().createProject('Settings');
    await a.getState().openProject(id);
    await a.getState().setHeadSettings({ k: 5 });
    await b.getState().openProject(id); // b reads k = 5
    // Both act on the record as they last read it: neither has seen the other's change.
    await Promise.all([
      a.getState().setHeadSettings({ k: 3 }),
      b.getState().setClassifier('dense'),
      b.getState().setDuplicateThreshold(0.9),
    ]);
    const stored = await db.get('projects', id);
    expect(stored?.settings.heads?.k).toBe(3);
    expect(stored?.settings.classifier).toBe('dense');
    expect(stored?.settings.duplicateThreshold).toBe(0.9);
  });

  it('ends every job of a tab that goes away, so the other tab hears of it and takes over', async () => {
    const locks = fakeLocks();
    const a = tab(locks);
    const b = tab(locks);
    const id = await a.store.getState().createProject('Leaving');
    await b.store.getState().openProject(id);
    const training = await claimJob(a.services, id, 'training', { wait: false });
    training?.progress(3, 10);
    await vi.waitFor(() => expect(b.store.getState().remoteJobs.training).toBeDefined());
    const waiting = claimJob(b.services, id, 'training', { wait: true });
    endAllJobs(); // what `pagehide` runs
    await vi.waitFor(() => expect(b.store.getState().remoteJobs.training).toBeUndefined());
    const taken = await waiting;
    expect(taken).not.toBeNull();
    taken?.end();
    endAllJobs(); // nothing left: a no-op
  });
});
