// Custom layers-model backbones on tiny models built in the test, saved to memory or served over
// HTTP, then loaded through the same loader code the app uses; plus missing-weights errors.
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BackboneWeightsMissingError,
  createBackbone,
  customBackboneId,
  embeddingKey,
  inspectLayersModel,
  listCandidateLayers,
  mobileNetV1Spec,
  type CustomBackboneSpec,
  type LayersBackbone,
  type MobileNetV1Spec,
} from '../../src/core/backbone';

const SIZE = 16;

/** input [16,16,3] -> conv 'features' [8,8,6] -> GAP -> dense 'bottleneck' (4) -> dense softmax (5). */
function tinyModel(): tf.LayersModel {
  const input = tf.input({ shape: [SIZE, SIZE, 3], name: 'pixels' });
  const conv = tf.layers
    .conv2d({
      filters: 6,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      activation: 'relu',
      name: 'features',
    })
    .apply(input) as tf.SymbolicTensor;
  const pooled = tf.layers
    .globalAveragePooling2d({ name: 'pool' })
    .apply(conv) as tf.SymbolicTensor;
  const bottleneck = tf.layers
    .dense({ units: 4, activation: 'tanh', name: 'bottleneck' })
    .apply(pooled) as tf.SymbolicTensor;
  const probs = tf.layers
    .dense({ units: 5, activation: 'softmax', name: 'probs' })
    .apply(bottleneck) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: probs });
}

function concat(data: tf.io.WeightData | undefined): ArrayBuffer {
  if (!data) return new ArrayBuffer(0);
  return Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data;
}

let artifacts: tf.io.ModelArtifacts;
let reference: tf.LayersModel;

beforeAll(async () => {
  await tf.setBackend('wasm');
  reference = tinyModel();
  await reference.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
});

afterAll(() => reference.dispose());

const customSpec = (layer: string, size?: number): CustomBackboneSpec => ({
  kind: 'custom',
  id: customBackboneId('tiny', layer),
  label: 'tiny',
  url: 'local:tiny',
  inputSize: SIZE,
  inputRange: [0, 1],
  embeddingLayer: layer,
  ...(size === undefined ? {} : { embeddingSize: size }),
});

describe('custom backbone', () => {
  it('pools a 4-D layer into an embedding equal to the mean of that layer', async () => {
    const baseline = tf.memory().numTensors;
    const b = createBackbone(customSpec('features'), { source: tf.io.fromMemory(artifacts) });
    expect(b.embeddingSize).toBe(0); // unknown until loaded
    await b.load();
    expect(b.embeddingSize).toBe(6);

    const batch = tf.randomUniform([2, SIZE, SIZE, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const e = b.embed(batch);
    expect(e.shape).toEqual([2, 6]);
    const features = tf.model({
      inputs: reference.inputs,
      outputs: reference.getLayer('features').output,
    });
    const want = tf.tidy(() => tf.mean(features.predict(batch) as tf.Tensor4D, [1, 2]));
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(e, want))).dataSync()[0] ?? Infinity);
    expect(diff).toBeLessThan(1e-5);

    expect((b as LayersBackbone).embeddingModel().outputs[0]?.shape).toEqual([null, 6]);
    tf.dispose([batch, e, want]);
    b.dispose();
    expect(tf.memory().numTensors).toBe(baseline);
  });

  it('uses a 2-D layer as it is', async () => {
    const b = createBackbone(customSpec('bottleneck', 4), { source: tf.io.fromMemory(artifacts) });
    await b.load();
    const batch = tf.ones([3, SIZE, SIZE, 3]) as tf.Tensor4D;
    const e = b.embed(batch);
    expect(e.shape).toEqual([3, 4]);
    expect(Array.from(e.dataSync()).every((v) => v > -1 && v < 1)).toBe(true); // tanh
    tf.dispose([batch, e]);
    b.dispose();
  });

  it('explains a wrong layer name, size or input size, and frees the model', async () => {
    const baseline = tf.memory().numTensors;
    const missing = createBackbone(customSpec('nope'), { source: tf.io.fromMemory(artifacts) });
    await expect(missing.load()).rejects.toThrow(
      /Layer "nope" not found.*probs, bottleneck, pool, features/,
    );
    const wrongSize = createBackbone(customSpec('features', 99), {
      source: tf.io.fromMemory(artifacts),
    });
    await expect(wrongSize.load()).rejects.toThrow(/gives 6-d embeddings, the spec says 99/);
    const wrongInput = createBackbone(
      { ...customSpec('features'), inputSize: 224 },
      { source: tf.io.fromMemory(artifacts) },
    );
    await expect(wrongInput.load()).rejects.toThrow(/takes 16x16 input, the spec says 224/);
    expect(tf.memory().numTensors).toBe(baseline);
  });

  it('lists candidate embedding layers, deepest first', async () => {
    expect(listCandidateLayers(reference).map((c) => [c.name, c.embeddingSize])).toEqual([
      ['probs', 5],
      ['bottleneck', 4],
      ['pool', 6],
      ['features', 6],
    ]);
    const info = await inspectLayersModel(tf.io.fromMemory(artifacts));
    expect(info.inputSize).toBe(SIZE);
    expect(info.candidates[3]).toMatchObject({ name: 'features', outputShape: [null, 8, 8, 6] });
    expect(info.paramCount).toBe(reference.countParams());
  });

  it('makes stable ids and embedding keys', () => {
    expect(customBackboneId('My Model.json', 'leaky_re_lu_14', 'abcdef0123456789')).toBe(
      'custom:my-model.json:leaky_re_lu_14-abcdef012345',
    );
    expect(embeddingKey(mobileNetV1Spec(), 'centre-crop')).toBe(
      'mobilenet_v1_0.75_224@centre-crop#2',
    );
    expect(embeddingKey({ id: 'x' }, 'letterbox')).toBe('x@letterbox#2');
  });
});

