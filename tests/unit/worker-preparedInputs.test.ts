import { beforeEach, describe, expect, it } from 'vitest';
import { ORIGINAL_VIEW } from '../../src/core/backbone/augment';
import type { AspectMode } from '../../src/core/backbone/types';
import type { PreparedInput } from '../../src/core/dataset/importer';
import { openLoupeDb, type LoupeDatabase } from '../../src/core/storage/db';
import * as projectsRepo from '../../src/core/storage/projects';
import * as samplesRepo from '../../src/core/storage/samples';
import { PreparedInputs } from '../../src/worker/preparedInputs';
import { fakePrepare } from '../fixtures/prepare';
import { newSample } from '../fixtures/records';

const SIZE = 4;
const BYTES = SIZE * SIZE * 4;

function input(sampleId: string, fill: number, mode: AspectMode = 'centre-crop'): PreparedInput {
  const data = new Uint8ClampedArray(BYTES).fill(fill);
  return { sampleId, size: SIZE, mode, pixels: { data, width: SIZE, height: SIZE } };
}

/** The preprocessing worker's stand-in: pixels filled with 200. */
const preparer = (db: LoupeDatabase, asked: string[][]) => fakePrepare(db, asked, SIZE, 200);

describe('PreparedInputs', () => {
  let db: LoupeDatabase;
  let ids: string[];
  beforeEach(async () => {
    db = await openLoupeDb();
    const projectId = (await projectsRepo.createProject(db, 'P')).id;
    const samples = [0, 1, 2, 3].map((i) => newSample(projectId, { labelIds: [`l${i}`] }));
    await samplesRepo.insertSamples(db, samples);
    ids = samples.map((s) => s.sample.id);
    return () => db.close();
  });

  it('serves held inputs in the batch order, prepares only the rest, and counts both', async () => {
    const held = new PreparedInputs();
    held.offer([input(ids[0] as string, 10), input(ids[2] as string, 12)]);
    const asked: string[][] = [];
    const prepare = held.withPrepared(() => Promise.resolve(db), preparer(db, asked));
    const batch = await prepare(ids, SIZE, 'centre-crop', ORIGINAL_VIEW);
    expect(asked).toEqual([[ids[1], ids[3]]]);
    expect(batch.ids).toEqual(ids);
    expect(batch.labelIds).toEqual([['l0'], ['l1'], ['l2'], ['l3']]);
    expect(batch.pixels.map((p) => p.data[0])).toEqual([10, 200, 12, 200]);
    expect(held.stats()).toEqual({ reused: 2, decoded: 2, evicted: 0, held: 0 });
  });

  it('ignores inputs of another size or aspect mode, and augmentation views', async () => {
    const held = new PreparedInputs();
    held.offer([input(ids[0] as string, 10, 'letterbox'), input(ids[1] as string, 11)]);
    const asked: string[][] = [];
    const prepare = held.withPrepared(() => Promise.resolve(db), preparer(db, asked));
    const flipped = await prepare(ids.slice(0, 2), SIZE, 'centre-crop', { crop: 0, flip: true });
    expect(flipped.pixels.map((p) => p.data[0])).toEqual([200, 200]);
    // The flip view left the matching input held; the original view takes it now.
    const original = await prepare(ids.slice(0, 2), SIZE, 'centre-crop', ORIGINAL_VIEW);
    expect(original.pixels.map((p) => p.data[0])).toEqual([200, 11]);
    expect(held.take([ids[0] as string], SIZE, 'letterbox').size).toBe(0); // taken and dropped
  });

  it('skips a sample deleted after its input was offered', async () => {
    const held = new PreparedInputs();
    held.offer([input(ids[0] as string, 10)]);
    await samplesRepo.deleteSamples(db, [ids[0] as string]);
    const prepare = held.withPrepared(() => Promise.resolve(db), preparer(db, []));
    const batch = await prepare(
      [ids[0] as string, ids[1] as string],
      SIZE,
      'centre-crop',
      ORIGINAL_VIEW,
    );
    expect(batch.ids).toEqual([ids[1]]);
  });

  it('refuses inputs beyond the byte limit (the oldest are needed first) and drops old ones', () => {
    let now = 0;
    const held = new PreparedInputs(2 * BYTES, 1000, () => now);
    held.offer([input('a', 1), input('b', 2), input('c', 3)]);
    expect(held.stats()).toMatchObject({ held: 2, evicted: 1 });
    expect([...held.take(['a', 'b', 'c'], SIZE, 'centre-crop').keys()]).toEqual(['a', 'b']);
    held.offer([input('d', 4)]);
    now = 1001;
    expect(held.take(['d'], SIZE, 'centre-crop').size).toBe(0);
    expect(held.stats()).toMatchObject({ held: 0, evicted: 2 });
  });

  it('refuses pixels that are not an RGBA square of the declared size', () => {
    const held = new PreparedInputs();
    const bad = input('x', 1);
    bad.pixels.data = new Uint8ClampedArray(BYTES - 4);
    held.offer([bad]);
    expect(held.stats().held).toBe(0);
  });
});
