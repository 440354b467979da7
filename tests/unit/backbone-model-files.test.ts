// A layers model picked as files: a tiny model saved in the test and split into model.json +
// weight shards (as the TF.js converter writes them) is checked, stored in fake-indexeddb and
// loaded again through the stored files' in-memory IOHandler, with no fetch; every way a pick can
// be wrong gets a message naming what is wrong.
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createBackbone, customBackboneId } from '../../src/core/backbone';
import {
  MODEL_FILES_LIMITS,
  ModelFilesError,
  collectModelFiles,
  modelFilesHandler,
  modelFilesKey,
  parseModelJson,
  weightByteSize,
} from '../../src/core/backbone/modelFiles';
import type { CustomBackboneSpec } from '../../src/core/backbone/types';
import { exportProjectArchive, readProjectArchive } from '../../src/core/formats';
import { openLoupeDb, type LoupeDatabase } from '../../src/core/storage/db';
import * as backboneFilesRepo from '../../src/core/storage/backboneFiles';
import { createProject, updateProject } from '../../src/core/storage/projects';
import * as trashRepo from '../../src/core/storage/trash';
import { modelFilesSource, storeModelFiles } from '../../src/worker/modelFiles';

const SIZE = 8;

/** input [8,8,3] -> conv 'features' [4,4,5] -> GAP -> dense softmax 'probs' (3). */
function tinyModel(): tf.LayersModel {
  const input = tf.input({ shape: [SIZE, SIZE, 3], name: 'pixels' });
  const conv = tf.layers
    .conv2d({ filters: 5, kernelSize: 3, strides: 2, padding: 'same', name: 'features' })
    .apply(input) as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(conv);
  const probs = tf.layers
    .dense({ units: 3, activation: 'softmax', name: 'probs' })
    .apply(pooled) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: probs });
}

let reference: tf.LayersModel;
/** The saved model as converter-style files: model.json + one shard per weight group. */
let modelJson: string;
let shards: { name: string; bytes: Uint8Array<ArrayBuffer> }[];

beforeAll(async () => {
  await tf.setBackend('wasm');
  reference = tinyModel();
  let artifacts: tf.io.ModelArtifacts | undefined;
  await reference.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!artifacts?.weightSpecs || !artifacts.weightData) throw new Error('no artifacts');
  const data = artifacts.weightData;
  const all = new Uint8Array(Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data);
  // Two groups: the conv weights in two shards, the dense weights in one (paths with a folder).
  const specs = artifacts.weightSpecs;
  const convBytes = specs.slice(0, 2).reduce((s, w) => s + weightByteSize(w), 0);
  const half = 40;
  shards = [
    { name: 'group1-shard1of2.bin', bytes: all.slice(0, half) },
    { name: 'group1-shard2of2.bin', bytes: all.slice(half, convBytes) },
    { name: 'group2-shard1of1', bytes: all.slice(convBytes) },
  ];
  modelJson = JSON.stringify({
    format: 'layers-model',
    modelTopology: artifacts.modelTopology,
    weightsManifest: [
      { paths: ['group1-shard1of2.bin', './group1-shard2of2.bin'], weights: specs.slice(0, 2) },
      { paths: ['weights/group2-shard1of1'], weights: specs.slice(2) },
    ],
  });
});

afterAll(() => reference.dispose());

function pick(
  overrides: { json?: string; drop?: string; resize?: string; extra?: File[] } = {},
): File[] {
  const files = [new File([overrides.json ?? modelJson], 'model.json')];
  for (const s of shards) {
    if (s.name === overrides.drop) continue;
    const bytes = s.name === overrides.resize ? s.bytes.slice(1) : s.bytes;
    files.push(new File([bytes], s.name));
  }
  // Picked in reverse: the manifest, not the pick, decides the order of the weight bytes.
  return [...files.reverse(), ...(overrides.extra ?? [])];
}

async function failure(files: File[]): Promise<string> {
  const err: unknown = await collectModelFiles(files).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ModelFilesError);
  return err instanceof Error ? err.message : '';
}

async function predictions(model: tf.LayersModel): Promise<number[]> {
  const x = tf.randomUniform([2, SIZE, SIZE, 3], 0, 1, 'float32', 7);
  const y = model.predict(x) as tf.Tensor;
  const values = Array.from(await y.data());
  tf.dispose([x, y]);
  return values;
}

/** The custom spec a project names picked files by: their `features` layer. */
function featuresSpec(info: { name: string; key: string }): CustomBackboneSpec {
  return {
    kind: 'custom',
    id: customBackboneId(info.name, 'features', info.key),
    label: 'model files (features)',
    url: '',
    files: info.key,
    embeddingLayer: 'features',
    inputSize: SIZE,
    inputRange: [0, 1],
  };
}

