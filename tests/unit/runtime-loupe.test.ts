// loupe-runtime.js in Node: the exports are served from an in-memory map through a fetch stub, the
// backbones are tiny layers models built here. KNN predictions must equal the app's KnnHead on the
// same embeddings; dense probabilities must equal model.predict on the preprocessed input; tensor
// preprocessing must follow the app's aspectRect geometry and pixel scaling; no tensor may leak.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aspectRect as appAspectRect, pixelsToTensor } from '../../src/core/backbone/preprocess';
import {
  buildKnnExport,
  KNN_MANIFEST_FILE,
  readKnnExport,
  type KnnExportDtype,
  type KnnExportInput,
} from '../../src/core/formats/knnExport';
import { KnnHead, type KnnConfig } from '../../src/core/heads/knn';
import type { ProjectKind } from '../../src/core/kinds';
import type { AspectMode } from '../../src/core/storage/schema';
import { mulberry32, randomNormal, type Rng } from '../../src/core/random';
import { aspectRect, loadClassifier } from '../../src/runtime/loupe-runtime.js';
import type { LoupeClassifier } from '../../src/runtime/loupe-runtime.js';

const BASE = 'https://export.test/model/';
const SIZE = 8;
const MODES: readonly AspectMode[] = ['centre-crop', 'letterbox', 'squash'];
const LABELS = [
  { id: 'id-red', name: 'red' },
  { id: 'id-green', name: 'green' },
  { id: 'id-blue', name: 'blue' },
];

type Files = Map<string, ArrayBuffer>;

const bytesOf = (text: string): ArrayBuffer => new TextEncoder().encode(text).slice().buffer;

/** A fetch that serves `files` under BASE and records what was asked for. */
function serve(files: Files): {
  fetch: (url: string) => Promise<Response>;
  requested: string[];
} {
  const requested: string[] = [];
  return {
    requested,
    async fetch(url: string): Promise<Response> {
      requested.push(url);
      const body = url.startsWith(BASE) ? files.get(url.slice(BASE.length)) : undefined;
      return body === undefined
        ? new Response('not found', { status: 404 })
        : new Response(body.slice(0));
    },
  };
}

/** model.json + weights.bin of `model`, under `prefix`, as tf.loadLayersModel reads them. */
async function saveModel(model: tf.LayersModel, files: Files, prefix = ''): Promise<void> {
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const data = artifacts.weightData;
      const weights = Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data;
      const modelJson = {
        format: 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
      };
      files.set(`${prefix}model.json`, bytesOf(JSON.stringify(modelJson)));
      files.set(`${prefix}weights.bin`, weights ?? new ArrayBuffer(0));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

/** input [8, 8, 3] -> conv (6 filters) -> global average pooling: a [1, 6] embedding. */
function tinyBackbone(): tf.LayersModel {
  const input = tf.input({ shape: [SIZE, SIZE, 3] });
  const conv = tf.layers
    .conv2d({
      filters: 6,
      kernelSize: 3,
      padding: 'same',
      activation: 'tanh',
      kernelInitializer: tf.initializers.randomNormal({ stddev: 0.5, seed: 7 }),
      biasInitializer: tf.initializers.randomNormal({ stddev: 0.5, seed: 8 }),
    })
    .apply(input) as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling2d({}).apply(conv) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: pooled });
}

/** tiny backbone -> dense softmax (or sigmoid) over the 3 labels. */
function tinyClassifier(activation: 'softmax' | 'sigmoid'): tf.LayersModel {
  const input = tf.input({ shape: [SIZE, SIZE, 3] });
  const conv = tf.layers
    .conv2d({
      filters: 4,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }),
    })
    .apply(input) as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling2d({}).apply(conv) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({
      units: 3,
      activation,
      kernelInitializer: tf.initializers.randomNormal({ stddev: 2, seed: 3 }),
    })
    .apply(pooled) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

