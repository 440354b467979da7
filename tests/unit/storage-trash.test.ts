import { beforeEach, describe, expect, it } from 'vitest';
import type { LoupeDatabase } from '../../src/core/storage/db';
import { openLoupeDb } from '../../src/core/storage/db';
import * as embeddingsRepo from '../../src/core/storage/embeddings';
import * as labelsRepo from '../../src/core/storage/labels';
import * as modelsRepo from '../../src/core/storage/models';
import * as projectsRepo from '../../src/core/storage/projects';
import * as samplesRepo from '../../src/core/storage/samples';
import * as trashRepo from '../../src/core/storage/trash';
import { denseModel } from '../fixtures/models';
import { embedding, newSample } from '../fixtures/records';

let db: LoupeDatabase;

beforeEach(async () => {
  db = await openLoupeDb();
});

/** Every live record of a project, blobs as text, in a stable order. */
async function snapshot(projectId: string): Promise<unknown> {
  const text = async (blob: Blob): Promise<string> => blob.text();
  const samples = await db.getAllFromIndex('samples', 'byProject', projectId);
  const thumbs = await db.getAllFromIndex('thumbnails', 'byProject', projectId);
  const embeddings = await db.getAllFromIndex(
    'embeddings',
    'byProjectKey',
    IDBKeyRange.bound([projectId, ''], [projectId, '\uffff']),
  );
  const byId = <T extends { id: string }>(a: T, b: T): number => a.id.localeCompare(b.id);
  return {
    project: await db.get('projects', projectId),
    labels: await labelsRepo.listLabels(db, projectId),
    samples: await Promise.all(
      samples.sort(byId).map(async (s) => ({ ...s, blob: await text(s.blob) })),
    ),
    thumbnails: await Promise.all(
      thumbs
        .sort((a, b) => a.sampleId.localeCompare(b.sampleId))
        .map(async (t) => ({ ...t, blob: await text(t.blob) })),
    ),
    embeddings: embeddings
      .sort((a, b) => a.sampleId.localeCompare(b.sampleId))
      .map((e) => ({ ...e, vector: Array.from(e.vector) })),
    models: await modelsRepo.listModels(db, projectId),
  };
}

/** A project with two labels, three images (one unlabelled), embeddings and a model. */
async function seed(kind: 'single-label' | 'multi-label' = 'single-label') {
  const project = await projectsRepo.createProject(db, 'Flowers', kind);
  const daisy = await labelsRepo.addLabel(db, project.id, 'Daisy');
  const rose = await labelsRepo.addLabel(db, project.id, 'Rose');
  const samples = [
    newSample(project.id, { labelIds: [daisy.id] }),
    newSample(project.id, { labelIds: [rose.id] }),
    newSample(project.id),
  ];
  await samplesRepo.insertSamples(db, samples);
  await embeddingsRepo.putEmbeddings(
    db,
    samples.map((s, i) => embedding(project.id, s.sample.id, 'mobilenet@1', [i, i + 1])),
  );
  await modelsRepo.saveModel(
    db,
    denseModel({ id: 'm1', projectId: project.id, createdAt: 1, labels: [daisy.id, rose.id] }),
  );
  const ids = samples.map((s) => s.sample.id) as [string, string, string];
  return { project, daisy, rose, ids };
}

