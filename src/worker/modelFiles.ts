/**
 * A user's own model picked as files, on the engine worker's side: `storeModelFiles` checks the
 * pick (core/backbone/modelFiles.ts), hashes it, loads it once to describe it (input size,
 * candidate embedding layers) and stores it in IndexedDB; `modelFilesSource` gives a file-model
 * spec the in-memory IOHandler it loads from, after a reload or a worker restart alike. Nothing
 * here fetches.
 */
import { inspectLayersModel } from '../core/backbone/layersBackbone';
import {
  collectModelFiles,
  modelFilesHandler,
  modelFilesKey,
  modelFilesMissingMessage,
  parseModelJson,
} from '../core/backbone/modelFiles';
import type { BackboneSpec, ModelSource } from '../core/backbone/types';
import {
  getBackboneFiles,
  pruneBackboneFiles,
  putBackboneFiles,
} from '../core/storage/backboneFiles';
import type { LoupeDatabase } from '../core/storage/db';
import type { ModelFilesInfo } from './api';

async function concatenate(blobs: readonly Blob[]): Promise<ArrayBuffer> {
  return new Blob([...blobs]).arrayBuffer();
}

/**
 * Checks, describes and stores picked model files; throws `ModelFilesError` (what is missing or
 * wrong) or the loader's error when TF.js cannot build the model. Stored models no project names
 * are removed, except this one (picked, not used yet).
 */
export async function storeModelFiles(
  db: LoupeDatabase,
  call: { files: readonly File[]; folder?: string },
): Promise<ModelFilesInfo> {
  const picked = await collectModelFiles(call.files, call.folder);
  const weightData = await concatenate(picked.weights.map((w) => w.file));
  const jsonBytes = new TextEncoder().encode(picked.modelJson.text);
  const key = await modelFilesKey(picked.modelJson.text, [weightData]);
  const info = await inspectLayersModel(modelFilesHandler(picked.modelJson, weightData));
  await putBackboneFiles(db, {
    key,
    name: picked.name,
    modelJson: picked.modelJson.text,
    // Plain Blobs: each file's name is kept in `path`.
    weights: picked.weights.map((w) => ({ path: w.path, blob: new Blob([w.file]) })),
    byteSize: picked.weightBytes + jsonBytes.byteLength,
    createdAt: Date.now(),
  });
  await pruneBackboneFiles(db, [key]);
  return {
    key,
    name: picked.name,
    byteSize: picked.weightBytes + jsonBytes.byteLength,
    inputSize: info.inputSize,
    layerCount: info.layerCount,
    paramCount: info.paramCount,
    candidates: info.candidates.map((c) => ({ name: c.name, embeddingSize: c.embeddingSize })),
  };
}

/**
 * The source a spec loads from when its model was picked as files (an in-memory IOHandler over
 * the stored files); undefined for every other spec, which loads from its URL.
 */
export async function modelFilesSource(
  db: LoupeDatabase,
  spec: BackboneSpec,
): Promise<ModelSource | undefined> {
  if (spec.kind !== 'custom' || spec.files === undefined) return undefined;
  const record = await getBackboneFiles(db, spec.files);
  if (!record) throw new Error(modelFilesMissingMessage(spec.label));
  const weightData = await concatenate(record.weights.map((w) => w.blob));
  return modelFilesHandler(parseModelJson(record.modelJson), weightData);
}