/** A [h, w, 3] image of 0..255 values: a random colour plus noise. Its label: the top channel. */
function colourImage(rng: Rng, h: number, w: number): { image: tf.Tensor3D; label: number } {
  const colour = [rng() * 255, rng() * 255, rng() * 255];
  const data = new Float32Array(h * w * 3);
  for (let i = 0; i < data.length; i++) {
    const v = (colour[i % 3] ?? 0) + 30 * randomNormal(rng);
    data[i] = Math.round(Math.max(0, Math.min(255, v)));
  }
  const label = colour.indexOf(Math.max(...colour));
  return { image: tf.tensor3d(data, [h, w, 3]), label };
}

const QUERY_SIZES: [number, number][] = [
  [8, 8],
  [12, 20],
  [31, 17],
  [40, 40],
  [5, 9],
  [64, 48],
  [3, 30],
];

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

describe('aspectRect and tensor preprocessing follow the app', () => {
  it('aspectRect is the app aspectRect', () => {
    for (const mode of MODES) {
      for (const [w, h] of [
        [1, 1],
        [7, 3],
        [3, 7],
        [224, 224],
        [640, 480],
        [481, 1023],
        [1000, 3],
      ] as const) {
        for (const size of [1, 8, 224]) {
          expect(aspectRect(w, h, size, mode)).toEqual(appAspectRect(w, h, size, mode));
        }
      }
    }
  });

  async function classifierFor(mode: AspectMode, range: [number, number]) {
    const files: Files = new Map();
    const model = tinyClassifier('softmax');
    await saveModel(model, files);
    model.dispose();
    const meta = {
      labels: ['a', 'b', 'c'],
      imageSize: SIZE,
      loupe: { aspectMode: mode, inputRange: range, kind: 'single-label' },
    };
    files.set('metadata.json', bytesOf(JSON.stringify(meta)));
    return loadClassifier(BASE, { tf, fetch: serve(files).fetch });
  }

  /** RGBA pixels of the [h, w, 3] image region (x0, y0, w, h). */
  function rgbaOf(
    values: Float32Array,
    width: number,
    x0: number,
    y0: number,
    w: number,
    h: number,
  ) {
    const data = new Uint8ClampedArray(w * h * 4);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let c = 0; c < 3; c++) {
          data[(y * w + x) * 4 + c] = values[((y0 + y) * width + (x0 + x)) * 3 + c] ?? 0;
        }
        data[(y * w + x) * 4 + 3] = 255;
      }
    }
    return { data, width: w, height: h };
  }

  it('centre-crop without resizing: the app pixels of the centred square, scaled', async () => {
    const c = await classifierFor('centre-crop', [-1, 1]);
    const { image } = colourImage(mulberry32(1), SIZE, 13); // sx = 2
    const x = c.preprocess(image);
    const expected = pixelsToTensor(
      [rgbaOf(image.dataSync() as Float32Array, 13, 2, 0, 8, 8)],
      [-1, 1],
    );
    expect(x.shape).toEqual([1, SIZE, SIZE, 3]);
    expect(tf.max(tf.abs(tf.sub(x, expected))).arraySync()).toBeLessThan(1e-6);
    tf.dispose([x, expected, image]);
    c.dispose();
  });

  it('letterbox: black bars (lo) where aspectRect puts them, the image between', async () => {
    const c = await classifierFor('letterbox', [0, 1]);
    for (const [h, w, halvings] of [
      [4, 8, 0],
      [16, 32, 2],
    ] as const) {
      const { image } = colourImage(mulberry32(2), h, w);
      const r = appAspectRect(w, h, SIZE, 'letterbox');
      expect(r).toMatchObject({ dx: 0, dy: 2, dw: 8, dh: 4 });
      const x = c.preprocess(image);
      const rows = (x.arraySync() as number[][][][])[0] as number[][][];
      const src = image.arraySync() as number[][][];
      const block = 2 ** halvings;
      for (let y = 0; y < SIZE; y++) {
        for (let xx = 0; xx < SIZE; xx++) {
          const got = rows[y]?.[xx] as number[];
          if (y < r.dy || y >= r.dy + r.dh) {
            expect(got).toEqual([0, 0, 0]);
            continue;
          }
          // 2x2 averaging per halving: the mean of the source block.
          for (let ch = 0; ch < 3; ch++) {
            let sum = 0;
            for (let by = 0; by < block; by++)
              for (let bx = 0; bx < block; bx++)
                sum += src[(y - r.dy) * block + by]?.[xx * block + bx]?.[ch] ?? 0;
            expect(got[ch]).toBeCloseTo(sum / block / block / 255, 5);
          }
        }
      }
      tf.dispose([x, image]);
    }
    c.dispose();
  });

  it('squash halves 16x16 by 2x2 averages; tensors of any dtype and [1, h, w, 3] agree', async () => {
    const c = await classifierFor('squash', [0, 255]);
    const { image } = colourImage(mulberry32(3), 16, 16);
    const x = c.preprocess(image);
    const expected = tf.tidy(() => tf.avgPool(image, 2, 2, 'valid').expandDims(0));
    expect(tf.max(tf.abs(tf.sub(x, expected))).arraySync()).toBeLessThan(1e-4);
    const asInt = tf.cast(image, 'int32');
    const batched = image.expandDims(0) as tf.Tensor4D;
    const fromInt = c.preprocess(asInt);
    const fromBatch = c.preprocess(batched);
    expect(Array.from(fromInt.dataSync())).toEqual(Array.from(x.dataSync()));
    expect(Array.from(fromBatch.dataSync())).toEqual(Array.from(x.dataSync()));
    tf.dispose([x, expected, image, asInt, batched, fromInt, fromBatch]);
    c.dispose();
  });

  it('RGBA pixels (ImageData-like) without a canvas go through the tensor path', async () => {
    const c = await classifierFor('centre-crop', [-1, 1]);
    const { image } = colourImage(mulberry32(4), 12, 20);
    const pixels = rgbaOf(image.dataSync() as Float32Array, 20, 0, 0, 20, 12);
    const a = c.preprocess(image);
    const b = c.preprocess(pixels);
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([a, b, image]);
    c.dispose();
  });
});

