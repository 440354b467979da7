// Label next, clusters, the review simulation and its bench for an open project (the engine
// worker's jobs) on fake-indexeddb and the tfjs cpu backend: only unlabelled embedded images are
// ranked and clustered, an image between two labels outranks one deep inside a label, the
// simulation reports its curves and cluster scores, and no tensor outlives any of the calls.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { openLoupeDb } from '../../src/core/storage/db';
import { putEmbeddings } from '../../src/core/storage/embeddings';
import { createProject } from '../../src/core/storage/projects';
import { insertSamples } from '../../src/core/storage/samples';
import { ProjectHeads } from '../../src/worker/headsService';
import { projectLabelNext } from '../../src/worker/labelNext';
import { projectClusters } from '../../src/worker/clusters';
import { benchReview, simulateReview } from '../../src/worker/reviewSimulation';
import { clusters } from '../fixtures/embeddings';
import { embedding, newSample } from '../fixtures/records';

const KEY = 'test-backbone@centre-crop#2';
const signal = new AbortController().signal;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A project with `data`'s images; `hide(i)` leaves image i unlabelled. */
async function openProject(
  data: { embedding: Float32Array; labelIds: string[] }[],
  hide: (i: number) => boolean,
) {
  const db = await openLoupeDb();
  const projectId = (await createProject(db, 'review')).id;
  const batch = data.map((d, i) => newSample(projectId, { labelIds: hide(i) ? [] : d.labelIds }));
  await insertSamples(db, batch);
  await putEmbeddings(
    db,
    batch.map((b, i) => embedding(projectId, b.sample.id, KEY, [...(data[i]?.embedding ?? [])])),
  );
  const heads = await ProjectHeads.open(db, {
    projectId,
    embeddingKey: KEY,
    backboneId: 'test-backbone',
    kind: 'single-label',
  });
  await heads.setHeadSettings({ ...heads.settings, k: 4 });
  return { db, heads, ids: batch.map((b) => b.sample.id) };
}

describe('projectLabelNext and projectClusters', () => {
  it('rank and cluster the unlabelled images only; tensors back to baseline', async () => {
    const data = clusters(21, [['a'], ['b']], 10, 8, 0.3);
    // Unlabelled: two images deep in a and b, and one half way between the two centres.
    const between = Float32Array.from(
      data[0]!.embedding,
      (v, j) => (v + (data[10]!.embedding[j] ?? 0)) / 2,
    );
    const all = [...data, { embedding: between, labelIds: ['a'] }];
    const hidden = new Set([0, 10, 20]);
    const { db, heads, ids } = await openProject(all, (i) => hidden.has(i));
    // The live KNN uploads its rows on its first prediction and keeps them: warm it up first.
    await projectLabelNext(db, heads, { signal });
    const before = tf.memory().numTensors;
    const next = await projectLabelNext(db, heads, { signal });
    const clustering = await projectClusters(db, heads, { k: 2, signal });
    expect(tf.memory().numTensors).toBe(before);

    expect(next.unlabelled).toBe(3);
    expect(next.items.map((i) => i.sampleId).sort()).toEqual([ids[0], ids[10], ids[20]].sort());
    expect(next.items[0]?.sampleId).toBe(ids[20]);
    const deep = next.items.find((i) => i.sampleId === ids[0]);
    expect(deep).toMatchObject({ suggested: 'a' });
    expect(clustering.clusters.flatMap((c) => c.sampleIds).sort()).toEqual(
      [ids[0], ids[10], ids[20]].sort(),
    );
    heads.dispose();
    db.close();
  });
});

describe('simulateReview and benchReview', () => {
  it('report accuracy curves for both orders and cluster scores; tensors back to baseline', async () => {
    const data = clusters(5, [['a'], ['b'], ['c']], 20, 8, 0.6);
    const { db, heads } = await openProject(data, () => false);
    const before = tf.memory().numTensors;
    const result = await simulateReview(heads, {
      seeds: 2,
      checkpoints: [6, 12, 24],
      startPerClass: 2,
      batch: 3,
      signal,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(result).toMatchObject({ images: 60, classes: 3, heldOut: 12, pool: 48, seeds: 2 });
    for (const curve of [result.labelNext, result.random]) {
      expect(curve).toHaveLength(3);
      for (const accuracy of curve) expect(accuracy).toBeGreaterThanOrEqual(0);
      for (const accuracy of curve) expect(accuracy).toBeLessThanOrEqual(1);
    }
    expect(result.curves.labelNext.map(([n]) => n)).toEqual([6, 9, 12, 15, 18, 21, 24]);
    expect(result.clusters.classes.k).toBe(3);
    expect(result.clusters.classes.purity).toBeGreaterThan(0.9);

    const bench = await benchReview({ n: 300, dim: 16, blobs: 4, labelled: 40 });
    expect(tf.memory().numTensors).toBe(before);
    expect(bench).toMatchObject({ n: 300, dim: 16, labelNext: { labelled: 40 } });
    expect(bench.clusters.k).toBeGreaterThanOrEqual(2);
    heads.dispose();
    db.close();
  });
});
