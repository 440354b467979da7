import * as tf from '@tensorflow/tfjs';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openLoupeDb, type LoupeDatabase } from '../../src/core/storage/db';
import { putEmbeddings } from '../../src/core/storage/embeddings';
import { createProject } from '../../src/core/storage/projects';
import { insertSamples } from '../../src/core/storage/samples';
import { HeadsHolder } from '../../src/worker/headsHolder';
import type { HeadsTarget } from '../../src/worker/headsService';
import { embedding, newSample } from '../fixtures/records';

const KEY = 'test@centre-crop#2';
let db: LoupeDatabase;
let target: HeadsTarget;
let ids: string[];

beforeAll(async () => {
  await tf.setBackend('cpu');
});

beforeEach(async () => {
  db = await openLoupeDb();
  const projectId = (await createProject(db, 'holder')).id;
  const samples = [0, 1, 2].map((i) => newSample(projectId, { labelIds: [i < 2 ? 'a' : 'b'] }));
  await insertSamples(db, samples);
  ids = samples.map((s) => s.sample.id);
  await putEmbeddings(
    db,
    ids.slice(0, 2).map((id, i) => embedding(projectId, id, KEY, [i, 1, 0, 0])),
  );
  target = { projectId, embeddingKey: KEY, backboneId: 'test', kind: 'single-label' };
  return () => db.close();
});

describe('HeadsHolder', () => {
  it('reuses open heads, rebuilds on reload, and keeps what arrived during the rebuild', async () => {
    let busy = false;
    const holder = new HeadsHolder(
      () => Promise.resolve(db),
      () => busy,
    );
    const first = await holder.open(target);
    expect(await holder.open(target)).toBe(first);
    expect(first.exampleCount).toBe(2);

    // Another tab embedded the third image; the reload reads it. Meanwhile a label change
    // arrives: it reaches the old heads at once and the new ones when they are swapped in.
    await putEmbeddings(db, [embedding(target.projectId, ids[2] as string, KEY, [0, 0, 1, 0])]);
    busy = true; // a job holds the old heads
    const reloading = holder.open(target, true);
    holder.apply((h) => h.applyChanges([{ sampleId: ids[0] as string, labelIds: ['b'] }], []));
    const second = await reloading;
    expect(second).not.toBe(first);
    expect(holder.current).toBe(second);
    expect(second.exampleCount).toBe(3);
    const labelsOf = (h: typeof second) =>
      Object.fromEntries(h.labelled().map((e) => [e.id, e.labelIds]));
    expect(labelsOf(second)[ids[0] as string]).toEqual(['b']);
    expect(labelsOf(first)[ids[0] as string]).toEqual(['b']);

    // The replaced heads stay usable while a job runs and are disposed once none does.
    expect(first.exampleCount).toBe(3 - 1);
    const before = tf.memory().numTensors;
    busy = false;
    holder.sweep();
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before);
    holder.close();
    holder.sweep();
    expect(holder.current).toBeNull();
  });

  it('builds one heads at a time when opens overlap', async () => {
    const holder = new HeadsHolder(
      () => Promise.resolve(db),
      () => false,
    );
    const [a, b] = await Promise.all([holder.open(target), holder.open(target)]);
    expect(a).toBe(b);
    const [c, d] = await Promise.all([holder.open(target, true), holder.open(target, true)]);
    expect(c).not.toBe(d);
    expect(holder.current).toBe(d);
    holder.close();
  });
});
