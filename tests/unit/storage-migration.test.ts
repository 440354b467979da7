import { openDB } from 'idb';
import { describe, expect, it } from 'vitest';
import type { LoupeDatabase } from '../../src/core/storage/db';
import { openLoupeDb } from '../../src/core/storage/db';
import * as embeddingsRepo from '../../src/core/storage/embeddings';
import * as labelsRepo from '../../src/core/storage/labels';
import * as modelsRepo from '../../src/core/storage/models';
import * as outOfFoldRepo from '../../src/core/storage/outOfFold';
import * as projectsRepo from '../../src/core/storage/projects';
import * as samplesRepo from '../../src/core/storage/samples';
import * as trashRepo from '../../src/core/storage/trash';
import { ALL_STORES, DB_VERSION } from '../../src/core/storage/schema';
import { buildV1Database, openV1 } from '../fixtures/dbV1';
import { denseModel } from '../fixtures/models';
import { embedding, newSample } from '../fixtures/records';

interface StoreShape {
  keyPath: string | string[] | null;
  indexes: Record<string, { keyPath: string | string[]; multiEntry: boolean; unique: boolean }>;
}

/** Stores, key paths and indexes of an open database, for comparing schemas. */
function describeSchema(db: LoupeDatabase): Record<string, StoreShape> {
  const names = [...db.objectStoreNames];
  const tx = db.transaction(names, 'readonly');
  const shape: Record<string, StoreShape> = {};
  for (const name of names) {
    const store = tx.objectStore(name);
    const indexes: StoreShape['indexes'] = {};
    for (const indexName of [...store.indexNames]) {
      const index = store.index(indexName);
      indexes[indexName] = {
        keyPath: index.keyPath,
        multiEntry: index.multiEntry,
        unique: index.unique,
      };
    }
    shape[name] = { keyPath: store.keyPath, indexes };
  }
  return shape;
}

