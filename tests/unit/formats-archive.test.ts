import { beforeEach, describe, expect, it } from 'vitest';
import {
  ARCHIVE_VERSION,
  LOUPE_VERSION,
  archiveFileName,
  exportProjectArchive,
  readProjectArchive,
  type ArchiveProgress,
} from '../../src/core/formats';
import { readZipIndex } from '../../src/core/formats/zipReader';
import { DEFAULT_ARCHIVE_LIMITS } from '../../src/core/formats/errors';
import type { LoupeDatabase } from '../../src/core/storage/db';
import { openLoupeDb } from '../../src/core/storage/db';
import * as projectsRepo from '../../src/core/storage/projects';
import { findNameConflict, suggestProjectName } from '../../src/core/storage/projects';
import { writeRestoredProject } from '../../src/core/storage/restoreProject';
import type {
  EmbeddingRecord,
  ModelRecord,
  ProjectRecord,
  SampleRecord,
  ThumbnailRecord,
} from '../../src/core/storage/schema';
import { countByProject } from '../fixtures/records';
import {
  KEY_A,
  KEY_B,
  readJson,
  rewrite,
  seedProject,
  unzipBlob,
  type SeededModelPayload,
} from '../fixtures/formats';

let db: LoupeDatabase;

beforeEach(async () => {
  db = await openLoupeDb();
  return () => db.close();
});

interface Dump {
  project: ProjectRecord;
  labels: { id: string; name: string; order: number; createdAt: number }[];
  samples: (Omit<SampleRecord, 'blob'> & { bytes: Uint8Array; type: string })[];
  thumbnails: (Omit<ThumbnailRecord, 'blob'> & { bytes: Uint8Array; type: string })[];
  embeddings: EmbeddingRecord[];
  models: ModelRecord[];
}

/** Everything stored for a project, blobs read into bytes. */
async function dump(projectId: string): Promise<Dump> {
  const project = await db.get('projects', projectId);
  if (!project) throw new Error('no project');
  const labels = await db.getAllFromIndex('labels', 'byProject', projectId);
  const samples = await db.getAllFromIndex('samples', 'byProject', projectId);
  const thumbnails = await db.getAllFromIndex('thumbnails', 'byProject', projectId);
  const embeddings = await db.getAllFromIndex(
    'embeddings',
    'byProjectKey',
    IDBKeyRange.bound([projectId, ''], [projectId, '\uffff']),
  );
  const models = await db.getAllFromIndex('models', 'byProject', projectId);
  return {
    project,
    labels,
    samples: await Promise.all(
      samples.map(async ({ blob, ...s }) => ({
        ...s,
        bytes: new Uint8Array(await blob.arrayBuffer()),
        type: blob.type,
      })),
    ),
    thumbnails: await Promise.all(
      thumbnails.map(async ({ blob, ...t }) => ({
        ...t,
        bytes: new Uint8Array(await blob.arrayBuffer()),
        type: blob.type,
      })),
    ),
    embeddings,
    models,
  };
}

/** Replaces old ids by new ones (strings and keys), deeply, for comparing records. */
function translate<T>(value: T, ids: Map<string, string>): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return ids.get(v) ?? v;
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [ids.get(k) ?? k, walk(x)]));
    }
    return v;
  };
  return walk(value) as T;
}

function idMap(before: Dump, after: Dump): Map<string, string> {
  const ids = new Map<string, string>([[before.project.id, after.project.id]]);
  for (const l of before.labels) {
    ids.set(l.id, after.labels.find((x) => x.name === l.name)?.id ?? 'missing');
  }
  for (const s of before.samples) {
    ids.set(s.id, after.samples.find((x) => x.sha256 === s.sha256)?.id ?? 'missing');
  }
  for (const m of before.models) {
    ids.set(m.id, after.models.find((x) => x.createdAt === m.createdAt)?.id ?? 'missing');
  }
  return ids;
}

