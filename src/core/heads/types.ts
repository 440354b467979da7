/**
 * The contract every classifier head (KNN, dense) fulfils: predict from embeddings, serialize to a
 * structured-clone-able object (JSON values + Float32Arrays, fit for IndexedDB and postMessage),
 * dispose its tensors. Heads speak label ids (strings); probabilities are aligned with `labels`.
 */
import type * as tf from '@tensorflow/tfjs';
import type { ProjectKind } from '../kinds';

export type HeadType = 'knn' | 'dense';

/** A batch of embeddings: one Float32Array per image, or a [n, d] tensor (never disposed by heads). */
export type EmbeddingBatch = readonly Float32Array[] | tf.Tensor2D;

export interface Neighbour {
  /** Sample id of the stored example. */
  id: string;
  /** Cosine similarity to the query, in [-1, 1]. */
  similarity: number;
  labelIds: readonly string[];
}

export interface Prediction {
  /** Per-label probability (KNN: vote share), aligned with the head's `labels`. */
  probabilities: number[];
  /** The most probable predicted label, or null for "unknown" (below the unknown threshold, or
   *  multi-label with no label above its threshold). */
  top: string | null;
  /** Probability of the most probable label (whether or not it passed a threshold). */
  topProbability: number;
  /** Predicted label set: single-label `[top]` or `[]`; multi-label every label over its threshold. */
  labels: string[];
  /** KNN only: the neighbours that voted, nearest first. */
  neighbours?: Neighbour[];
}

/** One weight matrix / vector, topology-free. `data` owns its buffer (safe to transfer). */
export interface SerializedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

export const SERIALIZED_HEAD_FORMAT = 'loupe-head';
export const SERIALIZED_HEAD_VERSION = 1;

export interface SerializedHeadBase<T extends HeadType, C, S> {
  format: typeof SERIALIZED_HEAD_FORMAT;
  version: number;
  type: T;
  kind: ProjectKind;
  labels: string[];
  /** Embedding width the head expects. */
  dim: number;
  config: C;
  /** Head-specific JSON state (e.g. KNN sample ids, dense thresholds). */
  state: S;
  tensors: SerializedTensor[];
}

export interface Head {
  readonly type: HeadType;
  readonly kind: ProjectKind;
  /** Label ids, in the order of `Prediction.probabilities`. */
  readonly labels: readonly string[];
  /** Embedding width; 0 for an empty KNN head that has not seen an example yet. */
  readonly dim: number;
  predict(embeddings: EmbeddingBatch): Promise<Prediction[]>;
  serialize(): SerializedHeadBase<HeadType, unknown, unknown>;
  /** Releases every tensor; the head is unusable afterwards. */
  dispose(): void;
}