describe('migration v1 -> v2', () => {
  it('keeps every record and turns labelId into labelIds', async () => {
    const fixture = await buildV1Database();
    const db = await openLoupeDb();
    try {
      expect(DB_VERSION).toBe(5);
      expect(db.version).toBe(DB_VERSION);
      expect([...db.objectStoreNames].sort()).toEqual([...ALL_STORES].sort());

      expect(await db.getAll('projects')).toEqual([fixture.project]);
      expect(await labelsRepo.listLabels(db, fixture.project.id)).toEqual(fixture.labels);

      const samples = await db.getAll('samples');
      expect(samples).toHaveLength(3);
      const expectedLabels: Record<string, string[]> = {
        'sample-cat': ['label-cat'],
        'sample-dog': ['label-dog'],
        'sample-none': [],
      };
      for (const original of fixture.samples) {
        const migrated = samples.find((s) => s.id === original.id);
        expect(migrated).toBeDefined();
        if (!migrated) continue;
        expect(migrated.labelIds).toEqual(expectedLabels[original.id]);
        expect(migrated).not.toHaveProperty('labelId');
        const { labelId: _labelId, blob: _blob, ...rest } = original;
        expect(migrated).toMatchObject(rest);
        expect(migrated.blob).toBeInstanceOf(Blob);
        expect(migrated.blob.type).toBe('image/png');
        expect(await migrated.blob.text()).toBe(fixture.content.get(original.id));
      }

      for (const original of fixture.thumbnails) {
        const thumb = await samplesRepo.getThumbnail(db, original.sampleId);
        expect(thumb).toMatchObject({
          sampleId: original.sampleId,
          projectId: original.projectId,
          width: 20,
          height: 15,
        });
        expect(await thumb?.blob.text()).toBe(`thumb of ${original.sampleId}`);
      }
      expect((await projectsRepo.listProjects(db))[0]).toMatchObject({
        id: fixture.project.id,
        imageCount: 3,
        labelCount: 2,
      });
    } finally {
      db.close();
    }
  });

  it('builds the byLabel index over the migrated samples', async () => {
    await buildV1Database();
    const db = await openLoupeDb();
    try {
      const ids = async (labelId: string): Promise<string[]> =>
        (await db.getAllFromIndex('samples', 'byLabel', labelId)).map((s) => s.id);
      expect(await ids('label-cat')).toEqual(['sample-cat']);
      expect(await ids('label-dog')).toEqual(['sample-dog']);
      expect(await labelsRepo.countByLabel(db, 'label-cat')).toBe(1);
      expect(await db.count('samples')).toBe(3);

      // Repositories relying on the index work on migrated data.
      await labelsRepo.mergeLabels(db, 'label-dog', 'label-cat');
      expect((await ids('label-cat')).sort()).toEqual(['sample-cat', 'sample-dog']);
      await labelsRepo.deleteLabel(db, 'label-cat', 'move-to-inbox');
      const metas = await samplesRepo.listSampleMeta(db, 'project-1');
      expect(metas.map((s) => s.labelIds)).toEqual([[], [], []]);
    } finally {
      db.close();
    }
  });

  it('keeps duplicate detection by hash working on migrated samples', async () => {
    const fixture = await buildV1Database();
    const db = await openLoupeDb();
    try {
      const twin = newSample(fixture.project.id, { name: 'again.png' });
      twin.sample.sha256 = fixture.samples[0].sha256;
      const result = await samplesRepo.insertSamples(db, [twin, newSample(fixture.project.id)]);
      expect(result.duplicates).toEqual([{ name: 'again.png', existingId: 'sample-cat' }]);
      expect(result.inserted).toHaveLength(1);
    } finally {
      db.close();
    }
  });

  it('creates working embeddings and models stores', async () => {
    const fixture = await buildV1Database();
    const db = await openLoupeDb();
    try {
      const projectId = fixture.project.id;
      expect(await db.count('embeddings')).toBe(0);
      expect(await db.count('models')).toBe(0);
      await embeddingsRepo.putEmbeddings(
        db,
        fixture.samples.map((s, i) => embedding(projectId, s.id, 'mobilenet@1', [i, i + 1])),
      );
      expect(await embeddingsRepo.embeddedSampleIds(db, projectId, 'mobilenet@1')).toEqual(
        new Set(['sample-cat', 'sample-dog', 'sample-none']),
      );
      const vectors = await embeddingsRepo.listEmbeddings(db, projectId, 'mobilenet@1');
      expect(vectors.map((e) => Array.from(e.vector)).sort()).toEqual([
        [0, 1],
        [1, 2],
        [2, 3],
      ]);
      const model = denseModel({ id: 'model-1', projectId, createdAt: 5, labels: ['label-cat'] });
      await modelsRepo.saveModel(db, model);
      expect(await modelsRepo.listModels(db, projectId)).toEqual([model]);

      // Cascades reach the new stores too.
      await samplesRepo.deleteSamples(db, ['sample-none']);
      expect(await embeddingsRepo.countEmbeddings(db, projectId, 'mobilenet@1')).toBe(2);
      await projectsRepo.deleteProject(db, projectId);
      for (const store of ALL_STORES) expect(await db.count(store)).toBe(0);
    } finally {
      db.close();
    }
  });

  it('produces the same schema as a fresh database', async () => {
    await buildV1Database('migrated');
    const migrated = await openLoupeDb({ name: 'migrated' });
    const fresh = await openLoupeDb({ name: 'fresh' });
    try {
      const shape = describeSchema(migrated);
      expect(shape).toEqual(describeSchema(fresh));
      expect(shape.samples?.indexes.byLabel).toEqual({
        keyPath: 'labelIds',
        multiEntry: true,
        unique: false,
      });
      expect(shape.embeddings?.keyPath).toEqual(['sampleId', 'embeddingKey']);
    } finally {
      migrated.close();
      fresh.close();
    }
  });

  it('migrates a sample without any labelId field, and an empty v1 database', async () => {
    const db1 = await openV1();
    await new Promise<void>((resolve, reject) => {
      const tx = db1.transaction('samples', 'readwrite');
      tx.objectStore('samples').add({
        id: 'legacy',
        projectId: 'p',
        name: 'legacy.png',
        sha256: 'x'.repeat(64),
        createdAt: 1,
        blob: new Blob(['legacy']),
      });
      tx.oncomplete = () => resolve();
      tx.onabort = () => reject(tx.error ?? new Error('aborted'));
    });
    db1.close();
    const db = await openLoupeDb();
    try {
      const legacy = await db.get('samples', 'legacy');
      expect(legacy?.labelIds).toEqual([]);
      expect(legacy).not.toHaveProperty('labelId');
      expect(await legacy?.blob.text()).toBe('legacy');
    } finally {
      db.close();
    }

    const empty = await openV1('empty');
    empty.close();
    const upgraded = await openLoupeDb({ name: 'empty' });
    try {
      expect(upgraded.version).toBe(DB_VERSION);
      expect([...upgraded.objectStoreNames].sort()).toEqual([...ALL_STORES].sort());
    } finally {
      upgraded.close();
    }
  });

  it('does not migrate again when reopened at the current version', async () => {
    const fixture = await buildV1Database();
    const first = await openLoupeDb();
    await samplesRepo.setSampleLabels(first, ['sample-none'], ['label-dog']);
    const before = await first.getAll('samples');
    first.close();
    const second = await openLoupeDb();
    try {
      expect(await second.getAll('samples')).toEqual(before);
      expect((await second.get('samples', 'sample-none'))?.labelIds).toEqual(['label-dog']);
      expect(await second.getAll('projects')).toEqual([fixture.project]);
    } finally {
      second.close();
    }
  });
});

