/**
 * The manifest of the "KNN model" export (`knn-manifest.json`): format name and version, file
 * names, the row dtypes, the manifest's shape, its validation (`checkKnnSettings`, also run on the
 * settings a new export is built from, and `parseKnnManifest`) and the export's typed errors.
 * Plain TypeScript.
 */
import { isAspectMode, isProjectKind, type AspectMode, type ProjectKind } from '../kinds';
import { isPlainObject as isRecord } from '../objects';

export const KNN_EXPORT_FORMAT = 'loupe-knn';
export const KNN_EXPORT_VERSION = 1;
export const KNN_MANIFEST_FILE = 'knn-manifest.json';
export const KNN_EXAMPLES_FILE = 'knn-examples.bin';
export const KNN_BACKBONE_MODEL = 'backbone/model.json';

export type KnnExportDtype = 'float32' | 'float16' | 'int8';
export const KNN_EXPORT_DTYPES: readonly KnnExportDtype[] = ['float32', 'float16', 'int8'];

export interface KnnManifest {
  format: typeof KNN_EXPORT_FORMAT;
  version: number;
  kind: ProjectKind;
  /** Labels in vote order; `rowLabels` index into this list. */
  labels: { id: string; name: string }[];
  k: number;
  weighted: boolean;
  multiLabelThreshold: number;
  unknownSimilarity: number | null;
  /** Embedding width (values per row). */
  dim: number;
  /** Number of rows (examples). */
  count: number;
  dtype: KnnExportDtype;
  /** The binary file, relative to the manifest. */
  examples: string;
  /** Label indices of each row (single-label rows vote with their first label). */
  rowLabels: number[][];
  backbone: { id: string; model: string; inputSize: number; inputRange: [number, number] };
  preprocessing: { aspectMode: AspectMode; version: number; description: string };
}

export type KnnExportErrorCode =
  | 'wrong-format'
  | 'unsupported-version'
  | 'invalid-manifest'
  | 'bad-length'
  | 'non-finite'
  | 'bad-label-index'
  | 'invalid-input';

export class KnnExportError extends Error {
  readonly code: KnnExportErrorCode;
  constructor(code: KnnExportErrorCode, message: string) {
    super(message);
    this.name = 'KnnExportError';
    this.code = code;
  }
}

/** Checks the export settings a manifest carries; returns the thrower used for the rest. */
export function checkKnnSettings(s: {
  kind: unknown;
  k: unknown;
  weighted: unknown;
  multiLabelThreshold: unknown;
  unknownSimilarity: unknown;
  dtype: unknown;
}): (message: string) => never {
  const fail = (message: string): never => {
    throw new KnnExportError('invalid-manifest', message);
  };
  if (!isProjectKind(s.kind)) fail(`unknown kind ${JSON.stringify(s.kind)}`);
  if (!Number.isInteger(s.k) || (s.k as number) < 1) fail('k must be an integer >= 1');
  if (typeof s.weighted !== 'boolean') fail('weighted must be true or false');
  if (typeof s.multiLabelThreshold !== 'number' || !Number.isFinite(s.multiLabelThreshold))
    fail('multiLabelThreshold must be a finite number');
  if (
    s.unknownSimilarity !== null &&
    (typeof s.unknownSimilarity !== 'number' || !Number.isFinite(s.unknownSimilarity))
  )
    fail('unknownSimilarity must be null or a finite number');
  if (!KNN_EXPORT_DTYPES.includes(s.dtype as KnnExportDtype))
    fail(`unsupported dtype ${JSON.stringify(s.dtype)} (expected ${KNN_EXPORT_DTYPES.join(', ')})`);
  return fail;
}

function isNonNegativeInteger(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0;
}

