// The Review sections on unlabelled images, with a fake engine: opening Review computes Label next
// and Clusters, labelling from them uses the board's actions (a new label from a cluster holds its
// images), a label change recomputes Label next after the quiet period while unchanged unlabelled
// images are clustered again, k can be set, and opening another project forgets both.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LoupeDatabase } from '../../src/core/storage/db';
import { openLoupeDb } from '../../src/core/storage/db';
import type { LoupeStore } from '../../src/state/store';
import { fakeEngine, seedProject, storeWith, type FakeEngine } from '../fixtures/clients';

let db: LoupeDatabase;
let engine: FakeEngine;
let store: LoupeStore;
const state = (): ReturnType<LoupeStore['getState']> => store.getState();

beforeEach(async () => {
  db = await openLoupeDb();
  engine = fakeEngine();
  store = storeWith(db, { engine });
});

afterEach(() => {
  vi.useRealTimers();
});

async function openReady(): Promise<{ a: string; ids: string[] }> {
  const seeded = await seedProject(db, { labels: ['a'], samples: [['a'], [], [], []] });
  expect(await state().openProject(seeded.project.id)).toBe(true);
  await vi.waitFor(() => expect(state().headsReady).toBe(true));
  return { a: seeded.labelIds.a, ids: seeded.sampleIds };
}

describe('unlabelled review slice', () => {
  it('opening Review computes both; labelling recomputes Label next; Make label from cluster', async () => {
    const { a, ids } = await openReady();
    const [, u1, u2, u3] = ids as [string, string, string, string];
    engine.impl.labelNext = () =>
      Promise.resolve({
        items: [{ sampleId: u1, suggested: a, suggestedProbability: 1, uncertainty: 0, score: 0 }],
        unlabelled: 3,
      });
    engine.impl.clusters = () =>
      Promise.resolve({
        k: 2,
        autoK: true,
        maxK: 1,
        clusters: [{ sampleIds: [u2, u3] }, { sampleIds: [u1] }],
        silhouettes: [],
      });
    state().setReviewOpen(true);
    await vi.waitFor(() => expect(state().clustering?.k).toBe(2));
    expect(state().labelNext?.items).toHaveLength(1);
    expect(engine.calls.labelNext).toHaveLength(1);
    expect(engine.calls.clusters[0]?.[0]).toMatchObject({ k: 'auto' });

    await state().labelSamples([u1], a);
    expect(state().samples.find((s) => s.id === u1)?.labelIds).toEqual([a]);
    await vi.waitFor(() => expect(engine.calls.labelNext).toHaveLength(2), { timeout: 3000 });
    await vi.waitFor(() => expect(state().unlabelledBusy).toBe(false));
    // The unlabelled images changed, so they were clustered again.
    expect(engine.calls.clusters).toHaveLength(2);

    await state().makeLabelFromCluster([u2, u3], 'new');
    const label = state().labels.find((l) => l.name === 'new');
    expect(label).toBeDefined();
    for (const id of [u2, u3])
      expect(state().samples.find((s) => s.id === id)?.labelIds).toEqual([label?.id]);

    state().setClusterK(3);
    await vi.waitFor(() => expect(engine.calls.clusters.some(([call]) => call.k === 3)).toBe(true));
  });

  it('opening another project forgets both sections', async () => {
    await openReady();
    state().setReviewOpen(true);
    await vi.waitFor(() => expect(state().clustering).not.toBeNull());
    state().setClusterK(4);
    await openReady();
    expect(state().labelNext).toBeNull();
    expect(state().clustering).toBeNull();
    expect(state().clusterK).toBe('auto');
  });
});
