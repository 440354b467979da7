/**
 * Restoring an archive through a staging (the data worker's path, worker/archiveImport.ts): the
 * staged project stays invisible until it is finished, then equals, byte for byte, what the
 * in-memory restore writes; a replace keeps the replaced project's id; a cancelled, failed or
 * dismissed restore leaves no record behind; a staging a closed tab left is swept on the next
 * open, while one another tab is still writing (it holds its Web Lock) is left alone.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { exportProjectArchive, readProjectArchive } from '../../src/core/formats';
import { openLoupeDb, type LoupeDatabase } from '../../src/core/storage/db';
import * as projectsRepo from '../../src/core/storage/projects';
import { writeRestoredProject } from '../../src/core/storage/restoreProject';
import { ALL_STORES, type StoreName } from '../../src/core/storage/schema';
import { StagedRestore } from '../../src/core/storage/stagedRestore';
import { archiveImports } from '../../src/worker/archiveImport';
import { countByProject } from '../fixtures/records';
import { rewrite, samplesOf, seedProject, unzipBlob, type ArchiveFiles } from '../fixtures/formats';

const NOW = 1_700_000_000_000;
let db: LoupeDatabase;

beforeEach(async () => {
  db = await openLoupeDb();
  return () => db.close();
});

afterEach(() => {
  vi.unstubAllGlobals();
});

const signal = (): AbortSignal => new AbortController().signal;

/** Records of every project-owned store, whichever project they belong to. */
async function recordCount(): Promise<number> {
  let n = 0;
  for (const store of ALL_STORES as StoreName[]) n += await db.count(store);
  return n;
}

/** The archive's files with every id of `from`'s project renamed to `to`'s (matched by name). */
async function renamed(files: ArchiveFiles, fromId: string, toId: string): Promise<ArchiveFiles> {
  const pairs: [string, string][] = [[fromId, toId]];
  for (const store of ['labels', 'samples'] as const) {
    const from = await db.getAllFromIndex(store, 'byProject', fromId);
    const to = await db.getAllFromIndex(store, 'byProject', toId);
    for (const r of from) pairs.push([r.id, to.find((t) => t.name === r.name)?.id ?? '?']);
  }
  const fromModels = await db.getAllFromIndex('models', 'byProject', fromId);
  const toModels = await db.getAllFromIndex('models', 'byProject', toId);
  fromModels.forEach((m, i) => pairs.push([m.id, toModels[i]?.id ?? '?']));
  const swap = (text: string): string => pairs.reduce((t, [a, b]) => t.split(a).join(b), text);
  const out: ArchiveFiles = {};
  for (const [name, bytes] of Object.entries(files)) {
    out[swap(name)] = name.endsWith('.json')
      ? new TextEncoder().encode(swap(new TextDecoder().decode(bytes)))
      : bytes;
  }
  return out;
}

function fakeLocks(): { held: Set<string> } & Record<'request' | 'query', unknown> {
  const held = new Set<string>();
  return {
    held,
    async request(name: string, callback: () => Promise<void>) {
      held.add(name);
      try {
        await callback();
      } finally {
        held.delete(name);
      }
    },
    query: () => Promise.resolve({ held: [...held].map((name) => ({ name })), pending: [] }),
  };
}

