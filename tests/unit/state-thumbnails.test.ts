import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { LoupeDatabase } from '../../src/core/storage/db';
import { openLoupeDb } from '../../src/core/storage/db';
import * as projectsRepo from '../../src/core/storage/projects';
import * as samplesRepo from '../../src/core/storage/samples';
import { cachedThumbnailUrl, forgetThumbnails, loadThumbnailUrl } from '../../src/state/thumbnails';
import { newSample } from '../fixtures/records';

let db: LoupeDatabase;

beforeEach(async () => {
  db = await openLoupeDb();
  return () => {
    forgetThumbnails();
    db.close();
  };
});

describe('thumbnail URLs', () => {
  it('batches the requests of one task into one read and caches each URL once', async () => {
    const project = await projectsRepo.createProject(db, 'Thumbs');
    const batch = Array.from({ length: 100 }, (_, i) =>
      newSample(project.id, { name: `s${i}.png`, content: `thumb-${i}` }),
    );
    await samplesRepo.insertSamples(db, batch);
    const ids = batch.map((b) => b.sample.id);
    const read = vi.spyOn(samplesRepo, 'getThumbnails');
    let created = 0;
    const create = vi.spyOn(URL, 'createObjectURL').mockImplementation(() => `blob:${created++}`);
    vi.spyOn(URL, 'revokeObjectURL').mockImplementation(() => undefined);
    const opened = () => Promise.resolve(db);
    const first = ids.map((id) => loadThumbnailUrl(opened, id));
    const again = loadThumbnailUrl(opened, ids[0]!);
    const urls = await Promise.all([...first, loadThumbnailUrl(opened, 'missing')]);
    expect(await again).toBe(urls[0]);
    expect(urls.slice(0, 100).every((u) => typeof u === 'string')).toBe(true);
    expect(new Set(urls.slice(0, 100)).size).toBe(100);
    expect(urls[100]).toBeNull();
    expect(create).toHaveBeenCalledTimes(100);
    // 101 distinct ids requested in one task: two reads of at most 64, not 101.
    expect(read).toHaveBeenCalledTimes(2);
    expect(cachedThumbnailUrl(ids[5]!)).toBe(urls[5]);
    expect(await loadThumbnailUrl(opened, ids[5]!)).toBe(urls[5]);
    expect(read).toHaveBeenCalledTimes(2);
    vi.restoreAllMocks();
  });
});
