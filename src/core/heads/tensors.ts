/**
 * Shared tensor plumbing for heads: packing Float32Array rows, L2 normalisation (CPU and tensor),
 * and turning a batch into a unit-row [n, d] tensor. Callers own (and dispose) what they get back.
 */
import * as tf from '@tensorflow/tfjs';
import type { EmbeddingBatch } from './types';

const EPSILON = 1e-12;

export function isTensorBatch(batch: EmbeddingBatch): batch is tf.Tensor2D {
  return batch instanceof tf.Tensor;
}

export function batchLength(batch: EmbeddingBatch): number {
  return isTensorBatch(batch) ? (batch.shape[0] ?? 0) : batch.length;
}

export function batchDim(batch: EmbeddingBatch): number {
  if (isTensorBatch(batch)) return batch.shape[1] ?? 0;
  return batch[0]?.length ?? 0;
}

/** Scales each row of a row-major [rows, dim] buffer to unit length, in place (zero rows stay 0). */
export function l2NormalizeRowsInPlace(data: Float32Array, dim: number): Float32Array {
  for (let start = 0; start + dim <= data.length; start += dim) {
    let sum = 0;
    for (let j = start; j < start + dim; j++) {
      const v = data[j] ?? 0;
      sum += v * v;
    }
    const scale = 1 / Math.max(Math.sqrt(sum), EPSILON);
    for (let j = start; j < start + dim; j++) data[j] = (data[j] ?? 0) * scale;
  }
  return data;
}

/** Copies rows into one row-major buffer, L2-normalised. Throws on a width mismatch. */
export function packUnitRows(rows: readonly Float32Array[], dim: number): Float32Array {
  const out = new Float32Array(rows.length * dim);
  rows.forEach((row, i) => {
    if (row.length !== dim)
      throw new Error(`embedding ${i} has width ${row.length}, expected ${dim}`);
    out.set(row, i * dim);
  });
  return l2NormalizeRowsInPlace(out, dim);
}

/** A new [n, d] tensor of L2-normalised rows (the input tensor is not disposed). */
export function unitRowsTensor(batch: EmbeddingBatch, dim: number): tf.Tensor2D {
  if (isTensorBatch(batch)) {
    if (batch.rank !== 2 || batch.shape[1] !== dim) {
      throw new Error(`embeddings have shape [${batch.shape.join(', ')}], expected [n, ${dim}]`);
    }
    return tf.tidy(() => {
      const x = tf.cast(batch, 'float32');
      const norm = tf.maximum(tf.norm(x, 'euclidean', 1, true), EPSILON);
      return tf.div(x, norm);
    });
  }
  return tf.tensor2d(packUnitRows(batch, dim), [batch.length, dim]);
}
