/**
 * A user's own TF.js layers model picked as files (model.json + weight shards), with no fetch:
 * `collectModelFiles` finds the model.json among the picked files, checks it and matches every
 * weight path of its manifest to a picked file (by base name, as `tf.io.browserFiles` does), with
 * sizes checked against the manifest; `modelFilesHandler` turns the checked model.json and the
 * weight bytes into an in-memory IOHandler for `tf.loadLayersModel`; `modelFilesKey` is the key a
 * set is stored and archived under. TF.js types only, no TF.js code, so these checks run
 * anywhere; the model itself is only ever loaded in a worker.
 */
import type * as tf from '@tensorflow/tfjs';
import { sha256Hex } from '../imageio/hash';

/** Limits on what a picked model may be. */
export const MODEL_FILES_LIMITS = {
  /** model.json larger than this is refused before it is parsed. */
  modelJsonBytes: 32 * 1024 * 1024,
  /** All weight files together. */
  weightBytes: 512 * 1024 * 1024,
  /** Weight files listed in the manifest. */
  weightFiles: 4096,
} as const;

/** A picked file: its name (no folders) and bytes. `File` is one. */
export interface NamedBlob {
  readonly name: string;
  readonly size: number;
  slice(start?: number, end?: number): Blob;
  text(): Promise<string>;
}

type WeightEntry = tf.io.WeightsManifestEntry;

/** A checked model.json: its text (what is stored) and what loading needs from it. */
export interface ModelJson {
  text: string;
  modelTopology: Record<string, unknown>;
  format: string | undefined;
  groups: { paths: string[]; weights: WeightEntry[] }[];
}

/** A checked pick: the model.json and the weight files in manifest order. */
export interface CollectedModelFiles<F extends NamedBlob = NamedBlob> {
  /** Name for the UI and the backbone id: the model.json's folder or file name. */
  name: string;
  modelJson: ModelJson;
  /** One per manifest path, in manifest order (the order the weight bytes concatenate in). */
  weights: { path: string; file: F }[];
  /** Bytes of all weight files. */
  weightBytes: number;
}

/** A picked set of files that cannot be a layers model; the message says what to pick. */
export class ModelFilesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelFilesError';
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const DTYPE_BYTES: Record<WeightEntry['dtype'], number | null> = {
  float32: 4,
  int32: 4,
  bool: 1,
  complex64: 8,
  string: null,
};
const QUANTIZED_BYTES = { uint8: 1, uint16: 2, float16: 2 } as const;

function isDtype(value: unknown): value is WeightEntry['dtype'] {
  return typeof value === 'string' && Object.hasOwn(DTYPE_BYTES, value);
}

function isQuantizedDtype(value: unknown): value is keyof typeof QUANTIZED_BYTES {
  return typeof value === 'string' && Object.hasOwn(QUANTIZED_BYTES, value);
}

function weightEntry(value: unknown, where: string): WeightEntry {
  if (!isRecord(value) || typeof value.name !== 'string') {
    throw new ModelFilesError(`model.json: ${where} is not a weight entry with a name.`);
  }
  const { name, shape, dtype, quantization } = value;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ModelFilesError(`model.json: weight "${name}" has no valid shape.`);
  }
  if (!isDtype(dtype) || DTYPE_BYTES[dtype] === null) {
    throw new ModelFilesError(`model.json: weight "${name}" has an unsupported dtype.`);
  }
  const entry: WeightEntry = { name, shape: shape.map(Number), dtype };
  if (quantization !== undefined) {
    if (!isRecord(quantization) || !isQuantizedDtype(quantization.dtype)) {
      throw new ModelFilesError(`model.json: weight "${name}" has an unknown quantization.`);
    }
    const { scale, min } = quantization;
    entry.quantization = {
      dtype: quantization.dtype,
      ...(typeof scale === 'number' ? { scale } : {}),
      ...(typeof min === 'number' ? { min } : {}),
    };
  }
  return entry;
}

