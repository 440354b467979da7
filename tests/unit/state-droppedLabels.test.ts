// Dropping or capturing into a label that another tab deleted meanwhile (this tab still shows it):
// the import and capture ask storage to keep only live labels, the images are stored unlabelled,
// and the notice names the label and stays until dismissed.
import { beforeEach, describe, expect, it } from 'vitest';
import { importFiles } from '../../src/core/dataset/importer';
import { openLoupeDb, type LoupeDatabase } from '../../src/core/storage/db';
import * as labelsRepo from '../../src/core/storage/labels';
import * as samplesRepo from '../../src/core/storage/samples';
import { createLoupeStore, type LoupeStore } from '../../src/state/store';
import type { ImportCall } from '../../src/worker/api';
import { createFakeDecoder, pngFile } from '../fixtures/images';

let db: LoupeDatabase;
let store: LoupeStore;
let calls: ImportCall[];

beforeEach(async () => {
  db = await openLoupeDb();
  calls = [];
  const dbPromise = Promise.resolve(db);
  store = createLoupeStore({
    db: () => dbPromise,
    // What the data worker does with the call's options.
    runImport: (call) => {
      calls.push(call);
      return importFiles(db, call.items, {
        projectId: call.projectId,
        source: call.source,
        decoder: createFakeDecoder(),
        onChunk: call.onChunk,
        dropMissingLabels: call.dropMissingLabels ?? false,
      });
    },
  });
  return () => db.close();
});

/** A project with label `roses` open in the store, then deleted behind its back. */
async function deletedElsewhere(): Promise<string> {
  const id = await store.getState().createProject('Flowers');
  expect(await store.getState().openProject(id)).toBe(true);
  const roses = await store.getState().addLabel('roses');
  await labelsRepo.deleteLabel(db, roses.id, 'move-to-inbox');
  expect(store.getState().labels.map((l) => l.name)).toEqual(['roses']);
  return id;
}

describe('images added into a label deleted in another tab', () => {
  it('a drop stores them unlabelled and its notice says why', async () => {
    const projectId = await deletedElsewhere();
    const rosesId = store.getState().labels[0]?.id ?? '';
    const files = [1, 2].map((n) => ({ file: pngFile(`r${n}.png`, 4, 3, n), path: `r${n}.png` }));
    await store.getState().addFiles(files, { kind: 'label', labelId: rosesId }, 'drop');

    expect(calls.map((c) => c.dropMissingLabels)).toEqual([true]);
    const stored = await samplesRepo.listSampleMeta(db, projectId);
    expect(stored.map((s) => s.labelIds)).toEqual([[], []]);
    expect(store.getState().samples.map((s) => s.labelIds)).toEqual([[], []]);
    expect(store.getState().notices.map((n) => [n.kind, n.message])).toEqual([
      [
        'error',
        'Added 2 images. “roses” was deleted during the import: 2 images were added as unlabelled.',
      ],
    ]);
  });

  it('a capture stores its frames unlabelled and its notice says why', async () => {
    await deletedElsewhere();
    const rosesId = store.getState().labels[0]?.id ?? '';
    const session = store.getState().startCapture(rosesId);
    session.add(pngFile('frame.png', 4, 3, 1));
    await expect.poll(() => store.getState().samples.length).toBe(1);
    session.add(pngFile('frame.png', 4, 3, 2));
    expect(await session.finish()).toBe(2);

    expect(calls.every((c) => c.dropMissingLabels === true)).toBe(true);
    expect(store.getState().samples.map((s) => s.labelIds)).toEqual([[], []]);
    expect(store.getState().notices.map((n) => [n.kind, n.message])).toEqual([
      [
        'error',
        'Captured 2 images. “roses” was deleted during the capture: 2 images were added as unlabelled.',
      ],
    ]);
  });
});