describe('loading over HTTP', () => {
  let server: Server;
  let base = '';
  const files = new Map<string, { type: string; body: Buffer | string }>();

  beforeAll(async () => {
    const modelJson = {
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
    };
    files.set('/models/tiny/model.json', {
      type: 'application/json',
      body: JSON.stringify(modelJson),
    });
    files.set('/models/tiny/weights.bin', {
      type: 'application/octet-stream',
      body: Buffer.from(concat(artifacts.weightData)),
    });
    files.set('/models/tiny/metadata.json', {
      type: 'application/json',
      body: JSON.stringify({ labels: ['ant', 'bee', 'cat', 'dog', 'eel'] }),
    });
    // What a dev server's SPA fallback answers for a missing file.
    files.set('/models/spa/model.json', {
      type: 'text/html',
      body: '<!doctype html><html></html>',
    });
    server = createServer((req, res) => {
      const f = files.get(req.url ?? '');
      if (!f) {
        res.writeHead(404).end('not found');
        return;
      }
      res.writeHead(200, { 'content-type': f.type }).end(f.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const v1Like = (dir: string): MobileNetV1Spec => ({
    ...mobileNetV1Spec(`${base}/models/`),
    id: `tiny-${dir}`,
    url: `${base}/models/${dir}/model.json`,
    labelsUrl: undefined,
    inputSize: SIZE,
    embeddingLayer: 'features',
    embeddingSize: 6,
  });

  it('loads a model URL and the class names next to it', async () => {
    const baseline = tf.memory().numTensors;
    const b = createBackbone(v1Like('tiny'));
    await b.load();
    const batch = tf.ones([2, SIZE, SIZE, 3]) as tf.Tensor4D;
    const rows = await b.classify?.(batch, 2);
    const predicted = tf.tidy(() => reference.predict(batch) as tf.Tensor2D);
    const want = predicted.arraySync()[0] ?? [];
    predicted.dispose();
    const best = want.indexOf(Math.max(...want));
    expect(rows?.[0]?.[0]?.className).toBe(['ant', 'bee', 'cat', 'dog', 'eel'][best]);
    expect(rows?.[0]?.[0]?.probability).toBeCloseTo(want[best] ?? NaN, 5);
    expect(rows?.[1]).toHaveLength(2);
    batch.dispose();
    b.dispose();
    expect(tf.memory().numTensors).toBe(baseline);
  });

  it.each([
    ['a 404', 'missing'],
    ['an HTML fallback page', 'spa'],
  ])('turns %s into "weights not found: run `npm run models`"', async (_what, dir) => {
    const err: unknown = await createBackbone(v1Like(dir))
      .load()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackboneWeightsMissingError);
    expect((err as Error).message).toBe(
      `MobileNet weights not found at ${base}/models/${dir}/model.json: run \`npm run models\``,
    );
  });

  it('names no command for a user model', async () => {
    const spec = { ...customSpec('features'), url: `${base}/models/missing/model.json` };
    await expect(createBackbone(spec).load()).rejects.toThrow(
      /^Custom model weights not found at http/,
    );
  });
});
