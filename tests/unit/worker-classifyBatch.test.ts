// Batch classification in the engine worker, on fake-indexeddb and the tfjs cpu backend with a
// tiny fake backbone (the flattened pixels are the embedding) and a fake decoder: rows come from
// the live head the call names, unreadable files are reported and the run goes on, the test-time
// flip path gives the same answers for symmetric images, tensors are all released, an aborted
// job stops, and batches prepared elsewhere (the preprocessing worker) arrive in order, at most
// `prefetch` ahead.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Pixels } from '../../src/core/backbone/draw';
import type { Backbone } from '../../src/core/backbone/types';
import { DEFAULT_HEAD_SETTINGS } from '../../src/core/heads/settings';
import type { LoupeDatabase } from '../../src/core/storage/db';
import { openLoupeDb } from '../../src/core/storage/db';
import { putEmbeddings } from '../../src/core/storage/embeddings';
import { createProject } from '../../src/core/storage/projects';
import { insertSamples } from '../../src/core/storage/samples';
import type { BatchChunk, BatchFile, BatchProgress } from '../../src/worker/api';
import { classifyFiles } from '../../src/worker/classifyBatch';
import { decodeFiles } from '../../src/worker/decodeFiles';
import { ProjectHeads } from '../../src/worker/headsService';
import { embedding, newSample } from '../fixtures/records';

const KEY = 'fake@centre-crop#2';
const SIZE = 2;

/** A backbone whose embedding is the flattened input (2x2x3 -> 12 values). */
const backbone: Backbone = {
  id: 'fake',
  label: 'fake',
  inputSize: SIZE,
  inputRange: [0, 1],
  embeddingSize: SIZE * SIZE * 3,
  load: async () => {},
  embed: (batch) => tf.reshape(batch, [batch.shape[0], SIZE * SIZE * 3]),
  dispose: () => {},
};

/** Files whose text is a colour decode to a uniform image of it; anything else fails. */
async function fakeDecode(file: Blob, size: number): Promise<Pixels> {
  const text = await file.text();
  const rgb = text === 'red' ? [255, 0, 0] : text === 'blue' ? [0, 0, 255] : null;
  if (!rgb) throw new Error('Unsupported image format');
  const data = new Uint8ClampedArray(size * size * 4);
  for (let i = 0; i < data.length; i += 4) data.set([...rgb, 255], i);
  return { data, width: size, height: size };
}

const colour = (rgb: number[], noise: number): number[] =>
  Array.from({ length: SIZE * SIZE }, () => rgb.map((v) => v + noise)).flat();

let db: LoupeDatabase;
let heads: ProjectHeads;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

beforeEach(async () => {
  db = await openLoupeDb();
  const projectId = (await createProject(db, 'batch')).id;
  const batch = [
    ...Array.from({ length: 6 }, () => newSample(projectId, { labelIds: ['a'] })),
    ...Array.from({ length: 6 }, () => newSample(projectId, { labelIds: ['b'] })),
  ];
  await insertSamples(db, batch);
  await putEmbeddings(
    db,
    batch.map((b, i) =>
      embedding(projectId, b.sample.id, KEY, colour(i < 6 ? [1, 0, 0] : [0, 0, 1], i / 100)),
    ),
  );
  heads = await ProjectHeads.open(db, {
    projectId,
    embeddingKey: KEY,
    backboneId: 'fake',
    kind: 'single-label',
  });
  return () => {
    heads.dispose();
    db.close();
  };
});

const FILES: BatchFile[] = [
  { path: 'x/red1.png', file: new Blob(['red']) },
  { path: 'x/sub/blue1.png', file: new Blob(['blue']) },
  { path: 'x/broken.png', file: new Blob(['garbage']) },
  { path: 'x/red2.png', file: new Blob(['red']) },
  { path: 'x/sub/blue2.png', file: new Blob(['blue']) },
];

