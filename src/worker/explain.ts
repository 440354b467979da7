/**
 * "Explain a prediction", in the engine worker: which regions of one preprocessed image drive a
 * head's score for a label, as a small grid over the backbone's square input (values in [0, 1],
 * 1 = most important). Two methods:
 * - Grad-CAM, for the dense head on a layers backbone whose embedding layer is a 4-D feature map
 *   (the built-in MobileNets: `out_relu`, `conv_pw_13_relu`): one forward pass to that activation
 *   A, the gradient of the label's logit (dense head on the global average of A) with respect to
 *   A, channel weights = the spatial mean of that gradient, map = ReLU(sum_c weight_c * A_c).
 * - occlusion sensitivity otherwise (the KNN head, graph-model backbones): a mid-grey patch slides
 *   over a grid of positions; every occluded copy goes through the backbone in batches, and a
 *   cell's value is how much the label's score drops when its patch is hidden. The KNN score is
 *   a similarity margin (see `knnScorer`): a continuous stand-in for the vote, which moves in
 *   steps of 1/k and would hide most drops.
 * The caller hands in the input tensor (the same preprocessing as prediction) and disposes it;
 * everything made here is disposed here. The test-time flip is not applied: the map explains the
 * image as it is shown.
 */
import * as tf from '@tensorflow/tfjs';
import type { Backbone } from '../core/backbone/types';
import { LayersBackbone } from '../core/backbone/layersBackbone';
import { preprocess } from '../core/backbone/preprocess';
import type { LoupeDatabase } from '../core/storage/db';
import { backboneFor, pipelineBatchSize } from './backboneCache';
import type { DenseHead } from '../core/heads';
import { normaliseGrid, occlusionPatches } from '../core/explain/heatmap';
import type { ProjectHeads } from './headsService';
import type { EmbeddingTarget, ExplainMethod, Explanation } from './api';

/** Occlusion grid side: 7 x 7 positions, the same grid as the MobileNets' last feature maps. */
export const OCCLUSION_GRID = 7;

/** What the page sends to the engine's `explain`, less the signal. */
export type ExplainCall = EmbeddingTarget & {
  image: Blob | { sampleId: string };
  head: 'knn' | 'dense';
  labelIds?: string[];
  method?: ExplainMethod;
};

export interface ExplainJob {
  backbone: Backbone;
  heads: ProjectHeads;
  head: 'knn' | 'dense';
  /** `[1, size, size, 3]` in the backbone's input range; not disposed here. */
  input: tf.Tensor4D;
  /** Labels to explain; default: the head's predicted label (its most probable one). */
  labelIds?: readonly string[];
  /** Force a method (bench, tests); default: Grad-CAM where it applies, else occlusion. */
  method?: ExplainMethod;
  batchSize: number;
  signal: AbortSignal;
}

/** Whether Grad-CAM applies: a dense head and a backbone exposing its last feature maps. */
function gradCamModel(job: ExplainJob): tf.LayersModel | null {
  if (job.head !== 'dense' || !job.heads.denseHead) return null;
  return job.backbone instanceof LayersBackbone ? job.backbone.featureMapModel() : null;
}

export async function explainImage(job: ExplainJob): Promise<Explanation> {
  const started = performance.now();
  const embedding = job.backbone.embed(job.input);
  let vector: Float32Array;
  try {
    vector = (await embedding.data()) as Float32Array;
  } finally {
    embedding.dispose();
  }
  const predicted = await job.heads.predictWith(job.head, [vector]);
  if (!predicted) {
    throw new Error(
      job.head === 'dense'
        ? 'Train the dense head first: it is the one explained.'
        : 'Label some images first: the KNN head is made of them.',
    );
  }
  const p = predicted.predictions[0];
  const probs = p?.probabilities ?? [];
  const argmax = probs.reduce((best, v, i) => (v > (probs[best] ?? -1) ? i : best), 0);
  const top = p?.top ?? predicted.labels[argmax] ?? null;
  const labelIds = (job.labelIds ?? (top ? [top] : [])).filter((id) =>
    predicted.labels.includes(id),
  );
  const indices = labelIds.map((id) => predicted.labels.indexOf(id));
  const featureMaps = job.method === 'occlusion' ? null : gradCamModel(job);
  if (job.method === 'grad-cam' && !featureMaps) {
    throw new Error('Grad-CAM needs the dense head and a layers backbone.');
  }
  const dense = job.heads.denseHead;
  const result =
    featureMaps && dense
      ? { method: 'grad-cam' as const, ...gradCam(featureMaps, dense, job.input, indices) }
      : { method: 'occlusion' as const, ...(await occlusion(job, indices, predicted.labels)) };
  return {
    method: result.method,
    rows: result.rows,
    cols: result.cols,
    predicted: top,
    heatmaps: labelIds.map((labelId, i) => ({ labelId, values: result.maps[i] ?? [] })),
    ms: performance.now() - started,
  };
}