describe('migration to v3', () => {
  it('adds an empty outOfFold store that keeps one record per live project', async () => {
    const fixture = await buildV1Database();
    const db = await openLoupeDb();
    try {
      expect(await db.count('outOfFold')).toBe(0);
      const projectId = fixture.project.id;
      const record = {
        projectId,
        embeddingKey: 'mobilenet@1',
        k: 5,
        weighted: true,
        folds: 5,
        fingerprint: '2:00',
        computedAt: 1,
        result: { labels: ['label-cat'], predictions: [] },
      };
      expect(await outOfFoldRepo.putOutOfFold(db, record)).toBe(true);
      expect(await outOfFoldRepo.getOutOfFold(db, projectId)).toEqual(record);
      expect(await outOfFoldRepo.putOutOfFold(db, { ...record, projectId: 'gone' })).toBe(false);
      await projectsRepo.deleteProject(db, projectId);
      expect(await db.count('outOfFold')).toBe(0);
    } finally {
      db.close();
    }
  });
});

/** A version-3 database as its upgrade blocks left it, with one project and its out-of-fold record. */
function openV3WithProject(name: string): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(name, 3);
    request.onupgradeneeded = () => {
      const db = request.result;
      db.createObjectStore('projects', { keyPath: 'id' }).createIndex('byUpdatedAt', 'updatedAt');
      db.createObjectStore('labels', { keyPath: 'id' }).createIndex('byProject', 'projectId');
      const samples = db.createObjectStore('samples', { keyPath: 'id' });
      samples.createIndex('byProject', 'projectId');
      samples.createIndex('byProjectHash', ['projectId', 'sha256']);
      samples.createIndex('byLabel', 'labelIds', { multiEntry: true });
      db.createObjectStore('thumbnails', { keyPath: 'sampleId' }).createIndex(
        'byProject',
        'projectId',
      );
      const embeddings = db.createObjectStore('embeddings', {
        keyPath: ['sampleId', 'embeddingKey'],
      });
      embeddings.createIndex('bySample', 'sampleId');
      embeddings.createIndex('byProjectKey', ['projectId', 'embeddingKey']);
      db.createObjectStore('models', { keyPath: 'id' }).createIndex('byProject', 'projectId');
      db.createObjectStore('outOfFold', { keyPath: 'projectId' });
      const project = {
        id: 'p3',
        name: 'Version 3',
        kind: 'single-label',
        createdAt: 1,
        updatedAt: 1,
        settings: { aspectMode: 'centre-crop', backboneId: 'mobilenet_v1_0.75_224' },
      };
      request.transaction?.objectStore('projects').add(project);
      request.transaction?.objectStore('outOfFold').add({ projectId: 'p3', k: 5 });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('open failed'));
  });
}

