import { beforeEach, describe, expect, it, vi } from 'vitest';
import { defaultBackboneSpec } from '../../src/core/backbone/specs';
import type { LoupeDatabase } from '../../src/core/storage/db';
import { openLoupeDb } from '../../src/core/storage/db';
import * as projectsRepo from '../../src/core/storage/projects';
import type { LoupeState, LoupeStore } from '../../src/state/store';
import { createLoupeStore } from '../../src/state/store';
import type { ArchiveSummary, DataClient } from '../../src/worker/api';
import {
  aborted,
  deferred,
  fakeData,
  fakeEngine,
  seedProject,
  storeWith,
  type FakeData,
  type FakeEngine,
} from '../fixtures/clients';

let db: LoupeDatabase;
let engine: FakeEngine;
let data: FakeData;
let store: LoupeStore;

const state = (): ReturnType<LoupeStore['getState']> => store.getState();

beforeEach(async () => {
  db = await openLoupeDb();
  engine = fakeEngine();
  data = fakeData();
  store = storeWith(db, { engine, data });
});

/** Opens a project named `name` with labels Cats and Dogs; returns its id and label ids. */
async function openProject(name = 'My birds: 2024 / test'): Promise<{
  projectId: string;
  labelNames: [string, string][];
}> {
  const seeded = await seedProject(db, { name, labels: ['Cats', 'Dogs'], samples: [['Cats']] });
  expect(await state().openProject(seeded.project.id)).toBe(true);
  await vi.waitFor(() => expect(state().headsReady).toBe(true));
  return {
    projectId: seeded.project.id,
    labelNames: [
      [seeded.labelIds.Cats, 'Cats'],
      [seeded.labelIds.Dogs, 'Dogs'],
    ],
  };
}

const target = { spec: defaultBackboneSpec(), aspectMode: 'centre-crop' };