describe('staged archive restore', () => {
  it('stays invisible until finished, then equals the in-memory restore byte for byte', async () => {
    const seeded = await seedProject(db);
    const archive = await exportProjectArchive(db, seeded.project.id, { now: () => NOW });
    const imports = archiveImports(() => Promise.resolve(db));
    const progress: { done: number; total: number }[] = [];
    const summary = await imports.inspect(archive, signal(), (p) => progress.push(p));
    expect(summary).toMatchObject({ name: 'Flowers', images: 3, labels: 2, models: 1 });
    expect(summary.warnings).toEqual([]);
    expect(summary.conflict).toMatchObject({ id: seeded.project.id });
    expect(progress.at(-1)).toEqual({ done: 19, total: 19 });
    // Staged: written, but no project shows it.
    expect((await projectsRepo.listProjects(db)).map((p) => p.id)).toEqual([seeded.project.id]);
    expect(await db.count('samples')).toBe(6);

    const staged = await imports.finish(summary.token, {
      mode: 'new',
      name: 'Staged',
      now: () => NOW,
    });
    const memory = await writeRestoredProject(db, await readProjectArchive(archive), {
      mode: 'new',
      name: 'Staged',
      now: () => NOW,
    });
    expect(await countByProject(db, staged.id)).toEqual(await countByProject(db, memory.id));
    const fromStaged = await unzipBlob(
      await exportProjectArchive(db, staged.id, { now: () => NOW }),
    );
    const fromMemory = await unzipBlob(
      await exportProjectArchive(db, memory.id, { now: () => NOW }),
    );
    expect(await renamed(fromMemory, memory.id, staged.id)).toEqual(fromStaged);
    // And the images are the original bytes.
    const original = await unzipBlob(archive);
    const stagedImages = Object.keys(fromStaged).filter((n) => n.startsWith('images/'));
    expect(stagedImages.map((n) => fromStaged[n]).sort()).toEqual(
      Object.keys(original)
        .filter((n) => n.startsWith('images/'))
        .map((n) => original[n])
        .sort(),
    );
    await expect(imports.finish(summary.token, { mode: 'new' })).rejects.toThrow(
      /no longer loaded/,
    );
  });

  it('replaces a project in place, keeping its id, with nothing left under the staging', async () => {
    const seeded = await seedProject(db);
    const archive = await exportProjectArchive(db, seeded.project.id);
    const other = await projectsRepo.createProject(db, 'Other');
    const imports = archiveImports(() => Promise.resolve(db));
    const summary = await imports.inspect(archive, signal(), undefined);
    const before = await recordCount();
    const replaced = await imports.finish(summary.token, {
      mode: 'replace',
      replaceProjectId: other.id,
    });
    expect(replaced.id).toBe(other.id);
    expect(replaced.name).toBe('Flowers');
    expect(await countByProject(db, other.id)).toEqual(await countByProject(db, seeded.project.id));
    // The staged records moved: the store holds no more than before (one project record swapped).
    expect(await recordCount()).toBe(before);
    await archiveImports(() => Promise.resolve(db)).sweep(db);
    expect(await recordCount()).toBe(before);
  });

  it('a cancelled, failed or dismissed restore leaves nothing behind', async () => {
    const seeded = await seedProject(db);
    const archive = await exportProjectArchive(db, seeded.project.id);
    const imports = archiveImports(() => Promise.resolve(db));
    const before = await recordCount();

    const controller = new AbortController();
    const cancelled = imports.inspect(archive, controller.signal, (p) => {
      if (p.done === 12) controller.abort();
    });
    await expect(cancelled).rejects.toThrow();
    expect(await recordCount()).toBe(before);

    // The last image does not match its checksum: found after the others were staged.
    const damaged = await rewrite(archive, (files) => {
      const last = samplesOf(files).at(-1) as { image: string };
      const bytes = files[last.image]!.slice();
      bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0xff;
      files[last.image] = bytes;
    });
    await expect(imports.inspect(damaged, signal(), undefined)).rejects.toMatchObject({
      code: 'checksum-mismatch',
    });
    expect(await recordCount()).toBe(before);

    const summary = await imports.inspect(archive, signal(), undefined);
    expect(await recordCount()).toBeGreaterThan(before);
    await imports.dismiss(summary.token);
    expect(await recordCount()).toBe(before);
  });

  it('sweeps what a closed tab left, never what another tab is still writing', async () => {
    const locks = fakeLocks();
    vi.stubGlobal('navigator', { locks });
    const seeded = await seedProject(db);
    const archive = await exportProjectArchive(db, seeded.project.id);
    const before = await recordCount();

    // Another tab with an archive staged, waiting for the user (it holds its lock).
    const otherTab = archiveImports(() => Promise.resolve(db));
    const waiting = await otherTab.inspect(archive, signal(), undefined);
    expect(locks.held.size).toBe(1);
    const staged = await recordCount();
    // A tab that staged an archive and was closed (no lock held any more).
    const restored = await readProjectArchive(archive);
    const left = await StagedRestore.begin(db, {
      project: restored.project,
      labels: restored.labels,
      sampleIds: restored.samples.map((s) => s.id),
    });
    await left.write(restored);
    expect(await recordCount()).toBe(staged + (staged - before));

    // This tab opens: the closed tab's staging goes, the other tab's stays.
    const thisTab = archiveImports(() => Promise.resolve(db));
    await thisTab.sweep(db);
    expect(await recordCount()).toBe(staged);
    const project = await otherTab.finish(waiting.token, { mode: 'new', name: 'Kept' });
    expect(await countByProject(db, project.id)).toEqual(
      await countByProject(db, seeded.project.id),
    );
    expect(locks.held.size).toBe(0);
  });

  it('measures the uncompressed size the archive declares', async () => {
    const seeded = await seedProject(db);
    const archive = await exportProjectArchive(db, seeded.project.id);
    const files = await unzipBlob(archive);
    const declared = Object.values(files).reduce((n, bytes) => n + bytes.length, 0);
    const imports = archiveImports(() => Promise.resolve(db));
    expect(await imports.measure(archive)).toBe(declared);
    expect(declared).toBeGreaterThan(archive.size);
  });
});