/** Bytes one manifest entry takes in the weight files. */
export function weightByteSize(entry: WeightEntry): number {
  const count = entry.shape.reduce((a, b) => a * b, 1);
  const per = entry.quantization
    ? QUANTIZED_BYTES[entry.quantization.dtype]
    : (DTYPE_BYTES[entry.dtype] ?? 0);
  return count * per;
}

/** Parses and checks a model.json's text: a layers model with a weights manifest. */
export function parseModelJson(text: string): ModelJson {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ModelFilesError('model.json is not valid JSON.');
  }
  if (!isRecord(json) || !isRecord(json.modelTopology) || !Array.isArray(json.weightsManifest)) {
    throw new ModelFilesError(
      'model.json is not a TF.js model (it needs "modelTopology" and "weightsManifest").',
    );
  }
  const format = typeof json.format === 'string' ? json.format : undefined;
  if (format === 'graph-model') {
    throw new ModelFilesError(
      'model.json is a TF.js graph model; Loupe needs a layers model (format "layers-model").',
    );
  }
  const groups = json.weightsManifest.map((group: unknown, g) => {
    if (!isRecord(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      throw new ModelFilesError(`model.json: weights manifest group ${g + 1} is malformed.`);
    }
    const paths = group.paths.map((p: unknown) => {
      if (typeof p !== 'string' || p === '') {
        throw new ModelFilesError(`model.json: group ${g + 1} lists an invalid weight path.`);
      }
      return p;
    });
    const weights = group.weights.map((w: unknown, i) =>
      weightEntry(w, `group ${g + 1} weight ${i + 1}`),
    );
    return { paths, weights };
  });
  return { text, modelTopology: json.modelTopology, format, groups };
}

/** The file name of a manifest path (`./weights/group1-shard1of1.bin` -> `group1-shard1of1.bin`). */
export function baseName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function findModelJson<F extends NamedBlob>(files: readonly F[]): F {
  const jsons = files.filter((f) => /\.json$/i.test(f.name));
  const named = jsons.filter((f) => f.name.toLowerCase() === 'model.json');
  const found = named.length === 1 ? named[0] : jsons.length === 1 ? jsons[0] : undefined;
  if (!found) {
    throw new ModelFilesError(
      named.length > 1 || jsons.length > 1
        ? 'Pick one model at a time: the files hold more than one model.json.'
        : 'No model.json among the picked files: pick the model.json together with its weight files.',
    );
  }
  return found;
}

/**
 * Finds and checks the model.json among `files` and matches its weight paths to the other files.
 * Throws `ModelFilesError` naming what is missing, duplicated or of the wrong size. `folder` (a
 * dropped or picked folder's name) names the model when given.
 */
