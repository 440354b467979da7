// Explain a prediction with the real MobileNet v2 (../shared, wasm backend): heads trained on crops
// of two real photos (a cat, a cup of coffee), then a composite of the two side by side. Grad-CAM
// (dense head) and occlusion (KNN head, and the dense head when forced) must put each label's
// heatmap mass on that label's half, and on the other half once the composite is mirrored; every
// tensor made by an explanation is disposed. Skipped where ../shared is absent (a fresh clone).
// (JPEG photos cannot be decoded in Node, so the flower-photo composite rate is measured in
// Chromium: tests/e2e/explain.e2e.ts and `npm run bench:explain`.)
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createBackbone,
  embeddingKey,
  mobileNetV2Spec,
  pixelsToTensor,
  type Backbone,
} from '../../src/core/backbone';
import { parseLabelLines } from '../../src/core/backbone/layersModel';
import { massShare } from '../../src/core/explain/heatmap';
import { openLoupeDb, type LoupeDatabase } from '../../src/core/storage/db';
import { putEmbeddings } from '../../src/core/storage/embeddings';
import { createProject } from '../../src/core/storage/projects';
import { insertSamples } from '../../src/core/storage/samples';
import { ProjectHeads } from '../../src/worker/headsService';
import { trainDense } from '../../src/worker/trainDense';
import { explainImage } from '../../src/worker/explain';
import type { ExplainMethod } from '../../src/worker/api';
import { embedding, newSample } from '../fixtures/records';
import { hasShared, nodeModelHandler, sharedPath } from './helpers/nodeModel';
import { nodeDrawToPixels } from './helpers/nodeImage';
import { readPng, type RgbaImage } from './helpers/png';

const V2_DIR = sharedPath('models', 'mobilenet_v2_1.0_224');
const have =
  hasShared('models', 'mobilenet_v2_1.0_224', 'model.json') &&
  hasShared('images', 'chelsea.png') &&
  hasShared('images', 'coffee.png');
const SIZE = 224;

/** A `w` x `h` window of `img` at (x, y). */
function crop(img: RgbaImage, x: number, y: number, w: number, h: number): RgbaImage {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let r = 0; r < h; r++) {
    const from = ((y + r) * img.width + x) * 4;
    data.set(img.data.subarray(from, from + w * 4), r * w * 4);
  }
  return { data, width: w, height: h };
}

/** Left half = the middle half-width strip of `left`'s model input, right half = `right`'s. */
function composite(left: RgbaImage, right: RgbaImage): RgbaImage {
  const data = new Uint8ClampedArray(SIZE * SIZE * 4);
  const half = SIZE / 2;
  for (let r = 0; r < SIZE; r++) {
    const from = (r * SIZE + SIZE / 4) * 4;
    data.set(left.data.subarray(from, from + half * 4), r * SIZE * 4);
    data.set(right.data.subarray(from, from + half * 4), (r * SIZE + half) * 4);
  }
  return { data, width: SIZE, height: SIZE };
}

