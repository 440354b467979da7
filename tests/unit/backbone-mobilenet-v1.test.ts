// Real MobileNet v1 0.75, MobileNet v2 1.0 (layers, uint8 weights) and Darknet tiny from
// ../shared/models, loaded through the app's own loader code on the wasm backend. Skipped where ../shared is absent (a fresh clone).
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createBackbone,
  darknetTinySpec,
  mobileNetV1Spec,
  mobileNetV2Spec,
  pixelsToTensor,
  type Backbone,
  type MobileNetV1Backbone,
} from '../../src/core/backbone';
import { parseLabelLines } from '../../src/core/backbone/layersModel';
import { hasShared, nodeModelHandler, readLabels, sharedPath } from './helpers/nodeModel';
import { nodeDrawToPixels } from './helpers/nodeImage';
import { readPng } from './helpers/png';

const V1_DIR = sharedPath('models', 'mobilenet_v1_0.75_224');
const V2_DIR = sharedPath('models', 'mobilenet_v2_1.0_224');
const DARKNET_DIR = sharedPath('models', 'darknet_tiny_imagenet');
const COFFEE = sharedPath('images', 'coffee.png');
const haveV1 =
  hasShared('models', 'mobilenet_v1_0.75_224', 'model.json') && hasShared('images', 'coffee.png');
const haveV2 =
  hasShared('models', 'mobilenet_v2_1.0_224', 'model.json') && hasShared('images', 'coffee.png');
const haveDarknet = hasShared('models', 'darknet_tiny_imagenet', 'model.json');

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  expect(tf.getBackend()).toBe('wasm');
});

function coffeeBatch(range: [number, number]): tf.Tensor4D {
  return pixelsToTensor([nodeDrawToPixels(readPng(COFFEE), 224, 'centre-crop')], range);
}

describe.skipIf(!haveV2)('MobileNet v2 1.0 layers model (real uint8 weights)', () => {
  it('embeds 1280-d from out_relu and names ImageNet classes from its text labels', async () => {
    const baseline = tf.memory().numTensors;
    const labels = readFileSync(path.join(V2_DIR, 'imagenet_labels.txt'), 'utf8');
    const backbone = createBackbone(mobileNetV2Spec(), {
      source: nodeModelHandler(V2_DIR),
      labels: parseLabelLines(labels),
    }) as MobileNetV1Backbone;
    try {
      await backbone.load();
      expect(backbone.embeddingSize).toBe(1280);
      const batch = coffeeBatch(backbone.inputRange);
      const e = backbone.embed(batch);
      expect(e.shape).toEqual([1, 1280]);
      const [top] = await backbone.classify(batch);
      tf.dispose([batch, e]);
      // Index 0 of its 1001 outputs is "background": the text file keeps it, so names line up.
      expect(backbone.classNames()?.length).toBe(1001);
      expect(top?.[0]?.className).toBe('espresso');
      expect(top?.[0]?.probability).toBeGreaterThan(0.9);
      expect(backbone.embeddingModel().outputs[0]?.shape).toEqual([null, 1280]);
    } finally {
      backbone.dispose();
    }
    expect(tf.memory().numTensors).toBe(baseline);
  });
});

describe.skipIf(!haveV1)('MobileNet v1 0.75 (real weights)', () => {
  let backbone: MobileNetV1Backbone;
  let baseline = 0;

  beforeAll(async () => {
    baseline = tf.memory().numTensors;
    backbone = createBackbone(mobileNetV1Spec(), {
      source: nodeModelHandler(V1_DIR),
      labels: readLabels(V1_DIR),
    }) as MobileNetV1Backbone;
    await backbone.load();
  });

  afterAll(() => {
    backbone.dispose();
    expect(tf.memory().numTensors).toBe(baseline);
  });

  it('gives 768-d embeddings', () => {
    expect(backbone.embeddingSize).toBe(768);
    const batch = coffeeBatch(backbone.inputRange);
    const twice = tf.concat([batch, batch]) as tf.Tensor4D;
    const e = backbone.embed(twice);
    expect(e.shape).toEqual([2, 768]);
    const v = e.arraySync();
    expect(v[0]?.every((x) => Number.isFinite(x) && x >= 0)).toBe(true); // ReLU, pooled
    expect(v[0]).toEqual(v[1]);
    tf.dispose([batch, twice, e]);
  });

  it('classifies coffee.png as espresso after centre-crop + resize', async () => {
    const batch = coffeeBatch(backbone.inputRange);
    const [top] = await backbone.classify(batch);
    batch.dispose();
    expect(top).toHaveLength(3);
    expect(top?.[0]?.className).toBe('espresso');
    expect(top?.[0]?.probability).toBeGreaterThan(0.9);
  });

  it('exposes an embedding model ending in global average pooling', () => {
    const m = backbone.embeddingModel();
    expect(m.outputs[0]?.shape).toEqual([null, 768]);
    expect(m.layers.at(-1)?.getClassName()).toBe('GlobalAveragePooling2D');
  });
});

describe.skipIf(!haveV1)('backbone memory', () => {
  it('returns to the tensor baseline after load/embed/classify/dispose cycles', async () => {
    const baseline = tf.memory().numTensors;
    for (let i = 0; i < 2; i++) {
      const b: Backbone = createBackbone(mobileNetV1Spec(), {
        source: nodeModelHandler(V1_DIR),
        labels: readLabels(V1_DIR),
      });
      await b.load();
      const batch = tf.zeros([2, 224, 224, 3]) as tf.Tensor4D;
      const e = b.embed(batch);
      expect(e.shape).toEqual([2, 768]);
      await b.classify?.(batch);
      tf.dispose([batch, e]);
      b.dispose();
      expect(tf.memory().numTensors).toBe(baseline);
    }
  });
});

describe.skipIf(!haveDarknet)('custom backbone: darknet_tiny_imagenet', () => {
  it('gives 512-d embeddings from leaky_re_lu_14 and frees everything', async () => {
    const baseline = tf.memory().numTensors;
    const spec = darknetTinySpec();
    const b = createBackbone(spec, { source: nodeModelHandler(DARKNET_DIR) });
    await b.load();
    expect(b.embeddingSize).toBe(512);
    expect(b.classify).toBeUndefined();
    const batch = coffeeBatch(spec.inputRange);
    const e = b.embed(batch);
    expect(e.shape).toEqual([1, 512]);
    expect(Array.from(e.dataSync()).every(Number.isFinite)).toBe(true);
    tf.dispose([batch, e]);
    b.dispose();
    expect(tf.memory().numTensors).toBe(baseline);
  });
});
