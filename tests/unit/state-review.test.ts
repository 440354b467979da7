// The review slice on fake-indexeddb without an engine: `Keep` stores the image with its current
// labels in the project's settings (it survives reopening), `Move to {label}` moves a single-label
// image and swaps one label of a multi-label image, and opening another project clears Review.
import { beforeEach, describe, expect, it } from 'vitest';
import { openLoupeDb } from '../../src/core/storage/db';
import type { LoupeDatabase } from '../../src/core/storage/db';
import * as projectsRepo from '../../src/core/storage/projects';
import * as samplesRepo from '../../src/core/storage/samples';
import { createLoupeStore, type LoupeStore } from '../../src/state/store';
import { newSample } from '../fixtures/records';

let db: LoupeDatabase;
let store: LoupeStore;

beforeEach(async () => {
  db = await openLoupeDb();
  const dbPromise = Promise.resolve(db);
  store = createLoupeStore({
    db: () => dbPromise,
    runImport: () => Promise.reject(new Error('no imports here')),
  });
});

async function projectWithSamples(
  kind: 'single-label' | 'multi-label',
): Promise<{ id: string; a: string; b: string; sample: string }> {
  const id = await store.getState().createProject('Review', kind);
  expect(await store.getState().openProject(id)).toBe(true);
  const a = (await store.getState().addLabel('a')).id;
  const b = (await store.getState().addLabel('b')).id;
  const s = newSample(id, { labelIds: [a] });
  await samplesRepo.insertSamples(db, [s]);
  await store.getState().reloadBoard();
  return { id, a, b, sample: s.sample.id };
}

describe('review slice', () => {
  it('Keep remembers the image with its labels, in the stored project settings', async () => {
    const { id, a, sample } = await projectWithSamples('single-label');
    await store.getState().keepSample(sample);
    expect(store.getState().project?.settings.reviewedMislabels).toEqual({ [sample]: a });
    const stored = await projectsRepo.getProject(db, id);
    expect(stored?.settings.reviewedMislabels).toEqual({ [sample]: a });
  });

  it('Move to: single-label moves, multi-label swaps the given label', async () => {
    const single = await projectWithSamples('single-label');
    await store.getState().applySuggestion(single.sample, single.a, single.b);
    expect(store.getState().samples.find((s) => s.id === single.sample)?.labelIds).toEqual([
      single.b,
    ]);

    const multi = await projectWithSamples('multi-label');
    await store.getState().tagSamples([multi.sample], multi.b, true);
    const c = (await store.getState().addLabel('c')).id;
    await store.getState().applySuggestion(multi.sample, multi.a, c);
    const labels = store.getState().samples.find((s) => s.id === multi.sample)?.labelIds;
    expect([...(labels ?? [])].sort()).toEqual([multi.b, c].sort());
  });

  it('opening another project closes Review and forgets its predictions', async () => {
    await projectWithSamples('single-label');
    store.getState().setReviewOpen(true);
    store.setState({ outOfFold: { labels: [], predictions: [] } });
    await projectWithSamples('single-label');
    expect(store.getState().reviewOpen).toBe(false);
    expect(store.getState().outOfFold).toBeNull();
  });
});