describe('KNN export', () => {
  let backbone: tf.LayersModel;
  const train: { embedding: Float32Array; labelIds: string[] }[] = [];

  beforeAll(async () => {
    backbone = tinyBackbone();
    // Training embeddings: 8x8 images through the backbone at the input range [-1, 1].
    const rng = mulberry32(11);
    for (let i = 0; i < 36; i++) {
      const { image, label } = colourImage(rng, SIZE, SIZE);
      const embedding = tf.tidy(() => {
        const x = tf.sub(tf.div(image, 127.5), 1).expandDims(0);
        return (backbone.predict(x) as tf.Tensor).dataSync() as Float32Array;
      });
      image.dispose();
      train.push({ embedding: Float32Array.from(embedding), labelIds: [LABELS[label]?.id ?? ''] });
    }
    // A few rows carry two labels (used by the multi-label cases; single-label votes the first).
    for (const [i, extra] of [
      [0, 'id-green'],
      [5, 'id-blue'],
      [9, 'id-red'],
    ] as const) {
      const row = train[i];
      if (row && row.labelIds[0] !== extra) row.labelIds.push(extra);
    }
  });

  afterAll(() => backbone.dispose());

  async function knnFiles(input: KnnExportInput): Promise<Files> {
    const files: Files = new Map();
    await saveModel(backbone, files, 'backbone/');
    const { manifest, examples } = buildKnnExport(input);
    files.set(KNN_MANIFEST_FILE, bytesOf(JSON.stringify(manifest)));
    files.set('knn-examples.bin', examples.slice().buffer);
    return files;
  }

  function exportInput(
    kind: ProjectKind,
    mode: AspectMode,
    dtype: KnnExportDtype,
    config: Pick<KnnConfig, 'k' | 'weighted' | 'unknownSimilarity' | 'multiLabelThreshold'>,
  ): KnnExportInput {
    return {
      examples: train,
      labels: LABELS,
      kind,
      ...config,
      backbone: { id: 'tiny', inputSize: SIZE, inputRange: [-1, 1] },
      preprocessing: { aspectMode: mode, version: 1, description: 'test' },
      dtype,
    };
  }

  const cases: {
    kind: ProjectKind;
    mode: AspectMode;
    dtype: KnnExportDtype;
    config: Pick<KnnConfig, 'k' | 'weighted' | 'unknownSimilarity' | 'multiLabelThreshold'>;
  }[] = [
    {
      kind: 'single-label',
      mode: 'centre-crop',
      dtype: 'float32',
      config: { k: 5, weighted: false, unknownSimilarity: null, multiLabelThreshold: 0.5 },
    },
    {
      kind: 'single-label',
      mode: 'letterbox',
      dtype: 'float32',
      config: { k: 4, weighted: true, unknownSimilarity: 0.95, multiLabelThreshold: 0.5 },
    },
    {
      kind: 'single-label',
      mode: 'squash',
      dtype: 'float16',
      config: { k: 1, weighted: false, unknownSimilarity: null, multiLabelThreshold: 0.5 },
    },
    {
      kind: 'multi-label',
      mode: 'centre-crop',
      dtype: 'int8',
      config: { k: 6, weighted: true, unknownSimilarity: null, multiLabelThreshold: 0.3 },
    },
    {
      kind: 'multi-label',
      mode: 'letterbox',
      dtype: 'float32',
      config: { k: 12, weighted: false, unknownSimilarity: null, multiLabelThreshold: 0.3 },
    },
  ];

  for (const { kind, mode, dtype, config } of cases) {
    it(`${kind}, ${mode}, ${dtype}, k=${config.k}${config.weighted ? ' weighted' : ''}: same predictions as the app KnnHead`, async () => {
      const input = exportInput(kind, mode, dtype, config);
      const files = await knnFiles(input);
      const server = serve(files);
      const baseline = tf.memory().numTensors;
      const classifier = await loadClassifier(BASE, { tf, fetch: server.fetch });
      expect(server.requested.map((u) => u.slice(BASE.length))).toEqual([
        'metadata.json',
        'knn-manifest.json',
        'knn-examples.bin',
        'backbone/model.json',
        'backbone/weights.bin',
      ]);
      expect(classifier).toMatchObject({ type: 'knn', kind, labels: ['red', 'green', 'blue'] });
      const afterLoad = tf.memory().numTensors;

      // The app's head over the rows the export holds (dequantised exactly as the app reads them).
      const { manifest, rows } = readKnnExport(
        JSON.parse(new TextDecoder().decode(files.get(KNN_MANIFEST_FILE))),
        new Uint8Array(files.get('knn-examples.bin') ?? new ArrayBuffer(0)),
      );
      const head = KnnHead.build(
        rows.map((embedding, i) => ({
          id: `row${i}`,
          embedding,
          labelIds: (manifest.rowLabels[i] ?? []).map((l) => LABELS[l]?.id ?? ''),
        })),
        { kind, labels: LABELS.map((l) => l.id), config },
      );
      const rng = mulberry32(21);
      const seen = new Set<string>();
      for (const [h, w] of QUERY_SIZES) {
        const { image } = colourImage(rng, h, w);
        const embedding = tf.tidy(() => {
          const x = classifier.preprocess(image);
          return Float32Array.from((backbone.predict(x) as tf.Tensor).dataSync());
        });
        const [expected] = await head.predict([embedding]);
        const headTensors = tf.memory().numTensors;
        const got = await classifier.classify(image);
        expect(tf.memory().numTensors).toBe(headTensors);
        image.dispose();

        const byName = new Map(got.map((p) => [p.label, p]));
        expect(got.map((p) => p.probability)).toEqual(
          [...got.map((p) => p.probability)].sort((a, b) => b - a),
        );
        LABELS.forEach((l, i) => {
          expect(byName.get(l.name)?.probability).toBeCloseTo(expected?.probabilities[i] ?? -1, 6);
        });
        const predicted = got.filter((p) => p.predicted).map((p) => p.label);
        const expectedNames = (expected?.labels ?? []).map(
          (id) => LABELS.find((l) => l.id === id)?.name,
        );
        expect(new Set(predicted)).toEqual(new Set(expectedNames));
        if (kind === 'single-label' && expected?.top) {
          expect(got[0]?.label).toBe(LABELS.find((l) => l.id === expected.top)?.name);
        }
        seen.add(predicted.join('+') || 'unknown');
      }
      // The queries are not all one answer (the comparison means something).
      expect(seen.size).toBeGreaterThan(1);

      const top2 = await (async () => {
        const { image } = colourImage(rng, 10, 10);
        const result = await classifier.classify(image, { topK: 2 });
        image.dispose();
        return result;
      })();
      expect(top2).toHaveLength(2);
      expect(tf.memory().numTensors).toBe(afterLoad + head.tensorCount);

      head.dispose();
      classifier.dispose();
      expect(tf.memory().numTensors).toBe(baseline);
    });
  }

  it('rejects a manifest of another format, a newer version or truncated examples', async () => {
    const input = exportInput('single-label', 'centre-crop', 'int8', {
      k: 3,
      weighted: false,
      unknownSimilarity: null,
      multiLabelThreshold: 0.5,
    });
    const baseline = tf.memory().numTensors;
    const files = await knnFiles(input);
    const manifest = JSON.parse(new TextDecoder().decode(files.get(KNN_MANIFEST_FILE))) as object;
    const load = (f: Files): Promise<LoupeClassifier> =>
      loadClassifier(BASE, { tf, fetch: serve(f).fetch });

    const other = new Map(files);
    other.set(KNN_MANIFEST_FILE, bytesOf(JSON.stringify({ ...manifest, format: 'x' })));
    await expect(load(other)).rejects.toThrow(/not a Loupe KNN export/);
    other.set(KNN_MANIFEST_FILE, bytesOf(JSON.stringify({ ...manifest, version: 2 })));
    await expect(load(other)).rejects.toThrow(/not a Loupe KNN export/);

    const truncated = new Map(files);
    truncated.set('knn-examples.bin', (files.get('knn-examples.bin') as ArrayBuffer).slice(1));
    await expect(load(truncated)).rejects.toThrow(/bytes, expected/);

    await expect(load(new Map())).rejects.toThrow(/knn-manifest\.json: HTTP 404/);
    const noBackbone = new Map(files);
    noBackbone.delete('backbone/weights.bin');
    await expect(load(noBackbone)).rejects.toThrow(/backbone\/weights\.bin: HTTP 404/);
    expect(tf.memory().numTensors).toBe(baseline);
  });
});