describe('migration v3 -> v4', () => {
  it('adds an empty backboneFiles store keyed by content key and keeps every record', async () => {
    (await openV3WithProject('v3')).close();
    const db = await openLoupeDb({ name: 'v3' });
    const fresh = await openLoupeDb({ name: 'fresh4' });
    try {
      expect(db.version).toBe(DB_VERSION);
      expect(describeSchema(db)).toEqual(describeSchema(fresh));
      expect(describeSchema(db).backboneFiles).toEqual({ keyPath: 'key', indexes: {} });
      expect(await db.count('backboneFiles')).toBe(0);
      expect((await db.get('projects', 'p3'))?.name).toBe('Version 3');
      expect(await db.count('outOfFold')).toBe(1);
      const record = {
        key: 'k'.repeat(64),
        name: 'm',
        modelJson: '{}',
        weights: [{ path: 'group1-shard1of1', blob: new Blob(['w']) }],
        byteSize: 3,
        createdAt: 1,
      };
      await db.put('backboneFiles', record);
      expect(await (await db.get('backboneFiles', record.key))?.weights[0]?.blob.text()).toBe('w');
    } finally {
      db.close();
      fresh.close();
    }
  });
});

/** A version 4 database as the `oldVersion < 5` block finds it, holding one labelled sample. */
async function buildV4Database(name: string): Promise<string> {
  const v4 = await openDB(name, 4, {
    upgrade(database) {
      database
        .createObjectStore('projects', { keyPath: 'id' })
        .createIndex('byUpdatedAt', 'updatedAt');
      database.createObjectStore('labels', { keyPath: 'id' }).createIndex('byProject', 'projectId');
      const samples = database.createObjectStore('samples', { keyPath: 'id' });
      samples.createIndex('byProject', 'projectId');
      samples.createIndex('byProjectHash', ['projectId', 'sha256']);
      samples.createIndex('byLabel', 'labelIds', { multiEntry: true });
      database
        .createObjectStore('thumbnails', { keyPath: 'sampleId' })
        .createIndex('byProject', 'projectId');
      const embeddings = database.createObjectStore('embeddings', {
        keyPath: ['sampleId', 'embeddingKey'],
      });
      embeddings.createIndex('bySample', 'sampleId');
      embeddings.createIndex('byProjectKey', ['projectId', 'embeddingKey']);
      database.createObjectStore('models', { keyPath: 'id' }).createIndex('byProject', 'projectId');
      database.createObjectStore('outOfFold', { keyPath: 'projectId' });
      database.createObjectStore('backboneFiles', { keyPath: 'key' });
    },
  });
  const { sample, thumbnail } = newSample('p3', { labelIds: ['l3'] });
  await v4.put('projects', {
    id: 'p3',
    name: 'Three',
    kind: 'single-label',
    createdAt: 1,
    updatedAt: 1,
    settings: { aspectMode: 'centre-crop', backboneId: 'mobilenet' },
  });
  await v4.put('labels', { id: 'l3', projectId: 'p3', name: 'Cat', order: 0, createdAt: 1 });
  await v4.put('samples', sample);
  await v4.put('thumbnails', thumbnail);
  v4.close();
  return sample.id;
}

describe('migration v4 -> v5', () => {
  it('adds the empty trash stores, keeps every record, and matches a fresh schema', async () => {
    const sampleId = await buildV4Database('v4');
    const db = await openLoupeDb({ name: 'v4' });
    const fresh = await openLoupeDb({ name: 'fresh-v5' });
    try {
      expect(db.version).toBe(5);
      expect(describeSchema(db)).toEqual(describeSchema(fresh));
      expect(describeSchema(db).trash).toEqual({
        keyPath: 'id',
        indexes: { byProject: { keyPath: 'projectId', multiEntry: false, unique: false } },
      });
      expect(await db.count('trash')).toBe(0);
      expect(await db.count('trashBundles')).toBe(0);
      expect((await db.get('samples', sampleId))?.labelIds).toEqual(['l3']);
      expect(await db.count('thumbnails')).toBe(1);
      const entry = await trashRepo.trashSamples(db, [sampleId]);
      expect(entry).toMatchObject({ projectId: 'p3', kind: 'images', imageCount: 1 });
      expect(await db.count('samples')).toBe(0);
    } finally {
      db.close();
      fresh.close();
    }
  });
});
