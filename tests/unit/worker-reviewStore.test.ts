// The engine worker's stored Review analyses on fake-indexeddb and the tfjs cpu backend: out-of-fold
// predictions are stored with their fingerprint, reused while it matches and recomputed after a
// label change; near-duplicate groups regroup at another threshold from the cached pair search
// and flag a copy that spans the dense head's training and evaluation parts as leakage; the
// mislabel simulation works on a copy; no tensor outlives a call.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openLoupeDb, type LoupeDatabase } from '../../src/core/storage/db';
import { putEmbeddings } from '../../src/core/storage/embeddings';
import { getOutOfFold } from '../../src/core/storage/outOfFold';
import { createProject, deleteProject } from '../../src/core/storage/projects';
import { insertSamples } from '../../src/core/storage/samples';
import { ProjectHeads } from '../../src/worker/headsService';
import { clearDuplicateCache, projectNearDuplicates } from '../../src/worker/nearDuplicates';
import { storedProjectOutOfFold } from '../../src/worker/outOfFold';
import { simulateMislabels } from '../../src/worker/reviewBench';
import { denseHoldoutParts } from '../../src/worker/trainDense';
import { clusters } from '../fixtures/embeddings';
import { embedding, newSample } from '../fixtures/records';

const KEY = 'test-backbone@centre-crop#2';
const signal = new AbortController().signal;
const LABELS = ['a', 'b', 'c'];

beforeAll(async () => {
  await tf.setBackend('cpu');
});

let db: LoupeDatabase;
let projectId: string;
let ids: string[];
let heads: ProjectHeads;

/**
 * 3 clusters of 12 labelled images; `copies` adds copies of the given images, labelled alike: exact
 * ones, or near ones with `nudge` added to their first value.
 */
async function open(copies: number[] = [], nudge = 0): Promise<void> {
  db = await openLoupeDb();
  projectId = (await createProject(db, 'review')).id;
  const data = clusters(11, [['a'], ['b'], ['c']], 12, 8, 0.4);
  const batch = data.map((d) => newSample(projectId, { labelIds: [...d.labelIds] }));
  const vectors = data.map((d) => [...d.embedding]);
  for (const i of copies) {
    batch.push(newSample(projectId, { labelIds: [...(data[i]?.labelIds ?? [])] }));
    vectors.push([...(data[i]?.embedding ?? [])].map((v, j) => (j === 0 ? v + nudge : v)));
  }
  await insertSamples(db, batch);
  ids = batch.map((b) => b.sample.id);
  await putEmbeddings(
    db,
    batch.map((b, i) => embedding(projectId, b.sample.id, KEY, vectors[i])),
  );
  heads = await ProjectHeads.open(db, {
    projectId,
    embeddingKey: KEY,
    backboneId: 'test-backbone',
    kind: 'single-label',
  });
}

beforeEach(() => {
  clearDuplicateCache();
});

describe('stored out-of-fold predictions', () => {
  it('are stored, reused while the fingerprint matches, recomputed after a label change', async () => {
    await open();
    const before = tf.memory().numTensors;
    const first = await storedProjectOutOfFold(db, heads, { labelOrder: LABELS, signal });
    const stored = await getOutOfFold(db, projectId);
    expect(stored?.result).toEqual(first);
    expect(stored).toMatchObject({ embeddingKey: KEY, k: heads.k, folds: 5 });

    const again = await storedProjectOutOfFold(db, heads, { labelOrder: LABELS, signal });
    expect(again).toEqual(first);
    expect((await getOutOfFold(db, projectId))?.computedAt).toBe(stored?.computedAt);

    heads.applyChanges([{ sampleId: ids[0]!, labelIds: ['b'] }], []);
    const changed = await storedProjectOutOfFold(db, heads, { labelOrder: LABELS, signal });
    const record = await getOutOfFold(db, projectId);
    expect(record?.fingerprint).not.toBe(stored?.fingerprint);
    expect(changed.predictions.find((p) => p.sampleId === ids[0])?.labelIds).toEqual(['b']);
    expect(tf.memory().numTensors).toBe(before);

    await deleteProject(db, projectId);
    expect(await getOutOfFold(db, projectId)).toBeNull();
    heads.dispose();
    db.close();
  });
});

describe('project near-duplicates', () => {
  it('regroups at another threshold and flags leakage across the hold-out split', async () => {
    // Near copies of the first 12 images (cluster a): each is labelled like its original, so one
    // that lands in another part of the split than its original is leakage.
    const originals = Array.from({ length: 12 }, (_, i) => i);
    await open(originals, 1e-3);
    const before = tf.memory().numTensors;
    const groups = await projectNearDuplicates(db, heads, {
      threshold: 0.999,
      labelOrder: LABELS,
      signal,
    });
    expect(groups).toHaveLength(12);
    for (const g of groups) expect(g.sampleIds).toHaveLength(2);
    const parts = denseHoldoutParts(heads, LABELS);
    for (const g of groups) {
      const spans = new Set(g.sampleIds.map((id) => parts.get(id))).size > 1;
      expect(g.leakage).toBe(spans);
      expect(g.conflict).toBe(false);
    }
    expect(groups.some((g) => g.leakage)).toBe(true);
    // A loose threshold joins the cluster into one group (same cached pairs, no new search).
    const loose = await projectNearDuplicates(db, heads, { threshold: 0.85, signal });
    expect(loose.length).toBeLessThan(groups.length);
    expect(tf.memory().numTensors).toBe(before);
    heads.dispose();
    db.close();
  });

  it('keeps exact copies on one side of the hold-out split: no leakage', async () => {
    await open(Array.from({ length: 12 }, (_, i) => i));
    const groups = await projectNearDuplicates(db, heads, {
      threshold: 0.999,
      labelOrder: LABELS,
      signal,
    });
    expect(groups).toHaveLength(12);
    const parts = denseHoldoutParts(heads, LABELS);
    expect(new Set(groups.map((g) => parts.get(g.sampleIds[0] ?? '')))).toEqual(
      new Set(['train', 'validation']),
    );
    for (const g of groups) {
      expect(new Set(g.sampleIds.map((id) => parts.get(id))).size).toBe(1);
      expect(g.leakage).toBe(false);
    }
    heads.dispose();
    db.close();
  });
});

describe('simulated mislabels', () => {
  it('finds flipped labels on a copy; the heads keep their labels', async () => {
    await open();
    const before = tf.memory().numTensors;
    const labelled = heads.labelled().map((e) => [...e.labelIds]);
    const result = await simulateMislabels(heads, {
      fraction: 0.1,
      seed: 3,
      labelOrder: LABELS,
      signal,
    });
    expect(result.n).toBe(4); // round(0.1 * 36)
    expect(result.precision).toBeGreaterThan(0.5); // clusters are well apart
    expect(heads.labelled().map((e) => [...e.labelIds])).toEqual(labelled);
    expect(tf.memory().numTensors).toBe(before);
    heads.dispose();
    db.close();
  });
});