describe('dense TF.js export', () => {
  for (const { kind, mode, thresholds, unknownThreshold } of [
    { kind: 'single-label', mode: 'letterbox', thresholds: undefined, unknownThreshold: null },
    { kind: 'single-label', mode: 'squash', thresholds: undefined, unknownThreshold: 0.45 },
    {
      kind: 'multi-label',
      mode: 'centre-crop',
      thresholds: [0.4, 0.5, 0.6],
      unknownThreshold: null,
    },
    { kind: 'multi-label', mode: 'letterbox', thresholds: [0.3, 0.3, 0.3], unknownThreshold: 0.49 },
  ] as const) {
    it(`${kind}, ${mode}, unknown below ${unknownThreshold}: probabilities equal model.predict on the preprocessed input`, async () => {
      const model = tinyClassifier(kind === 'single-label' ? 'softmax' : 'sigmoid');
      const files: Files = new Map();
      await saveModel(model, files);
      const metadata = {
        tfjsVersion: tf.version.tfjs,
        modelName: 'tiny',
        labels: ['cat', 'dog', 'fox'],
        imageSize: SIZE,
        loupe: {
          formatVersion: 1,
          backboneId: 'tiny',
          aspectMode: mode,
          inputRange: [-1, 1],
          headType: 'dense',
          kind,
          ...(thresholds ? { thresholds } : {}),
          unknownThreshold,
        },
      };
      files.set('metadata.json', bytesOf(JSON.stringify(metadata)));
      const server = serve(files);
      const baseline = tf.memory().numTensors;
      const classifier = await loadClassifier(BASE.slice(0, -1), { tf, fetch: server.fetch });
      expect(server.requested).toEqual([
        `${BASE}metadata.json`,
        `${BASE}model.json`,
        `${BASE}weights.bin`,
      ]);
      expect(classifier).toMatchObject({ type: 'dense', kind, labels: ['cat', 'dog', 'fox'] });
      const afterLoad = tf.memory().numTensors;

      const rng = mulberry32(31);
      const outcomes = new Set<string>();
      for (const [h, w] of QUERY_SIZES) {
        const { image } = colourImage(rng, h, w);
        const expected = tf.tidy(() => {
          const x = classifier.preprocess(image);
          return Array.from((model.predict(x) as tf.Tensor).dataSync());
        });
        const got = await classifier.classify(image);
        image.dispose();
        expect(got.map((p) => p.probability)).toEqual(
          [...got.map((p) => p.probability)].sort((a, b) => b - a),
        );
        metadata.labels.forEach((label, i) => {
          const p = got.find((g) => g.label === label);
          expect(Math.abs((p?.probability ?? -1) - (expected[i] ?? 0))).toBeLessThan(1e-5);
          const known = Math.max(...expected) >= (unknownThreshold ?? 0);
          const decided = thresholds ? (expected[i] ?? 0) >= (thresholds[i] ?? 0.5) : p === got[0];
          expect(p?.predicted).toBe(known && decided);
        });
        outcomes.add(got.some((g) => g.predicted) ? 'known' : 'unknown');
        expect(tf.memory().numTensors).toBe(afterLoad);
      }
      // With an unknown threshold, both outcomes occur (the check means something).
      if (unknownThreshold !== null) expect(outcomes).toEqual(new Set(['known', 'unknown']));
      classifier.dispose();
      expect(tf.memory().numTensors).toBe(baseline);
      model.dispose();
    });
  }

  it('a Teachable Machine metadata.json (no `loupe`) loads as single-label centre-crop [-1, 1]', async () => {
    const model = tinyClassifier('softmax');
    const files: Files = new Map();
    await saveModel(model, files);
    files.set('metadata.json', bytesOf(JSON.stringify({ labels: ['x', 'y', 'z'], imageSize: 8 })));
    const classifier = await loadClassifier(BASE, { tf, fetch: serve(files).fetch });
    expect(classifier).toMatchObject({ type: 'dense', kind: 'single-label' });
    const { image } = colourImage(mulberry32(5), 8, 12);
    const x = classifier.preprocess(image);
    expect(tf.min(x).arraySync()).toBeGreaterThanOrEqual(-1);
    expect(tf.max(x).arraySync()).toBeLessThanOrEqual(1);
    const got = await classifier.classify(image, { topK: 1 });
    expect(got).toHaveLength(1);
    expect(got[0]?.predicted).toBe(true);
    tf.dispose([x, image]);
    classifier.dispose();
    model.dispose();
  });

  it('needs the tf namespace', async () => {
    await expect(
      loadClassifier(BASE, {} as unknown as Parameters<typeof loadClassifier>[1]),
    ).rejects.toThrow(/pass \{ tf \}/);
  });
});
