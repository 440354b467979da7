// The compiled forward pass (convolution + folded batch norm + bias + ReLU/ReLU6 in one kernel) against `model.predict`: a
// small hand-built graph with a residual branch and a shared activation, a model it must refuse,
// and the real MobileNets from ../shared (skipped where ../shared is absent), on the wasm backend.
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileForward, matchesPredict } from '../../src/core/backbone/fusedForward';
import { embeddingModelAt, loadLayersModelFrom } from '../../src/core/backbone/layersModel';
import { hasShared, nodeModelHandler, sharedPath } from './helpers/nodeModel';

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});

/** conv(linear) -> ReLU6 -> depthwise(bias) -> ReLU -> conv(linear) -> add(skip) -> conv(relu). */
function smallModel(): tf.LayersModel {
  const input = tf.input({ shape: [12, 12, 3] });
  const c1 = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', useBias: true });
  const r1 = tf.layers.reLU({ maxValue: 6 });
  const dw = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: true });
  const r2 = tf.layers.reLU({});
  const project = tf.layers.conv2d({ filters: 8, kernelSize: 1, useBias: false });
  const a = r1.apply(c1.apply(input)) as tf.SymbolicTensor;
  const b = project.apply(r2.apply(dw.apply(a))) as tf.SymbolicTensor;
  const sum = tf.layers.add().apply([a, b]) as tf.SymbolicTensor;
  const last = tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, activation: 'relu' });
  const pooled = tf.layers.globalAveragePooling2d({}).apply(last.apply(sum));
  return tf.model({ inputs: input, outputs: pooled as tf.SymbolicTensor });
}

describe('compileForward', () => {
  it('fuses convolutions with their activation and gives predict’s output, leaking nothing', async () => {
    const model = smallModel();
    const x = tf.randomUniform([3, 12, 12, 3], -1, 1, 'float32', 7);
    const baseline = tf.memory().numTensors;
    const forward = compileForward(model);
    expect(forward).not.toBeNull();
    // conv+ReLU6, depthwise+bias+ReLU, the last conv's own relu; the linear projection stays.
    expect(forward?.fusedConvolutions).toBe(3);
    // Two ReLU layers were absorbed: 7 layers (input aside) run as 5 steps.
    expect(forward?.steps).toBe(6);
    const want = model.predict(x) as tf.Tensor;
    const got = forward!.run(x);
    expect(got.shape).toEqual(want.shape);
    const a = await want.data();
    const b = await got.data();
    let max = 0;
    for (let i = 0; i < a.length; i += 1) max = Math.max(max, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
    expect(max).toBeLessThan(1e-5);
    tf.dispose([want, got]);
    expect(tf.memory().numTensors).toBe(baseline);
    expect(await matchesPredict(model, forward!, x)).toBe(true);
    expect(tf.memory().numTensors).toBe(baseline);
    x.dispose();
    model.dispose();
  });

  it('returns null for a model with two inputs, and keeps an activation read twice unfused', () => {
    const a = tf.input({ shape: [4, 4, 1] });
    const b = tf.input({ shape: [4, 4, 1] });
    const two = tf.model({
      inputs: [a, b],
      outputs: tf.layers.add().apply([a, b]) as tf.SymbolicTensor,
    });
    expect(compileForward(two)).toBeNull();
    two.dispose();

    const input = tf.input({ shape: [6, 6, 2] });
    const conv = tf.layers.conv2d({ filters: 2, kernelSize: 1 }).apply(input) as tf.SymbolicTensor;
    // The linear conv output is read by the ReLU and by the add: the ReLU cannot be folded in.
    const relu = tf.layers.reLU({ maxValue: 6 }).apply(conv) as tf.SymbolicTensor;
    const sum = tf.layers.add().apply([conv, relu]) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: sum });
    const forward = compileForward(model);
    expect(forward?.fusedConvolutions).toBe(0);
    expect(forward?.steps).toBe(3);
    model.dispose();
  });

  it('detects a wrong pass', async () => {
    const model = smallModel();
    const x = tf.randomUniform([1, 12, 12, 3], -1, 1, 'float32', 3);
    const forward = compileForward(model)!;
    const wrong = { ...forward, run: (t: tf.Tensor) => tf.tidy(() => forward.run(t).mul(1.1)) };
    expect(await matchesPredict(model, wrong, x)).toBe(false);
    x.dispose();
    model.dispose();
  });
});

const MODELS = [
  { dir: 'mobilenet_v2_1.0_224', layer: 'out_relu', fused: 35 },
  { dir: 'mobilenet_v1_0.75_224', layer: 'conv_pw_13_relu', fused: 27 },
] as const;

describe.each(MODELS)('compiled $dir', ({ dir, layer, fused }) => {
  it.skipIf(!hasShared('models', dir, 'model.json'))(
    'matches predict on the real weights',
    async () => {
      const full = await loadLayersModelFrom(
        nodeModelHandler(sharedPath('models', dir)),
        'MobileNet',
        null,
      );
      const embedder = embeddingModelAt(full, layer);
      const baseline = tf.memory().numTensors;
      const forward = compileForward(embedder);
      expect(forward?.fusedConvolutions).toBe(fused);
      const x = tf.randomUniform([2, 224, 224, 3], -1, 1, 'float32', 11);
      expect(await matchesPredict(embedder, forward!, x, 1e-4)).toBe(true);
      x.dispose();
      forward!.dispose();
      expect(tf.memory().numTensors).toBe(baseline);
      full.dispose();
    },
    60_000,
  );
});