describe.skipIf(!have)('explain a prediction (real MobileNet v2)', () => {
  let backbone: Backbone;
  let db: LoupeDatabase;
  let heads: ProjectHeads;
  const cat = readPng(sharedPath('images', 'chelsea.png'));
  const coffee = readPng(sharedPath('images', 'coffee.png'));

  beforeAll(async () => {
    await tf.setBackend('wasm');
    const labels = readFileSync(path.join(V2_DIR, 'imagenet_labels.txt'), 'utf8');
    backbone = createBackbone(mobileNetV2Spec(), {
      source: nodeModelHandler(V2_DIR),
      labels: parseLabelLines(labels),
    });
    await backbone.load();
    db = await openLoupeDb();
    const projectId = (await createProject(db, 'explain')).id;
    const key = embeddingKey(backbone, 'centre-crop');
    // Training images: eight different windows of each photo (never the composites' strips alone).
    const train: { label: string; pixels: RgbaImage }[] = [];
    for (const [label, img] of [
      ['cat', cat],
      ['coffee', coffee],
    ] as const) {
      const side = Math.min(img.width, img.height);
      for (let i = 0; i < 8; i++) {
        const s = Math.round(side * (0.6 + 0.05 * (i % 4)));
        const x = Math.round(((img.width - s) * ((i * 3) % 8)) / 7);
        const y = Math.round(((img.height - s) * ((i * 5) % 8)) / 7);
        const window = crop(img, x, y, s, s);
        train.push({ label, pixels: nodeDrawToPixels(window, SIZE, 'centre-crop') });
      }
    }
    const samples = train.map((t) => newSample(projectId, { labelIds: [t.label] }));
    await insertSamples(db, samples);
    const out = tf.tidy(() =>
      backbone.embed(
        pixelsToTensor(
          train.map((t) => t.pixels),
          backbone.inputRange,
        ),
      ),
    );
    const flat = out.dataSync();
    out.dispose();
    const dim = backbone.embeddingSize;
    await putEmbeddings(
      db,
      samples.map((s, i) =>
        embedding(projectId, s.sample.id, key, Array.from(flat.slice(i * dim, (i + 1) * dim))),
      ),
    );
    heads = await ProjectHeads.open(db, {
      projectId,
      embeddingKey: key,
      backboneId: backbone.id,
      kind: 'single-label',
    });
    await trainDense(db, heads, {
      labelOrder: ['cat', 'coffee'],
      config: { epochs: 40 },
      onEpoch: () => {},
      signal: new AbortController().signal,
    });
    expect(heads.denseHead).not.toBeNull();
  }, 120_000);

  const cases: ['knn' | 'dense', ExplainMethod | undefined, ExplainMethod][] = [
    ['dense', undefined, 'grad-cam'],
    ['knn', undefined, 'occlusion'],
    ['dense', 'occlusion', 'occlusion'],
  ];
  it.each(cases)(
    '%s head (%s): each label on its own half, mirrored with the composite',
    async (head, method, expected) => {
      // A first prediction lets the head build what it caches (the KNN's stacked matrix).
      await heads.predictWith(head, [new Float32Array(backbone.embeddingSize).fill(1)]);
      const baseline = tf.memory().numTensors;
      const catInput = nodeDrawToPixels(cat, SIZE, 'centre-crop');
      const coffeeInput = nodeDrawToPixels(coffee, SIZE, 'centre-crop');
      for (const [left, right, catSide] of [
        [catInput, coffeeInput, 'left'],
        [coffeeInput, catInput, 'right'],
      ] as const) {
        const input = pixelsToTensor([composite(left, right)], backbone.inputRange);
        const result = await explainImage({
          backbone,
          heads,
          head,
          input,
          labelIds: ['cat', 'coffee'],
          ...(method ? { method } : {}),
          batchSize: 8,
          signal: new AbortController().signal,
        });
        input.dispose();
        expect(result.method).toBe(expected);
        expect(result.rows * result.cols).toBe(49);
        const grid = (label: string) => ({
          rows: result.rows,
          cols: result.cols,
          values: result.heatmaps.find((h) => h.labelId === label)?.values ?? [],
        });
        for (const values of result.heatmaps.map((h) => h.values)) {
          expect(Math.max(...values)).toBe(1);
          expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
        }
        const catLeft = massShare(grid('cat'), 0, 0.5);
        const coffeeLeft = massShare(grid('coffee'), 0, 0.5);
        console.log(
          `${head} ${result.method} cat ${catSide}: cat mass left ${catLeft.toFixed(2)}, coffee mass left ${coffeeLeft.toFixed(2)}, ${result.ms.toFixed(0)} ms`,
        );
        if (catSide === 'left') {
          expect(catLeft).toBeGreaterThan(0.5);
          expect(coffeeLeft).toBeLessThan(0.5);
        } else {
          expect(catLeft).toBeLessThan(0.5);
          expect(coffeeLeft).toBeGreaterThan(0.5);
        }
      }
      expect(tf.memory().numTensors).toBe(baseline);
    },
    60_000,
  );

  it('explains the predicted label by default, and stops when aborted', async () => {
    const input = pixelsToTensor([nodeDrawToPixels(cat, SIZE, 'centre-crop')], backbone.inputRange);
    const baseline = tf.memory().numTensors;
    const result = await explainImage({
      backbone,
      heads,
      head: 'dense',
      input,
      batchSize: 8,
      signal: new AbortController().signal,
    });
    expect(result.predicted).toBe('cat');
    expect(result.heatmaps.map((h) => h.labelId)).toEqual(['cat']);
    const controller = new AbortController();
    controller.abort();
    await expect(
      explainImage({
        backbone,
        heads,
        head: 'knn',
        input,
        batchSize: 8,
        signal: controller.signal,
      }),
    ).rejects.toThrow();
    expect(tf.memory().numTensors).toBe(baseline);
    input.dispose();
  });
});
