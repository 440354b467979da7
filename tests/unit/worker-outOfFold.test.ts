// Out-of-fold predictions for an open project (the engine worker's job) on fake-indexeddb and the
// tfjs cpu backend: every labelled image gets probabilities from a head that never saw it, a
// deliberately wrong label tops the mislabel ranking, and no tensor outlives the call.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { openLoupeDb } from '../../src/core/storage/db';
import { putEmbeddings } from '../../src/core/storage/embeddings';
import { createProject } from '../../src/core/storage/projects';
import { insertSamples } from '../../src/core/storage/samples';
import { rankMislabels } from '../../src/core/analysis/mislabels';
import { ProjectHeads } from '../../src/worker/headsService';
import { projectOutOfFold } from '../../src/worker/outOfFold';
import { clusters } from '../fixtures/embeddings';
import { embedding, newSample } from '../fixtures/records';

const KEY = 'test-backbone@centre-crop#2';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('projectOutOfFold', () => {
  it('predicts each labelled image out of fold; a flipped label ranks first', async () => {
    const db = await openLoupeDb();
    const projectId = (await createProject(db, 'oof')).id;
    const data = clusters(7, [['a'], ['b'], ['c']], 12, 8, 0.4);
    // One image of cluster a carries label c.
    const labelsOf = data.map((d, i) => (i === 3 ? ['c'] : [...d.labelIds]));
    const batch = data.map((_, i) => newSample(projectId, { labelIds: labelsOf[i] }));
    batch.push(newSample(projectId, { labelIds: [] }));
    await insertSamples(db, batch);
    await putEmbeddings(
      db,
      batch.map((b, i) =>
        embedding(projectId, b.sample.id, KEY, [...(data[i] ?? data[0]!).embedding]),
      ),
    );
    const heads = await ProjectHeads.open(db, {
      projectId,
      embeddingKey: KEY,
      backboneId: 'test-backbone',
      kind: 'single-label',
    });
    const before = tf.memory().numTensors;
    const oof = await projectOutOfFold(heads, {
      labelOrder: ['a', 'b', 'c'],
      signal: new AbortController().signal,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(oof.labels).toEqual(['a', 'b', 'c']);
    expect(oof.predictions).toHaveLength(36); // the unlabelled sample is not predicted
    const flipped = batch[3]!.sample.id;
    const [top] = rankMislabels(oof);
    expect(top).toMatchObject({ sampleId: flipped, given: 'c', suggested: 'a' });
    heads.dispose();
    db.close();
  });
});