function expectSameProject(before: Dump, after: Dump): void {
  const ids = idMap(before, after);
  expect([...ids.values()]).not.toContain('missing');
  expect(after.project.name).toBe(before.project.name);
  expect(after.project.kind).toBe(before.project.kind);
  expect(after.project.createdAt).toBe(before.project.createdAt);
  expect(after.project.settings).toEqual(translate(before.project.settings, ids));
  const byOrder = <T extends { order: number }>(list: T[]): T[] =>
    [...list].sort((a, b) => a.order - b.order);
  expect(byOrder(after.labels)).toEqual(
    byOrder(translate(before.labels, ids)).map((l) => ({ ...l, projectId: after.project.id })),
  );
  const sortBy = <T>(list: T[], key: (x: T) => string): T[] =>
    [...list].sort((a, b) => key(a).localeCompare(key(b)));
  expect(sortBy(after.samples, (s) => s.id)).toEqual(
    sortBy(
      before.samples.map((s) => ({ ...translate(s, ids), bytes: s.bytes })),
      (s) => s.id,
    ),
  );
  expect(sortBy(after.thumbnails, (t) => t.sampleId)).toEqual(
    sortBy(
      before.thumbnails.map((t) => ({ ...translate(t, ids), bytes: t.bytes })),
      (t) => t.sampleId,
    ),
  );
  const embKey = (e: EmbeddingRecord): string => `${e.sampleId}/${e.embeddingKey}`;
  expect(sortBy(after.embeddings, embKey)).toEqual(
    sortBy(translate(before.embeddings, ids), embKey),
  );
  expect(after.models).toEqual(translate(before.models, ids));
}

