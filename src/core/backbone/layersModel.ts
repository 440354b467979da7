/**
 * Shared plumbing for backbones built on TF.js layers models: loading from a URL or IOHandler
 * with clear "weights missing" errors (every URL fetch goes through the same-origin rule of
 * ../sameOrigin.ts, model.json and each weight file alike), truncating a model at an embedding layer (+ global
 * average pooling for 4-D outputs), listing candidate embedding layers, and top-k decoding.
 */
import * as tf from '@tensorflow/tfjs';
import { sameOriginFetch } from '../sameOrigin';
import { modelUrl } from './specs';
import type { ClassPrediction, ModelSource } from './types';

/** The command that puts the built-in weights under public/models. */
export { FIX_MODELS_COMMAND } from './specs';

/** Thrown when a model's files cannot be fetched (404, offline, or an HTML fallback page). */
export class BackboneWeightsMissingError extends Error {
  readonly url: string;
  readonly fixCommand: string | null;
  constructor(what: string, url: string, fixCommand: string | null, cause?: unknown) {
    super(
      fixCommand
        ? `${what} weights not found at ${url}: run \`${fixCommand}\``
        : `${what} weights not found at ${url}`,
      { cause },
    );
    this.name = 'BackboneWeightsMissingError';
    this.url = url;
    this.fixCommand = fixCommand;
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** True for the ways a missing or unreachable model shows up through tfjs's http loader. */
export function looksLikeMissingFile(err: unknown): boolean {
  const text = errorText(err);
  return (
    /status code 40[34]/.test(text) ||
    /Failed to parse model JSON/i.test(text) ||
    /Failed to fetch|NetworkError|fetch failed|Load failed/i.test(text) ||
    /Unexpected token '?<'?/.test(text)
  );
}

/** Human description of where a model comes from. */
export function describeSource(source: ModelSource): string {
  return typeof source === 'string' ? source : 'the provided model files';
}

/**
 * Runs `load` on `source` and turns a missing model into `BackboneWeightsMissingError` (naming
 * `fixCommand` when given); other failures are prefixed with what was being loaded and from where.
 * A URL is first resolved against the app's location and checked by the same-origin rule: a
 * refused URL throws `CrossOriginModelError` before any request. `load` gets the source to read:
 * for a URL, an http IOHandler whose every fetch (model.json and weights) is checked the same way.
 */
export async function loadModelFrom<T>(
  source: ModelSource,
  what: string,
  fixCommand: string | null,
  load: (guarded: ModelSource) => Promise<T>,
): Promise<T> {
  const url = typeof source === 'string' ? modelUrl(source) : null;
  const guarded = url === null ? source : tf.io.http(url, { fetchFunc: sameOriginFetch });
  try {
    return await load(guarded);
  } catch (err) {
    if (url !== null && looksLikeMissingFile(err)) {
      throw new BackboneWeightsMissingError(what, url, fixCommand, err);
    }
    throw new Error(
      `Could not load ${what} from ${url ?? describeSource(source)}: ${errorText(err)}`,
      { cause: err },
    );
  }
}

/** `tf.loadLayersModel` through `loadModelFrom`. */
export function loadLayersModelFrom(
  source: ModelSource,
  what: string,
  fixCommand: string | null,
): Promise<tf.LayersModel> {
  return loadModelFrom(source, what, fixCommand, (guarded) => tf.loadLayersModel(guarded));
}

function outputShapeOf(layer: tf.layers.Layer): (number | null)[] | null {
  const shape = layer.outputShape;
  // Layers with several outputs report a list of shapes; those are no embedding candidates.
  if (!Array.isArray(shape) || shape.some((d) => Array.isArray(d))) return null;
  return shape as (number | null)[];
}

export interface LayerCandidate {
  name: string;
  /** Layer class name, e.g. "Activation", "Conv2D". */
  className: string;
  /** Output shape with the batch dimension, e.g. [null, 7, 7, 768]. */
  outputShape: (number | null)[];
  /** Length of the embedding this layer gives (channels after pooling for 4-D outputs). */
  embeddingSize: number;
}

/**
 * Layers usable as embedding layers (single 4-D or 2-D output with a known last dimension),
 * deepest first: the UI offers these for a custom backbone.
 */
export function listCandidateLayers(model: tf.LayersModel): LayerCandidate[] {
  const inputNames = new Set(model.inputLayers.map((l) => l.name));
  const out: LayerCandidate[] = [];
  for (const layer of model.layers) {
    if (inputNames.has(layer.name)) continue;
    const shape = outputShapeOf(layer);
    if (!shape || (shape.length !== 4 && shape.length !== 2)) continue;
    const last = shape[shape.length - 1];
    if (typeof last !== 'number' || last <= 0) continue;
    out.push({
      name: layer.name,
      className: layer.getClassName(),
      outputShape: shape,
      embeddingSize: last,
    });
  }
  return out.reverse();
}

/**
 * A model sharing `model`'s weights from its input to `layerName`, with a global average pooling
 * layer appended when that output is 4-D (`[n, h, w, c]` -> `[n, c]`). It is a plain layers
 * model, so an exported classifier can stack a dense head on it.
 */
export function embeddingModelAt(
  model: tf.LayersModel,
  layerName: string,
  poolName = 'loupe_embedding_gap',
): tf.LayersModel {
  let layer: tf.layers.Layer;
  try {
    layer = model.getLayer(layerName);
  } catch {
    const names = listCandidateLayers(model)
      .slice(0, 8)
      .map((c) => c.name)
      .join(', ');
    throw new Error(`Layer "${layerName}" not found in the model (candidates: ${names})`);
  }
  const shape = outputShapeOf(layer);
  if (!shape) throw new Error(`Layer "${layerName}" has several outputs; pick another layer`);
  const output = layer.output as tf.SymbolicTensor;
  let embedding: tf.SymbolicTensor;
  if (shape.length === 4) {
    embedding = tf.layers
      .globalAveragePooling2d({ name: poolName, dataFormat: 'channelsLast' })
      .apply(output) as tf.SymbolicTensor;
  } else if (shape.length === 2) {
    embedding = output;
  } else {
    throw new Error(
      `Layer "${layerName}" outputs rank ${shape.length} ([${shape.join(', ')}]); need 4-D or 2-D`,
    );
  }
  return tf.model({ inputs: model.inputs, outputs: embedding, name: `embedding_${layerName}` });
}

/** Throws a readable error unless `batch` is `[n, size, size, 3]`. */
export function assertBatch(batch: tf.Tensor, size: number, who: string): void {
  const [n, h, w, c] = batch.shape;
  if (batch.rank !== 4 || h !== size || w !== size || c !== 3 || n === undefined) {
    throw new Error(
      `${who}: expected a [n, ${size}, ${size}, 3] batch, got [${batch.shape.join(', ')}]`,
    );
  }
}

/** Square input size of a layers model, or null when its input is dynamic or not square. */
export function squareInputSize(model: tf.LayersModel): number | null {
  const shape = model.inputs[0]?.shape;
  if (!shape || shape.length !== 4) return null;
  const [, h, w] = shape;
  return typeof h === 'number' && h === w ? h : null;
}

/** Top-k of each row of `[n, classes]` probabilities, with class names (or "class i"). */
export async function topKClasses(
  probabilities: tf.Tensor2D,
  k: number,
  labels: readonly string[] | null,
): Promise<ClassPrediction[][]> {
  const kk = Math.min(k, probabilities.shape[1]);
  const { values, indices } = tf.topk(probabilities, kk, true);
  try {
    const [vals, idx] = await Promise.all([values.data(), indices.data()]);
    const rows: ClassPrediction[][] = [];
    for (let r = 0; r < probabilities.shape[0]; r++) {
      const row: ClassPrediction[] = [];
      for (let j = 0; j < kk; j++) {
        const i = idx[r * kk + j] as number;
        row.push({
          className: labels?.[i] ?? `class ${i}`,
          probability: vals[r * kk + j] as number,
        });
      }
      rows.push(row);
    }
    return rows;
  } finally {
    values.dispose();
    indices.dispose();
  }
}

/** Reads class names from JSON holding `{ labels: string[] }` or a bare string array. */
export function parseLabels(json: unknown): string[] {
  const list = Array.isArray(json) ? json : (json as { labels?: unknown } | null)?.labels;
  if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) {
    throw new Error('labels JSON must be a string array or { "labels": string[] }');
  }
  return list as string[];
}

/** Class names from text with one name per line (trailing blank lines dropped). */
export function parseLabelLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1]?.trim() === '') lines.pop();
  return lines.map((line) => line.trim());
}

/**
 * Fetches class names (same-origin only, see `modelUrl`); null when they cannot be had
 * (classification then shows "class i").
 */
export async function fetchLabels(url: string): Promise<string[] | null> {
  try {
    const res = await sameOriginFetch(modelUrl(url));
    if (!res.ok) return null;
    if (/\.txt([?#].*)?$/i.test(url)) return parseLabelLines(await res.text());
    return parseLabels(await res.json());
  } catch {
    return null;
  }
}

/**
 * Runs a zero batch of `batch` images through `model` once so the first real batch does not pay
 * for setup (buffers sized for the batch, kernels built).
 */
export async function warmUp(model: tf.LayersModel, inputSize: number, batch = 1): Promise<void> {
  const out = tf.tidy(() => {
    const y = model.predict(tf.zeros([batch, inputSize, inputSize, 3]));
    return Array.isArray(y) ? y : [y];
  });
  try {
    await Promise.all(out.map((t) => t.data()));
  } finally {
    tf.dispose(out);
  }
}
