import { beforeEach, describe, expect, it } from 'vitest';
import type { LoupeDatabase } from '../../src/core/storage/db';
import { openLoupeDb } from '../../src/core/storage/db';
import * as embeddingsRepo from '../../src/core/storage/embeddings';
import * as labelsRepo from '../../src/core/storage/labels';
import { LabelNameTakenError } from '../../src/core/storage/labels';
import * as modelsRepo from '../../src/core/storage/models';
import * as projectsRepo from '../../src/core/storage/projects';
import * as samplesRepo from '../../src/core/storage/samples';
import type { NewSample } from '../../src/core/storage/samples';
import type { ProjectRecord } from '../../src/core/storage/schema';
import { denseModel } from '../fixtures/models';
import { countByProject, embedding, newSample } from '../fixtures/records';

let db: LoupeDatabase;

beforeEach(async () => {
  db = await openLoupeDb();
  return () => db.close();
});

async function insert(...batch: NewSample[]): Promise<samplesRepo.InsertResult> {
  return samplesRepo.insertSamples(db, batch);
}

/** A project with two labels (A, B), three samples (a1 in A, b1 in B, u1 unlabelled), embeddings and a model. */
async function seedProject(name = 'Flowers'): Promise<{
  project: ProjectRecord;
  labelA: string;
  labelB: string;
  a1: NewSample;
  b1: NewSample;
  u1: NewSample;
}> {
  const project = await projectsRepo.createProject(db, name);
  const labelA = (await labelsRepo.addLabel(db, project.id, 'A')).id;
  const labelB = (await labelsRepo.addLabel(db, project.id, 'B')).id;
  const a1 = newSample(project.id, { name: 'a1.png', labelIds: [labelA], content: `${name}-a1` });
  const b1 = newSample(project.id, { name: 'b1.png', labelIds: [labelB], content: `${name}-b1` });
  const u1 = newSample(project.id, { name: 'u1.png', content: `${name}-u1` });
  await insert(a1, b1, u1);
  await embeddingsRepo.putEmbeddings(db, [
    embedding(project.id, a1.sample.id, 'k1', [1, 0]),
    embedding(project.id, b1.sample.id, 'k1', [0, 1]),
    embedding(project.id, u1.sample.id, 'k2', [5, 5]),
  ]);
  await modelsRepo.saveModel(
    db,
    denseModel({
      id: crypto.randomUUID(),
      projectId: project.id,
      createdAt: 1,
      labels: [labelA, labelB],
      snapshot: { [a1.sample.id]: [labelA], [b1.sample.id]: [labelB] },
    }),
  );
  return { project, labelA, labelB, a1, b1, u1 };
}