interface Maps {
  rows: number;
  cols: number;
  maps: number[][];
}

/** Grad-CAM of the dense head's logits `indices` on the backbone's last feature maps. */
function gradCam(
  featureMaps: tf.LayersModel,
  dense: DenseHead,
  input: tf.Tensor4D,
  indices: readonly number[],
): Maps {
  const activation = tf.tidy(() => featureMaps.predict(input) as tf.Tensor4D);
  try {
    const [, rows = 0, cols = 0] = activation.shape;
    const maps = indices.map((index) => {
      const cam = tf.tidy(() => {
        const logit = (a: tf.Tensor): tf.Tensor =>
          tf.sum(tf.slice(dense.logits(tf.mean(a, [1, 2]) as tf.Tensor2D), [0, index], [1, 1]));
        const gradient = tf.grad(logit)(activation);
        const weights = tf.mean(gradient, [1, 2], true);
        return tf.relu(tf.sum(tf.mul(activation, weights), -1));
      });
      try {
        return normaliseGrid(cam.dataSync());
      } finally {
        cam.dispose();
      }
    });
    return { rows, cols, maps };
  } finally {
    activation.dispose();
  }
}

/** Per-label scores `[n, labels]` of a batch of embeddings, for the occlusion drops. */
type Scorer = (embeddings: tf.Tensor2D) => Promise<Float32Array>;

function denseScorer(dense: DenseHead, indices: readonly number[]): Scorer {
  return async (embeddings) => {
    const probs = await dense.probabilities(embeddings);
    const n = embeddings.shape[0];
    const width = dense.labels.length;
    const out = new Float32Array(n * indices.length);
    for (let i = 0; i < n; i++) {
      indices.forEach((index, j) => (out[i * indices.length + j] = probs[i * width + index] ?? 0));
    }
    return out;
  };
}

/** Temperature of the KNN soft vote (cosine similarities of neighbours differ by a few 0.01). */
const KNN_TEMPERATURE = 0.05;

/**
 * KNN scores: a soft vote, each label's share of softmax(similarity / T) over every labelled
 * example, a continuous stand-in for the k-nearest vote. Like the dense head's softmax it is
 * relative: hiding any part of a photo lowers every similarity a little, and only the shares tell
 * which part mattered for this label. The example matrix is made once per explanation and
 * disposed by `dispose`.
 */
function knnScorer(
  heads: ProjectHeads,
  allLabels: readonly string[],
  indices: readonly number[],
): { score: Scorer; dispose: () => void } {
  const examples = heads.knnExamples().filter((e) => e.labelIds.length > 0);
  const dim = examples[0]?.embedding.length ?? 0;
  const [matrix, members] = tf.tidy(() => {
    const m = tf.tensor2d(
      examples.flatMap((e) => Array.from(e.embedding)),
      [examples.length, dim],
    );
    const wanted = indices.map((i) => allLabels[i] ?? '');
    const y = tf.tensor2d(
      examples.flatMap((e) => wanted.map((id) => (e.labelIds.includes(id) ? 1 : 0))),
      [examples.length, wanted.length],
    );
    return [tf.div(m, tf.maximum(tf.norm(m, 'euclidean', 1, true), 1e-12)), y] as const;
  });
  const score: Scorer = async (embeddings) => {
    const out = tf.tidy(() => {
      const q = tf.div(embeddings, tf.maximum(tf.norm(embeddings, 'euclidean', 1, true), 1e-12));
      const weights = tf.softmax(tf.div(tf.matMul(q, matrix, false, true), KNN_TEMPERATURE));
      return tf.matMul(weights, members);
    });
    try {
      return (await out.data()) as Float32Array;
    } finally {
      out.dispose();
    }
  };
  return { score, dispose: () => tf.dispose([matrix, members]) };
}

