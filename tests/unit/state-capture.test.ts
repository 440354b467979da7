import { beforeEach, describe, expect, it } from 'vitest';
import { importFiles } from '../../src/core/dataset/importer';
import type { LoupeDatabase } from '../../src/core/storage/db';
import { openLoupeDb } from '../../src/core/storage/db';
import * as labelsRepo from '../../src/core/storage/labels';
import { summariseCapture } from '../../src/state/captureSlice';
import type { LoupeStore } from '../../src/state/store';
import { createLoupeStore } from '../../src/state/store';
import { createFakeDecoder, pngFile } from '../fixtures/images';

let db: LoupeDatabase;
let store: LoupeStore;
let labelId: string;
/** Frames per `runImport` call, in call order. */
let commits: number[];

beforeEach(async () => {
  db = await openLoupeDb();
  commits = [];
  const dbPromise = Promise.resolve(db);
  store = createLoupeStore({
    db: () => dbPromise,
    runImport: (call) => {
      commits.push(call.items.length);
      return importFiles(db, call.items, {
        projectId: call.projectId,
        source: call.source,
        decoder: createFakeDecoder(),
        onChunk: call.onChunk,
      });
    },
  });
  const id = await store.getState().createProject('Capture');
  labelId = (await labelsRepo.addLabel(db, id, 'me')).id;
  expect(await store.getState().openProject(id)).toBe(true);
  return () => db.close();
});

const frame = (seed: number): Blob => pngFile('frame.png', 4, 3, seed);

describe('capture slice', () => {
  it('stores frames into the label as webcam samples, with one notice per session', async () => {
    const session = store.getState().startCapture(labelId);
    session.add(frame(1));
    session.add(frame(2));
    session.add(frame(3));
    // Committed while the burst goes on: the first frame alone, the next two together.
    await expect.poll(() => store.getState().samples.length).toBe(3);
    expect(commits).toEqual([1, 2]);
    expect(await session.finish()).toBe(3);

    const samples = store.getState().samples;
    expect(samples.every((s) => s.source === 'webcam')).toBe(true);
    expect(samples.every((s) => s.labelIds.join() === labelId)).toBe(true);
    // Names sort in capture order: the session's start time, then the frame's number.
    expect(samples.map((s) => s.name).sort()).toEqual(
      [1, 2, 3].map((i) =>
        expect.stringMatching(new RegExp(`^webcam-\\d{8}T\\d{6}-000${i}\\.png$`)),
      ),
    );
    const notices = store.getState().notices;
    expect(notices.map((n) => [n.kind, n.message])).toEqual([['info', 'Captured 3 images.']]);
  });

  it('a session without frames posts nothing; a repeated frame is a skipped duplicate', async () => {
    expect(await store.getState().startCapture(labelId).finish()).toBe(0);
    expect(store.getState().notices).toEqual([]);

    const session = store.getState().startCapture(labelId);
    session.add(frame(7));
    await expect.poll(() => store.getState().samples.length).toBe(1);
    session.add(frame(7));
    expect(await session.finish()).toBe(1);
    expect(store.getState().notices.map((n) => n.message)).toEqual([
      'Captured 1 image. 1 duplicate skipped.',
    ]);
  });

  it('summarises rejected frames and a storage error', () => {
    expect(summariseCapture({ added: 2, duplicates: 0, rejected: 1, error: 'quota' })).toBe(
      'Captured 2 images. 1 frame rejected. Capture stopped: quota',
    );
  });
});
