/**
 * Writing a restored project: ids are rewritten by field (never by matching strings), and
 * replacing or deleting a project leaves no orphan records (one shared cascade).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { exportProjectArchive, readProjectArchive } from '../../src/core/formats';
import type { RestoredProject } from '../../src/core/formats';
import type { LoupeDatabase } from '../../src/core/storage/db';
import { openLoupeDb } from '../../src/core/storage/db';
import * as labelsRepo from '../../src/core/storage/labels';
import * as projectsRepo from '../../src/core/storage/projects';
import { writeRestoredProject } from '../../src/core/storage/restoreProject';
import { ALL_STORES } from '../../src/core/storage/schema';
import { readJson, rewrite, seedProject, writeJson, type SeededProject } from '../fixtures/formats';
import { countByProject } from '../fixtures/records';

let db: LoupeDatabase;

beforeEach(async () => {
  db = await openLoupeDb();
  return () => db.close();
});

/** The seeded project, exported and read back, with `edit` applied to project.json first. */
async function restoredWith(
  seeded: SeededProject,
  edit: (doc: { project: Record<string, unknown>; labels: Record<string, unknown>[] }) => void,
): Promise<RestoredProject> {
  const archive = await rewrite(await exportProjectArchive(db, seeded.project.id), (files) => {
    const doc = readJson(files, 'project.json') as {
      project: Record<string, unknown>;
      labels: Record<string, unknown>[];
    };
    edit(doc);
    writeJson(files, 'project.json', doc);
  });
  return readProjectArchive(archive);
}

/** Records whose project, sample or label does not exist: none after any write or delete. */
async function orphans(): Promise<string[]> {
  const found: string[] = [];
  const projects = new Set((await db.getAll('projects')).map((p) => p.id));
  const samples = new Set((await db.getAll('samples')).map((s) => s.id));
  const labels = new Set((await db.getAll('labels')).map((l) => l.id));
  for (const store of ALL_STORES) {
    if (store === 'projects' || store === 'backboneFiles') continue;
    const records: { projectId: string }[] = await db.getAll(store);
    for (const r of records)
      if (!projects.has(r.projectId)) found.push(`${store} of a lost project`);
  }
  for (const t of await db.getAll('thumbnails'))
    if (!samples.has(t.sampleId)) found.push(`thumbnail of lost ${t.sampleId}`);
  for (const e of await db.getAll('embeddings'))
    if (!samples.has(e.sampleId)) found.push(`embedding of lost ${e.sampleId}`);
  for (const s of await db.getAll('samples'))
    for (const l of s.labelIds) if (!labels.has(l)) found.push(`sample label ${l}`);
  return found;
}

