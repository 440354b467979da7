#!/usr/bin/env node
// Writes a tiny TF.js *graph model* (model.json + one weight shard) that carries the node names
// @tensorflow-models/mobilenet 2.x uses for version 2: it runs `predict` for the 1001 logits and
// `execute(x, 'module_apply_default/MobilenetV2/Logits/AvgPool')` for the embedding. Unit tests
// load it through the same MobileNet v2 backbone code as the real model.
//
// Graph (NHWC, float32):
//   images [-1,224,224,3] -> Conv2D 1x1 (3 -> 8, W[c][k] = (k+1)/10, no bias) -> Relu6
//   -> AvgPool 224x224 VALID = module_apply_default/MobilenetV2/Logits/AvgPool [-1,1,1,8]
//   -> Conv2D 1x1 (8 -> 1001, zero kernel) + bias (0 except 10 at index 968, i.e. ImageNet class
//      967 "espresso" once the package drops the background logit) -> Squeeze [1,2]
//   = module_apply_default/MobilenetV2/Logits/output [-1,1001]
// So for an input already in [0, 1], embedding[k] = mean over pixels of relu6((k+1)/10 * (r+g+b)).
//
// Usage: node scripts/make-mobilenet-v2-fixture.mjs [outDir]   (default .tmp/fixtures/mobilenet_v2)
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.resolve(ROOT, process.argv[2] ?? '.tmp/fixtures/mobilenet_v2');

const SIZE = 224;
const CHANNELS = 8;
const CLASSES = 1001;
const PEAK_INDEX = 968;
const P = 'module_apply_default/MobilenetV2';

const b64 = (s) => Buffer.from(s, 'latin1').toString('base64');
const ints = (...xs) => ({ list: { i: xs.map(String) } });
const FLOAT = { type: 'DT_FLOAT' };
const dims = (shape) => ({ dim: shape.map((d) => ({ size: String(d) })) });

/** Weights in manifest order; each becomes a Const node of the same name. */
const weights = [];
function constant(name, shape, fill) {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = fill(i);
  weights.push({ name, shape, values });
  return {
    name,
    op: 'Const',
    attr: { value: { tensor: { dtype: 'DT_FLOAT', tensorShape: dims(shape) } }, dtype: FLOAT },
  };
}

function conv(name, input, kernel, padding) {
  return {
    name,
    op: 'Conv2D',
    input: [input, kernel],
    device: '/device:CPU:0',
    attr: {
      T: FLOAT,
      strides: ints(1, 1, 1, 1),
      dilations: ints(1, 1, 1, 1),
      padding: { s: b64(padding) },
      data_format: { s: b64('NHWC') },
      use_cudnn_on_gpu: { b: true },
      explicit_paddings: { list: {} },
    },
  };
}

const nodes = [
  {
    name: 'images',
    op: 'Placeholder',
    attr: { dtype: FLOAT, shape: { shape: dims([-1, SIZE, SIZE, 3]) } },
  },
  // kernel [1, 1, 3, 8], index = c * 8 + k
  constant(`${P}/Conv/weights`, [1, 1, 3, CHANNELS], (i) => ((i % CHANNELS) + 1) / 10),
  conv(`${P}/Conv/Conv2D`, 'images', `${P}/Conv/weights`, 'VALID'),
  { name: `${P}/Conv/Relu6`, op: 'Relu6', input: [`${P}/Conv/Conv2D`], attr: { T: FLOAT } },
  {
    name: `${P}/Logits/AvgPool`,
    op: 'AvgPool',
    input: [`${P}/Conv/Relu6`],
    attr: {
      T: FLOAT,
      ksize: ints(1, SIZE, SIZE, 1),
      strides: ints(1, 1, 1, 1),
      padding: { s: b64('VALID') },
      data_format: { s: b64('NHWC') },
    },
  },
  constant(`${P}/Logits/Conv2d_1c_1x1/weights`, [1, 1, CHANNELS, CLASSES], () => 0),
  constant(`${P}/Logits/Conv2d_1c_1x1/biases`, [CLASSES], (i) => (i === PEAK_INDEX ? 10 : 0)),
  conv(
    `${P}/Logits/Conv2d_1c_1x1/Conv2D`,
    `${P}/Logits/AvgPool`,
    `${P}/Logits/Conv2d_1c_1x1/weights`,
    'SAME',
  ),
  {
    name: `${P}/Logits/Conv2d_1c_1x1/BiasAdd`,
    op: 'BiasAdd',
    input: [`${P}/Logits/Conv2d_1c_1x1/Conv2D`, `${P}/Logits/Conv2d_1c_1x1/biases`],
    attr: { T: FLOAT, data_format: { s: b64('NHWC') } },
  },
  {
    name: `${P}/Logits/output`,
    op: 'Squeeze',
    input: [`${P}/Logits/Conv2d_1c_1x1/BiasAdd`],
    attr: { T: FLOAT, squeeze_dims: ints(1, 2) },
  },
];

const shard = 'group1-shard1of1.bin';
const model = {
  format: 'graph-model',
  generatedBy: 'loupe scripts/make-mobilenet-v2-fixture.mjs',
  convertedBy: null,
  modelTopology: { node: nodes, library: {}, versions: { producer: 27 } },
  weightsManifest: [
    {
      paths: [shard],
      weights: weights.map(({ name, shape }) => ({ name, shape, dtype: 'float32' })),
    },
  ],
};

const total = weights.reduce((n, w) => n + w.values.byteLength, 0);
const bytes = new Uint8Array(total);
let offset = 0;
for (const w of weights) {
  bytes.set(new Uint8Array(w.values.buffer), offset);
  offset += w.values.byteLength;
}

mkdirSync(outDir, { recursive: true });
writeFileSync(path.join(outDir, 'model.json'), JSON.stringify(model, null, 1));
writeFileSync(path.join(outDir, shard), bytes);
console.log(
  `mobilenet v2 fixture: ${path.relative(ROOT, outDir) || outDir} (${total} weight bytes)`,
);