describe('project archive round trip', () => {
  it('export -> delete -> import restores every byte, assignment, embedding and weight', async () => {
    const seeded = await seedProject(db);
    const before = await dump(seeded.project.id);
    expect(before.samples).toHaveLength(3);
    expect(before.embeddings).toHaveLength(5);

    const progress: ArchiveProgress[] = [];
    const blob = await exportProjectArchive(db, seeded.project.id, {
      onProgress: (p) => progress.push(p),
    });
    expect(blob.size).toBeGreaterThan(0);
    const last = progress.at(-1);
    expect(last?.done).toBe(last?.total);
    for (let i = 1; i < progress.length; i++) {
      expect(progress[i]?.done).toBeGreaterThanOrEqual(progress[i - 1]?.done ?? 0);
    }

    await projectsRepo.deleteProject(db, seeded.project.id);
    expect(await projectsRepo.listProjects(db)).toEqual([]);

    const reading: { done: number; total: number }[] = [];
    const restored = await readProjectArchive(blob, { onProgress: (p) => reading.push(p) });
    expect(reading.at(-1)).toEqual({ done: 19, total: 19 });
    expect(restored.warnings).toEqual([]);
    expect(restored.formatVersion).toBe(ARCHIVE_VERSION);
    expect(restored.migrations).toEqual([]);
    expect(restored.source).toBe(`loupe@${LOUPE_VERSION}`);
    const imported = await writeRestoredProject(db, restored, { mode: 'new' });
    expect(imported.id).not.toBe(seeded.project.id);

    const after = await dump(imported.id);
    expectSameProject(before, after);
    // Spot checks on what matters most, spelled out.
    const rose = after.samples.find((s) => s.name === 'rose.png');
    const roses = after.labels.find((l) => l.name === 'Roses');
    expect(rose?.labelIds).toEqual([roses?.id]);
    expect(rose?.type).toBe('image/png');
    expect(rose?.bytes).toEqual(before.samples.find((s) => s.name === 'rose.png')?.bytes);
    const payload = after.models[0]?.payload as SeededModelPayload;
    expect(payload.head.labels[0]).toBe(roses?.id);
    expect(payload.head.tensors[0]?.data).toBeInstanceOf(Float32Array);
    expect([...(payload.head.tensors[0]?.data ?? [])]).toEqual([
      0.5, -0.25, 1.5, 2, -3, 0.125, 7, 8,
    ]);
    expect(payload.extra.raw).toBeInstanceOf(ArrayBuffer);
    expect(payload.extra.counts).toBeInstanceOf(Int32Array);
    expect(payload.head.state.history[0]?.valLoss).toBeNaN();
    expect(payload.metrics.f1).toBe(Number.POSITIVE_INFINITY);
    const vector = after.embeddings.find(
      (e) => e.sampleId === rose?.id && e.embeddingKey === KEY_A,
    )?.vector;
    // Each vector owns exactly its own buffer (no view onto the whole matrix).
    expect(vector?.buffer.byteLength).toBe(16);
  });

  it('imports the same archive twice as two independent projects', async () => {
    const seeded = await seedProject(db);
    const blob = await exportProjectArchive(db, seeded.project.id);
    const restored = await readProjectArchive(blob);
    const first = await writeRestoredProject(db, restored, { mode: 'new', name: 'Copy one' });
    const second = await writeRestoredProject(db, restored, { mode: 'new', name: 'Copy two' });
    const names = (await projectsRepo.listProjects(db)).map((p) => p.name).sort();
    expect(names).toEqual(['Copy one', 'Copy two', 'Flowers']);
    const a = await dump(first.id);
    const b = await dump(second.id);
    const firstIds = new Set(a.samples.map((s) => s.id));
    expect(b.samples.some((s) => firstIds.has(s.id))).toBe(false);
    expect(await countByProject(db, second.id)).toEqual({
      projects: 1,
      labels: 2,
      samples: 3,
      thumbnails: 3,
      embeddings: 5,
      models: 1,
      outOfFold: 0,
    });
    // The original is untouched.
    expect(await countByProject(db, seeded.project.id)).toEqual(await countByProject(db, first.id));
  });

  it('writes the documented layout: stored images, deflated JSON and weights', async () => {
    const seeded = await seedProject(db);
    const blob = await exportProjectArchive(db, seeded.project.id, {
      now: () => 1_700_000_000_000,
    });
    const [s1, s2, s3] = seeded.samples;
    const index = await readZipIndex(blob, DEFAULT_ARCHIVE_LIMITS);
    const names = [...index.entries.keys()].sort();
    const modelId = seeded.model.id;
    expect(names).toEqual(
      [
        'manifest.json',
        'project.json',
        'samples.json',
        `images/${s1.id}.png`,
        `images/${s2.id}.png`,
        `images/${s3.id}.png`,
        `thumbnails/${s1.id}.webp`,
        `thumbnails/${s2.id}.webp`,
        `thumbnails/${s3.id}.webp`,
        'embeddings/index.json',
        'embeddings/mobilenet_v1_0.75_224@centre-crop#1.f32',
        'embeddings/custom_model_v2@letterbox#3.f32',
        'models/index.json',
        `models/${modelId}.json`,
        ...[0, 1, 2, 3, 4].map((n) => `models/${modelId}/${n}.bin`),
      ].sort(),
    );
    expect(index.entries.get(`images/${s1.id}.png`)?.compression).toBe(0);
    expect(index.entries.get(`thumbnails/${s1.id}.webp`)?.compression).toBe(0);
    expect(index.entries.get('samples.json')?.compression).toBe(8);
    expect(index.entries.get(`models/${modelId}/0.bin`)?.compression).toBe(8);

    const files = await unzipBlob(blob);
    expect(readJson(files, 'manifest.json')).toEqual({
      type: 'loupe-project',
      version: 1,
      source: `loupe@${LOUPE_VERSION}`,
      createdAt: 1_700_000_000_000,
      counts: { labels: 2, samples: 3, thumbnails: 3, embeddings: 5, models: 1 },
    });
    const samples = readJson(files, 'samples.json').samples as Record<string, unknown>[];
    expect(samples.map((s) => s.name)).toEqual(['rose.png', 'tulip.png', 'unknown.png']);
    expect(samples[0]).toMatchObject({
      id: s1.id,
      labelIds: s1.labelIds,
      mime: 'image/png',
      byteSize: s1.byteSize,
      width: s1.width,
      height: s1.height,
      sha256: s1.sha256,
      createdAt: 1001,
      source: 'drop',
      image: `images/${s1.id}.png`,
      thumbnail: { path: `thumbnails/${s1.id}.webp`, mime: 'image/webp', width: 3, height: 2 },
    });
    expect(samples[0]).not.toHaveProperty('projectId');
    expect(samples[2]?.relativePath).toBe('garden/unknown.png');
    const project = readJson(files, 'project.json') as {
      project: ProjectRecord;
      labels: unknown[];
    };
    expect(project.project.settings.splits).toEqual({
      train: [s1.id, s3.id],
      validation: [s2.id],
    });
    expect(project.labels).toHaveLength(2);
    const embeddings = readJson(files, 'embeddings/index.json').embeddings as Record<
      string,
      unknown
    >[];
    expect(embeddings.map((e) => [e.key, e.dim, e.count, e.dtype])).toEqual([
      [KEY_B, 3, 2, 'float32'],
      [KEY_A, 4, 3, 'float32'],
    ]);
    const matrix = files['embeddings/mobilenet_v1_0.75_224@centre-crop#1.f32'];
    expect(matrix && [...new Float32Array(matrix.slice().buffer)]).toEqual([
      ...Float32Array.from([0.1, 0.2, 0.3, 0.4, 1, -2, 3.5, 1e-7, 9, 8, 7, 6]),
    ]);
    const model = readJson(files, `models/${modelId}.json`) as {
      payload: { head: { tensors: { data: unknown }[] } };
    };
    expect(model.payload.head.tensors[0]?.data).toEqual({
      $binary: `models/${modelId}/0.bin`,
      dtype: 'float32',
      length: 8,
    });
    expect(archiveFileName('My: "birds"')).toBe('My_ _birds_.loupe');
  });

  it('keeps unknown fields (forward compatibility) on restore and import', async () => {
    const seeded = await seedProject(db);
    const blob = await rewrite(await exportProjectArchive(db, seeded.project.id), (files) => {
      const m = readJson(files, 'manifest.json');
      files['manifest.json'] = new TextEncoder().encode(JSON.stringify({ ...m, writer: 'future' }));
      const p = readJson(files, 'project.json') as {
        project: Record<string, unknown>;
        labels: Record<string, unknown>[];
      };
      p.project.colourScheme = 'dusk';
      p.labels.forEach((l) => (l.colour = `#${String(l.name).length}00`));
      files['project.json'] = new TextEncoder().encode(
        JSON.stringify({ ...p, annotations: { by: 'someone' } }),
      );
      const s = readJson(files, 'samples.json') as { samples: Record<string, unknown>[] };
      s.samples.forEach((x, i) => {
        x.rating = i;
        (x.thumbnail as Record<string, unknown>).quality = 80;
      });
      files['samples.json'] = new TextEncoder().encode(JSON.stringify(s));
      const e = readJson(files, 'embeddings/index.json') as {
        embeddings: { records: Record<string, unknown>[] }[];
      };
      e.embeddings.forEach((set) => set.records.forEach((r) => (r.device = 'webgpu')));
      files['embeddings/index.json'] = new TextEncoder().encode(JSON.stringify(e));
      const mPath = `models/${seeded.model.id}.json`;
      files[mPath] = new TextEncoder().encode(
        JSON.stringify({ ...readJson(files, mPath), trainedOn: 'gpu' }),
      );
    });
    const restored = await readProjectArchive(blob);
    expect(restored.extras.manifest).toEqual({ writer: 'future' });
    expect(restored.extras.project).toEqual({ annotations: { by: 'someone' } });
    const imported = await writeRestoredProject(db, restored, { mode: 'new' });
    const after = await dump(imported.id);
    expect((after.project as unknown as Record<string, unknown>).colourScheme).toBe('dusk');
    expect(
      after.labels.map((l) => (l as unknown as Record<string, unknown>).colour).sort(),
    ).toEqual(['#500', '#600']);
    expect(
      after.samples.map((s) => (s as unknown as Record<string, unknown>).rating).sort(),
    ).toEqual([0, 1, 2]);
    expect(
      after.thumbnails.every((t) => (t as unknown as Record<string, unknown>).quality === 80),
    ).toBe(true);
    expect(
      after.embeddings.every((e) => (e as unknown as Record<string, unknown>).device === 'webgpu'),
    ).toBe(true);
    expect((after.models[0] as unknown as Record<string, unknown>).trainedOn).toBe('gpu');
  });

  it('exports an empty project and a missing project fails clearly', async () => {
    const empty = await projectsRepo.createProject(db, 'Empty');
    // A clock before 1980 (the zip epoch) still gives a valid archive.
    const archive = await exportProjectArchive(db, empty.id, { now: () => 0 });
    const restored = await readProjectArchive(archive);
    expect(restored.createdAt).toBe(0);
    expect(restored.samples).toEqual([]);
    const imported = await writeRestoredProject(db, restored, { mode: 'new' });
    expect((await db.get('projects', imported.id))?.name).toBe('Empty');
    await expect(exportProjectArchive(db, 'nope')).rejects.toMatchObject({ code: 'not-found' });
  });

  it('stops when the signal aborts', async () => {
    const seeded = await seedProject(db);
    const controller = new AbortController();
    const promise = exportProjectArchive(db, seeded.project.id, {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.done === 3) controller.abort();
      },
    });
    await expect(promise).rejects.toMatchObject({ name: 'AbortError' });
    const blob = await exportProjectArchive(db, seeded.project.id);
    const reading = new AbortController();
    reading.abort();
    await expect(readProjectArchive(blob, { signal: reading.signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
  });
});

describe('name conflicts and replace', () => {
  it('finds a same-named project and suggests a free name', async () => {
    await projectsRepo.createProject(db, 'Flowers');
    expect((await findNameConflict(db, '  flowers '))?.name).toBe('Flowers');
    expect(await findNameConflict(db, 'Birds')).toBeUndefined();
    expect(await suggestProjectName(db, 'Flowers')).toBe('Flowers (2)');
    await projectsRepo.createProject(db, 'Flowers (2)');
    expect(await suggestProjectName(db, 'flowers')).toBe('flowers (3)');
    expect(await suggestProjectName(db, 'Birds')).toBe('Birds');
  });

  it('replace swaps the project content and keeps its id, in one transaction', async () => {
    const seeded = await seedProject(db);
    const blob = await exportProjectArchive(db, seeded.project.id);
    // The user goes on editing, then restores the backup over it.
    await projectsRepo.updateProject(db, seeded.project.id, { name: 'Flowers' });
    await db.delete('samples', seeded.samples[0].id);
    const restored = await readProjectArchive(blob);
    const conflict = await findNameConflict(db, restored.project.name);
    expect(conflict?.id).toBe(seeded.project.id);
    const replaced = await writeRestoredProject(db, restored, {
      mode: 'replace',
      replaceProjectId: seeded.project.id,
    });
    expect(replaced.id).toBe(seeded.project.id);
    expect((await projectsRepo.listProjects(db)).map((p) => [p.name, p.imageCount])).toEqual([
      ['Flowers', 3],
    ]);
    expect(await countByProject(db, seeded.project.id)).toEqual({
      projects: 1,
      labels: 2,
      samples: 3,
      thumbnails: 3,
      embeddings: 5,
      models: 1,
      outOfFold: 0,
    });
  });

  it('leaves the project to replace untouched when a write fails midway', async () => {
    const seeded = await seedProject(db);
    const restored = await readProjectArchive(await exportProjectArchive(db, seeded.project.id));
    const before = await dump(seeded.project.id);
    // A value IndexedDB cannot clone makes the third sample's write throw (DataCloneError).
    const broken = {
      ...restored,
      samples: restored.samples.map((s, i) =>
        i === 2 ? { ...s, blob: (() => 1) as unknown as Blob } : s,
      ),
    };
    await expect(
      writeRestoredProject(db, broken, { mode: 'replace', replaceProjectId: seeded.project.id }),
    ).rejects.toThrow();
    expect(await dump(seeded.project.id)).toEqual(before);
    expect(await projectsRepo.listProjects(db)).toHaveLength(1);
    await expect(
      writeRestoredProject(db, restored, { mode: 'replace', replaceProjectId: 'gone' }),
    ).rejects.toMatchObject({ code: 'not-found' });
    expect(await projectsRepo.listProjects(db)).toHaveLength(1);
  });
});
