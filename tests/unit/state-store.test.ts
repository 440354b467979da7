import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { PathedFile } from '../../src/core/dataset/folders';
import type { ImportReport } from '../../src/core/dataset/importer';
import { importFiles } from '../../src/core/dataset/importer';
import { SYSTEM_FILE_REASON } from '../../src/core/dataset/screen';
import type { LoupeDatabase } from '../../src/core/storage/db';
import { openLoupeDb } from '../../src/core/storage/db';
import * as labelsRepo from '../../src/core/storage/labels';
import * as projectsRepo from '../../src/core/storage/projects';
import * as samplesRepo from '../../src/core/storage/samples';
import type { Services } from '../../src/state/services';
import type { LoupeStore } from '../../src/state/store';
import { createLoupeStore } from '../../src/state/store';
import type { ImportCall } from '../../src/worker/api';
import { createFakeDecoder, pngFile, textFile } from '../fixtures/images';
import { newSample } from '../fixtures/records';

let db: LoupeDatabase;
let store: LoupeStore;
let importCalls: ImportCall[];

/** The in-process import runner the brief describes, with small chunks. */
function inProcessImport(call: ImportCall): Promise<ImportReport> {
  importCalls.push(call);
  return importFiles(db, call.items, {
    projectId: call.projectId,
    source: call.source,
    decoder: createFakeDecoder(),
    signal: call.signal,
    onProgress: call.onProgress,
    onChunk: call.onChunk,
    chunkSize: 2,
  });
}

function makeStore(runImport: Services['runImport'] = inProcessImport): LoupeStore {
  const dbPromise = Promise.resolve(db);
  return createLoupeStore({ db: () => dbPromise, runImport });
}

beforeEach(async () => {
  db = await openLoupeDb();
  importCalls = [];
  store = makeStore();
});

const state = (): ReturnType<LoupeStore['getState']> => store.getState();

let seed = 0;
const png = (path: string): PathedFile => ({
  file: pngFile(path.split('/').pop() ?? path, 4, 3, ++seed),
  path,
});