describe('projects repository', () => {
  it('creates projects with cleaned names and default settings', async () => {
    const p = await projectsRepo.createProject(db, '  My   birds  ');
    expect(p.name).toBe('My birds');
    expect(p.kind).toBe('single-label');
    expect(p.settings).toEqual(projectsRepo.DEFAULT_SETTINGS);
    expect(p.settings).not.toBe(projectsRepo.DEFAULT_SETTINGS);
    const blank = await projectsRepo.createProject(db, '   ', 'multi-label');
    expect(blank.name).toBe('Untitled project');
    expect(blank.kind).toBe('multi-label');
    expect(await projectsRepo.getProject(db, p.id)).toEqual(p);
  });

  it('lists projects with image and label counts, most recently updated first', async () => {
    const { project } = await seedProject('Flowers');
    const empty = await projectsRepo.createProject(db, 'Empty');
    // Same millisecond is possible: force an order through updateProject's timestamp.
    await new Promise((r) => setTimeout(r, 2));
    await projectsRepo.touchProject(db, project.id);
    const list = await projectsRepo.listProjects(db);
    expect(list.map((p) => [p.name, p.imageCount, p.labelCount])).toEqual([
      ['Flowers', 3, 2],
      ['Empty', 0, 0],
    ]);
    expect(list[1]?.id).toBe(empty.id);
  });

  it('renames (trimming, keeping the old name when blank) and rejects unknown ids', async () => {
    const p = await projectsRepo.createProject(db, 'Old');
    await new Promise((r) => setTimeout(r, 2));
    const renamed = await projectsRepo.updateProject(db, p.id, { name: ' New  name ' });
    expect(renamed.name).toBe('New name');
    expect(renamed.updatedAt).toBeGreaterThan(p.updatedAt);
    expect(renamed.createdAt).toBe(p.createdAt);
    expect((await projectsRepo.updateProject(db, p.id, { name: '  ' })).name).toBe('New name');
    const withSettings = await projectsRepo.updateProject(db, p.id, {
      settings: { ...p.settings, aspectMode: 'letterbox' },
    });
    expect(withSettings.settings.aspectMode).toBe('letterbox');
    expect(withSettings.settings.backboneId).toBe(p.settings.backboneId);
    expect((await projectsRepo.getProject(db, p.id))?.name).toBe('New name');
    await expect(projectsRepo.updateProject(db, 'missing', { name: 'x' })).rejects.toThrow(
      /no longer exists/,
    );
  });

  it('duplicates labels, samples, thumbnails and embeddings with new ids, but not models', async () => {
    const { project, labelA, labelB, a1, b1, u1 } = await seedProject();
    const copy = await projectsRepo.duplicateProject(db, project.id);
    expect(copy.id).not.toBe(project.id);
    expect(copy.name).toBe('Flowers (copy)');
    expect(copy.settings).toEqual(project.settings);

    const counts = await countByProject(db, copy.id);
    expect(counts).toEqual({
      projects: 1,
      labels: 2,
      samples: 3,
      thumbnails: 3,
      embeddings: 3,
      models: 0,
      outOfFold: 0,
    });

    const labels = await labelsRepo.listLabels(db, copy.id);
    expect(labels.map((l) => l.name)).toEqual(['A', 'B']);
    const copyA = labels[0]!.id;
    const copyB = labels[1]!.id;
    expect([copyA, copyB]).not.toContain(labelA);
    expect([copyA, copyB]).not.toContain(labelB);

    const samples = await samplesRepo.listSampleMeta(db, copy.id);
    const byName = new Map(samples.map((s) => [s.name, s]));
    const originalIds = [a1, b1, u1].map((s) => s.sample.id);
    for (const s of samples) expect(originalIds).not.toContain(s.id);
    expect(byName.get('a1.png')?.labelIds).toEqual([copyA]);
    expect(byName.get('b1.png')?.labelIds).toEqual([copyB]);
    expect(byName.get('u1.png')?.labelIds).toEqual([]);
    expect(byName.get('a1.png')?.sha256).toBe(a1.sample.sha256);

    // Same bytes, thumbnail and embeddings follow the new sample id.
    const copiedA = byName.get('a1.png')!;
    const full = await samplesRepo.getSample(db, copiedA.id);
    expect(await full?.blob.text()).toBe('Flowers-a1');
    const thumb = await samplesRepo.getThumbnail(db, copiedA.id);
    expect(thumb?.projectId).toBe(copy.id);
    expect(await thumb?.blob.text()).toBe('thumb:Flowers-a1');
    const k1 = await embeddingsRepo.listEmbeddings(db, copy.id, 'k1');
    expect(k1.map((e) => e.sampleId).sort()).toEqual([copiedA.id, byName.get('b1.png')!.id].sort());
    expect(Array.from(k1.find((e) => e.sampleId === copiedA.id)!.vector)).toEqual([1, 0]);
    expect(await embeddingsRepo.countEmbeddings(db, copy.id, 'k2')).toBe(1);

    // The source is untouched, and the copy is independent of it.
    expect(await countByProject(db, project.id)).toEqual({
      projects: 1,
      labels: 2,
      samples: 3,
      thumbnails: 3,
      embeddings: 3,
      models: 1,
      outOfFold: 0,
    });
    await labelsRepo.renameLabel(db, copyA, 'Renamed');
    expect((await labelsRepo.listLabels(db, project.id)).map((l) => l.name)).toEqual(['A', 'B']);

    const named = await projectsRepo.duplicateProject(db, project.id, '  Second  ');
    expect(named.name).toBe('Second');
    await expect(projectsRepo.duplicateProject(db, 'missing')).rejects.toThrow(/no longer exists/);
  });

  it('deletes a project with everything hanging off it, leaving other projects untouched', async () => {
    const doomed = await seedProject('Doomed');
    const kept = await seedProject('Kept');
    const before = await countByProject(db, kept.project.id);
    await projectsRepo.deleteProject(db, doomed.project.id);
    expect(await countByProject(db, doomed.project.id)).toEqual({
      projects: 0,
      labels: 0,
      samples: 0,
      thumbnails: 0,
      embeddings: 0,
      models: 0,
      outOfFold: 0,
    });
    expect(await countByProject(db, kept.project.id)).toEqual(before);
    expect(before.samples).toBe(3);
    expect(before.models).toBe(1);
    expect((await projectsRepo.listProjects(db)).map((p) => p.name)).toEqual(['Kept']);
  });
});

