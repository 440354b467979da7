/** Storage slice: per-project sizes for the list, and imports refused before they start when they will not fit. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { LoupeDatabase } from '../../src/core/storage/db';
import { openLoupeDb } from '../../src/core/storage/db';
import type { StorageApi } from '../../src/core/storageStatus';
import type { LoupeStore } from '../../src/state/store';
import { createLoupeStore } from '../../src/state/store';
import type { ImportCall, ImportReport } from '../../src/worker/api';
import { seedProject } from '../fixtures/formats';
import { pngFile } from '../fixtures/images';

let db: LoupeDatabase;
let store: LoupeStore;
let imports: ImportCall[];
let room: { usage: number; quota: number };

beforeEach(async () => {
  db = await openLoupeDb();
  imports = [];
  room = { usage: 0, quota: 1024 ** 3 };
  const storage: StorageApi = { estimate: () => Promise.resolve({ ...room }) };
  const runImport = (call: ImportCall): Promise<ImportReport> => {
    imports.push(call);
    return Promise.resolve({
      added: [],
      duplicates: [],
      rejected: [],
      cancelled: false,
      elapsedMs: 0,
    });
  };
  store = createLoupeStore({ db: () => Promise.resolve(db), runImport, storage });
  return () => db.close();
});

describe('storage slice', () => {
  it('loads each project size in bytes', async () => {
    const seeded = await seedProject(db);
    await store.getState().loadProjectSizes();
    expect(store.getState().projectSizes[seeded.project.id]).toBeGreaterThan(0);
  });

  it('refuses an import that will not fit, before it starts, with a notice', async () => {
    const id = await store.getState().createProject('Room');
    await store.getState().openProject(id);
    const items = [{ file: pngFile('a.png', 4, 4), labelIds: [] }];
    room = { usage: 1024 ** 3 - 1000, quota: 1024 ** 3 };
    await store.getState().importFiles(items, 'drop');
    expect(imports).toHaveLength(0);
    expect(store.getState().importQueueLength).toBe(0);
    const notice = store.getState().notices.at(-1);
    expect(notice?.kind).toBe('error');
    expect(notice?.message).toMatch(
      /^This file needs about 32(\.\d)? KB of storage; 1000 bytes is free/,
    );

    room = { usage: 0, quota: 1024 ** 3 };
    await store.getState().importFiles(items, 'drop');
    expect(imports).toHaveLength(1);
  });
});
