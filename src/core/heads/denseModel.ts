/**
 * The dense head's network and its arithmetic, shared by training and prediction:
 *   input d -> [Dense(hiddenUnits, relu) -> Dropout] -> Dense(C) logits -> softmax | sigmoid.
 * Builds the seeded tfjs-layers model (its configuration, defaults and checks are denseConfig.ts),
 * the forward pass (dropout only while training), the per-item losses and accuracy, and the
 * scaling of L2-normalised inputs.
 *
 * - Softmax / sigmoid are applied to the logits at prediction time; the losses use the logits
 *   directly (numerically stable cross-entropy). `hiddenUnits: 0` is a plain logistic regression
 *   (dropout is then unused).
 * - Dropout masks come from `tf.dropout` with a seed per call (the training loop draws a fresh one
 *   per batch: a fixed layer seed would repeat one mask on every batch).
 * - Inputs are L2-normalised. `inputScale: 'sqrt-dim'` also multiplies them by sqrt(d) (features of
 *   RMS 1): it learns several times faster but overfits sooner; the default 'unit' scale (slow,
 *   implicitly regularised learning) scored better on real photo embeddings, most of all with few
 *   images.
 */
import * as tf from '@tensorflow/tfjs';
import { deriveSeed } from '../random';
import type { ProjectKind } from '../kinds';
import type { DenseConfig } from './denseConfig';
import { packUnitRows } from './unitRows';

export { DENSE_DEFAULTS, checkDenseConfig, type DenseConfig } from './denseConfig';

export function buildDenseModel(
  dim: number,
  numLabels: number,
  config: DenseConfig,
): tf.Sequential {
  const model = tf.sequential();
  if (config.hiddenUnits > 0) {
    model.add(
      tf.layers.dense({
        inputShape: [dim],
        units: config.hiddenUnits,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(config.seed, 10) }),
        biasInitializer: 'zeros',
        name: 'hidden',
      }),
    );
  }
  model.add(
    tf.layers.dense({
      ...(config.hiddenUnits > 0 ? {} : { inputShape: [dim] }),
      units: numLabels,
      activation: 'linear',
      kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(config.seed, 11) }),
      biasInitializer: 'zeros',
      name: 'output',
    }),
  );
  return model;
}

/** Logits; dropout only when `dropoutSeed` is given. */
export function denseLogits(
  model: tf.Sequential,
  x: tf.Tensor2D,
  rate: number,
  dropoutSeed: number | null,
): tf.Tensor2D {
  let h: tf.Tensor2D = x;
  const layers = model.layers;
  for (let i = 0; i < layers.length; i++) {
    h = (layers[i] as tf.layers.Layer).apply(h) as tf.Tensor2D;
    if (i < layers.length - 1 && dropoutSeed !== null && rate > 0)
      h = tf.dropout(h, rate, undefined, dropoutSeed) as tf.Tensor2D;
  }
  return h;
}

/** Per-item loss (unreduced): softmax CE [n] or mean-over-labels BCE [n] (elementwise weights). */
export function perItemLoss(
  kind: ProjectKind,
  logits: tf.Tensor2D,
  y: tf.Tensor2D,
  weights: tf.Tensor | null,
): tf.Tensor1D {
  if (kind === 'single-label') {
    const ce = tf.neg(tf.sum(tf.mul(y, tf.logSoftmax(logits)), 1)) as tf.Tensor1D;
    return weights ? (tf.mul(ce, weights) as tf.Tensor1D) : ce;
  }
  // max(x, 0) - x z + log(1 + exp(-|x|))
  const bce = tf.add(
    tf.sub(tf.relu(logits), tf.mul(logits, y)),
    tf.log1p(tf.exp(tf.neg(tf.abs(logits)))),
  );
  return tf.mean(weights ? tf.mul(bce, weights) : bce, 1) as tf.Tensor1D;
}

export function accuracyOf(kind: ProjectKind, logits: tf.Tensor2D, y: tf.Tensor2D): tf.Scalar {
  if (kind === 'single-label')
    return tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), tf.argMax(y, 1)), 'float32'));
  return tf.mean(tf.cast(tf.equal(tf.cast(tf.greaterEqual(logits, 0), 'float32'), y), 'float32'));
}

/** The factor unit-length inputs are multiplied by. */
export function inputScaleOf(config: DenseConfig, dim: number): number {
  return config.inputScale === 'sqrt-dim' ? Math.sqrt(dim) : 1;
}

/** Unit rows times the configured scale, packed row-major. */
export function packInputs(
  rows: readonly Float32Array[],
  dim: number,
  config: DenseConfig,
): Float32Array {
  const data = packUnitRows(rows, dim);
  const scale = inputScaleOf(config, dim);
  if (scale !== 1) for (let i = 0; i < data.length; i++) data[i] = (data[i] ?? 0) * scale;
  return data;
}
