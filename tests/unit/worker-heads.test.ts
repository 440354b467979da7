// The engine worker's heads service on fake-indexeddb and the tfjs cpu backend: training with
// augmented copies (flips, crops) uses the copies of the training part only, leaves the live KNN
// untouched and records the augmentation; auto k is chosen by cross-validation (inside each fold
// when evaluating); head variants are cross-validated on the same folds.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import * as heads from '../../src/core/heads';
import { viewSuffix } from '../../src/core/backbone/augment';
import type { LoupeDatabase } from '../../src/core/storage/db';
import { openLoupeDb } from '../../src/core/storage/db';
import { putEmbeddings } from '../../src/core/storage/embeddings';
import { createProject } from '../../src/core/storage/projects';
import { insertSamples } from '../../src/core/storage/samples';
import { DEFAULT_HEAD_SETTINGS } from '../../src/core/heads/settings';
import { withViews } from '../../src/core/heads/trainingSet';
import { parseVariant, usesTestTimeFlip, variantName } from '../../src/core/heads/variants';
import { ProjectHeads } from '../../src/worker/headsService';
import { trainDense } from '../../src/worker/trainDense';
import { evaluateVariants } from '../../src/worker/evaluateHeads';
import { clusters } from '../fixtures/embeddings';
import { embedding, newSample } from '../fixtures/records';

vi.mock('../../src/core/heads', async (importOriginal) => {
  const original = await importOriginal<typeof heads>();
  return { ...original, trainDenseHead: vi.fn(original.trainDenseHead) };
});

const KEY = 'test-backbone@centre-crop#2';
const FLIP_SUFFIX = viewSuffix({ flip: true, crop: 0 });
const CROP1 = viewSuffix({ flip: false, crop: 1 });
const CROP2 = viewSuffix({ flip: false, crop: 2 });
/** How each view's fake embedding is derived from the original: nearby, and recognisable. */
const OFFSETS: Record<string, number> = { [FLIP_SUFFIX]: 0.25, [CROP1]: 0.5, [CROP2]: 0.75 };

let db: LoupeDatabase;
let projectId: string;
/** Sample id -> its (original) embedding. */
let vectors: Map<string, Float32Array>;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

beforeEach(async () => {
  vi.mocked(heads.trainDenseHead).mockClear();
  db = await openLoupeDb();
  projectId = (await createProject(db, 'augmented')).id;
  const data = clusters(3, [['a'], ['b']], 20, 8, 0.6);
  const batch = data.map((d) => newSample(projectId, { labelIds: [...d.labelIds] }));
  await insertSamples(db, batch);
  vectors = new Map(batch.map((b, i) => [b.sample.id, data[i]!.embedding]));
  const records = [...vectors].flatMap(([id, v]) => [
    embedding(projectId, id, KEY, [...v]),
    ...Object.entries(OFFSETS).map(([suffix, offset]) =>
      embedding(
        projectId,
        id,
        KEY + suffix,
        [...v].map((x) => x + offset),
      ),
    ),
  ]);
  await putEmbeddings(db, records);
});

const openFor = (project: string): Promise<ProjectHeads> =>
  ProjectHeads.open(db, {
    projectId: project,
    embeddingKey: KEY,
    backboneId: 'test-backbone',
    kind: 'single-label',
  });
const open = (): Promise<ProjectHeads> => openFor(projectId);
const train = (
  h: ProjectHeads,
  config: { epochs: number },
  augmentation?: { flips: boolean; crops: number },
) =>
  trainDense(db, h, {
    labelOrder: ['a', 'b'],
    config,
    onEpoch: () => {},
    signal: new AbortController().signal,
    ...(augmentation ? { augmentation } : {}),
  });

const sameVector = (a: Float32Array, b: Float32Array): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

