/**
 * Shared tensor plumbing for heads: the size of a batch, and turning a batch into a unit-row
 * [n, d] tensor (L2-normalised on the backend, or on the CPU by `packUnitRows` for arrays).
 * Callers own (and dispose) what they get back.
 */
import * as tf from '@tensorflow/tfjs';
import type { EmbeddingBatch } from './types';
import { packUnitRows, UNIT_ROW_EPSILON } from './unitRows';

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

/** A new [n, d] tensor of L2-normalised rows (the input tensor is not disposed). */
export function unitRowsTensor(batch: EmbeddingBatch, dim: number): tf.Tensor2D {
  if (isTensorBatch(batch)) {
    if (batch.rank !== 2 || batch.shape[1] !== dim) {
      throw new Error(`embeddings have shape [${batch.shape.join(', ')}], expected [n, ${dim}]`);
    }
    return tf.tidy(() => {
      const x = tf.cast(batch, 'float32');
      const norm = tf.maximum(tf.norm(x, 'euclidean', 1, true), UNIT_ROW_EPSILON);
      return tf.div(x, norm);
    });
  }
  return tf.tensor2d(packUnitRows(batch, dim), [batch.length, dim]);
}