/** Creates and opens a project, returning its id. */
async function openNewProject(name = 'Board'): Promise<string> {
  const id = await state().createProject(name);
  expect(await state().openProject(id)).toBe(true);
  return id;
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('projects slice', () => {
  it('creates and loads projects with counts', async () => {
    expect(state().projectsLoaded).toBe(false);
    const id = await state().createProject('Birds');
    expect(state().projectsLoaded).toBe(true);
    expect(state().projects.map((p) => [p.id, p.name, p.imageCount, p.labelCount])).toEqual([
      [id, 'Birds', 0, 0],
    ]);
    const label = await labelsRepo.addLabel(db, id, 'Robin');
    await samplesRepo.insertSamples(db, [newSample(id, { labelIds: [label.id] }), newSample(id)]);
    await state().loadProjects();
    expect(state().projects[0]).toMatchObject({ id, imageCount: 2, labelCount: 1 });

    const untitled = await state().createProject();
    expect(state().projects.find((p) => p.id === untitled)?.name).toBe('Untitled project');
    expect(state().projects).toHaveLength(2);
  });

  it('renames, duplicates and deletes projects, closing a deleted open project', async () => {
    const id = await openNewProject('Original');
    await state().addLabel('A');
    await state().renameProject(id, 'Renamed');
    expect(state().project?.name).toBe('Renamed');
    const copyId = await state().duplicateProject(id);
    expect(state().projects.find((p) => p.id === copyId)).toMatchObject({
      name: 'Renamed (copy)',
      labelCount: 1,
    });
    await state().deleteProject(id);
    expect(state().project).toBeNull();
    expect(state().labels).toEqual([]);
    expect(state().projects.map((p) => p.id)).toEqual([copyId]);
    expect(await projectsRepo.getProject(db, id)).toBeUndefined();
  });
});

describe('board slice', () => {
  it('opens a project with its labels and samples, and refuses a missing one', async () => {
    const id = await state().createProject('Seeded');
    const a = await labelsRepo.addLabel(db, id, 'A');
    const b = await labelsRepo.addLabel(db, id, 'B');
    const s1 = newSample(id, { name: 's1.png', labelIds: [a.id], createdAt: 1 });
    const s2 = newSample(id, { name: 's2.png', createdAt: 2 });
    await samplesRepo.insertSamples(db, [s1, s2]);
    const other = await projectsRepo.createProject(db, 'Other');
    await samplesRepo.insertSamples(db, [newSample(other.id)]);

    expect(await state().openProject(id)).toBe(true);
    expect(state().boardLoading).toBe(false);
    expect(state().project?.id).toBe(id);
    expect(state().labels.map((l) => l.id)).toEqual([a.id, b.id]);
    expect(state().samples.map((s) => s.name)).toEqual(['s1.png', 's2.png']);
    expect(state().samples[0]).not.toHaveProperty('blob');
    expect(state().selection.size).toBe(0);

    expect(await state().openProject('missing')).toBe(false);
    expect(state().project).toBeNull();
    expect(state().samples).toEqual([]);

    await state().openProject(id);
    state().closeProject();
    expect(state().project).toBeNull();
    expect(state().labels).toEqual([]);
  });

  it('adds and renames labels, keeping the store in step with the database', async () => {
    const id = await openNewProject();
    const first = await state().addLabel();
    const roses = await state().addLabel('Roses');
    expect(state().labels.map((l) => l.name)).toEqual(['Class 1', 'Roses']);
    await expect(state().addLabel('roses')).rejects.toThrow(/already exists/);
    expect(state().labels).toHaveLength(2);

    await state().renameLabel(first.id, 'Daisies');
    expect(state().labels.map((l) => l.name)).toEqual(['Daisies', 'Roses']);
    await expect(state().renameLabel(first.id, 'ROSES')).rejects.toThrow(/already exists/);
    expect(state().labels.map((l) => l.name)).toEqual(['Daisies', 'Roses']);
    expect((await labelsRepo.listLabels(db, id)).map((l) => l.name)).toEqual(['Daisies', 'Roses']);
    expect(roses.projectId).toBe(id);
  });

  it('fails label actions clearly when no project is open', async () => {
    await expect(state().addLabel('x')).rejects.toThrow(/No project is open/);
  });

  it('moves samples to a label and back to the inbox', async () => {
    const id = await openNewProject();
    const label = await state().addLabel('Cats');
    await state().addFiles([png('a.png'), png('b.png'), png('c.png')], { kind: 'inbox' }, 'drop');
    const [a, b, c] = state().samples.map((s) => s.id);
    await state().moveSamples([a!, b!], label.id);
    expect(state().samples.map((s) => s.labelIds)).toEqual([[label.id], [label.id], []]);
    await state().moveSamples([b!], null);
    expect(state().samples.map((s) => s.labelIds)).toEqual([[label.id], [], []]);
    const stored = await samplesRepo.listSampleMeta(db, id);
    expect(new Map(stored.map((s) => [s.id, s.labelIds]))).toEqual(
      new Map([
        [a!, [label.id]],
        [b!, []],
        [c!, []],
      ]),
    );
  });

  it('deletes samples, dropping them from the selection', async () => {
    const id = await openNewProject();
    await state().addFiles([png('a.png'), png('b.png'), png('c.png')], { kind: 'inbox' }, 'drop');
    const [a, b, c] = state().samples.map((s) => s.id) as [string, string, string];
    state().selectMany([a, b, c]);
    await state().deleteSamples([a, c]);
    expect(state().samples.map((s) => s.id)).toEqual([b]);
    expect([...state().selection]).toEqual([b]);
    expect((await samplesRepo.listSampleMeta(db, id)).map((s) => s.id)).toEqual([b]);
    expect(await samplesRepo.getThumbnail(db, a)).toBeUndefined();
  });

  it('selects by replace, toggle and range', () => {
    const ids = ['s0', 's1', 's2', 's3', 's4', 's5'];
    // Range without an anchor behaves like replace.
    state().select('s2', 'range', ids);
    expect([...state().selection]).toEqual(['s2']);
    expect(state().selectionAnchor).toBe('s2');

    state().select('s1', 'replace', ids);
    expect([...state().selection]).toEqual(['s1']);
    state().select('s3', 'toggle', ids);
    expect([...state().selection].sort()).toEqual(['s1', 's3']);
    expect(state().selectionAnchor).toBe('s3');
    state().select('s1', 'toggle', ids);
    expect([...state().selection]).toEqual(['s3']);
    expect(state().selectionAnchor).toBe('s1');

    // Range from the anchor (s1) to s4, added to the selection, anchor unchanged.
    state().select('s4', 'range', ids);
    expect([...state().selection].sort()).toEqual(['s1', 's2', 's3', 's4']);
    expect(state().selectionAnchor).toBe('s1');
    // Backwards range.
    state().select('s5', 'replace', ids);
    state().select('s3', 'range', ids);
    expect([...state().selection].sort()).toEqual(['s3', 's4', 's5']);
    // An id missing from the visible order falls back to replace.
    state().select('hidden', 'range', ids);
    expect([...state().selection]).toEqual(['hidden']);

    state().selectMany(['s0', 's1']);
    expect(state().selectionAnchor).toBe('s0');
    state().clearSelection();
    expect(state().selection.size).toBe(0);
    expect(state().selectionAnchor).toBeNull();
  });

  it("deletes a label with 'move-to-inbox', keeping its images unlabelled", async () => {
    const id = await openNewProject();
    const cats = await state().addLabel('Cats');
    const dogs = await state().addLabel('Dogs');
    await state().addFiles(
      [png('c1.png'), png('c2.png')],
      { kind: 'label', labelId: cats.id },
      'drop',
    );
    await state().addFiles([png('d1.png')], { kind: 'label', labelId: dogs.id }, 'drop');
    state().setActiveLabel(cats.id);
    state().selectMany(state().samples.map((s) => s.id));

    await state().deleteLabel(cats.id, 'move-to-inbox');
    expect(state().labels.map((l) => l.name)).toEqual(['Dogs']);
    expect(state().samples.map((s) => [s.name, s.labelIds])).toEqual([
      ['c1.png', []],
      ['c2.png', []],
      ['d1.png', [dogs.id]],
    ]);
    expect(state().selection.size).toBe(3);
    expect(state().activeLabelId).toBeNull();
    expect(await labelsRepo.listLabels(db, id)).toHaveLength(1);
  });

  it("deletes a label with 'delete-images', pruning samples and selection", async () => {
    const id = await openNewProject();
    const cats = await state().addLabel('Cats');
    const dogs = await state().addLabel('Dogs');
    await state().addFiles(
      [png('c1.png'), png('c2.png')],
      { kind: 'label', labelId: cats.id },
      'drop',
    );
    await state().addFiles([png('d1.png')], { kind: 'label', labelId: dogs.id }, 'drop');
    state().setActiveLabel(dogs.id);
    state().selectMany(state().samples.map((s) => s.id));

    await state().deleteLabel(cats.id, 'delete-images');
    expect(state().labels.map((l) => l.name)).toEqual(['Dogs']);
    expect(state().samples.map((s) => s.name)).toEqual(['d1.png']);
    expect([...state().selection]).toEqual([state().samples[0]?.id]);
    expect(state().activeLabelId).toBe(dogs.id);
    expect(await db.countFromIndex('samples', 'byProject', id)).toBe(1);
    expect(await db.countFromIndex('thumbnails', 'byProject', id)).toBe(1);
  });

  it('merges labels and reloads the board', async () => {
    await openNewProject();
    const a = await state().addLabel('A');
    const b = await state().addLabel('B');
    await state().addFiles([png('a.png')], { kind: 'label', labelId: a.id }, 'drop');
    await state().addFiles([png('b.png')], { kind: 'label', labelId: b.id }, 'drop');
    await state().mergeLabels(a.id, b.id);
    expect(state().labels.map((l) => l.id)).toEqual([b.id]);
    expect(state().samples.map((s) => s.labelIds)).toEqual([[b.id], [b.id]]);
  });
});

describe('import slice', () => {
  it('adds files to a label, keeping folder paths as relativePath', async () => {
    const id = await openNewProject();
    const label = await state().addLabel('Cats');
    await state().addFiles(
      [png('cat.png'), png('holiday/cat2.png')],
      { kind: 'label', labelId: label.id },
      'file-picker',
    );
    expect(state().samples.map((s) => [s.name, s.labelIds, s.relativePath, s.source])).toEqual([
      ['cat.png', [label.id], undefined, 'file-picker'],
      ['cat2.png', [label.id], 'holiday/cat2.png', 'file-picker'],
    ]);
    expect(await labelsRepo.countByLabel(db, label.id)).toBe(2);
    expect(importCalls).toHaveLength(1);
    expect(importCalls[0]?.projectId).toBe(id);
    expect(state().importProgress).toBeNull();
    expect(state().importQueueLength).toBe(0);
  });

  it('adds files to the inbox without labels', async () => {
    await openNewProject();
    await state().addLabel('Unused');
    await state().addFiles([png('x.png'), png('y.png'), png('z.png')], { kind: 'inbox' }, 'paste');
    expect(state().samples.map((s) => s.labelIds)).toEqual([[], [], []]);
    expect(state().samples.every((s) => s.source === 'paste')).toBe(true);
  });

  it('turns folders dropped on the board into labels, reusing existing ones by name', async () => {
    const id = await openNewProject();
    const existing = await state().addLabel('Daisy');
    await state().addFiles(
      [
        png('flowers/daisy/1.png'),
        png('flowers/rose/2.png'),
        png('flowers/rose/3.png'),
        png('flowers/.DS_Store'),
        png('loose.png'),
      ],
      { kind: 'board' },
      'folder',
    );
    expect(state().labels.map((l) => l.name)).toEqual(['Daisy', 'rose']);
    const rose = state().labels[1]!;
    expect(state().samples.map((s) => [s.relativePath, s.labelIds])).toEqual([
      ['flowers/daisy/1.png', [existing.id]],
      ['flowers/rose/2.png', [rose.id]],
      ['flowers/rose/3.png', [rose.id]],
      ['loose.png', []],
    ]);
    expect(await labelsRepo.listLabels(db, id)).toHaveLength(2);
    expect(state().notices.at(-1)).toMatchObject({
      kind: 'info',
      message: 'Added 4 images. 1 file rejected.',
      rejected: [{ name: 'flowers/.DS_Store', reason: SYSTEM_FILE_REASON }],
    });
  });

  it('does nothing without files or without an open project', async () => {
    await state().addFiles([png('a.png')], { kind: 'inbox' }, 'drop');
    await state().importFiles([{ file: pngFile('b.png', 2, 2), labelIds: [] }], 'drop');
    await openNewProject();
    await state().addFiles([], { kind: 'board' }, 'drop');
    expect(importCalls).toEqual([]);
    expect(state().notices).toEqual([]);
  });

  it('pushes a notice listing rejected files, including those rejected up front', async () => {
    await openNewProject();
    await state().importFiles(
      [
        { file: pngFile('good.png', 2, 2, 1), labelIds: [] },
        { file: textFile('notes.txt', 'hi'), labelIds: [] },
        { file: pngFile('good.png', 2, 2, 1), labelIds: [] },
      ],
      'drop',
      [{ name: 'archive.zip/big.tif', reason: 'TIFF images are not supported' }],
    );
    expect(state().samples.map((s) => s.name)).toEqual(['good.png']);
    expect(state().notices).toHaveLength(1);
    const notice = state().notices[0]!;
    expect(notice.kind).toBe('error');
    expect(notice.message).toBe('Added 1 image. 1 duplicate skipped. 2 files rejected.');
    expect(notice.rejected).toEqual([
      { name: 'archive.zip/big.tif', reason: 'TIFF images are not supported' },
      { name: 'notes.txt', reason: 'not an image (text/plain)' },
    ]);
    // The project list counts refresh after an import.
    await vi.waitFor(() => expect(state().projects[0]?.imageCount).toBe(1));

    state().dismissNotice(notice.id);
    expect(state().notices).toEqual([]);
  });

  it('keeps at most five notices', () => {
    for (let i = 0; i < 7; i++)
      state().pushNotice({ kind: 'info', message: `n${i}`, rejected: [] });
    expect(state().notices.map((n) => n.message)).toEqual(['n2', 'n3', 'n4', 'n5', 'n6']);
    expect(new Set(state().notices.map((n) => n.id)).size).toBe(5);
  });

  it('runs imports one after another, in order', async () => {
    const events: string[] = [];
    const gate = deferred<void>();
    store = makeStore(async (call) => {
      const name = call.items[0]?.file.name ?? '?';
      events.push(`start ${name}`);
      if (name === 'first.png') await gate.promise;
      const report = await inProcessImport(call);
      events.push(`end ${name}`);
      return report;
    });
    await openNewProject();
    const first = state().importFiles(
      [{ file: pngFile('first.png', 2, 2, 1), labelIds: [] }],
      'drop',
    );
    const second = state().importFiles(
      [{ file: pngFile('second.png', 2, 2, 2), labelIds: [] }],
      'drop',
    );
    expect(state().importQueueLength).toBe(2);
    await vi.waitFor(() => expect(events).toEqual(['start first.png']));
    // The second import waits for the first, however long it takes.
    await new Promise((r) => setTimeout(r, 20));
    expect(events).toEqual(['start first.png']);
    expect(state().importProgress).toMatchObject({ done: 0, total: 1 });
    gate.resolve();
    await Promise.all([first, second]);
    expect(events).toEqual([
      'start first.png',
      'end first.png',
      'start second.png',
      'end second.png',
    ]);
    expect(state().importQueueLength).toBe(0);
    expect(state().importProgress).toBeNull();
    expect(state().samples.map((s) => s.name)).toEqual(['first.png', 'second.png']);
    expect(state().notices.map((n) => n.message)).toEqual(['Added 1 image.', 'Added 1 image.']);
  });

  it('reports progress while importing and cancels the running import', async () => {
    const progress: number[] = [];
    await openNewProject();
    // Cancel as soon as the first chunk (2 files) reaches the board.
    const unsubscribe = store.subscribe((s, prev) => {
      if (s.importProgress && s.importProgress !== prev.importProgress) {
        progress.push(s.importProgress.done);
      }
      if (s.samples.length > 0 && prev.samples.length === 0) s.cancelImport();
    });
    const files = Array.from({ length: 6 }, (_, i) => png(`p${i}.png`));
    await state().addFiles(files, { kind: 'inbox' }, 'drop');
    unsubscribe();
    expect(state().samples.map((s) => s.name)).toEqual(['p0.png', 'p1.png']);
    expect(progress).toEqual([0, 0, 2]);
    expect(state().notices.at(-1)?.message).toBe(
      'Added 2 images. Import cancelled; everything added before stopping was kept.',
    );
    expect(await db.countFromIndex('samples', 'byProject', state().project!.id)).toBe(2);
    expect(await db.countFromIndex('thumbnails', 'byProject', state().project!.id)).toBe(2);
  });

  it('reports a failed import and keeps the queue going', async () => {
    let calls = 0;
    store = makeStore(async (call) => {
      calls++;
      if (calls === 1) throw new Error('worker crashed');
      return inProcessImport(call);
    });
    await openNewProject();
    await state().importFiles([{ file: pngFile('a.png', 2, 2, 1), labelIds: [] }], 'drop', [
      { name: 'up-front.heic', reason: 'HEIC images are not supported' },
    ]);
    expect(state().notices.at(-1)).toMatchObject({
      kind: 'error',
      message: 'Import failed: worker crashed. Images added before the failure were kept.',
      rejected: [{ name: 'up-front.heic', reason: 'HEIC images are not supported' }],
    });
    expect(state().importQueueLength).toBe(0);
    await state().importFiles([{ file: pngFile('b.png', 2, 2, 2), labelIds: [] }], 'drop');
    expect(state().samples.map((s) => s.name)).toEqual(['b.png']);
  });

  it('keeps importing after a failed import whose board reload also failed', async () => {
    let storageDown = false;
    let calls = 0;
    store = createLoupeStore({
      db: () =>
        storageDown ? Promise.reject(new Error('storage unavailable')) : Promise.resolve(db),
      runImport: async (call) => {
        calls++;
        if (calls === 1) {
          storageDown = true;
          throw new Error('worker crashed');
        }
        return inProcessImport(call);
      },
    });
    await openNewProject();
    await expect(
      state().importFiles([{ file: pngFile('a.png', 2, 2, 1), labelIds: [] }], 'drop'),
    ).rejects.toThrow('storage unavailable');
    expect(state().notices.at(-1)?.message).toMatch(/^Import failed: worker crashed/);
    storageDown = false;
    await state().importFiles([{ file: pngFile('b.png', 2, 2, 2), labelIds: [] }], 'drop');
    expect(calls).toBe(2);
    expect(state().samples.map((s) => s.name)).toEqual(['b.png']);
    expect(state().importQueueLength).toBe(0);
  });

  it('only appends imported samples that belong to the open project', async () => {
    const id = await openNewProject();
    const other = await projectsRepo.createProject(db, 'Other');
    const foreign = samplesRepo.toMeta(newSample(other.id).sample);
    const mine = samplesRepo.toMeta(newSample(id).sample);
    state().appendSamples([foreign, mine]);
    expect(state().samples.map((s) => s.id)).toEqual([mine.id]);
  });
});