describe('transfer slice: exports', () => {
  it('exports the TF.js model with the project target, name and labels', async () => {
    const { labelNames } = await openProject();
    const blob = new Blob(['model']);
    engine.impl.exportTfjs = () => Promise.resolve(blob);
    const result = await state().exportAs('tfjs');
    expect(result).toEqual({ blob, fileName: 'My-birds-2024-test-tfjs-model.zip' });
    expect(engine.calls.exportTfjs).toHaveLength(1);
    const call = engine.calls.exportTfjs[0]![0];
    expect(call).toMatchObject({ ...target, modelName: 'My birds: 2024 / test', labelNames });
    expect(call.signal).toBeInstanceOf(AbortSignal);
    expect(state().transfer).toBeNull();
  });

  it('exports the KNN model with the chosen dtype (float32 by default)', async () => {
    const { labelNames } = await openProject('Flowers');
    const first = await state().exportAs('knn');
    await state().exportAs('knn', { dtype: 'int8' });
    expect(first?.fileName).toBe('Flowers-knn-model.zip');
    expect(engine.calls.exportKnn.map(([call]) => call)).toMatchObject([
      { ...target, labelNames, dtype: 'float32' },
      { ...target, labelNames, dtype: 'int8' },
    ]);
  });

  it('exports the archive and the dataset from the data worker, with progress', async () => {
    const { projectId } = await openProject('Été 2024');
    const gate = deferred<Blob>();
    const progress: LoupeState['transfer'][] = [];
    store.subscribe((s, prev) => {
      if (s.transfer !== prev.transfer) progress.push(s.transfer);
    });
    data.impl.exportArchive = () => gate.promise;

    const exporting = state().exportAs('archive');
    await vi.waitFor(() => expect(data.calls.exportArchive).toHaveLength(1));
    const call = data.calls.exportArchive[0]![0];
    expect(call.projectId).toBe(projectId);
    call.onProgress({ done: 2, total: 5 });
    expect(state().transfer).toEqual({ task: 'Exporting', done: 2, total: 5 });
    const blob = new Blob(['loupe']);
    gate.resolve(blob);
    expect(await exporting).toEqual({ blob, fileName: 'Été-2024.loupe' });
    expect(progress).toEqual([
      { task: 'Exporting', done: 0, total: 1 },
      { task: 'Exporting', done: 2, total: 5 },
      null,
    ]);

    const dataset = await state().exportAs('dataset');
    expect(dataset?.fileName).toBe('Été-2024-dataset.zip');
    expect(data.calls.exportDataset[0]?.[0].projectId).toBe(projectId);
    expect(engine.calls.exportTfjs).toEqual([]);
  });

  it("names the file 'project' when the name has no letters or digits", async () => {
    await openProject('***');
    expect((await state().exportAs('archive'))?.fileName).toBe('project.loupe');
  });

  it('runs one transfer at a time', async () => {
    await openProject();
    const gate = deferred<Blob>();
    data.impl.exportArchive = () => gate.promise;
    const first = state().exportAs('archive');
    await vi.waitFor(() => expect(data.calls.exportArchive).toHaveLength(1));
    expect(await state().exportAs('dataset')).toBeNull();
    expect(data.calls.exportDataset).toEqual([]);
    gate.resolve(new Blob(['x']));
    expect(await first).not.toBeNull();
  });

  it('cancelTransfer aborts the export quietly', async () => {
    await openProject();
    engine.impl.exportTfjs = async ({ signal }) => {
      if (signal) await aborted(signal);
      throw new Error('Job cancelled');
    };
    const exporting = state().exportAs('tfjs');
    await vi.waitFor(() => expect(engine.calls.exportTfjs).toHaveLength(1));
    state().cancelTransfer();
    expect(engine.calls.exportTfjs[0]?.[0].signal?.aborted).toBe(true);
    expect(await exporting).toBeNull();
    expect(state().notices).toEqual([]);
    expect(state().transfer).toBeNull();
    // The next export runs normally.
    expect(await state().exportAs('knn')).not.toBeNull();
  });

  it('reports a failed export', async () => {
    await openProject();
    data.impl.exportDataset = () => Promise.reject(new Error('Disk full.'));
    expect(await state().exportAs('dataset')).toBeNull();
    expect(state().notices).toMatchObject([{ kind: 'error', message: 'Disk full.', rejected: [] }]);
    expect(state().transfer).toBeNull();
  });

  it('reports a model export without the engine', async () => {
    store = storeWith(db, { data });
    const { project } = await seedProject(db);
    await state().openProject(project.id);
    expect(await state().exportAs('tfjs')).toBeNull();
    expect(state().notices).toMatchObject([
      { kind: 'error', message: 'The model engine is unavailable.' },
    ]);
  });

  it('exports nothing without an open project', async () => {
    expect(await state().exportAs('archive')).toBeNull();
    expect(data.log).toEqual([]);
  });
});

