/**
 * One training step of the dense head: its forward pass with dropout, the hand-written gradients
 * of the class-weighted loss (softmax cross-entropy or mean binary cross-entropy, the losses of
 * `perItemLoss`, averaged over the batch), and the Adam update of the model's variables; plus the
 * packing of a batch's rows on the CPU.
 *
 * Why not `optimizer.minimize`: TF.js's matMul gradient forms x^T.dy with matMul's transposeA flag,
 * which the wasm backend runs outside XNNPACK, about 15 times slower than the forward product for
 * a [32, 1280] batch: at 5,000 images that product was most of the training time. Here the
 * batch also arrives transposed (packed on the CPU, a copy per step that costs microseconds), and
 * every product is a plain matMul of already-laid-out operands. The tape is not used either.
 */
import * as tf from '@tensorflow/tfjs';
import type { ProjectKind } from '../kinds';

/** The variables of a dense model: the hidden layer's (absent without one) and the output's. */
export interface DenseVariables {
  hidden: { kernel: tf.Variable; bias: tf.Variable } | null;
  output: { kernel: tf.Variable; bias: tf.Variable };
}

/** The model's trainable variables in `model.trainableWeights` order (kernel, bias per layer). */
export function denseVariables(model: tf.Sequential): DenseVariables {
  const layer = (name: string): { kernel: tf.Variable; bias: tf.Variable } | null => {
    const found = model.layers.find((l) => l.name === name);
    if (!found) return null;
    const [kernel, bias] = found.trainableWeights.map((w) => w.read() as tf.Variable);
    if (!kernel || !bias) throw new Error(`dense: layer ${name} lacks a kernel or bias`);
    return { kernel, bias };
  };
  const output = layer('output');
  if (!output) throw new Error('dense: model has no output layer');
  return { hidden: layer('hidden'), output };
}

/** A variable's gradient, as `Optimizer.applyGradients` takes it. */
export interface NamedGradient {
  name: string;
  tensor: tf.Tensor;
}

/** Row-major training data on the CPU: inputs [n, d], targets [n, C], loss weights or null. */
export interface PackedRows {
  x: Float32Array;
  y: Float32Array;
  /** [n] (single-label) or [n, C] (multi-label); null = unweighted. */
  w: Float32Array | null;
  dim: number;
  numLabels: number;
}

/** A batch: inputs x [B, d], their transpose x^T [d, B] (when asked for), targets, weights. */
export interface BatchTensors {
  x: tf.Tensor2D;
  xT: tf.Tensor2D | null;
  y: tf.Tensor2D;
  /** [B, 1] (single-label) or [B, C] (multi-label); null = unweighted. */
  w: tf.Tensor | null;
}

/**
 * The rows `rows` of `data` as batch tensors; x^T only with `transposed` (the hidden layer's
 * kernel gradient takes it). The transpose walks x^T in order and x with a stride: about three
 * times faster than the other way round.
 */
export function batchTensors(
  kind: ProjectKind,
  data: PackedRows,
  rows: readonly number[],
  transposed: boolean,
): BatchTensors {
  const { dim: d, numLabels: c } = data;
  const b = rows.length;
  const x = new Float32Array(b * d);
  const y = new Float32Array(b * c);
  const perElement = kind === 'multi-label';
  const w = data.w ? new Float32Array(perElement ? b * c : b) : null;
  let xT: Float32Array | null = null;
  rows.forEach((row, i) => {
    x.set(data.x.subarray(row * d, (row + 1) * d), i * d);
    y.set(data.y.subarray(row * c, (row + 1) * c), i * c);
    if (w && data.w) {
      if (perElement) w.set(data.w.subarray(row * c, (row + 1) * c), i * c);
      else w[i] = data.w[row] ?? 1;
    }
  });
  if (transposed) {
    xT = new Float32Array(d * b);
    for (let j = 0; j < d; j++) {
      const at = j * b;
      for (let i = 0; i < b; i++) xT[at + i] = x[i * d + j] ?? 0;
    }
  }
  return {
    x: tf.tensor2d(x, [b, d]),
    xT: xT ? tf.tensor2d(xT, [d, b]) : null,
    y: tf.tensor2d(y, [b, c]),
    w: w ? (perElement ? tf.tensor2d(w, [b, c]) : tf.tensor2d(w, [b, 1])) : null,
  };
}

/**
 * Gradients of the batch's mean (weighted) loss with respect to each variable, in
 * `model.trainableWeights` order. Dropout (when `dropoutSeed` is given and `rate` > 0) is
 * `tf.dropout` with that seed, as `denseLogits` applies it.
 */
export function denseGradients(
  kind: ProjectKind,
  vars: DenseVariables,
  batch: BatchTensors,
  rate: number,
  dropoutSeed: number | null,
): NamedGradient[] {
  const { x, xT, y, w } = batch;
  const b = x.shape[0];
  const c = y.shape[1];
  let features: tf.Tensor = x;
  const dropping = dropoutSeed !== null && rate > 0;
  if (vars.hidden) {
    const activations = tf.fused.matMul({
      a: x,
      b: vars.hidden.kernel,
      bias: vars.hidden.bias,
      activation: 'relu',
    });
    features = dropping ? tf.dropout(activations, rate, undefined, dropoutSeed) : activations;
  }
  const logits = tf.add(tf.matMul(features, vars.output.kernel), vars.output.bias);
  // d(mean loss)/d(logits): single-label (softmax - y) * w_i / B; multi-label
  // (sigmoid - y) * w_ij / (B * C), the derivative of the mean over labels then items.
  const residual =
    kind === 'single-label' ? tf.sub(tf.softmax(logits), y) : tf.sub(tf.sigmoid(logits), y);
  const scale = kind === 'single-label' ? 1 / b : 1 / (b * c);
  const dLogits = tf.mul(w ? tf.mul(residual, w) : residual, scale);
  const grads: NamedGradient[] = [];
  if (vars.hidden) {
    // Through the output layer, dropout (kept units scaled by 1 / keep) and the ReLU: a unit
    // passes gradient exactly where its dropped-out activation is positive.
    const dFeatures = tf.matMul(dLogits, tf.transpose(vars.output.kernel));
    const open = tf.cast(tf.greater(features, 0), 'float32');
    const dHidden = tf.mul(dFeatures, dropping ? tf.div(open, 1 - rate) : open);
    if (!xT) throw new Error('dense: the hidden layer needs the transposed batch');
    grads.push(
      { name: vars.hidden.kernel.name, tensor: tf.matMul(xT, dHidden) },
      { name: vars.hidden.bias.name, tensor: tf.sum(dHidden, 0) },
    );
  }
  // (dLogits^T features)^T: two transposes of [B, C]- and [C, width]-sized operands, not one of
  // the features (the whole [B, d] batch for logistic regression).
  grads.push(
    {
      name: vars.output.kernel.name,
      tensor: tf.transpose(tf.matMul(tf.transpose(dLogits), features)),
    },
    { name: vars.output.bias.name, tensor: tf.sum(dLogits, 0) },
  );
  return grads;
}

/** One Adam step on the batch of rows `rows` of `data`; every intermediate tensor is released. */
export function trainStep(
  kind: ProjectKind,
  vars: DenseVariables,
  optimizer: tf.Optimizer,
  data: PackedRows,
  rows: readonly number[],
  rate: number,
  dropoutSeed: number,
): void {
  tf.tidy(() => {
    const batch = batchTensors(kind, data, rows, vars.hidden !== null);
    optimizer.applyGradients(denseGradients(kind, vars, batch, rate, dropoutSeed));
  });
}