/** Validates a parsed manifest (JSON value) into a `KnnManifest`; throws `KnnExportError`. */
export function parseKnnManifest(json: unknown): KnnManifest {
  if (!isRecord(json) || json.format !== KNN_EXPORT_FORMAT) {
    throw new KnnExportError('wrong-format', `${KNN_MANIFEST_FILE} is not a Loupe KNN manifest.`);
  }
  if (!Number.isInteger(json.version) || (json.version as number) < 1) {
    throw new KnnExportError('invalid-manifest', 'The KNN manifest has no valid version.');
  }
  if ((json.version as number) > KNN_EXPORT_VERSION) {
    throw new KnnExportError(
      'unsupported-version',
      `The KNN export is format version ${String(json.version)}; this app reads up to ${KNN_EXPORT_VERSION}.`,
    );
  }
  const m = json;
  const fail = checkKnnSettings({
    kind: m.kind,
    k: m.k,
    weighted: m.weighted,
    multiLabelThreshold: m.multiLabelThreshold,
    unknownSimilarity: m.unknownSimilarity,
    dtype: m.dtype,
  });
  if (!Array.isArray(m.labels)) fail('labels must be a list');
  const labels = (m.labels as unknown[]).map((l, i) => {
    if (!isRecord(l) || typeof l.id !== 'string' || typeof l.name !== 'string')
      fail(`label ${i} must have a string id and name`);
    const { id, name } = l as { id: string; name: string };
    return { id, name };
  });
  if (!isNonNegativeInteger(m.dim) || m.dim < 1) fail('dim must be an integer >= 1');
  if (!isNonNegativeInteger(m.count)) fail('count must be an integer >= 0');
  if (typeof m.examples !== 'string') fail('examples must name the binary file');
  if (!Array.isArray(m.rowLabels) || m.rowLabels.length !== m.count)
    fail('rowLabels must have one entry per row');
  const rowLabels = (m.rowLabels as unknown[]).map((row, r) => {
    if (!Array.isArray(row) || row.length === 0) fail(`rowLabels[${r}] must be a non-empty list`);
    return (row as unknown[]).map((l) => {
      if (!isNonNegativeInteger(l) || l >= labels.length) {
        throw new KnnExportError(
          'bad-label-index',
          `rowLabels[${r}] refers to label ${JSON.stringify(l)}; there are ${labels.length} labels.`,
        );
      }
      return l;
    });
  });
  const b = m.backbone;
  if (
    !isRecord(b) ||
    typeof b.id !== 'string' ||
    typeof b.model !== 'string' ||
    !isNonNegativeInteger(b.inputSize) ||
    b.inputSize < 1 ||
    !Array.isArray(b.inputRange) ||
    b.inputRange.length !== 2 ||
    !b.inputRange.every((v) => typeof v === 'number' && Number.isFinite(v))
  ) {
    fail('backbone must have id, model, inputSize >= 1 and inputRange [lo, hi]');
  }
  const backbone = b as KnnManifest['backbone'];
  const p = m.preprocessing;
  if (
    !isRecord(p) ||
    !isAspectMode(p.aspectMode) ||
    !isNonNegativeInteger(p.version) ||
    typeof p.description !== 'string'
  ) {
    fail('preprocessing must have aspectMode, version and description');
  }
  const pre = p as KnnManifest['preprocessing'];
  return {
    format: KNN_EXPORT_FORMAT,
    version: m.version as number,
    kind: m.kind as ProjectKind,
    labels,
    k: m.k as number,
    weighted: m.weighted as boolean,
    multiLabelThreshold: m.multiLabelThreshold as number,
    unknownSimilarity: m.unknownSimilarity as number | null,
    dim: m.dim as number,
    count: m.count as number,
    dtype: m.dtype as KnnExportDtype,
    examples: m.examples as string,
    rowLabels,
    backbone: {
      id: backbone.id,
      model: backbone.model,
      inputSize: backbone.inputSize,
      inputRange: [backbone.inputRange[0], backbone.inputRange[1]],
    },
    preprocessing: {
      aspectMode: pre.aspectMode,
      version: pre.version,
      description: pre.description,
    },
  };
}
