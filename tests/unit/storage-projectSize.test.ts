/** Per-project storage sizes and the "will this import fit" decision. */
import { beforeEach, describe, expect, it } from 'vitest';
import { estimateImportBytes, importFit, PER_IMAGE_OVERHEAD } from '../../src/core/importFit';
import { openLoupeDb, type LoupeDatabase } from '../../src/core/storage/db';
import { createProject } from '../../src/core/storage/projects';
import { projectSizes, typedArrayBytes } from '../../src/core/storage/projectSize';
import { seedProject } from '../fixtures/formats';

let db: LoupeDatabase;
beforeEach(async () => {
  db = await openLoupeDb();
  return () => db.close();
});

describe('project sizes', () => {
  it('sums image bytes, thumbnails, embeddings and model weights per project', async () => {
    const seeded = await seedProject(db);
    const other = await seedProject(db, 'Other');
    const empty = await createProject(db, 'Empty', 'single-label');

    const samples = await db.getAllFromIndex('samples', 'byProject', seeded.project.id);
    const thumbs = await db.getAllFromIndex('thumbnails', 'byProject', seeded.project.id);
    const vectors = (await db.getAll('embeddings')).filter(
      (e) => e.projectId === seeded.project.id,
    );
    const models = await db.getAllFromIndex('models', 'byProject', seeded.project.id);
    const expected = {
      images: samples.reduce((n, s) => n + s.byteSize, 0),
      thumbnails: thumbs.reduce((n, t) => n + t.blob.size, 0),
      embeddings: vectors.reduce((n, e) => n + e.vector.byteLength, 0),
      models: models.reduce((n, m) => n + typedArrayBytes(m.payload), 0),
    };
    expect(expected.images).toBeGreaterThan(0);
    expect(expected.embeddings).toBeGreaterThan(0);
    expect(expected.models).toBeGreaterThan(0);

    const sizes = await projectSizes(db);
    expect(sizes.get(seeded.project.id)).toEqual({
      ...expected,
      total: expected.images + expected.thumbnails + expected.embeddings + expected.models,
    });
    expect(sizes.get(other.project.id)?.total).toBe(sizes.get(seeded.project.id)?.total);
    expect(sizes.has(empty.id)).toBe(false);
  });

  it('counts typed arrays anywhere in a value, once each', () => {
    const shared = new Float32Array(4);
    expect(typedArrayBytes({ a: shared, b: [new Uint8Array(3), { c: shared }], d: 'x' })).toBe(
      16 + 3 + 16,
    );
    const loop: Record<string, unknown> = { w: new Float64Array(2) };
    loop.self = loop;
    expect(typedArrayBytes(loop)).toBe(16);
  });
});

describe('import fit', () => {
  const GB = 1024 ** 3;
  const MB = 1024 ** 2;

  it('refuses files that will not fit, saying what is needed and what is free', () => {
    const need = { kind: 'files', files: 1234, bytes: 2 * GB } as const;
    expect(estimateImportBytes(need)).toBe(2 * GB + 1234 * PER_IMAGE_OVERHEAD);
    const verdict = importFit(need, { usage: 9 * GB + 224 * MB, quota: 10 * GB });
    expect(verdict.fits).toBe(false);
    if (verdict.fits) return;
    expect(verdict.free).toBe(800 * MB);
    expect(verdict.message).toBe(
      'These 1,234 files need about 2 GB of storage; 800 MB is free. Nothing was imported. ' +
        'Free space (empty the trash, delete projects you have exported) or import fewer files.',
    );
  });

  it('lets an import through when it fits or when the browser does not say', () => {
    const need = { kind: 'files', files: 10, bytes: 5 * MB } as const;
    expect(importFit(need, { usage: 0, quota: GB })).toEqual({ fits: true });
    expect(importFit(need, { usage: null, quota: null })).toEqual({ fits: true });
    expect(importFit(need, { usage: 10, quota: 0 })).toEqual({ fits: true });
    // Exactly full: the overhead counts.
    const exact = estimateImportBytes(need);
    expect(importFit(need, { usage: GB - exact, quota: GB }).fits).toBe(true);
    expect(importFit(need, { usage: GB - exact + 1, quota: GB }).fits).toBe(false);
  });

  it('sizes an archive by its file', () => {
    const need = { kind: 'archive', name: 'flowers.loupe', bytes: 500 * MB } as const;
    const verdict = importFit(need, { usage: 1.9 * GB, quota: 2 * GB });
    expect(verdict.fits).toBe(false);
    if (!verdict.fits)
      expect(verdict.message).toMatch(/^The archive flowers\.loupe needs about 550 MB/);
  });
});
