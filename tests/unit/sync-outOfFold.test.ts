// Review's out-of-fold predictions across two tabs (two stores on one database, one channel, one
// fake lock manager): the tab that takes the job lock computes; the other shows the job running
// there, waits, and then gets the stored result from its worker instead of computing again; if the
// computing tab goes away mid-run, the waiting tab takes the lock and computes.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { OutOfFoldResult } from '../../src/core/analysis/outOfFold';
import { openLoupeDb, type LoupeDatabase } from '../../src/core/storage/db';
import type { LockRequester } from '../../src/core/sync/jobLock';
import { openTabChannel, type TabChannel } from '../../src/core/sync/tabMessages';
import { OUT_OF_FOLD_HEARTBEAT_MS } from '../../src/state/reviewSlice';
import { createLoupeStore, type LoupeStore } from '../../src/state/store';
import { endAllJobs } from '../../src/state/tabSync';
import { deferred, fakeEngine, seedProject, type FakeEngine } from '../fixtures/clients';
import { fakeLocks } from '../fixtures/locks';

let db: LoupeDatabase;
let channelName: string;
const channels: TabChannel[] = [];

/** What the engine workers share through IndexedDB: the stored predictions, and who computed. */
let stored: OutOfFoldResult | null;
let computedBy: string[];

/**
 * A tab whose worker answers like `storedProjectOutOfFold`: the stored result when there is one
 * (same data in both tabs, so the same fingerprint), else computes (after `gate`) and stores it.
 */
function tab(
  name: string,
  locks: LockRequester,
  gate: Promise<OutOfFoldResult>,
): { store: LoupeStore; engine: FakeEngine } {
  const engine = fakeEngine({
    async outOfFoldPredictions() {
      if (stored) return stored;
      computedBy.push(name);
      const result = await gate;
      stored = result;
      return result;
    },
  });
  const tabs = openTabChannel(channelName);
  channels.push(tabs);
  const dbPromise = Promise.resolve(db);
  const store = createLoupeStore({
    db: () => dbPromise,
    runImport: () => Promise.reject(new Error('Imports are not part of this test.')),
    engine: engine.client,
    tabs,
    locks,
  });
  return { store, engine };
}

const result = (sampleId: string): OutOfFoldResult => ({
  labels: ['a', 'b'],
  predictions: [{ sampleId, labelIds: ['a'], probabilities: [0.2, 0.8], support: [0, 0.9] }],
});

beforeEach(async () => {
  db = await openLoupeDb();
  channelName = `test-${crypto.randomUUID()}`;
  stored = null;
  computedBy = [];
});

afterEach(() => {
  for (const c of channels.splice(0)) c.close();
});

/** Opens the project and, once its heads are ready, Review (which starts the predictions). */
async function reviewIn(store: LoupeStore, projectId: string): Promise<void> {
  expect(await store.getState().openProject(projectId)).toBe(true);
  await vi.waitFor(() => expect(store.getState().headsReady).toBe(true));
  store.getState().setReviewOpen(true);
}

describe("Review's out-of-fold analysis in two tabs", () => {
  it('runs in the tab holding the lock; the other waits, shows it, then reads the result', async () => {
    const { project, sampleIds } = await seedProject(db, { labels: ['a'], samples: [['a']] });
    const locks = fakeLocks();
    const gate = deferred<OutOfFoldResult>();
    const a = tab('A', locks, gate.promise);
    const b = tab('B', locks, gate.promise);

    // B has the project open when A starts: A's first job message reaches it.
    expect(await b.store.getState().openProject(project.id)).toBe(true);
    await reviewIn(a.store, project.id);
    await vi.waitFor(() => expect(a.store.getState().outOfFoldRunning).toBe(true));
    expect(computedBy).toEqual(['A']);
    await vi.waitFor(() => expect(b.store.getState().remoteJobs.outOfFold).toBeDefined());

    await vi.waitFor(() => expect(b.store.getState().headsReady).toBe(true));
    b.store.getState().setReviewOpen(true);
    await vi.waitFor(() => expect(b.store.getState().reviewBusy).toBe(true));
    expect(b.store.getState().outOfFoldRunning).toBe(false);
    expect(b.engine.calls.outOfFoldPredictions).toHaveLength(0);

    const computed = result(sampleIds[0] ?? '');
    gate.resolve(computed);
    await vi.waitFor(() => expect(b.store.getState().outOfFold).toEqual(computed));
    expect(a.store.getState().outOfFold).toEqual(computed);
    expect(computedBy).toEqual(['A']);
    expect(b.engine.calls.outOfFoldPredictions).toHaveLength(1);
    await vi.waitFor(() => expect(b.store.getState().reviewBusy).toBe(false));
    expect(b.store.getState().remoteJobs.outOfFold).toBeUndefined();
    expect(b.store.getState().outOfFoldRunning).toBe(false);
  });

  it(
    'a tab that goes away mid-run hands the predictions to the waiting tab',
    { timeout: 10_000 },
    async () => {
      const { project, sampleIds } = await seedProject(db, { labels: ['a'], samples: [['a']] });
      const locks = fakeLocks();
      const never = deferred<OutOfFoldResult>();
      const computed = result(sampleIds[0] ?? '');
      const a = tab('A', locks, never.promise);
      const b = tab('B', locks, Promise.resolve(computed));

      await reviewIn(a.store, project.id);
      await vi.waitFor(() => expect(a.store.getState().outOfFoldRunning).toBe(true));
      // B opens the project after A started: A's next heartbeat tells it.
      await reviewIn(b.store, project.id);
      await vi.waitFor(() => expect(b.store.getState().remoteJobs.outOfFold).toBeDefined(), {
        timeout: OUT_OF_FOLD_HEARTBEAT_MS + 1000,
      });
      expect(b.store.getState().reviewBusy).toBe(true);
      expect(b.engine.calls.outOfFoldPredictions).toHaveLength(0);

      endAllJobs(); // what `pagehide` runs in A (the browser also releases A's locks)
      await vi.waitFor(() => expect(b.store.getState().outOfFold).toEqual(computed));
      expect(computedBy).toEqual(['A', 'B']);
      expect(b.store.getState().remoteJobs.outOfFold).toBeUndefined();
      never.resolve(computed); // lets A's stalled run finish
    },
  );
});
