/**
 * The "KNN model" export: every labelled example embedding in one binary file (`knn-examples.bin`,
 * see knnRows.ts) plus a JSON manifest (`knn-manifest.json`, see knnManifest.ts), read by
 * `src/runtime/loupe-runtime.js` and by `readKnnExport` here. Builds and reads an export; this
 * module is the format's public surface (it re-exports the manifest and row parts). Plain
 * TypeScript (no DOM, no tensors).
 */
import { l2NormalizeRowsInPlace } from '../heads/unitRows';
import {
  checkKnnSettings,
  KNN_BACKBONE_MODEL,
  KNN_EXAMPLES_FILE,
  KNN_EXPORT_FORMAT,
  KNN_EXPORT_VERSION,
  KnnExportError,
  parseKnnManifest,
  type KnnExportDtype,
  type KnnManifest,
} from './knnManifest';
import { decodeKnnRows, encodeKnnRows } from './knnRows';
import type { AspectMode, ProjectKind } from '../kinds';

export * from './knnManifest';
export * from './knnRows';

export interface KnnExportExample {
  embedding: Float32Array;
  labelIds: readonly string[];
}

export interface KnnExportInput {
  examples: readonly KnnExportExample[];
  labels: readonly { id: string; name: string }[];
  kind: ProjectKind;
  k: number;
  weighted: boolean;
  multiLabelThreshold: number;
  unknownSimilarity: number | null;
  backbone: { id: string; inputSize: number; inputRange: [number, number] };
  preprocessing: { aspectMode: AspectMode; version: number; description: string };
  dtype: KnnExportDtype;
}

export interface KnnExport {
  manifest: KnnManifest;
  /** The bytes of `knn-examples.bin`. */
  examples: Uint8Array;
  /** Examples left out: no labels, or none of their labels in `labels`. */
  skipped: number;
}

// ---- build -------------------------------------------------------------------------------------

function invalid(message: string): KnnExportError {
  return new KnnExportError('invalid-input', `KNN export: ${message}`);
}

/** Unit rows, their label indices, and how many examples were left out. */
function packExamples(input: KnnExportInput): {
  data: Float32Array;
  rowLabels: number[][];
  dim: number;
  skipped: number;
} {
  const index = new Map<string, number>();
  input.labels.forEach((l, i) => {
    if (index.has(l.id)) throw invalid(`label id ${JSON.stringify(l.id)} is listed twice`);
    index.set(l.id, i);
  });
  const kept: { embedding: Float32Array; labels: number[] }[] = [];
  for (const e of input.examples) {
    const labels = [...new Set(e.labelIds)]
      .map((id) => index.get(id))
      .filter((l): l is number => l !== undefined);
    if (labels.length > 0) kept.push({ embedding: e.embedding, labels });
  }
  const first = kept[0];
  if (!first) throw invalid('no labelled examples to export');
  const dim = first.embedding.length;
  if (dim < 1) throw invalid('embeddings are empty');
  const data = new Float32Array(kept.length * dim);
  kept.forEach((e, r) => {
    if (e.embedding.length !== dim)
      throw invalid(`example ${r} has width ${e.embedding.length}, expected ${dim}`);
    for (const v of e.embedding)
      if (!Number.isFinite(v)) throw invalid(`example ${r} is not finite`);
    data.set(e.embedding, r * dim);
  });
  return {
    data: l2NormalizeRowsInPlace(data, dim),
    rowLabels: kept.map((e) => e.labels),
    dim,
    skipped: input.examples.length - kept.length,
  };
}

/**
 * Builds `knn-manifest.json` and `knn-examples.bin`. Examples without labels, and labels not in
 * `input.labels`, are left out (as the app's KNN head does when labels are removed).
 */
export function buildKnnExport(input: KnnExportInput): KnnExport {
  checkKnnSettings(input);
  const { data, rowLabels, dim, skipped } = packExamples(input);
  const count = rowLabels.length;
  const manifest: KnnManifest = {
    format: KNN_EXPORT_FORMAT,
    version: KNN_EXPORT_VERSION,
    kind: input.kind,
    labels: input.labels.map((l) => ({ id: l.id, name: l.name })),
    k: input.k,
    weighted: input.weighted,
    multiLabelThreshold: input.multiLabelThreshold,
    unknownSimilarity: input.unknownSimilarity,
    dim,
    count,
    dtype: input.dtype,
    examples: KNN_EXAMPLES_FILE,
    rowLabels,
    backbone: {
      id: input.backbone.id,
      model: KNN_BACKBONE_MODEL,
      inputSize: input.backbone.inputSize,
      inputRange: [input.backbone.inputRange[0], input.backbone.inputRange[1]],
    },
    preprocessing: { ...input.preprocessing },
  };
  return { manifest, examples: encodeKnnRows(data, count, dim, input.dtype), skipped };
}

// ---- read --------------------------------------------------------------------------------------

export interface KnnExportContents {
  manifest: KnnManifest;
  /** Row-major unit rows, count * dim. */
  data: Float32Array;
  /** One view into `data` per row. */
  rows: Float32Array[];
}

/** Validates a KNN export (parsed manifest JSON + binary) and decodes its rows to float32. */
export function readKnnExport(manifestJson: unknown, bytes: Uint8Array): KnnExportContents {
  const manifest = parseKnnManifest(manifestJson);
  const { count, dim } = manifest;
  const data = decodeKnnRows(bytes, count, dim, manifest.dtype);
  const rows = Array.from({ length: count }, (_, r) => data.subarray(r * dim, (r + 1) * dim));
  return { manifest, data, rows };
}