describe('labels repository', () => {
  let projectId: string;
  beforeEach(async () => {
    projectId = (await projectsRepo.createProject(db, 'P')).id;
  });

  it('adds labels with default names and increasing order', async () => {
    const first = await labelsRepo.addLabel(db, projectId, '');
    const second = await labelsRepo.addLabel(db, projectId, '   ');
    const named = await labelsRepo.addLabel(db, projectId, '  Roses ');
    expect([first.name, second.name, named.name]).toEqual(['Class 1', 'Class 2', 'Roses']);
    expect([first.order, second.order, named.order]).toEqual([0, 1, 2]);
    // Default name skips one that is taken.
    await labelsRepo.renameLabel(db, first.id, 'Class 4');
    expect((await labelsRepo.addLabel(db, projectId, '')).name).toBe('Class 5');
    expect((await labelsRepo.listLabels(db, projectId)).map((l) => l.name)).toEqual([
      'Class 4',
      'Class 2',
      'Roses',
      'Class 5',
    ]);
  });

  it('rejects duplicate names case-insensitively, per project', async () => {
    await labelsRepo.addLabel(db, projectId, 'Daisy');
    await expect(labelsRepo.addLabel(db, projectId, 'daisy')).rejects.toBeInstanceOf(
      LabelNameTakenError,
    );
    await expect(labelsRepo.addLabel(db, projectId, ' DAISY ')).rejects.toThrow(/already exists/);
    const other = await projectsRepo.createProject(db, 'Other');
    expect((await labelsRepo.addLabel(db, other.id, 'daisy')).name).toBe('daisy');
    expect(await labelsRepo.listLabels(db, projectId)).toHaveLength(1);
  });

  it('renames, allowing a case change of its own name but not a sibling name', async () => {
    const daisy = await labelsRepo.addLabel(db, projectId, 'Daisy');
    const rose = await labelsRepo.addLabel(db, projectId, 'Rose');
    expect((await labelsRepo.renameLabel(db, daisy.id, 'DAISY')).name).toBe('DAISY');
    await expect(labelsRepo.renameLabel(db, daisy.id, 'rose')).rejects.toBeInstanceOf(
      LabelNameTakenError,
    );
    expect((await labelsRepo.renameLabel(db, rose.id, '  ')).name).toBe('Rose');
    await expect(labelsRepo.renameLabel(db, 'missing', 'x')).rejects.toThrow(/no longer exists/);
    const names = (await labelsRepo.listLabels(db, projectId)).map((l) => l.name);
    expect(names).toEqual(['DAISY', 'Rose']);
  });

  it('ensureLabels reuses labels by name (case-insensitive) and creates the rest once', async () => {
    const daisy = await labelsRepo.addLabel(db, projectId, 'Daisy');
    const map = await labelsRepo.ensureLabels(db, projectId, ['daisy', 'tulip', 'Tulip', '  ']);
    expect(map.get('daisy')?.id).toBe(daisy.id);
    expect(map.get('tulip')?.name).toBe('tulip');
    expect(map.get('Tulip')?.id).toBe(map.get('tulip')?.id);
    expect(map.get('  ')?.name).toBe('Unnamed');
    const labels = await labelsRepo.listLabels(db, projectId);
    expect(labels.map((l) => [l.name, l.order])).toEqual([
      ['Daisy', 0],
      ['tulip', 1],
      ['Unnamed', 2],
    ]);
    const again = await labelsRepo.ensureLabels(db, projectId, ['TULIP']);
    expect(again.get('TULIP')?.id).toBe(map.get('tulip')?.id);
    expect(await labelsRepo.listLabels(db, projectId)).toHaveLength(3);
  });

  it('merges: samples move to the target without duplicate label ids, source removed', async () => {
    const a = (await labelsRepo.addLabel(db, projectId, 'A')).id;
    const b = (await labelsRepo.addLabel(db, projectId, 'B')).id;
    const c = (await labelsRepo.addLabel(db, projectId, 'C')).id;
    const onlyA = newSample(projectId, { labelIds: [a] });
    const both = newSample(projectId, { labelIds: [a, b] });
    const ac = newSample(projectId, { labelIds: [c, a] });
    const onlyB = newSample(projectId, { labelIds: [b] });
    await insert(onlyA, both, ac, onlyB);

    await labelsRepo.mergeLabels(db, a, b);
    const get = async (s: NewSample): Promise<string[] | undefined> =>
      (await samplesRepo.getSample(db, s.sample.id))?.labelIds;
    expect(await get(onlyA)).toEqual([b]);
    expect(await get(both)).toEqual([b]);
    expect(await get(ac)).toEqual([c, b]);
    expect(await get(onlyB)).toEqual([b]);
    expect((await labelsRepo.listLabels(db, projectId)).map((l) => l.id)).toEqual([b, c]);
    expect(await labelsRepo.countByLabel(db, a)).toBe(0);
    expect(await labelsRepo.countByLabel(db, b)).toBe(4);

    // Merging into itself is a no-op; across projects or with a missing label it fails.
    await labelsRepo.mergeLabels(db, b, b);
    expect(await labelsRepo.countByLabel(db, b)).toBe(4);
    const other = await projectsRepo.createProject(db, 'Other');
    const foreign = (await labelsRepo.addLabel(db, other.id, 'X')).id;
    await expect(labelsRepo.mergeLabels(db, b, foreign)).rejects.toThrow(/same project/);
    await expect(labelsRepo.mergeLabels(db, 'missing', b)).rejects.toThrow(/same project/);
    expect(await labelsRepo.countByLabel(db, b)).toBe(4);
  });

  it("deletes with 'move-to-inbox': samples keep their other labels and lose this one", async () => {
    const a = (await labelsRepo.addLabel(db, projectId, 'A')).id;
    const b = (await labelsRepo.addLabel(db, projectId, 'B')).id;
    const onlyA = newSample(projectId, { labelIds: [a] });
    const both = newSample(projectId, { labelIds: [b, a] });
    const onlyB = newSample(projectId, { labelIds: [b] });
    await insert(onlyA, both, onlyB);
    await embeddingsRepo.putEmbeddings(db, [embedding(projectId, onlyA.sample.id, 'k')]);

    await labelsRepo.deleteLabel(db, a, 'move-to-inbox');
    const metas = await samplesRepo.listSampleMeta(db, projectId);
    expect(new Map(metas.map((s) => [s.id, s.labelIds]))).toEqual(
      new Map([
        [onlyA.sample.id, []],
        [both.sample.id, [b]],
        [onlyB.sample.id, [b]],
      ]),
    );
    expect((await labelsRepo.listLabels(db, projectId)).map((l) => l.id)).toEqual([b]);
    expect(await samplesRepo.getThumbnail(db, onlyA.sample.id)).toBeDefined();
    expect(await embeddingsRepo.countEmbeddings(db, projectId, 'k')).toBe(1);
  });

  it("deletes with 'delete-images': samples, thumbnails and embeddings are gone", async () => {
    const a = (await labelsRepo.addLabel(db, projectId, 'A')).id;
    const b = (await labelsRepo.addLabel(db, projectId, 'B')).id;
    const onlyA = newSample(projectId, { labelIds: [a] });
    const both = newSample(projectId, { labelIds: [a, b] });
    const onlyB = newSample(projectId, { labelIds: [b] });
    await insert(onlyA, both, onlyB);
    await embeddingsRepo.putEmbeddings(
      db,
      [onlyA, both, onlyB].map((s) => embedding(projectId, s.sample.id, 'k')),
    );

    await labelsRepo.deleteLabel(db, a, 'delete-images');
    const counts = await countByProject(db, projectId);
    expect(counts).toMatchObject({ labels: 1, samples: 1, thumbnails: 1, embeddings: 1 });
    expect((await samplesRepo.listSampleMeta(db, projectId)).map((s) => s.id)).toEqual([
      onlyB.sample.id,
    ]);
    for (const gone of [onlyA, both]) {
      expect(await samplesRepo.getSample(db, gone.sample.id)).toBeUndefined();
      expect(await samplesRepo.getThumbnail(db, gone.sample.id)).toBeUndefined();
    }
    expect(await embeddingsRepo.embeddedSampleIds(db, projectId, 'k')).toEqual(
      new Set([onlyB.sample.id]),
    );
  });
});