describe('trash', () => {
  it('moves images out and restores them identically, embeddings and thumbnails included', async () => {
    const { project, ids } = await seed();
    const before = await snapshot(project.id);
    const entry = await trashRepo.trashSamples(db, [ids[0], ids[2]]);
    expect(entry).toMatchObject({ projectId: project.id, kind: 'images', name: '2 images' });
    expect(entry?.imageCount).toBe(2);
    expect(entry?.byteSize).toBeGreaterThan(0);
    expect((await samplesRepo.listSampleMeta(db, project.id)).map((s) => s.id)).toEqual([ids[1]]);
    expect(await samplesRepo.getThumbnail(db, ids[0])).toBeUndefined();
    expect(await embeddingsRepo.countEmbeddings(db, project.id, 'mobilenet@1')).toBe(1);
    expect(await trashRepo.listTrash(db, project.id)).toEqual([entry]);
    expect(await trashRepo.trashBytes(db)).toBe(entry?.byteSize);

    const outcome = await trashRepo.restoreTrash(db, entry?.id ?? '');
    expect(outcome.restoredSampleIds.sort()).toEqual([ids[0], ids[2]].sort());
    expect(outcome.skippedDuplicates).toBe(0);
    expect(await snapshot(project.id)).toEqual(before);
    expect(await trashRepo.listTrash(db, project.id)).toEqual([]);
    expect(await db.count('trashBundles')).toBe(0);
  });

  it('restores a label deleted with its images, and one whose images stayed', async () => {
    const { project, daisy, rose, ids } = await seed();
    const before = await snapshot(project.id);
    const withImages = await trashRepo.trashLabel(db, daisy.id, 'delete-images');
    expect(withImages).toMatchObject({ kind: 'label', name: 'Daisy', imageCount: 1 });
    const kept = await trashRepo.trashLabel(db, rose.id, 'move-to-inbox');
    expect(kept).toMatchObject({ kind: 'label', name: 'Rose', imageCount: 0, labelCount: 1 });
    expect(await labelsRepo.listLabels(db, project.id)).toEqual([]);
    expect((await db.get('samples', ids[1]))?.labelIds).toEqual([]);

    expect(await trashRepo.trashLabel(db, rose.id, 'move-to-inbox')).toBeNull(); // gone already
    await trashRepo.restoreTrash(db, kept?.id ?? '');
    await trashRepo.restoreTrash(db, withImages?.id ?? '');
    expect(await snapshot(project.id)).toEqual(before);
  });

  it('merges into a label re-created with the same name, and keeps new choices', async () => {
    const { project, daisy, rose, ids } = await seed();
    const entry = await trashRepo.trashLabel(db, daisy.id, 'delete-images');
    const again = await labelsRepo.addLabel(db, project.id, 'daisy');
    const rosesEntry = await trashRepo.trashLabel(db, rose.id, 'move-to-inbox');
    await samplesRepo.setSampleLabels(db, [ids[1]], [again.id]);
    await trashRepo.restoreTrash(db, entry?.id ?? '');
    await trashRepo.restoreTrash(db, rosesEntry?.id ?? '');
    expect((await labelsRepo.listLabels(db, project.id)).map((l) => l.name)).toEqual([
      'Rose',
      'daisy',
    ]);
    expect((await db.get('samples', ids[0]))?.labelIds).toEqual([again.id]);
    // Relabelled while Rose was in the trash: a single-label image keeps its new label.
    expect((await db.get('samples', ids[1]))?.labelIds).toEqual([again.id]);
  });

  it('leaves out images whose bytes were imported again, and refuses a restored entry twice', async () => {
    const { project, ids } = await seed();
    const original = await db.get('samples', ids[2]);
    const entry = await trashRepo.trashSamples(db, [ids[2]]);
    expect(entry?.name).toBe(original?.name);
    const copy = newSample(project.id);
    copy.sample.sha256 = original?.sha256 ?? '';
    await samplesRepo.insertSamples(db, [copy]);
    const outcome = await trashRepo.restoreTrash(db, entry?.id ?? '');
    expect(outcome.skippedDuplicates).toBe(1);
    expect(await db.get('samples', ids[2])).toBeUndefined();
    await expect(trashRepo.restoreTrash(db, entry?.id ?? '')).rejects.toThrow(/no longer/);
  });

  it('moves a whole project out and back, its own trash following it', async () => {
    const { project, ids } = await seed('multi-label');
    const imageEntry = await trashRepo.trashSamples(db, [ids[2]]);
    const before = await snapshot(project.id);
    const entry = await trashRepo.trashProject(db, project.id);
    expect(entry).toMatchObject({ kind: 'project', name: 'Flowers', imageCount: 2, labelCount: 2 });
    expect(await projectsRepo.listProjects(db)).toEqual([]);
    expect(await trashRepo.listProjectTrash(db)).toEqual([entry]);
    for (const store of ['labels', 'samples', 'thumbnails', 'embeddings', 'models'] as const)
      expect(await db.count(store)).toBe(0);
    await expect(trashRepo.restoreTrash(db, imageEntry?.id ?? '')).rejects.toThrow(/project/);

    await trashRepo.restoreTrash(db, entry?.id ?? '');
    expect(await snapshot(project.id)).toEqual(before);
    expect(await trashRepo.listTrash(db, project.id)).toEqual([imageEntry]);
  });

  it('empties a project trash, and the project list trash with what deleted projects held', async () => {
    const a = await seed();
    const b = await seed();
    await trashRepo.trashSamples(db, [a.ids[0]]);
    await trashRepo.trashSamples(db, [b.ids[0]]);
    await trashRepo.trashProject(db, b.project.id);
    expect(await db.count('trash')).toBe(3);

    expect(await trashRepo.emptyTrash(db, a.project.id)).toBe(1);
    expect(await trashRepo.listTrash(db, a.project.id)).toEqual([]);
    expect(await db.count('trash')).toBe(2);
    expect(await trashRepo.emptyTrash(db, null)).toBe(2);
    expect(await db.count('trash')).toBe(0);
    expect(await db.count('trashBundles')).toBe(0);
    expect(await trashRepo.trashBytes(db)).toBe(0);
    // Project a is untouched.
    expect(await db.countFromIndex('samples', 'byProject', a.project.id)).toBe(2);
  });
});