describe('writeRestoredProject rewrites ids by field', () => {
  it('keeps a label named like another label’s old id, and strings equal to ids elsewhere', async () => {
    const seeded = await seedProject(db);
    const [roses, tulips] = seeded.labels;
    const restored = await restoredWith(seeded, (doc) => {
      const tulipsDoc = doc.labels.find((l) => l.id === tulips.id) as Record<string, unknown>;
      tulipsDoc.name = roses.id;
      // An unknown label field whose key and value are ids.
      tulipsDoc.aliases = { [roses.id]: roses.id };
    });
    const written = await writeRestoredProject(db, restored, { mode: 'new' });
    const labels = await db.getAllFromIndex('labels', 'byProject', written.id);
    const newRoses = labels.find((l) => l.name === 'Roses');
    const renamed = labels.find((l) => l.name === roses.id);
    expect(newRoses?.id).toBeDefined();
    expect(newRoses?.id).not.toBe(roses.id);
    expect(renamed?.id).not.toBe(tulips.id);
    expect((renamed as unknown as Record<string, unknown>).aliases).toEqual({
      [roses.id]: roses.id,
    });
    // The fields that hold ids were rewritten.
    const rose = (await db.getAllFromIndex('samples', 'byProject', written.id)).find(
      (s) => s.name === 'rose.png',
    );
    expect(rose?.labelIds).toEqual([newRoses?.id]);
    const [model] = await db.getAllFromIndex('models', 'byProject', written.id);
    expect(model?.payload.head.labels).toEqual([newRoses?.id, renamed?.id]);
    expect(model?.payload.summary.labels).toEqual([newRoses?.id, renamed?.id]);
    expect(model?.payload.summary.evaluations[0]?.labels).toEqual([newRoses?.id, renamed?.id]);
    expect(model?.payload.summary.snapshot[rose?.id ?? '']).toEqual([newRoses?.id]);
    expect(Object.keys(model?.payload.summary.snapshot ?? {})).toHaveLength(2);
    expect(model?.payload.summary.id).toBe(model?.id);
  });

  it('rewrites settings.splits only: other settings equal to an id, backboneId included, stay', async () => {
    const seeded = await seedProject(db);
    const [s1, s2, s3] = seeded.samples;
    const [roses] = seeded.labels;
    const restored = await restoredWith(seeded, (doc) => {
      const settings = doc.project.settings as Record<string, unknown>;
      settings.backboneId = seeded.project.id;
      settings.note = s1.id;
      settings.byLabel = { [roses.id]: [s2.id] };
      settings.heads = { k: 'auto', lastLabel: roses.id };
      settings.splits = { train: [s1.id, s3.id], validation: [s2.id] };
      settings.splitOf = 'unused';
    });
    const written = await writeRestoredProject(db, restored, { mode: 'new' });
    const samples = await db.getAllFromIndex('samples', 'byProject', written.id);
    const idOf = (name: string): string | undefined => samples.find((s) => s.name === name)?.id;
    expect(written.settings).toEqual({
      aspectMode: 'centre-crop',
      backboneId: seeded.project.id,
      seed: 42,
      note: s1.id,
      byLabel: { [roses.id]: [s2.id] },
      heads: { k: 'auto', lastLabel: roses.id },
      splits: { train: [idOf('rose.png'), idOf('unknown.png')], validation: [idOf('tulip.png')] },
      splitOf: 'unused',
    });
    expect(await db.get('projects', written.id)).toEqual(written);

    // The other split shape, {sampleId: splitName}.
    const perSample = await restoredWith(seeded, (doc) => {
      (doc.project.settings as Record<string, unknown>).splits = {
        [s1.id]: 'train',
        [s2.id]: 'validation',
      };
    });
    const second = await writeRestoredProject(db, perSample, { mode: 'new', name: 'Second' });
    const secondSamples = await db.getAllFromIndex('samples', 'byProject', second.id);
    const newId = (name: string): string =>
      secondSamples.find((s) => s.name === name)?.id ?? 'missing';
    expect(second.settings.splits).toEqual({
      [newId('rose.png')]: 'train',
      [newId('tulip.png')]: 'validation',
    });
  });

  it('gives ids a model names but the project no longer holds fresh ids of their own', async () => {
    const seeded = await seedProject(db);
    const [roses, tulips] = seeded.labels;
    const [s1, s2] = seeded.samples;
    // Tulips and its image deleted after training: the saved model still names both.
    await labelsRepo.deleteLabel(db, tulips.id, 'delete-images');
    const restored = await readProjectArchive(await exportProjectArchive(db, seeded.project.id));
    expect(restored.models).toHaveLength(1);
    const written = await writeRestoredProject(db, restored, { mode: 'new' });
    const labels = await db.getAllFromIndex('labels', 'byProject', written.id);
    const samples = await db.getAllFromIndex('samples', 'byProject', written.id);
    const newRoses = labels.find((l) => l.name === roses.name)?.id ?? 'missing';
    const newRose = samples.find((s) => s.sha256 === s1.sha256)?.id ?? 'missing';
    const [model] = await db.getAllFromIndex('models', 'byProject', written.id);
    const [first, gone] = model?.payload.head.labels ?? [];
    expect(first).toBe(newRoses);
    expect([undefined, tulips.id, ...labels.map((l) => l.id)]).not.toContain(gone);
    // The same stale id gets the same fresh id everywhere in the payload.
    expect(model?.payload.summary.labels).toEqual([newRoses, gone]);
    const snapshot = Object.entries(model?.payload.summary.snapshot ?? {});
    expect(snapshot).toHaveLength(2);
    expect(snapshot).toContainEqual([newRose, [newRoses]]);
    const [staleImage, staleLabels] = snapshot.find(([id]) => id !== newRose) ?? [];
    expect([s2.id, ...samples.map((s) => s.id)]).not.toContain(staleImage);
    expect(staleLabels).toEqual([gone]);
  });
});

describe('replace and delete share one cascade', () => {
  it('replace mode leaves no record of the replaced content, and no orphans', async () => {
    const mine = await seedProject(db, 'Mine');
    const other = await seedProject(db, 'Other');
    const otherBefore = await countByProject(db, other.project.id);
    const restored = await readProjectArchive(await exportProjectArchive(db, other.project.id));
    await writeRestoredProject(db, restored, {
      mode: 'replace',
      replaceProjectId: mine.project.id,
    });
    expect(await orphans()).toEqual([]);
    expect(await countByProject(db, mine.project.id)).toEqual(otherBefore);
    expect(await countByProject(db, other.project.id)).toEqual(otherBefore);
    const oldIds = [
      ...mine.samples.map((s) => s.id),
      ...mine.labels.map((l) => l.id),
      mine.model.id,
    ];
    for (const store of ['samples', 'labels', 'models', 'thumbnails'] as const) {
      const keys = (await db.getAllKeys(store)).map(String);
      expect(keys.filter((k) => oldIds.includes(k))).toEqual([]);
    }
    const embeddingSamples = (await db.getAll('embeddings')).map((e) => e.sampleId);
    expect(embeddingSamples.filter((id) => oldIds.includes(id))).toEqual([]);
    expect((await db.get('projects', mine.project.id))?.name).toBe('Other');
  });

  it('deleteProject leaves no record of the project, and no orphans', async () => {
    const mine = await seedProject(db, 'Mine');
    const other = await seedProject(db, 'Other');
    const otherBefore = await countByProject(db, other.project.id);
    await projectsRepo.deleteProject(db, mine.project.id);
    expect(await orphans()).toEqual([]);
    expect(await countByProject(db, mine.project.id)).toEqual({
      projects: 0,
      labels: 0,
      samples: 0,
      thumbnails: 0,
      embeddings: 0,
      models: 0,
      outOfFold: 0,
    });
    expect(await countByProject(db, other.project.id)).toEqual(otherBefore);
  });
});
