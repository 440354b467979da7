// An embedding job that follows an import still storing samples: `followSamples` hands over new
// ids (held inputs first, in import order; keys only), and `embedMissing` keeps going with them
// instead of ending, in one job, with progress totals that grow and no tensor left behind.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Backbone } from '../../src/core/backbone/types';
import { openLoupeDb, type LoupeDatabase } from '../../src/core/storage/db';
import * as projectsRepo from '../../src/core/storage/projects';
import * as samplesRepo from '../../src/core/storage/samples';
import { embedMissing, type EmbedProgress } from '../../src/worker/embedPipeline';
import { followSamples } from '../../src/worker/followSamples';
import { fakePrepare } from '../fixtures/prepare';
import { newSample } from '../fixtures/records';

const SIZE = 2;

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

/** Embeds each image as its mean pixel value per channel (3-d). */
const meanBackbone: Backbone = {
  id: 'mean',
  label: 'Mean colour',
  inputSize: SIZE,
  inputRange: [0, 1],
  embeddingSize: 3,
  load: () => Promise.resolve(),
  embed: (batch) => tf.tidy(() => tf.mean(batch, [1, 2]) as tf.Tensor2D),
  dispose: () => undefined,
};

/** The preprocessing worker's stand-in: pixels filled with 100. */
const prepareFrom = (db: LoupeDatabase, asked: string[][]) => fakePrepare(db, asked, SIZE, 100);

describe('followSamples', () => {
  let db: LoupeDatabase;
  let projectId: string;
  beforeEach(async () => {
    db = await openLoupeDb();
    projectId = (await projectsRepo.createProject(db, 'P')).id;
    return () => db.close();
  });

  async function store(n: number): Promise<string[]> {
    const batch = Array.from({ length: n }, () => newSample(projectId));
    await samplesRepo.insertSamples(db, batch);
    return batch.map((s) => s.sample.id);
  }

  it('hands over new ids once, those with a held input first in held order', async () => {
    const first = await store(2);
    const known = new Set(first);
    const later = await store(3);
    const held = [later[2], later[0]] as string[];
    const more = followSamples(db, projectId, {
      known,
      prepared: { heldIds: () => held },
      waitMs: 0,
    });
    expect(await more()).toEqual(held);
    // The one without an input comes next, and then nothing.
    expect(await more()).toEqual([later[1]]);
    expect(await more()).toEqual([]);
    expect(known.size).toBe(5);
  });

  it('waits a moment for inputs on their way before handing over ids without one', async () => {
    const known = new Set<string>();
    const ids = await store(2);
    const held: string[] = [];
    const more = followSamples(db, projectId, {
      known,
      prepared: { heldIds: () => held },
      waitMs: 40,
    });
    const answer = more();
    setTimeout(() => held.push(ids[1] as string), 5);
    expect(await answer).toEqual([ids[1]]);
    // No input arrives for the other one: after the wait it is handed over all the same.
    expect(await more()).toEqual([ids[0]]);
    expect(await more()).toEqual([]);
    expect(known.size).toBe(2);
  });
});

describe('embedMissing following an import', () => {
  it('embeds samples stored while it runs in the same job', async () => {
    const db = await openLoupeDb();
    const projectId = (await projectsRepo.createProject(db, 'P')).id;
    const seed = Array.from({ length: 3 }, () => newSample(projectId));
    await samplesRepo.insertSamples(db, seed);
    const known = new Set(seed.map((s) => s.sample.id));
    const follow = followSamples(db, projectId, {
      known,
      prepared: { heldIds: () => [] },
      waitMs: 0,
    });
    // Two more chunks are stored while the job runs: one on the first ask, one on the second.
    let asks = 0;
    const more = async (): Promise<string[]> => {
      asks += 1;
      if (asks <= 2)
        await samplesRepo.insertSamples(db, [newSample(projectId), newSample(projectId)]);
      return follow();
    };
    const asked: string[][] = [];
    const progress: EmbedProgress[] = [];
    const baseline = tf.memory().numTensors;
    const report = await embedMissing({
      db,
      projectId,
      sampleIds: [...known],
      backbone: meanBackbone,
      embeddingKey: 'k',
      aspectMode: 'centre-crop',
      prepare: prepareFrom(db, asked),
      more,
      batchSize: 2,
      signal: new AbortController().signal,
      onProgress: (p) => progress.push(p),
    });
    expect(report.computed).toBe(7);
    expect(report.total).toBe(7);
    expect(report.cancelled).toBe(false);
    expect(asked.flat().sort()).toEqual([...known].sort());
    expect(progress.at(-1)).toMatchObject({ done: 7, total: 7 });
    expect(Math.max(...progress.map((p) => p.total))).toBe(7);
    const stored = await db.getAllKeysFromIndex('embeddings', 'byProjectKey', [projectId, 'k']);
    expect(stored).toHaveLength(7);
    expect(tf.memory().numTensors).toBe(baseline);
    db.close();
  });

  it('stops asking once cancelled', async () => {
    const db = await openLoupeDb();
    const projectId = (await projectsRepo.createProject(db, 'P')).id;
    const seed = [newSample(projectId), newSample(projectId)];
    await samplesRepo.insertSamples(db, seed);
    const controller = new AbortController();
    let asks = 0;
    const report = await embedMissing({
      db,
      projectId,
      sampleIds: seed.map((s) => s.sample.id),
      backbone: meanBackbone,
      embeddingKey: 'k',
      aspectMode: 'centre-crop',
      prepare: prepareFrom(db, []),
      more: () => {
        asks += 1;
        controller.abort();
        return Promise.resolve([]);
      },
      batchSize: 1,
      signal: controller.signal,
      onProgress: () => undefined,
    });
    expect(report.cancelled || report.computed <= 2).toBe(true);
    expect(asks).toBe(1);
    db.close();
  });
});