describe('samples repository', () => {
  let projectId: string;
  beforeEach(async () => {
    projectId = (await projectsRepo.createProject(db, 'P')).id;
  });

  it('stores samples and thumbnails with their Blobs intact, listing metadata without blobs', async () => {
    const s = newSample(projectId, { name: 'cat.png', content: 'cat bytes' });
    const result = await insert(s);
    expect(result.duplicates).toEqual([]);
    expect(result.inserted).toHaveLength(1);
    expect(result.inserted[0]).not.toHaveProperty('blob');
    expect(result.inserted[0]).toMatchObject({
      id: s.sample.id,
      name: 'cat.png',
      sha256: s.sample.sha256,
    });

    const stored = await samplesRepo.getSample(db, s.sample.id);
    expect(stored?.blob).toBeInstanceOf(Blob);
    expect(stored?.blob.type).toBe('image/png');
    expect(await stored?.blob.text()).toBe('cat bytes');
    const thumb = await samplesRepo.getThumbnail(db, s.sample.id);
    expect(await thumb?.blob.text()).toBe('thumb:cat bytes');

    const metas = await samplesRepo.listSampleMeta(db, projectId);
    expect(metas).toHaveLength(1);
    expect(metas[0]).not.toHaveProperty('blob');
    expect(await samplesRepo.hasHash(db, projectId, s.sample.sha256)).toBe(true);
    expect(await samplesRepo.hasHash(db, 'other-project', s.sample.sha256)).toBe(false);
  });

  it('skips duplicate SHA-256 within a batch and against stored samples, per project', async () => {
    const first = newSample(projectId, { name: 'one.png', content: 'same' });
    const twin = newSample(projectId, { name: 'two.png', content: 'same' });
    const other = newSample(projectId, { name: 'other.png', content: 'different' });
    const r1 = await insert(first, twin, other);
    expect(r1.inserted.map((s) => s.name)).toEqual(['one.png', 'other.png']);
    expect(r1.duplicates).toEqual([{ name: 'two.png', existingId: first.sample.id }]);

    const again = newSample(projectId, { name: 'three.png', content: 'same' });
    const fresh = newSample(projectId, { name: 'fresh.png', content: 'fresh' });
    const r2 = await insert(again, fresh);
    expect(r2.inserted.map((s) => s.name)).toEqual(['fresh.png']);
    expect(r2.duplicates).toEqual([{ name: 'three.png', existingId: first.sample.id }]);

    // No thumbnail written for a skipped duplicate.
    expect(await samplesRepo.getThumbnail(db, twin.sample.id)).toBeUndefined();
    expect(await samplesRepo.getThumbnail(db, again.sample.id)).toBeUndefined();
    expect(await countByProject(db, projectId)).toMatchObject({ samples: 3, thumbnails: 3 });

    // The same bytes in another project are not a duplicate.
    const otherProject = await projectsRepo.createProject(db, 'Q');
    const r3 = await insert(newSample(otherProject.id, { content: 'same' }));
    expect(r3.inserted).toHaveLength(1);
    expect(r3.duplicates).toEqual([]);
  });

  it('writes nothing of a batch whose transaction fails', async () => {
    const stored = newSample(projectId, { name: 'stored.png' });
    await insert(stored);
    const fine = newSample(projectId, { name: 'fine.png' });
    // Same primary key as a stored sample, different bytes: add() fails with ConstraintError.
    const clash = newSample(projectId, { name: 'clash.png' });
    clash.sample.id = stored.sample.id;
    clash.thumbnail.sampleId = stored.sample.id;
    await expect(insert(fine, clash)).rejects.toMatchObject({ name: 'ConstraintError' });
    // A value the database cannot clone throws synchronously in the middle of the batch.
    const clone = newSample(projectId, { name: 'clone.png' });
    clone.thumbnail.blob = { method() {} } as unknown as Blob;
    await expect(insert(newSample(projectId), clone)).rejects.toMatchObject({
      name: 'DataCloneError',
    });
    expect((await samplesRepo.listSampleMeta(db, projectId)).map((s) => s.name)).toEqual([
      'stored.png',
    ]);
    expect(await countByProject(db, projectId)).toMatchObject({ samples: 1, thumbnails: 1 });
  });

  it('lists metadata ordered by creation time then name', async () => {
    await insert(
      newSample(projectId, { name: 'b.png', createdAt: 5 }),
      newSample(projectId, { name: 'c.png', createdAt: 1 }),
      newSample(projectId, { name: 'a.png', createdAt: 5 }),
    );
    expect((await samplesRepo.listSampleMeta(db, projectId)).map((s) => s.name)).toEqual([
      'c.png',
      'a.png',
      'b.png',
    ]);
  });

  it('setSampleLabels replaces label lists (deduplicated) and ignores missing ids', async () => {
    const a = (await labelsRepo.addLabel(db, projectId, 'A')).id;
    const b = (await labelsRepo.addLabel(db, projectId, 'B')).id;
    const s1 = newSample(projectId, { labelIds: [a] });
    const s2 = newSample(projectId);
    const s3 = newSample(projectId, { labelIds: [a] });
    await insert(s1, s2, s3);
    await samplesRepo.setSampleLabels(db, [s1.sample.id, s2.sample.id, 'missing'], [b, b]);
    expect((await samplesRepo.getSample(db, s1.sample.id))?.labelIds).toEqual([b]);
    expect((await samplesRepo.getSample(db, s2.sample.id))?.labelIds).toEqual([b]);
    expect((await samplesRepo.getSample(db, s3.sample.id))?.labelIds).toEqual([a]);
    expect(await samplesRepo.getSample(db, 'missing')).toBeUndefined();
    expect(await labelsRepo.countByLabel(db, b)).toBe(2);
    await samplesRepo.setSampleLabels(db, [s1.sample.id], []);
    expect((await samplesRepo.getSample(db, s1.sample.id))?.labelIds).toEqual([]);
    expect(await labelsRepo.countByLabel(db, b)).toBe(1);
  });

  it('deleteSamples cascades to thumbnails and embeddings of those samples only', async () => {
    const s1 = newSample(projectId);
    const s2 = newSample(projectId);
    const s3 = newSample(projectId);
    await insert(s1, s2, s3);
    await embeddingsRepo.putEmbeddings(db, [
      embedding(projectId, s1.sample.id, 'k1'),
      embedding(projectId, s1.sample.id, 'k2'),
      embedding(projectId, s2.sample.id, 'k1'),
      embedding(projectId, s3.sample.id, 'k1'),
    ]);
    await samplesRepo.deleteSamples(db, [s1.sample.id, s2.sample.id]);
    expect((await samplesRepo.listSampleMeta(db, projectId)).map((s) => s.id)).toEqual([
      s3.sample.id,
    ]);
    expect(await samplesRepo.getThumbnail(db, s1.sample.id)).toBeUndefined();
    expect(await samplesRepo.getThumbnail(db, s2.sample.id)).toBeUndefined();
    expect(await samplesRepo.getThumbnail(db, s3.sample.id)).toBeDefined();
    expect(await db.getAll('embeddings')).toEqual([
      expect.objectContaining({ sampleId: s3.sample.id, embeddingKey: 'k1' }),
    ]);
    // A deleted hash can be imported again.
    expect(await samplesRepo.hasHash(db, projectId, s1.sample.sha256)).toBe(false);
  });
});
