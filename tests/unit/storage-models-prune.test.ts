// Old model versions are pruned: the storage function on its own (pinned versions kept, versions
// made current again ranked first), its call after each successful dense training, and the
// worker's version calls: pin one, train past it, use it again, reopen (fake-indexeddb, tfjs cpu).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LoupeDatabase } from '../../src/core/storage/db';
import { openLoupeDb } from '../../src/core/storage/db';
import { putEmbeddings } from '../../src/core/storage/embeddings';
import {
  latestDenseModel,
  listModels,
  modelGroup,
  pruneModels,
  saveModel,
  updateModel,
} from '../../src/core/storage/models';
import { createProject } from '../../src/core/storage/projects';
import { insertSamples } from '../../src/core/storage/samples';
import type { ModelRecord } from '../../src/core/storage/schema';
import { HeadsHolder } from '../../src/worker/headsHolder';
import { ProjectHeads, type HeadsTarget } from '../../src/worker/headsService';
import { KEEP_MODEL_VERSIONS, trainDense } from '../../src/worker/trainDense';
import {
  listDenseVersions,
  pinDenseVersion,
  useDenseVersion,
} from '../../src/worker/denseVersions';
import { clusters } from '../fixtures/embeddings';
import { denseModel } from '../fixtures/models';
import { embedding, newSample } from '../fixtures/records';

let db: LoupeDatabase;
let projectId: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

beforeEach(async () => {
  db = await openLoupeDb();
  projectId = (await createProject(db, 'models')).id;
});

const model = (id: string, createdAt: number, key: string, project = projectId): ModelRecord =>
  denseModel({ id, projectId: project, createdAt, embeddingKey: key });

describe('pruneModels', () => {
  it('keeps the newest versions per head type and embedding key, in this project only', async () => {
    for (const m of [
      model('a1', 1, 'A'),
      model('a2', 2, 'A'),
      model('a3', 3, 'A'),
      model('b1', 4, 'B'),
      model('n1', 5, 'N'),
      model('n2', 6, 'N'),
      model('n3', 7, 'N'),
      model('other', 0, 'A', 'other-project'),
    ])
      await saveModel(db, m);
    const deleted = await pruneModels(db, projectId, 2);
    expect(deleted.sort()).toEqual(['a1', 'n1']);
    expect((await listModels(db, projectId)).map((m) => m.id)).toEqual([
      'n3',
      'n2',
      'b1',
      'a3',
      'a2',
    ]);
    expect((await listModels(db, 'other-project')).map((m) => m.id)).toEqual(['other']);
    expect(await pruneModels(db, projectId, 2)).toEqual([]);
  });

  it('never prunes a pinned version; a version made current again ranks first', async () => {
    for (const m of [model('a1', 1, 'A'), model('a2', 2, 'A'), model('a3', 3, 'A')])
      await saveModel(db, m);
    expect(await updateModel(db, projectId, 'a1', { pinned: true })).toMatchObject({
      pinned: true,
    });
    expect(await updateModel(db, 'other-project', 'a2', { pinned: true })).toBeUndefined();
    await saveModel(db, model('a4', 4, 'A'));
    // Keep 2: a4 and a3 by rank; a1 is pinned and does not count.
    expect(await pruneModels(db, projectId, 2)).toEqual(['a2']);
    await updateModel(db, projectId, 'a1', { activatedAt: 10 });
    expect((await listModels(db, projectId)).map((m) => m.id)).toEqual(['a1', 'a4', 'a3']);
    expect((await latestDenseModel(db, projectId, 'A'))?.id).toBe('a1');
    // Unpinned, a1 still counts as current: the previous one (a4) is kept, a3 goes.
    await updateModel(db, projectId, 'a1', { pinned: false });
    expect((await listModels(db, projectId))[0]).not.toHaveProperty('pinned');
    expect(await pruneModels(db, projectId, 2)).toEqual(['a3']);
  });

  it('groups by head type and embedding key', () => {
    expect(modelGroup(model('x', 1, 'key'))).toBe('dense|key');
    expect(modelGroup(model('y', 2, 'other'))).toBe('dense|other');
  });
});

/** 16 labelled, embedded images in two clusters; the heads target they open with. */
async function seedTrainable(): Promise<HeadsTarget> {
  const key = 'test-backbone@centre-crop#2';
  const data = clusters(5, [['a'], ['b']], 8, 6, 0.5);
  const batch = data.map((d) => newSample(projectId, { labelIds: [...d.labelIds] }));
  await insertSamples(db, batch);
  await putEmbeddings(
    db,
    batch.map((b, i) => embedding(projectId, b.sample.id, key, [...data[i]!.embedding])),
  );
  return { projectId, embeddingKey: key, backboneId: 'test-backbone', kind: 'single-label' };
}

/** Trains, saves and adopts a dense model for `epochs` epochs; its id. */
async function train(heads: ProjectHeads, epochs: number): Promise<string> {
  const summary = await trainDense(db, heads, {
    labelOrder: ['a', 'b'],
    config: { epochs },
    onEpoch: () => {},
    signal: new AbortController().signal,
  });
  if (!summary) throw new Error('training was aborted');
  return summary.id;
}

describe('dense training', () => {
  it('keeps the current model and the previous one after each Train', async () => {
    const heads = await ProjectHeads.open(db, await seedTrainable());
    const ids: string[] = [];
    try {
      for (let i = 0; i < 3; i++) ids.push(await train(heads, 2));
    } finally {
      heads.dispose();
    }
    expect(ids).toHaveLength(3);
    expect(KEEP_MODEL_VERSIONS).toBe(2);
    const kept = await listModels(db, projectId);
    expect(kept.map((m) => m.id).sort()).toEqual([ids[1], ids[2]].sort());
  });

  it('keeps a pinned version through later trainings and makes it current again', async () => {
    const target = await seedTrainable();
    const holder = new HeadsHolder(
      () => Promise.resolve(db),
      () => false,
    );
    const heads = await holder.open(target);
    try {
      const first = await train(heads, 2);
      // From now on the heads hold exactly one dense model.
      const before = tf.memory().numTensors;
      const [only] = await listDenseVersions(db, heads);
      expect(only).toMatchObject({ id: first, current: true, pinned: false });
      expect(only?.accuracy).toBeGreaterThan(0.5);
      await pinDenseVersion(db, heads, first, true);
      const later = [await train(heads, 3), await train(heads, 4), await train(heads, 5)];
      const versions = await listDenseVersions(db, heads);
      // The current one, the previous one, and the pinned first one.
      expect(versions.map((v) => [v.id, v.current, v.pinned])).toEqual([
        [later[2], true, false],
        [later[1], false, false],
        [first, false, true],
      ]);
      const summary = await useDenseVersion(db, holder, first);
      expect(summary.id).toBe(first);
      expect(heads.summary?.id).toBe(first);
      expect((await listDenseVersions(db, heads))[0]).toMatchObject({ id: first, current: true });
      await expect(useDenseVersion(db, holder, 'gone')).rejects.toThrow(/no longer stored/);
      // Only one dense head is held: the adopted one replaced the trained one.
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      holder.close();
    }
    // A reopen (a reload) opens with the version made current.
    const reopened = await ProjectHeads.open(db, target);
    expect(reopened.summary?.id).toBe((await listModels(db, projectId))[0]?.id);
    expect((await latestDenseModel(db, projectId, target.embeddingKey))?.id).toBe(
      reopened.summary?.id,
    );
    reopened.dispose();
  });
});
