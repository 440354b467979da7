/** Embeddings and models repositories: the cached vectors and saved heads of a project. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { LoupeDatabase } from '../../src/core/storage/db';
import { openLoupeDb } from '../../src/core/storage/db';
import * as embeddingsRepo from '../../src/core/storage/embeddings';
import * as modelsRepo from '../../src/core/storage/models';
import * as projectsRepo from '../../src/core/storage/projects';
import * as samplesRepo from '../../src/core/storage/samples';
import type { NewSample } from '../../src/core/storage/samples';
import { denseModel } from '../fixtures/models';
import { embedding, newSample } from '../fixtures/records';

let db: LoupeDatabase;

beforeEach(async () => {
  db = await openLoupeDb();
  return () => db.close();
});

async function insert(...batch: NewSample[]): Promise<samplesRepo.InsertResult> {
  return samplesRepo.insertSamples(db, batch);
}

describe('embeddings repository', () => {
  it('puts, lists, reports embedded ids, counts, and prunes other keys', async () => {
    const p = (await projectsRepo.createProject(db, 'P')).id;
    const q = (await projectsRepo.createProject(db, 'Q')).id;
    const s1 = newSample(p);
    const s2 = newSample(p);
    const q1 = newSample(q);
    await insert(s1, s2, q1);
    const [id1, id2, idq] = [s1.sample.id, s2.sample.id, q1.sample.id];
    expect(await embeddingsRepo.putEmbeddings(db, [])).toBe(0);
    expect(
      await embeddingsRepo.putEmbeddings(db, [
        embedding(p, id1, 'old', [1]),
        embedding(p, id2, 'old', [2]),
        embedding(p, id1, 'new', [3, 4]),
        embedding(q, idq, 'old', [9]),
      ]),
    ).toBe(4);
    const fresh = await embeddingsRepo.listEmbeddings(db, p, 'new');
    expect(fresh).toHaveLength(1);
    expect(fresh[0]?.vector).toBeInstanceOf(Float32Array);
    expect(Array.from(fresh[0]?.vector ?? [])).toEqual([3, 4]);
    expect(await embeddingsRepo.embeddedSampleIds(db, p, 'old')).toEqual(new Set([id1, id2]));
    expect(await embeddingsRepo.countEmbeddings(db, p, 'old')).toBe(2);

    // Putting the same (sample, key) again replaces it.
    await embeddingsRepo.putEmbeddings(db, [embedding(p, id1, 'new', [7])]);
    expect(
      Array.from((await embeddingsRepo.listEmbeddings(db, p, 'new'))[0]?.vector ?? []),
    ).toEqual([7]);

    expect(await embeddingsRepo.pruneEmbeddings(db, p, 'new')).toBe(2);
    expect(await embeddingsRepo.countEmbeddings(db, p, 'old')).toBe(0);
    expect(await embeddingsRepo.countEmbeddings(db, p, 'new')).toBe(1);
    expect(await embeddingsRepo.countEmbeddings(db, q, 'old')).toBe(1);
    expect(await embeddingsRepo.pruneEmbeddings(db, p, 'new')).toBe(0);
  });

  it('drops embeddings whose sample no longer exists', async () => {
    const p = (await projectsRepo.createProject(db, 'P')).id;
    const alive = newSample(p);
    const deleted = newSample(p);
    await insert(alive, deleted);
    await samplesRepo.deleteSamples(db, [deleted.sample.id]);
    const written = await embeddingsRepo.putEmbeddings(db, [
      embedding(p, alive.sample.id, 'k'),
      embedding(p, deleted.sample.id, 'k'),
      embedding(p, 'never-existed', 'k'),
    ]);
    expect(written).toBe(1);
    expect(await embeddingsRepo.embeddedSampleIds(db, p, 'k')).toEqual(new Set([alive.sample.id]));
  });
});

describe('models repository', () => {
  it('saves, lists newest first per project, and deletes', async () => {
    const p = (await projectsRepo.createProject(db, 'P')).id;
    const model = (id: string, createdAt: number, projectId = p) =>
      denseModel({
        id,
        projectId,
        createdAt,
        labels: ['a'],
        tensors: [{ name: 'w', shape: [1], data: new Float32Array([createdAt]) }],
      });
    await modelsRepo.saveModel(db, model('m1', 1));
    await modelsRepo.saveModel(db, model('m2', 2));
    await modelsRepo.saveModel(db, model('x', 3, 'other'));
    const list = await modelsRepo.listModels(db, p);
    expect(list.map((m) => m.id)).toEqual(['m2', 'm1']);
    expect(list[0]?.payload).toEqual(model('m2', 2).payload);
    expect(list[0]?.payload.head.tensors[0]?.data).toEqual(new Float32Array([2]));
    await modelsRepo.deleteModel(db, 'm2');
    expect((await modelsRepo.listModels(db, p)).map((m) => m.id)).toEqual(['m1']);
  });

  it('finds the newest dense model trained on an embedding key', async () => {
    const p = (await projectsRepo.createProject(db, 'P')).id;
    const model = (id: string, createdAt: number, embeddingKey: string) =>
      denseModel({ id, projectId: p, createdAt, labels: ['a'], embeddingKey });
    await modelsRepo.saveModel(db, model('old-k1', 1, 'k1'));
    await modelsRepo.saveModel(db, model('new-k1', 3, 'k1'));
    await modelsRepo.saveModel(db, model('k2', 5, 'k2'));
    expect((await modelsRepo.latestDenseModel(db, p, 'k1'))?.id).toBe('new-k1');
    expect((await modelsRepo.latestDenseModel(db, p, 'k2'))?.payload.summary.embeddingKey).toBe(
      'k2',
    );
    expect(await modelsRepo.latestDenseModel(db, p, 'k3')).toBeUndefined();
    expect(await modelsRepo.latestDenseModel(db, 'other', 'k1')).toBeUndefined();
  });
});
