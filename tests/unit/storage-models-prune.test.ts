// Old model versions are pruned: the storage function on its own, and its call after each
// successful dense training (fake-indexeddb, tfjs cpu backend).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LoupeDatabase } from '../../src/core/storage/db';
import { openLoupeDb } from '../../src/core/storage/db';
import { putEmbeddings } from '../../src/core/storage/embeddings';
import { listModels, modelGroup, pruneModels, saveModel } from '../../src/core/storage/models';
import { createProject } from '../../src/core/storage/projects';
import { insertSamples } from '../../src/core/storage/samples';
import type { ModelRecord } from '../../src/core/storage/schema';
import { ProjectHeads } from '../../src/worker/headsService';
import { KEEP_MODEL_VERSIONS, trainDense } from '../../src/worker/trainDense';
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

  it('groups by head type and embedding key', () => {
    expect(modelGroup(model('x', 1, 'key'))).toBe('dense|key');
    expect(modelGroup(model('y', 2, 'other'))).toBe('dense|other');
  });
});

describe('dense training', () => {
  it('keeps the current model and the previous one after each Train', async () => {
    const key = 'test-backbone@centre-crop#2';
    const data = clusters(5, [['a'], ['b']], 8, 6, 0.5);
    const batch = data.map((d) => newSample(projectId, { labelIds: [...d.labelIds] }));
    await insertSamples(db, batch);
    await putEmbeddings(
      db,
      batch.map((b, i) => embedding(projectId, b.sample.id, key, [...data[i]!.embedding])),
    );
    const heads = await ProjectHeads.open(db, {
      projectId,
      embeddingKey: key,
      backboneId: 'test-backbone',
      kind: 'single-label',
    });
    const ids: string[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const summary = await trainDense(db, heads, {
          labelOrder: ['a', 'b'],
          config: { epochs: 2 },
          onEpoch: () => {},
          signal: new AbortController().signal,
        });
        if (summary) ids.push(summary.id);
      }
    } finally {
      heads.dispose();
    }
    expect(ids).toHaveLength(3);
    expect(KEEP_MODEL_VERSIONS).toBe(2);
    const kept = await listModels(db, projectId);
    expect(kept.map((m) => m.id).sort()).toEqual([ids[1], ids[2]].sort());
  });
});
