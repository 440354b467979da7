import { beforeEach, describe, expect, it } from 'vitest';
import type { PathedFile } from '../../src/core/dataset/folders';
import { importFiles } from '../../src/core/dataset/importer';
import type { LoupeDatabase } from '../../src/core/storage/db';
import { openLoupeDb } from '../../src/core/storage/db';
import * as labelsRepo from '../../src/core/storage/labels';
import type { LoupeStore } from '../../src/state/store';
import { createLoupeStore } from '../../src/state/store';
import type { BatchFile, EngineClient } from '../../src/worker/api';
import { createFakeDecoder, pngFile } from '../fixtures/images';

let db: LoupeDatabase;
let store: LoupeStore;
let classifyCalls: { files: BatchFile[]; head: string; signal: AbortSignal }[];
/** Resolved by a test to let the fake job finish; until then it waits (or is aborted). */
let release: () => void;

const unused = (): never => {
  throw new Error('not used by these tests');
};

/** An engine whose batch job predicts `b` for files with "b" in the name, `a` otherwise. */
function fakeEngine(labelIds: () => [string, string]): EngineClient {
  return {
    init: async () => ({ backend: 'cpu', detail: '', reports: [], how: 'probed' }),
    embedProject: async () => ({
      embeddingKey: 'k',
      total: 0,
      computed: 0,
      alreadyCached: 0,
      failed: [],
      cancelled: false,
      elapsedMs: 0,
      forwardMs: 0,
    }),
    openHeads: async () => ({ examples: 0, k: 5, summary: null }),
    closeHeads: async () => {},
    applyLabelChanges: async () => null,
    predictTry: async () => null,
    setHeadSettings: async () => 5,
    refreshK: async () => 5,
    tryImage: unused,
    clearTry: async () => {},
    trainDense: unused,
    listDenseVersions: unused,
    pinDenseVersion: unused,
    useDenseVersion: unused,
    compareHeads: unused,
    evaluateVariants: unused,
    exportTfjs: unused,
    exportKnn: unused,
    classifySample: unused,
    denseOnSample: unused,
    measureForward: unused,
    stats: unused,
    outOfFoldPredictions: unused,
    nearDuplicates: unused,
    labelNext: unused,
    clusters: unused,
    simulateReview: unused,
    simulateMislabels: unused,
    benchReview: unused,
    benchAnalysis: unused,
    explain: unused,
    storeModelFiles: unused,
    offerInputs: unused,
    warmBackbone: unused,
    async classifyImages({ files, head, signal, onChunk, onProgress }) {
      classifyCalls.push({ files, head, signal });
      const [a, b] = labelIds();
      const readable = files.filter((f) => !f.path.endsWith('.txt'));
      onChunk({
        rows: readable.map((f) => {
          const isB = f.path.includes('b');
          return {
            path: f.path,
            predicted: f.path.includes('unsure') ? [] : [isB ? b : a],
            confidence: 0.75,
            probabilities: { [a]: isB ? 0.25 : 0.75, [b]: isB ? 0.75 : 0.25 },
          };
        }),
        failed: files
          .filter((f) => f.path.endsWith('.txt'))
          .map((f) => ({ path: f.path, reason: 'not an image' })),
      });
      onProgress({ done: files.length, total: files.length, rate: 10, etaSeconds: 0 });
      await new Promise<void>((resolve) => {
        release = resolve;
        signal.addEventListener('abort', () => resolve());
      });
      return {
        total: files.length,
        classified: readable.length,
        failed: files.length - readable.length,
        cancelled: signal.aborted,
        elapsedMs: 1,
      };
    },
  };
}

let labels: [string, string] = ['', ''];

beforeEach(async () => {
  db = await openLoupeDb();
  classifyCalls = [];
  release = () => {};
  const dbPromise = Promise.resolve(db);
  store = createLoupeStore({
    db: () => dbPromise,
    runImport: (call) =>
      importFiles(db, call.items, {
        projectId: call.projectId,
        source: call.source,
        decoder: createFakeDecoder(),
        signal: call.signal,
        onProgress: call.onProgress,
        onChunk: call.onChunk,
      }),
    engine: fakeEngine(() => labels),
  });
  const id = await store.getState().createProject('Batch');
  const cat = await labelsRepo.addLabel(db, id, 'cat, "big"');
  const dog = await labelsRepo.addLabel(db, id, 'собака');
  labels = [cat.id, dog.id];
  expect(await store.getState().openProject(id)).toBe(true);
  return () => db.close();
});

const file = (path: string, seed: number): PathedFile => ({
  file: pngFile(path.split('/').pop() ?? path, 4, 3, seed),
  path,
});

const FILES = [
  file('pets/a1.png', 1),
  file('pets/sub/b2.png', 2),
  file('pets/unsure.png', 3),
  file('pets/.DS_Store', 4),
  { file: new File(['x'], 'notes.txt'), path: 'pets/notes.txt' },
];

describe('batch slice', () => {
  it('streams rows and unreadable files from the engine, skips system files, nothing stored', async () => {
    const run = store.getState().classifyImages(FILES, 'folder');
    await expect.poll(() => store.getState().batch?.rows.length).toBe(3);
    const batch = store.getState().batch!;
    expect(batch.head).toBe('knn');
    expect(batch.total).toBe(4);
    expect(classifyCalls[0]!.files.map((f) => f.path)).not.toContain('pets/.DS_Store');
    expect(batch.failed).toEqual([{ path: 'pets/notes.txt', reason: 'not an image' }]);
    expect(batch.progress).not.toBeNull();
    release();
    await run;
    expect(store.getState().batch!.progress).toBeNull();
    expect(store.getState().batch!.cancelled).toBe(false);
    expect(store.getState().samples).toHaveLength(0);

    // Blob.text() would drop the byte order mark: decode the bytes keeping it.
    const bytes = await store.getState().batchCsvBlob()!.arrayBuffer();
    const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
    expect(text.split('\r\n')).toEqual([
      '\uFEFFpath,predicted,confidence,"cat, ""big""",собака',
      'pets/a1.png,"cat, ""big""",0.75,0.75,0.25',
      'pets/sub/b2.png,собака,0.75,0.25,0.75',
      'pets/unsure.png,,unknown,0.75,0.25',
      '',
    ]);
  });

  it('Stop aborts the worker job and keeps the rows so far', async () => {
    const run = store.getState().classifyImages(FILES);
    await expect.poll(() => store.getState().batch?.rows.length).toBe(3);
    store.getState().stopBatch();
    await run;
    expect(classifyCalls[0]!.signal.aborted).toBe(true);
    expect(store.getState().batch!.cancelled).toBe(true);
    expect(store.getState().batch!.rows).toHaveLength(3);
    store.getState().closeBatch();
    expect(store.getState().batch).toBeNull();
  });

  it('Add to {label} imports the selected rows into the label and removes them', async () => {
    const run = store.getState().classifyImages(FILES, 'drop');
    await expect.poll(() => store.getState().batch?.rows.length).toBe(3);
    release();
    await run;
    await store.getState().addBatchRowsTo(['pets/sub/b2.png', 'pets/unsure.png'], labels[1]);
    expect(store.getState().batch!.rows.map((r) => r.path)).toEqual(['pets/a1.png']);
    const samples = store.getState().samples;
    expect(samples.map((s) => [s.name, s.labelIds, s.source, s.relativePath]).sort()).toEqual([
      ['b2.png', [labels[1]], 'drop', 'pets/sub/b2.png'],
      ['unsure.png', [labels[1]], 'drop', 'pets/unsure.png'],
    ]);
  });
});