export async function collectModelFiles<F extends NamedBlob>(
  files: readonly F[],
  folder?: string,
): Promise<CollectedModelFiles<F>> {
  const jsonFile = findModelJson(files);
  if (jsonFile.size > MODEL_FILES_LIMITS.modelJsonBytes) {
    throw new ModelFilesError(
      `${jsonFile.name} is ${(jsonFile.size / 1048576).toFixed(0)} MB; a model.json over ` +
        `${MODEL_FILES_LIMITS.modelJsonBytes / 1048576} MB is refused.`,
    );
  }
  const modelJson = parseModelJson(await jsonFile.text());
  const byName = new Map<string, F>();
  const duplicated = new Set<string>();
  for (const file of files) {
    if (file === jsonFile) continue;
    if (byName.has(file.name)) duplicated.add(file.name);
    byName.set(file.name, file);
  }
  const paths = modelJson.groups.flatMap((g) => g.paths);
  if (paths.length > MODEL_FILES_LIMITS.weightFiles) {
    throw new ModelFilesError(`model.json lists ${paths.length} weight files; too many.`);
  }
  const missing = paths.filter((p) => !byName.has(baseName(p)));
  if (missing.length > 0) {
    const names = missing.slice(0, 5).map((p) => `"${baseName(p)}"`);
    const more = missing.length > 5 ? ` and ${missing.length - 5} more` : '';
    throw new ModelFilesError(
      `Missing ${plural(missing.length, 'weight file')} listed in ${jsonFile.name}: ` +
        `${names.join(', ')}${more}. Pick model.json together with all its weight files.`,
    );
  }
  const ambiguous = paths.map(baseName).filter((n) => duplicated.has(n));
  if (ambiguous.length > 0) {
    throw new ModelFilesError(`Two picked files are named "${ambiguous[0]}"; pick one model.`);
  }
  const weights: { path: string; file: F }[] = [];
  let weightBytes = 0;
  for (const group of modelJson.groups) {
    const groupFiles = group.paths.map((path) => ({ path, file: byName.get(baseName(path))! }));
    const actual = groupFiles.reduce((sum, w) => sum + w.file.size, 0);
    const expected = group.weights.reduce((sum, w) => sum + weightByteSize(w), 0);
    if (actual !== expected) {
      const names = groupFiles.map((w) => `"${baseName(w.path)}"`).join(', ');
      throw new ModelFilesError(
        `Weight ${group.paths.length === 1 ? 'file' : 'files'} ${names} ` +
          `${group.paths.length === 1 ? 'holds' : 'hold'} ${actual} bytes; ${jsonFile.name} ` +
          `expects ${expected}. The files do not belong to this model.json (or are damaged).`,
      );
    }
    weights.push(...groupFiles);
    weightBytes += actual;
  }
  if (weightBytes > MODEL_FILES_LIMITS.weightBytes) {
    throw new ModelFilesError(
      `The weights take ${(weightBytes / 1048576).toFixed(0)} MB; models over ` +
        `${MODEL_FILES_LIMITS.weightBytes / 1048576} MB are refused.`,
    );
  }
  const fromFile = jsonFile.name.replace(/\.json$/i, '');
  const name = folder?.trim() || (fromFile.toLowerCase() === 'model' ? 'model' : fromFile);
  return { name, modelJson, weights, weightBytes };
}

/**
 * An IOHandler that hands `tf.loadLayersModel` the checked model.json and the weight bytes (all
 * weight files concatenated in manifest order): nothing is fetched.
 */
export function modelFilesHandler(modelJson: ModelJson, weightData: ArrayBuffer): tf.io.IOHandler {
  const expected = modelJson.groups
    .flatMap((g) => g.weights)
    .reduce((sum, w) => sum + weightByteSize(w), 0);
  if (weightData.byteLength !== expected) {
    throw new ModelFilesError(
      `The stored weights hold ${weightData.byteLength} bytes; model.json expects ${expected}.`,
    );
  }
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: modelJson.modelTopology,
    weightSpecs: modelJson.groups.flatMap((g) => g.weights),
    weightData,
    ...(modelJson.format !== undefined ? { format: modelJson.format } : {}),
  };
  return { load: () => Promise.resolve(artifacts) };
}

/** Why a file-model backbone cannot load: its files are not stored on this device. */
export function modelFilesMissingMessage(label: string): string {
  return (
    `The model files of "${label}" are not stored on this device (e.g. the project came from ` +
    `an archive): pick its model.json and weight files again under Backbone > Custom TF.js ` +
    `layers model.`
  );
}

/**
 * The key a set of model files is stored under (and named by in project settings and archives):
 * the lowercase hex SHA-256 of the model.json text (UTF-8) followed by every weight file's bytes
 * in manifest order. The one definition for picked files and files read from an archive alike.
 */
export async function modelFilesKey(
  modelJson: string,
  weights: readonly (ArrayBuffer | Uint8Array)[],
): Promise<string> {
  const json = new TextEncoder().encode(modelJson);
  const parts = [json, ...weights.map((w) => (w instanceof Uint8Array ? w : new Uint8Array(w)))];
  const all = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.byteLength;
  }
  return sha256Hex(all);
}
