/**
 * Restoring saved models: tensors are checked, a dense model's payload is read typed with its ids
 * checked, and a model this Loupe cannot read is skipped with a warning.
 */
import { describe, expect, it } from 'vitest';
import { readProjectArchive } from '../../src/core/formats';
import { writeRestoredProject } from '../../src/core/storage/restoreProject';
import { expectArchiveError, readJson, writeJson, seededArchiveSuite } from '../fixtures/formats';
import { countByProject } from '../fixtures/records';

const suite = seededArchiveSuite('formats-restoreModels-source');
const edit = suite.edit;
const modelPath = (): string => `models/${suite.seeded.model.id}.json`;

describe('model weights', () => {
  it('rejects model weights with a bad dtype, length or shape, and NaN/Inf weights', async () => {
    interface ModelDoc {
      payload: { head: { tensors: Record<string, unknown>[] } };
    }
    const setModel = (mutate: (model: ModelDoc) => void) =>
      edit((files) => {
        const doc = readJson(files, modelPath()) as unknown as ModelDoc;
        mutate(doc);
        writeJson(files, modelPath(), doc);
      });
    const kernel = (m: ModelDoc): Record<string, unknown> =>
      m.payload.head.tensors[0]?.data as Record<string, unknown>;
    await expectArchiveError(
      setModel((m) => (kernel(m).dtype = 'complex64')),
      'bad-tensor',
      /dtype "complex64" is not one of/,
    );
    await expectArchiveError(
      setModel((m) => (kernel(m).length = 9)),
      'bad-tensor',
      /holds 32 bytes but 9 float32 values need 36/,
    );
    await expectArchiveError(
      setModel((m) => {
        kernel(m).dtype = 'int32';
      }),
      'bad-tensor',
      /must hold float32 data, not int32/,
    );
    await expectArchiveError(
      setModel((m) => ((m.payload.head.tensors[0] as Record<string, unknown>).shape = [3, 2])),
      'bad-tensor',
      /shape \[3, 2\] \(6 values\) but 8 values/,
    );
    await expectArchiveError(
      setModel((m) => (kernel(m).extra = 1)),
      'bad-tensor',
      /exactly \$binary, dtype and length/,
    );
    for (const bad of [Number.NaN, Number.NEGATIVE_INFINITY]) {
      await expectArchiveError(
        edit((files) => {
          const path = `models/${suite.seeded.model.id}/0.bin`;
          const weights = new Float32Array((files[path] as Uint8Array).slice().buffer);
          weights[3] = bad;
          files[path] = new Uint8Array(weights.buffer);
        }),
        'non-finite',
        /weights must be finite/,
      );
    }
  });
});