/** Occlusion sensitivity: the drop of each label's score when each grid patch is hidden. */
async function occlusion(
  job: ExplainJob,
  indices: readonly number[],
  allLabels: readonly string[],
): Promise<Maps> {
  const { backbone, input } = job;
  const size = backbone.inputSize;
  const [lo, hi] = backbone.inputRange;
  const grey = (lo + hi) / 2;
  const patches = occlusionPatches(size, OCCLUSION_GRID);
  const labels = indices.length;
  const dense = job.heads.denseHead;
  const knn = job.head === 'knn' ? knnScorer(job.heads, allLabels, indices) : null;
  const score = knn?.score ?? (dense ? denseScorer(dense, indices) : null);
  if (!score) throw new Error('Train the dense head first: it is the one explained.');
  try {
    const baseEmbedding = backbone.embed(input);
    let base: Float32Array;
    try {
      base = await score(baseEmbedding);
    } finally {
      baseEmbedding.dispose();
    }
    const drops = Array.from({ length: labels }, () => new Float32Array(patches.length));
    const plane = size * size;
    for (let start = 0; start < patches.length; start += job.batchSize) {
      job.signal.throwIfAborted();
      const batch = patches.slice(start, start + job.batchSize);
      const mask = new Float32Array(batch.length * plane).fill(1);
      batch.forEach((patch, b) => {
        for (let y = patch.y; y < patch.y + patch.h; y++) {
          mask.fill(0, b * plane + y * size + patch.x, b * plane + y * size + patch.x + patch.w);
        }
      });
      const embeddings = tf.tidy(() => {
        const keep = tf.tensor4d(mask, [batch.length, size, size, 1]);
        const occluded = tf.add(tf.mul(input, keep), tf.mul(tf.sub(1, keep), grey));
        return backbone.embed(occluded as tf.Tensor4D);
      });
      let scores: Float32Array;
      try {
        scores = await score(embeddings);
      } finally {
        embeddings.dispose();
      }
      for (let b = 0; b < batch.length; b++) {
        for (let l = 0; l < labels; l++) {
          drops[l]![start + b] = (base[l] ?? 0) - (scores[b * labels + l] ?? 0);
        }
      }
    }
    return {
      rows: OCCLUSION_GRID,
      cols: OCCLUSION_GRID,
      maps: drops.map((d) => normaliseGrid(d)),
    };
  } finally {
    knn?.dispose();
  }
}

/**
 * The engine's `explain`: the image (a Blob, or a stored sample's) through the one preprocessing
 * pipeline with the project's aspect mode, then `explainImage` with the open project's heads.
 */
export async function explainCall(
  db: LoupeDatabase,
  heads: ProjectHeads,
  call: ExplainCall,
  signal: AbortSignal,
): Promise<Explanation> {
  const backbone = await backboneFor(call.spec);
  const { image } = call;
  let blob: Blob | undefined;
  if (image instanceof Blob) blob = image;
  else blob = (await db.get('samples', image.sampleId))?.blob;
  if (!blob) throw new Error('No such sample.');
  signal.throwIfAborted();
  const input = await preprocess([blob], backbone, call.aspectMode);
  try {
    return await explainImage({
      head: call.head,
      backbone,
      heads,
      input,
      ...(call.labelIds ? { labelIds: call.labelIds } : {}),
      ...(call.method ? { method: call.method } : {}),
      batchSize: pipelineBatchSize(),
      signal,
    });
  } finally {
    input.dispose();
  }
}