describe('transfer slice: archive imports', () => {
  const summary: ArchiveSummary = {
    token: 'archive-1',
    name: 'Shared birds',
    images: 3,
    labels: 2,
    models: 1,
    warnings: ['Label “<b>” was renamed to “‹b›”.'],
    conflict: null,
  };
  const file = new File(['zip'], 'birds.loupe');

  /** The data worker's import: writes the project, as the real one does in one transaction. */
  const importer: DataClient['importArchive'] = async ({ name }) =>
    projectsRepo.createProject(db, name ?? summary.name);

  it('inspects an archive with progress and keeps its summary', async () => {
    const gate = deferred<ArchiveSummary>();
    data.impl.inspectArchive = () => gate.promise;
    const inspecting = state().inspectArchive(file);
    await vi.waitFor(() => expect(data.calls.inspectArchive).toHaveLength(1));
    const call = data.calls.inspectArchive[0]![0];
    expect(call.file).toBe(file);
    call.onProgress?.({ done: 1, total: 4 });
    expect(state().transfer).toEqual({ task: 'Reading archive', done: 1, total: 4 });
    gate.resolve(summary);
    expect(await inspecting).toEqual(summary);
    expect(state().pendingArchive).toEqual(summary);
    expect(state().transfer).toBeNull();
  });

  it('says the projects were not changed when an archive cannot be read', async () => {
    data.impl.inspectArchive = () => Promise.reject(new Error('Not a Loupe archive.'));
    expect(await state().inspectArchive(file)).toBeNull();
    expect(state().pendingArchive).toBeNull();
    expect(state().notices).toMatchObject([
      {
        kind: 'error',
        message:
          'birds.loupe cannot be imported: Not a Loupe archive. Your projects were not changed.',
      },
    ]);
  });

  it('cancels reading an archive quietly', async () => {
    data.impl.inspectArchive = async ({ signal }) => {
      if (signal) await aborted(signal);
      throw new Error('Job cancelled');
    };
    const inspecting = state().inspectArchive(file);
    await vi.waitFor(() => expect(data.calls.inspectArchive).toHaveLength(1));
    state().cancelTransfer();
    expect(await inspecting).toBeNull();
    expect(state().notices).toEqual([]);
    expect(state().pendingArchive).toBeNull();
  });

  it('refuses an archive whose declared uncompressed size does not fit, before reading it', async () => {
    const storage = { estimate: () => Promise.resolve({ usage: 0, quota: 100 * 1024 ** 2 }) };
    const roomy = createLoupeStore({
      db: () => Promise.resolve(db),
      runImport: () => Promise.reject(new Error('no imports here')),
      data: data.client,
      storage,
    });
    // 3 bytes of file, 200 MB once inflated: the room check goes by the latter.
    data.impl.measureArchive = () => Promise.resolve(200 * 1024 ** 2);
    data.impl.inspectArchive = () => Promise.resolve(summary);
    expect(await roomy.getState().inspectArchive(file)).toBeNull();
    expect(data.calls.measureArchive[0]?.[0].file).toBe(file);
    expect(data.calls.inspectArchive).toHaveLength(0);
    expect(roomy.getState().notices.at(-1)?.message).toMatch(
      /^The archive birds\.loupe needs about 2\d\d MB of storage; 100 MB is free/,
    );
    data.impl.measureArchive = () => Promise.resolve(50 * 1024 ** 2);
    expect(await roomy.getState().inspectArchive(file)).toEqual(summary);
  });

  it('imports the inspected archive, reloads the projects and says what came in', async () => {
    data.impl.inspectArchive = () => Promise.resolve(summary);
    data.impl.importArchive = importer;
    await state().inspectArchive(file);

    const id = await state().importArchive({ name: 'Birds (shared)' });
    expect(data.calls.importArchive).toHaveLength(1);
    expect(data.calls.importArchive[0]?.[0]).toMatchObject({
      token: 'archive-1',
      name: 'Birds (shared)',
    });
    expect(state().projects.map((p) => [p.id, p.name])).toEqual([[id, 'Birds (shared)']]);
    expect(state().pendingArchive).toBeNull();
    expect(state().notices).toMatchObject([
      {
        kind: 'info',
        message:
          'Imported “Birds (shared)”: 3 images, 2 labels, 1 models. Label “<b>” was renamed to “‹b›”.',
      },
    ]);
  });

  it('replaces a project when asked', async () => {
    const existing = await projectsRepo.createProject(db, 'Shared birds');
    data.impl.inspectArchive = () =>
      Promise.resolve({ ...summary, conflict: { id: existing.id, name: existing.name } });
    data.impl.importArchive = importer;
    await state().inspectArchive(file);
    await state().importArchive({ replaceProjectId: existing.id });
    expect(data.calls.importArchive[0]?.[0]).toMatchObject({
      token: 'archive-1',
      replaceProjectId: existing.id,
    });
  });

  it('keeps the inspected archive when its import is cancelled', async () => {
    data.impl.inspectArchive = () => Promise.resolve(summary);
    data.impl.importArchive = async ({ signal }) => {
      if (signal) await aborted(signal);
      throw new Error('Job cancelled');
    };
    await state().inspectArchive(file);
    const importing = state().importArchive({});
    await vi.waitFor(() => expect(data.calls.importArchive).toHaveLength(1));
    state().cancelTransfer();
    expect(await importing).toBeNull();
    expect(state().pendingArchive).toEqual(summary);
    expect(state().notices).toEqual([]);
  });

  it('imports nothing without an inspected archive', async () => {
    expect(await state().importArchive({})).toBeNull();
    expect(data.calls.importArchive).toEqual([]);
  });

  it('dismissArchive forgets the archive in the worker', async () => {
    state().dismissArchive();
    expect(data.calls.dismissArchive).toEqual([]);
    data.impl.inspectArchive = () => Promise.resolve(summary);
    await state().inspectArchive(file);
    state().dismissArchive();
    expect(state().pendingArchive).toBeNull();
    expect(data.calls.dismissArchive).toEqual([['archive-1']]);
  });
});