describe('collectModelFiles', () => {
  it('orders the weight files by the manifest and loads the same model, nothing fetched', async () => {
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    const picked = await collectModelFiles(pick({ extra: [new File(['{}'], 'notes.txt')] }));
    expect(picked.name).toBe('model');
    expect(picked.weights.map((w) => w.file.name)).toEqual(shards.map((s) => s.name));
    expect(picked.weightBytes).toBe(shards.reduce((s, x) => s + x.bytes.byteLength, 0));

    const data = await new Blob(picked.weights.map((w) => w.file)).arrayBuffer();
    const model = await tf.loadLayersModel(modelFilesHandler(picked.modelJson, data));
    expect(await predictions(model)).toEqual(await predictions(reference));
    model.dispose();
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it('names the model after a dropped folder when given', async () => {
    expect((await collectModelFiles(pick(), 'my-net')).name).toBe('my-net');
  });

  it('names a missing weight file', async () => {
    expect(await failure(pick({ drop: 'group1-shard2of2.bin' }))).toMatch(
      /Missing 1 weight file listed in model\.json: "group1-shard2of2\.bin"/,
    );
  });

  it('names weight files whose size does not match the manifest', async () => {
    expect(await failure(pick({ resize: 'group2-shard1of1' }))).toMatch(
      /"group2-shard1of1" holds \d+ bytes; model\.json expects \d+/,
    );
  });

  it('asks for a model.json when there is none, or only one model at a time', async () => {
    expect(await failure(pick().filter((f) => f.name !== 'model.json'))).toMatch(/No model\.json/);
    const second = new File([modelJson], 'model.json');
    expect(await failure([...pick(), second])).toMatch(/more than one model\.json/);
  });

  it('refuses a model.json that is not a layers model', async () => {
    expect(await failure(pick({ json: '{ nope' }))).toMatch(/not valid JSON/);
    expect(await failure(pick({ json: '{"weightsManifest": []}' }))).toMatch(/modelTopology/);
    const graph = JSON.stringify({ ...JSON.parse(modelJson), format: 'graph-model' });
    expect(await failure(pick({ json: graph }))).toMatch(/graph model/);
  });

  it('refuses an oversized model.json before reading it', async () => {
    const big = new File(['x'], 'model.json');
    Object.defineProperty(big, 'size', { value: MODEL_FILES_LIMITS.modelJsonBytes + 1 });
    expect(await failure([big])).toMatch(/is refused/);
  });

  it('counts quantised weights by their stored dtype', () => {
    const parsed = parseModelJson(
      JSON.stringify({
        modelTopology: {},
        weightsManifest: [
          {
            paths: ['a'],
            weights: [
              { name: 'q', shape: [2, 3], dtype: 'float32', quantization: { dtype: 'uint8' } },
            ],
          },
        ],
      }),
    );
    expect(parsed.groups[0]?.weights.map(weightByteSize)).toEqual([6]);
    expect(() => modelFilesHandler(parsed, new ArrayBuffer(5))).toThrow(/expects 6/);
  });
});

describe('stored model files', () => {
  let db: LoupeDatabase;
  afterEach(() => db.close());

  it('store once by content, load after a restart, and are pruned when no project names them', async () => {
    db = await openLoupeDb();
    const info = await storeModelFiles(db, { files: pick() });
    expect(info).toMatchObject({ name: 'model', inputSize: SIZE, layerCount: 4 });
    expect(info.key).toMatch(/^[0-9a-f]{64}$/);
    expect(info.candidates.map((c) => c.name)).toEqual(['probs', 'pool', 'features']);
    // The same files picked again (in another order) are the same record.
    expect((await storeModelFiles(db, { files: pick().reverse() })).key).toBe(info.key);
    expect(await db.count('backboneFiles')).toBe(1);

    const spec = featuresSpec(info);
    // A fresh connection, as after a reload or a worker restart.
    db.close();
    db = await openLoupeDb();
    const source = await modelFilesSource(db, spec);
    const backbone = createBackbone(spec, source === undefined ? {} : { source });
    await backbone.load();
    expect(backbone.embeddingSize).toBe(5);
    backbone.dispose();

    // Without the stored files (e.g. an archive from another device) the message says what to do.
    expect(() => createBackbone(spec)).toThrow(/pick its model\.json and weight files again/);
    await expect(modelFilesSource(db, { ...spec, files: 'gone' })).rejects.toThrow(
      /not stored on this device/,
    );
    expect(await modelFilesSource(db, { ...spec, files: undefined })).toBeUndefined();

    // Named by a project: kept; named by none: pruned.
    const project = await createProject(db, 'P');
    await updateProject(db, project.id, {
      settings: { ...project.settings, backboneId: spec.id, customBackbone: spec },
    });
    expect(await backboneFilesRepo.pruneBackboneFiles(db)).toEqual([]);
    // In the trash, the project still names them: kept, so a restore finds its model.
    const entry = await trashRepo.trashProject(db, project.id);
    expect(await backboneFilesRepo.pruneBackboneFiles(db)).toEqual([]);
    await trashRepo.restoreTrash(db, entry.id);
    await updateProject(db, project.id, {
      settings: { ...project.settings, customBackbone: undefined },
    });
    expect(await backboneFilesRepo.pruneBackboneFiles(db, ['other'])).toEqual([info.key]);
    expect(await backboneFilesRepo.getBackboneFiles(db, info.key)).toBeNull();
  });
});

describe('modelFilesKey', () => {
  let db: LoupeDatabase;
  afterEach(() => db.close());

  it('is the key of picked files and of the same files read back from a project archive', async () => {
    db = await openLoupeDb({ name: 'model-files-key' });
    const info = await storeModelFiles(db, { files: pick() });
    // Manifest order: group 1's two shards, then group 2's.
    expect(
      await modelFilesKey(
        modelJson,
        shards.map((s) => s.bytes),
      ),
    ).toBe(info.key);
    const project = await createProject(db, 'Keyed');
    const spec = featuresSpec(info);
    await updateProject(db, project.id, {
      settings: { ...project.settings, backboneId: spec.id, customBackbone: spec },
    });
    // The archive side recomputes the key from the entries and refuses a set that differs.
    const restored = await readProjectArchive(await exportProjectArchive(db, project.id));
    expect(restored.backboneFiles?.map((r) => r.key)).toEqual([info.key]);
    const weights = await Promise.all(
      (restored.backboneFiles?.[0]?.weights ?? []).map(async (w) => w.blob.arrayBuffer()),
    );
    expect(await modelFilesKey(restored.backboneFiles?.[0]?.modelJson ?? '', weights)).toBe(
      info.key,
    );
  });
});