describe('augmentation in the heads service', () => {
  it('withViews appends, per view, a copy of each item that has one, with the same labels', () => {
    const train = [
      { id: 'x', embedding: Float32Array.of(1), labelIds: ['a'] },
      { id: 'y', embedding: Float32Array.of(2), labelIds: ['b'] },
    ];
    const out = withViews(train, [
      { suffix: FLIP_SUFFIX, vectors: new Map([['y', Float32Array.of(-2)]]) },
      { suffix: CROP1, vectors: new Map([['x', Float32Array.of(5)]]) },
    ]);
    expect(out.map((i) => [i.id, i.embedding[0], i.labelIds[0]])).toEqual([
      ['x', 1, 'a'],
      ['y', 2, 'b'],
      [`y${FLIP_SUFFIX}`, -2, 'b'],
      [`x${CROP1}`, 5, 'a'],
    ]);
  });

  it('trains on flips and crops of the training part only; the live KNN keeps the originals', async () => {
    const before = tf.memory().numTensors;
    const projectHeads = await open();
    const knnBefore = projectHeads.knnExamples().map((e) => [e.id, [...e.embedding]]);
    const summary = await train(projectHeads, { epochs: 5 }, { flips: true, crops: 2 });
    expect(summary?.augmentation).toEqual({ flips: true, crops: 2 });
    const [trained, options] = vi.mocked(heads.trainDenseHead).mock.calls[0]!;
    const validation = options.validation ?? [];
    expect(validation.length).toBe(8); // 20 % of 40
    const originals = trained.filter((t) => !t.id.includes('~'));
    expect(originals.length).toBe(32);
    const trainIds = new Set(originals.map((t) => t.id));
    for (const v of validation) expect(trainIds.has(v.id)).toBe(false);
    for (const [suffix, offset] of Object.entries(OFFSETS)) {
      const copies = trained.filter((t) => t.id.endsWith(suffix));
      expect(copies.length, suffix).toBe(32);
      for (const copy of copies) {
        // Every copy is a view of a training image, never of a validation image.
        const id = copy.id.slice(0, -suffix.length);
        expect(trainIds.has(id)).toBe(true);
        expect(
          sameVector(
            copy.embedding,
            vectors.get(id)!.map((x) => x + offset),
          ),
        ).toBe(true);
      }
    }
    expect(projectHeads.knnExamples().map((e) => [e.id, [...e.embedding]])).toEqual(knnBefore);
    expect(summary?.evaluations.find((e) => e.head === 'dense')?.trainSize).toBe(32);
    projectHeads.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('saves a model refit on every labelled image and its copies, scored as the held-out fit', async () => {
    const before = tf.memory().numTensors;
    const projectHeads = await open();
    const epochs: { epoch: number; phase?: string }[] = [];
    const summary = await trainDense(db, projectHeads, {
      labelOrder: ['a', 'b'],
      config: { epochs: 6, patience: 0 },
      augmentation: { flips: true, crops: 0 },
      onEpoch: (log) => epochs.push(log),
      signal: new AbortController().signal,
    });
    const [, options] = vi.mocked(heads.trainDenseHead).mock.calls[0]!;
    const refitItems = options.refitOn?.items ?? [];
    const originals = refitItems.filter((t) => !t.id.includes('~')).map((t) => t.id);
    // Every labelled image (training and held-out parts) and a flip of each trained the saved model.
    expect(new Set(originals)).toEqual(new Set(vectors.keys()));
    expect(refitItems.filter((t) => t.id.endsWith(FLIP_SUFFIX)).length).toBe(40);
    expect(summary?.refit).toEqual({ epochs: summary?.bestEpoch, images: 40 });
    // The metrics are the held-out fit's: 32 trained it, 8 scored it.
    const dense = summary?.evaluations.find((e) => e.head === 'dense');
    expect([dense?.trainSize, dense?.validationSize]).toEqual([32, 8]);
    const refitLogs = epochs.filter((e) => e.phase === 'refit');
    expect(refitLogs.length).toBe(summary?.bestEpoch);
    expect(epochs.indexOf(refitLogs[0]!)).toBe(6);
    projectHeads.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('without augmentation, no copy reaches training', async () => {
    const projectHeads = await open();
    const summary = await train(projectHeads, { epochs: 3 });
    expect(summary?.augmentation).toEqual({ flips: false, crops: 0 });
    const [trained] = vi.mocked(heads.trainDenseHead).mock.calls[0]!;
    expect(trained.some((t) => t.id.includes('~'))).toBe(false);
    projectHeads.dispose();
  });
});

describe('KNN settings and head variants', () => {
  it('auto k is chosen on the data; a fixed k is used as given; weighted votes apply', async () => {
    const projectHeads = await open();
    const auto = await projectHeads.setHeadSettings({
      ...DEFAULT_HEAD_SETTINGS,
      k: 'auto',
      weighted: false,
    });
    expect([1, 3, 5, 7, 10]).toContain(auto);
    expect(
      await projectHeads.setHeadSettings({ ...DEFAULT_HEAD_SETTINGS, k: 7, weighted: true }),
    ).toBe(7);
    expect(projectHeads.k).toBe(7);
    expect(projectHeads.settings).toEqual({ ...DEFAULT_HEAD_SETTINGS, k: 7, weighted: true });
    // Unchanged data: refreshK keeps k without searching again.
    expect(await projectHeads.refreshK()).toBe(7);
    projectHeads.dispose();
  });

  it('says unknown below the chosen KNN similarity and dense confidence, only when asked', async () => {
    const projectHeads = await open();
    await train(projectHeads, { epochs: 5 });
    // A query between the two clusters: both heads answer, unless told to say unknown.
    const [a, b] = [[...vectors.values()][0]!, [...vectors.values()][39]!];
    projectHeads.setTryEmbedding(a.map((x, i) => (x + b[i]!) / 2));
    const plain = await projectHeads.predictTry();
    expect(plain?.knn?.top).not.toBeNull();
    expect(plain?.dense?.top).not.toBeNull();
    await projectHeads.setHeadSettings({
      ...DEFAULT_HEAD_SETTINGS,
      knnUnknownBelow: 0.999,
      denseUnknownBelow: 0.999,
    });
    const unsure = await projectHeads.predictTry();
    expect(unsure?.knn?.top).toBeNull();
    expect(unsure?.dense?.top).toBeNull();
    await projectHeads.setHeadSettings({ ...DEFAULT_HEAD_SETTINGS });
    expect((await projectHeads.predictTry())?.knn?.top).toBe(plain?.knn?.top);
    projectHeads.dispose();
  });

  it('evaluates KNN with and without augmentation on the same folds, auto k inside each fold', async () => {
    const projectHeads = await open();
    await projectHeads.setHeadSettings({ ...DEFAULT_HEAD_SETTINGS, k: 'auto', weighted: false });
    const progress: string[] = [];
    const rows = await evaluateVariants(db, projectHeads, {
      variants: ['knn', 'knn+flip', 'knn+crops'],
      signal: new AbortController().signal,
      onProgress: ({ done, total }) => progress.push(`${done}/${total}`),
    });
    expect(progress).toEqual(Array.from({ length: 15 }, (_, i) => `${i + 1}/15`));
    expect(rows.map((r) => [r.variant, r.folds, r.kPerFold.length])).toEqual([
      ['knn', 5, 5],
      ['knn+flip', 5, 5],
      ['knn+crops', 5, 5],
    ]);
    for (const row of rows) {
      expect(row.accuracy).toBeGreaterThan(0.8); // well separated clusters
      for (const k of row.kPerFold) expect([1, 3, 5, 7, 10]).toContain(k);
    }
    await projectHeads.setHeadSettings({ ...DEFAULT_HEAD_SETTINGS, k: 3, weighted: false });
    const [fixed] = await evaluateVariants(db, projectHeads, {
      variants: ['knn'],
      signal: new AbortController().signal,
    });
    expect(fixed?.kPerFold).toEqual([3, 3, 3, 3, 3]);
    expect(vi.mocked(heads.trainDenseHead)).not.toHaveBeenCalled();
    projectHeads.dispose();
  });

  it('scores the ensemble and test-time flips with no tensor left behind', async () => {
    const h = await open();
    const before = tf.memory().numTensors;
    const rows = await evaluateVariants(db, h, {
      variants: ['ensemble', 'knn+tta', 'dense+tta'],
      denseConfig: { epochs: 3 },
      signal: new AbortController().signal,
    });
    expect(rows.map((r) => r.variant)).toEqual(['ensemble', 'knn+tta', 'dense+tta']);
    for (const row of rows) expect(row.accuracy).toBeGreaterThan(0.5);
    // The ensemble chose k in every fold (its KNN half), plain dense did not.
    expect(rows[0]!.kPerFold.length).toBe(5);
    expect(rows[2]!.kPerFold.length).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    h.dispose();
  });

  it('gives the same numbers for the same images in another project (ids play no part)', async () => {
    const other = (await createProject(db, 'same photos')).id;
    // The same embeddings and labels, inserted in another order under new random sample ids.
    const copies = [...vectors].reverse();
    const labelsOf = new Map((await open()).knnExamples().map((e) => [e.id, e.labelIds] as const));
    const batch = copies.map(([id]) => newSample(other, { labelIds: [...labelsOf.get(id)!] }));
    await insertSamples(db, batch);
    await putEmbeddings(
      db,
      copies.flatMap(([, v], i) => [
        embedding(other, batch[i]!.sample.id, KEY, [...v]),
        embedding(
          other,
          batch[i]!.sample.id,
          KEY + FLIP_SUFFIX,
          [...v].map((x) => x + 0.25),
        ),
      ]),
    );
    const rows = async (project: string): Promise<unknown> => {
      const h = await openFor(project);
      const k = await h.setHeadSettings({ ...DEFAULT_HEAD_SETTINGS, k: 'auto', weighted: false });
      const result = await evaluateVariants(db, h, {
        variants: ['knn', 'knn+flip', 'logreg'],
        trainPerClass: 6,
        signal: new AbortController().signal,
      });
      h.dispose();
      return { k, result };
    };
    expect(await rows(other)).toEqual(await rows(projectId));
  });

  it('parses and names every variant', () => {
    expect(parseVariant('dense+flip+crops')).toEqual({
      head: 'dense',
      augmentation: { flips: true, crops: 2 },
    });
    expect(parseVariant('logreg')).toEqual({
      head: 'logreg',
      augmentation: { flips: false, crops: 0 },
    });
    expect(
      (['knn', 'knn+flip', 'dense', 'dense+crops', 'logreg'] as const).map((v) =>
        variantName(v, 7),
      ),
    ).toEqual([
      'KNN (k=7)',
      'KNN (k=7) + flips',
      'Dense (defaults)',
      'Dense (defaults) + 2 crops',
      'Logistic regression (reference)',
    ]);
    expect(variantName('knn+flip+crops', 'auto')).toBe('KNN (auto k) + flips + 2 crops');
    expect(parseVariant('ensemble+flip+tta')).toEqual({
      head: 'ensemble',
      augmentation: { flips: true, crops: 0 },
    });
    expect([usesTestTimeFlip('dense+tta'), usesTestTimeFlip('dense+flip')]).toEqual([true, false]);
    expect(variantName('ensemble+tta', 5)).toBe('KNN and dense averaged + flip at test time');
  });
});

describe('label changes that overtake an embedding batch', () => {
  it('keeps a change or deletion sent while the sample’s batch was in flight', async () => {
    const h = await openFor(await createProject(db, 'racing').then((p) => p.id));
    const vector = new Float32Array(8).fill(0.5);
    // The batch read its samples' labels (['a']); the UI then relabelled one and deleted one.
    h.applyChanges([{ sampleId: 'moved', labelIds: ['a', 'b'] }], ['gone']);
    h.addEmbeddings([
      { sampleId: 'moved', vector, labelIds: ['a'] },
      { sampleId: 'gone', vector, labelIds: ['a'] },
      { sampleId: 'plain', vector, labelIds: ['b'] },
    ]);
    const labelled = new Map(h.labelled().map((e) => [e.id, e.labelIds]));
    expect(Object.fromEntries(labelled)).toEqual({ moved: ['a', 'b'], plain: ['b'] });
    // Applied once: a later batch for the same sample carries its own (newer) labels.
    h.addEmbeddings([{ sampleId: 'moved', vector, labelIds: ['b'] }]);
    expect(h.labelled().find((e) => e.id === 'moved')?.labelIds).toEqual(['b']);
    h.dispose();
  });
});
