// The store's Near-duplicates actions and stored predictions on fake-indexeddb: the threshold is a
// stored project setting; `Keep one` keeps the best image of a group and deletes the others
// through the board's delete; a project's stored out-of-fold predictions are read when it opens
// (for its current embedding key only), and the sample detail's prediction comes from them.
import { beforeEach, describe, expect, it } from 'vitest';
import { embeddingKey } from '../../src/core/backbone/types';
import { samplePrediction } from '../../src/core/analysis/storedOutOfFold';
import { openLoupeDb, type LoupeDatabase } from '../../src/core/storage/db';
import { putOutOfFold } from '../../src/core/storage/outOfFold';
import * as projectsRepo from '../../src/core/storage/projects';
import * as samplesRepo from '../../src/core/storage/samples';
import { projectBackboneSpec, projectDuplicateThreshold } from '../../src/core/projectSettings';
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

async function project(): Promise<{ id: string; rose: string; samples: string[] }> {
  const id = await store.getState().createProject('Dups');
  expect(await store.getState().openProject(id)).toBe(true);
  const rose = (await store.getState().addLabel('rose')).id;
  const batch = [
    newSample(id, { labelIds: [], name: 'copy-small.jpg' }),
    newSample(id, { labelIds: [rose], name: 'original.jpg' }),
    newSample(id, { labelIds: [], name: 'copy-2.jpg' }),
  ];
  await samplesRepo.insertSamples(db, batch);
  await store.getState().reloadBoard();
  return { id, rose, samples: batch.map((b) => b.sample.id) };
}

describe('near-duplicates actions', () => {
  it('stores the threshold in the project settings', async () => {
    const { id } = await project();
    await store.getState().setDuplicateThreshold(0.97);
    const stored = await projectsRepo.getProject(db, id);
    expect(stored && projectDuplicateThreshold(stored)).toBe(0.97);
    expect(projectDuplicateThreshold(store.getState().project!)).toBe(0.97);
  });

  it('Keep one keeps the labelled image and deletes the others', async () => {
    const { samples } = await project();
    const [copySmall, original, copy2] = samples as [string, string, string];
    expect(store.getState().keepOnePlan(samples)).toEqual({
      keep: original,
      remove: [copySmall, copy2],
    });
    expect(await store.getState().keepOneOfGroup(samples)).toEqual([copySmall, copy2]);
    expect(store.getState().samples.map((s) => s.id)).toEqual([original]);
    expect(await samplesRepo.listSampleMeta(db, store.getState().project!.id)).toHaveLength(1);
  });
});

describe('stored out-of-fold predictions', () => {
  it('are read when the project opens, for its current embeddings only', async () => {
    const { id, rose, samples } = await project();
    const original = samples[1]!;
    const record = {
      projectId: id,
      embeddingKey: embeddingKey(
        projectBackboneSpec(store.getState().project!),
        store.getState().project!.settings.aspectMode,
      ),
      k: 5,
      weighted: true,
      folds: 5,
      fingerprint: 'x',
      computedAt: 1,
      result: {
        labels: [rose, 'tulip'],
        predictions: [
          { sampleId: original, labelIds: [rose], probabilities: [0.19, 0.81], support: [0, 0] },
        ],
      },
    };
    await putOutOfFold(db, record);
    const other = await store.getState().createProject('Other');
    await store.getState().openProject(other);
    expect(store.getState().outOfFold).toBeNull();
    await store.getState().openProject(id);
    await expect.poll(() => store.getState().outOfFold).toEqual(record.result);
    const sample = store.getState().samples.find((s) => s.id === original)!;
    expect(samplePrediction(store.getState().outOfFold, sample)).toEqual({
      predicted: 'tulip',
      probability: 0.81,
      agrees: false,
    });

    await putOutOfFold(db, { ...record, embeddingKey: 'another-backbone' });
    await store.getState().openProject(other);
    await store.getState().openProject(id);
    await store.getState().loadStoredOutOfFold();
    expect(store.getState().outOfFold).toBeNull();
  });
});