describe('saved models', () => {
  type ModelDoc = Record<string, unknown> & {
    headType: string;
    payload: {
      summary: Record<string, unknown> & { labels: unknown[]; snapshot: Record<string, unknown> };
      head: Record<string, unknown> & { labels: unknown[] };
    };
  };
  const setModel = (mutate: (model: ModelDoc) => void): Promise<Blob> =>
    edit((files) => {
      const doc = readJson(files, modelPath()) as ModelDoc;
      mutate(doc);
      writeJson(files, modelPath(), doc);
    });

  it('skips a model of an unknown head type with a warning, and restores everything else', async () => {
    const restored = await readProjectArchive(
      await edit((files) => {
        const doc = readJson(files, modelPath()) as ModelDoc;
        writeJson(files, modelPath(), { ...doc, headType: 'knn-v9' });
        // Its payload is not decoded at all: even non-finite weights do not matter.
        files[`models/${suite.seeded.model.id}/0.bin`] = new Uint8Array(
          Float32Array.from([Number.NaN, 0, 0, 0, 0, 0, 0, 0]).buffer,
        );
      }),
    );
    expect(restored.models).toEqual([]);
    expect(restored.warnings).toEqual([
      `Skipped the saved model "${suite.seeded.model.id}": its head type "knn-v9" is not one this ` +
        'Loupe knows (it may come from a newer Loupe).',
    ]);
    const written = await writeRestoredProject(suite.db, restored, { mode: 'new' });
    expect(await countByProject(suite.db, written.id)).toEqual({
      projects: 1,
      labels: 2,
      samples: 3,
      thumbnails: 3,
      embeddings: 5,
      models: 0,
      outOfFold: 0,
    });
  });

  it('skips a dense model whose head format is newer than this Loupe reads', async () => {
    const restored = await readProjectArchive(await setModel((m) => (m.payload.head.version = 99)));
    expect(restored.models).toEqual([]);
    expect(restored.warnings).toEqual([
      `Skipped the saved model "${suite.seeded.model.id}": its head format version 99 is newer than this Loupe reads.`,
    ]);
  });

  it('reads a dense model’s payload typed, with its ids and unknown fields', async () => {
    const restored = await readProjectArchive(suite.good);
    const [model] = restored.models;
    const [roses, tulips] = suite.seeded.labels;
    expect(model?.headType).toBe('dense');
    expect(model?.payload.summary.id).toBe(suite.seeded.model.id);
    expect(model?.payload.head.labels).toEqual([roses.id, tulips.id]);
    expect(model?.payload.summary.snapshot).toEqual(suite.seeded.model.payload.summary.snapshot);
    expect(model).toEqual({ ...suite.seeded.model, payload: expect.anything() });
    expect({ ...model?.payload, summary: undefined, head: undefined }).toEqual({
      ...suite.seeded.model.payload,
      summary: undefined,
      head: undefined,
    });
  });

  it('keeps a version’s pin and re-activation time, and refuses malformed ones', async () => {
    const restored = await readProjectArchive(
      await setModel((m) => {
        m.pinned = true;
        m.activatedAt = 1_700_000_000_000;
      }),
    );
    expect(restored.models[0]).toMatchObject({ pinned: true, activatedAt: 1_700_000_000_000 });
    const unpinned = await readProjectArchive(await setModel((m) => (m.pinned = false)));
    expect(unpinned.models[0]).not.toHaveProperty('pinned');
    // A time in the future is capped at the import; one before the training is dropped.
    const before = Date.now();
    const future = await readProjectArchive(await setModel((m) => (m.activatedAt = 1e300)));
    expect(future.models[0]?.activatedAt).toBeGreaterThanOrEqual(before);
    expect(future.models[0]?.activatedAt).toBeLessThanOrEqual(Date.now());
    const early = await readProjectArchive(await setModel((m) => (m.activatedAt = 1)));
    expect(early.models[0]).not.toHaveProperty('activatedAt');
    await expectArchiveError(
      setModel((m) => (m.pinned = 'yes')),
      'invalid-record',
      /"pinned" that is not true or false/,
    );
    await expectArchiveError(
      setModel((m) => (m.activatedAt = 'soon')),
      'invalid-record',
      /activatedAt/,
    );
  });

  it('rejects a dense model whose id fields are not ids, or whose head is malformed', async () => {
    await expectArchiveError(
      setModel((m) => (m.payload.summary.labels = [7])),
      'invalid-record',
      /payload\.summary needs a list of ids in "labels"/,
    );
    await expectArchiveError(
      setModel((m) => (m.payload.head.labels = [''])),
      'invalid-record',
      /payload\.head needs a list of ids in "labels"/,
    );
    await expectArchiveError(
      setModel((m) => {
        const [first] = Object.keys(m.payload.summary.snapshot);
        m.payload.summary.snapshot[first ?? ''] = 'roses';
      }),
      'invalid-record',
      /list of label ids for each image in "snapshot"/,
    );
    await expectArchiveError(
      setModel((m) => (m.payload.summary.id = 12)),
      'invalid-record',
      /needs a text "id"/,
    );
    await expectArchiveError(
      setModel((m) => delete (m.payload as Record<string, unknown>).summary),
      'invalid-record',
      /needs an object "summary"/,
    );
    await expectArchiveError(
      setModel((m) => (m.payload.head.state = {})),
      'invalid-record',
      /payload\.head\.state needs a list "thresholds"/,
    );
    await expectArchiveError(
      setModel((m) => (m.payload.head.format = 'keras')),
      'invalid-record',
      /is not a serialized dense head/,
    );
    await expectArchiveError(
      setModel((m) => delete (m as Record<string, unknown>).headType),
      'invalid-record',
      /needs a text "headType"/,
    );
  });
});
