// The engine worker's heads service on fake-indexeddb and the tfjs cpu backend: training with
// flipped copies uses the flips of the training part only, leaves the live KNN untouched, and
// records the augmentation; head variants are cross-validated on the same folds.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import * as heads from '../../src/core/heads';
import type { LoupeDatabase } from '../../src/core/storage/db';
import { openLoupeDb } from '../../src/core/storage/db';
import { putEmbeddings } from '../../src/core/storage/embeddings';
import { createProject } from '../../src/core/storage/projects';
import { insertSamples } from '../../src/core/storage/samples';
import { FLIP_SUFFIX, ProjectHeads, variantName, withFlips } from '../../src/worker/headsService';
import { clusters } from '../fixtures/embeddings';
import { embedding, newSample } from '../fixtures/records';

vi.mock('../../src/core/heads', async (importOriginal) => {
  const original = await importOriginal<typeof heads>();
  return { ...original, trainDenseHead: vi.fn(original.trainDenseHead) };
});

const KEY = 'test-backbone@centre-crop#2';
let db: LoupeDatabase;
let projectId: string;
/** Sample id -> its (unflipped) embedding. */
let vectors: Map<string, Float32Array>;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

beforeEach(async () => {
  vi.mocked(heads.trainDenseHead).mockClear();
  db = await openLoupeDb();
  projectId = (await createProject(db, 'flips')).id;
  const data = clusters(3, [['a'], ['b']], 20, 8, 0.6);
  const batch = data.map((d) => newSample(projectId, { labelIds: [...d.labelIds] }));
  await insertSamples(db, batch);
  vectors = new Map(batch.map((b, i) => [b.sample.id, data[i]!.embedding]));
  const records = [...vectors].flatMap(([id, v]) => [
    embedding(projectId, id, KEY, [...v]),
    // The "flip" of each image: a nearby vector (as real flips are), easy to recognise.
    embedding(
      projectId,
      id,
      KEY + FLIP_SUFFIX,
      [...v].map((x) => x + 0.25),
    ),
  ]);
  await putEmbeddings(db, records);
});

const sameVector = (a: Float32Array, b: Float32Array): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

describe('ProjectHeads with flip augmentation', () => {
  it('withFlips appends a copy for each item that has a flip, with the same labels', () => {
    const train = [
      { id: 'x', embedding: Float32Array.of(1), labelIds: ['a'] },
      { id: 'y', embedding: Float32Array.of(2), labelIds: ['b'] },
    ];
    const out = heads.indexItems(
      withFlips(train, new Map([['y', Float32Array.of(-2)]])),
      'single-label',
    );
    expect(out.items.map((i) => [i.id, i.embedding[0], i.labelIds[0]])).toEqual([
      ['x', 1, 'a'],
      ['y', 2, 'b'],
      [`y${FLIP_SUFFIX}`, -2, 'b'],
    ]);
  });

  it('trains on the flips of the training part only and keeps the KNN examples as they were', async () => {
    const before = tf.memory().numTensors;
    const projectHeads = await ProjectHeads.open(
      db,
      projectId,
      KEY,
      'test-backbone',
      'single-label',
    );
    const knnBefore = projectHeads.knnExamples().map((e) => [e.id, [...e.embedding]]);
    const summary = await projectHeads.trainDense(
      db,
      ['a', 'b'],
      { epochs: 5 },
      () => {},
      new AbortController().signal,
      { flips: true },
    );
    expect(summary?.augmentation).toEqual({ flips: true });
    const call = vi.mocked(heads.trainDenseHead).mock.calls[0];
    const [trained, options] = call!;
    const validation = options.validation ?? [];
    expect(validation.length).toBe(8); // 20 % of 40
    const originals = trained.filter((t) => !t.id.endsWith(FLIP_SUFFIX));
    const copies = trained.filter((t) => t.id.endsWith(FLIP_SUFFIX));
    expect(originals.length).toBe(32);
    expect(copies.length).toBe(32);
    // Every copy is the flip of a training image, never of a validation image.
    const trainIds = new Set(originals.map((t) => t.id));
    for (const copy of copies) {
      const id = copy.id.slice(0, -FLIP_SUFFIX.length);
      expect(trainIds.has(id)).toBe(true);
      expect(
        sameVector(
          copy.embedding,
          vectors.get(id)!.map((x) => x + 0.25),
        ),
      ).toBe(true);
    }
    for (const v of validation) expect(trainIds.has(v.id)).toBe(false);
    // The live KNN still holds exactly the original vectors.
    expect(projectHeads.knnExamples().map((e) => [e.id, [...e.embedding]])).toEqual(knnBefore);
    expect(summary?.evaluations.find((e) => e.head === 'dense')?.trainSize).toBe(32);
    projectHeads.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('without the option, no flip reaches training', async () => {
    const projectHeads = await ProjectHeads.open(
      db,
      projectId,
      KEY,
      'test-backbone',
      'single-label',
    );
    const summary = await projectHeads.trainDense(
      db,
      ['a', 'b'],
      { epochs: 3 },
      () => {},
      new AbortController().signal,
    );
    expect(summary?.augmentation).toEqual({ flips: false });
    const [trained] = vi.mocked(heads.trainDenseHead).mock.calls[0]!;
    expect(trained.some((t) => t.id.endsWith(FLIP_SUFFIX))).toBe(false);
    projectHeads.dispose();
  });

  it('evaluates KNN with and without flips on the same folds, and names every variant', async () => {
    const projectHeads = await ProjectHeads.open(
      db,
      projectId,
      KEY,
      'test-backbone',
      'single-label',
    );
    const rows = await projectHeads.evaluateVariants(db, {
      variants: ['knn', 'knn+flip'],
      signal: new AbortController().signal,
    });
    expect(rows.map((r) => [r.variant, r.folds])).toEqual([
      ['knn', 5],
      ['knn+flip', 5],
    ]);
    for (const row of rows) expect(row.accuracy).toBeGreaterThan(0.8); // well separated clusters
    expect(vi.mocked(heads.trainDenseHead)).not.toHaveBeenCalled();
    expect(
      (['knn', 'knn+flip', 'dense', 'dense+flip', 'logreg'] as const).map((v) => variantName(v, 7)),
    ).toEqual([
      'KNN (k=7)',
      'KNN (k=7) + flips',
      'Dense (defaults)',
      'Dense (defaults) + flips',
      'Logistic regression (reference)',
    ]);
    projectHeads.dispose();
  });
});