async function run(signal = new AbortController().signal) {
  const chunks: BatchChunk[] = [];
  const progress: BatchProgress[] = [];
  const report = await classifyFiles({
    files: FILES,
    backbone,
    aspectMode: 'centre-crop',
    heads,
    head: 'knn',
    batchSize: 2,
    signal,
    onChunk: (c) => chunks.push(c),
    onProgress: (p) => progress.push(p),
    decode: fakeDecode,
  });
  return { report, chunks, progress };
}

describe('classifyFiles', () => {
  it('predicts every readable file with the live KNN, reports the unreadable one, frees tensors', async () => {
    await run(); // the KNN head uploads its examples to the backend on its first prediction
    const before = tf.memory().numTensors;
    const { report, chunks, progress } = await run();
    expect(tf.memory().numTensors).toBe(before);
    expect(chunks).toHaveLength(3); // batches of 2
    const rows = chunks.flatMap((c) => c.rows);
    expect(rows.map((r) => [r.path, r.predicted])).toEqual([
      ['x/red1.png', ['a']],
      ['x/sub/blue1.png', ['b']],
      ['x/red2.png', ['a']],
      ['x/sub/blue2.png', ['b']],
    ]);
    for (const r of rows) {
      expect(r.confidence).toBe(1);
      expect(Object.keys(r.probabilities).sort()).toEqual(['a', 'b']);
    }
    expect(chunks.flatMap((c) => c.failed)).toEqual([
      { path: 'x/broken.png', reason: 'Unsupported image format' },
    ]);
    expect(report).toMatchObject({ total: 5, classified: 4, failed: 1, cancelled: false });
    expect(progress.at(-1)).toMatchObject({ done: 5, total: 5 });
  });

  it('honours the unknown threshold and the test-time flip, as the try image does', async () => {
    await heads.setHeadSettings({ ...DEFAULT_HEAD_SETTINGS, flipTta: true });
    const flipped = (await run()).chunks.flatMap((c) => c.rows.map((r) => r.predicted[0]));
    expect(flipped).toEqual(['a', 'b', 'a', 'b']);
    await heads.setHeadSettings({ ...DEFAULT_HEAD_SETTINGS, knnUnknownBelow: 1.01 });
    const rows = (await run()).chunks.flatMap((c) => c.rows);
    expect(rows.map((r) => r.predicted)).toEqual([[], [], [], []]);
  });

  it('stops when aborted, and says so; the dense head is refused before training', async () => {
    const controller = new AbortController();
    controller.abort();
    const { report, chunks } = await run(controller.signal);
    expect(report.cancelled).toBe(true);
    expect(chunks).toHaveLength(0);
    await expect(
      classifyFiles({
        files: FILES,
        backbone,
        aspectMode: 'centre-crop',
        heads,
        head: 'dense',
        batchSize: 2,
        signal: new AbortController().signal,
        onChunk: () => {},
        onProgress: () => {},
        decode: fakeDecode,
      }),
    ).rejects.toThrow(/Train the dense head first/);
  });

  it('prepares batches through `prepare`, at most `prefetch` ahead of the model, in order', async () => {
    let inFlight = 0;
    let most = 0;
    const prepared: string[][] = [];
    const chunks: BatchChunk[] = [];
    const report = await classifyFiles({
      files: FILES,
      backbone,
      aspectMode: 'centre-crop',
      heads,
      head: 'knn',
      batchSize: 1,
      prefetch: 2,
      signal: new AbortController().signal,
      onChunk: (c) => chunks.push(c),
      onProgress: () => {},
      async prepare(files, size, mode) {
        prepared.push(files.map((f) => f.path));
        most = Math.max(most, ++inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight--;
        return decodeFiles(files, size, mode, fakeDecode);
      },
    });
    expect(prepared.flat()).toEqual(FILES.map((f) => f.path));
    expect(most).toBe(2);
    expect(chunks.flatMap((c) => c.rows.map((r) => r.path))).toEqual([
      'x/red1.png',
      'x/sub/blue1.png',
      'x/red2.png',
      'x/sub/blue2.png',
    ]);
    expect(report).toMatchObject({ classified: 4, failed: 1 });
  });
});
