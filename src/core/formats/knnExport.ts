/**
 * The "KNN model" export: every labelled example embedding in one binary file (`knn-examples.bin`)
 * plus a JSON manifest (`knn-manifest.json`), read by `src/runtime/loupe-runtime.js` and by
 * `readKnnExport` here. Plain TypeScript (no DOM, no tensors).
 *
 * Rows are L2-normalised before they are stored, so a reader only needs dot products for cosine
 * similarity. Readers L2-normalise each row again after decoding (a no-op for float32, and it
 * removes the small length error float16 / int8 rounding leaves).
 *
 * `knn-examples.bin` byte layout (count = manifest.count rows, dim = manifest.dim, little-endian,
 * no header, no padding; row r is example r and carries the labels `manifest.rowLabels[r]`):
 * - `float32`: count * dim IEEE-754 binary32 values, row-major. Length 4 * count * dim.
 * - `float16`: count * dim IEEE-754 binary16 values (round to nearest, ties to even), row-major.
 *   Length 2 * count * dim.
 * - `int8`: first a scale block of count binary32 values (scale[r], bytes 0 ... 4 * count), then
 *   count * dim signed bytes q (two's complement), row-major. Value = q * scale[r] with
 *   scale[r] = max |x| of row r / 127 and q = round(x / scale[r]) in [-127, 127] (a zero row has
 *   scale 0). Length 4 * count + count * dim.
 */
import { headlineScore, multiLabelMetrics, singleLabelMetrics, UNKNOWN } from '../eval/metrics';
import { KnnHead } from '../heads/knn';
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

// ---- IEEE-754 binary16 -------------------------------------------------------------------------

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The binary16 bit pattern nearest to `value` (ties to even; overflow -> +-Infinity). */
export function float32ToFloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0] ?? 0;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half: bits = round(full * 2^(e - 14)), full = the 24-bit significand 1.mant.
    if (e < -10) return sign;
    const full = mant | 0x800000;
    const shift = 14 - e;
    let half = full >>> shift;
    const rem = full & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++; // a carry rolls into the exponent
  return sign | half;
}

/** The value of a binary16 bit pattern. */
export function float16BitsToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

// ---- row encoding ------------------------------------------------------------------------------

/** Byte length of `knn-examples.bin` for `count` rows of width `dim`. */
export function knnExamplesByteLength(count: number, dim: number, dtype: KnnExportDtype): number {
  switch (dtype) {
    case 'float32':
      return 4 * count * dim;
    case 'float16':
      return 2 * count * dim;
    case 'int8':
      return 4 * count + count * dim;
  }
}

/** Scales each row of a row-major buffer to unit length in place (zero rows stay 0). */
function normaliseRows(data: Float32Array, dim: number): Float32Array {
  for (let start = 0; start + dim <= data.length; start += dim) {
    let sum = 0;
    for (let j = start; j < start + dim; j++) sum += (data[j] ?? 0) ** 2;
    const scale = 1 / Math.max(Math.sqrt(sum), 1e-12);
    for (let j = start; j < start + dim; j++) data[j] = (data[j] ?? 0) * scale;
  }
  return data;
}

/** Encodes `count` row-major rows as `knn-examples.bin` (see the layout above). */
export function encodeKnnRows(
  data: Float32Array,
  count: number,
  dim: number,
  dtype: KnnExportDtype,
): Uint8Array {
  const out = new Uint8Array(knnExamplesByteLength(count, dim, dtype));
  const view = new DataView(out.buffer);
  const n = count * dim;
  if (dtype === 'float32') {
    for (let i = 0; i < n; i++) view.setFloat32(4 * i, data[i] ?? 0, true);
  } else if (dtype === 'float16') {
    for (let i = 0; i < n; i++) view.setUint16(2 * i, float32ToFloat16Bits(data[i] ?? 0), true);
  } else {
    const base = 4 * count;
    for (let r = 0; r < count; r++) {
      let max = 0;
      for (let j = r * dim; j < (r + 1) * dim; j++) max = Math.max(max, Math.abs(data[j] ?? 0));
      const scale = Math.fround(max / 127);
      view.setFloat32(4 * r, scale, true);
      for (let j = r * dim; j < (r + 1) * dim; j++) {
        const q = scale > 0 ? Math.round((data[j] ?? 0) / scale) : 0;
        view.setInt8(base + j, Math.max(-127, Math.min(127, q)));
      }
    }
  }
  return out;
}

/** Decodes `knn-examples.bin` to row-major float32 rows, L2-normalised again. */
export function decodeKnnRows(
  bytes: Uint8Array,
  count: number,
  dim: number,
  dtype: KnnExportDtype,
): Float32Array {
  const expected = knnExamplesByteLength(count, dim, dtype);
  if (bytes.byteLength !== expected) {
    throw new KnnExportError(
      'bad-length',
      `${KNN_EXAMPLES_FILE} has ${bytes.byteLength} bytes; ${count} ${dtype} rows of ${dim} need ${expected}.`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = count * dim;
  const out = new Float32Array(n);
  if (dtype === 'float32') {
    for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
  } else if (dtype === 'float16') {
    for (let i = 0; i < n; i++) out[i] = float16BitsToFloat32(view.getUint16(2 * i, true));
  } else {
    const base = 4 * count;
    for (let r = 0; r < count; r++) {
      const scale = view.getFloat32(4 * r, true);
      if (!Number.isFinite(scale) || scale < 0) {
        throw new KnnExportError('non-finite', `Row ${r} of ${KNN_EXAMPLES_FILE} has a bad scale.`);
      }
      for (let j = r * dim; j < (r + 1) * dim; j++) out[j] = view.getInt8(base + j) * scale;
    }
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(out[i])) {
      throw new KnnExportError(
        'non-finite',
        `Row ${Math.floor(i / dim)} of ${KNN_EXAMPLES_FILE} holds NaN or Infinity.`,
      );
    }
  }
  return normaliseRows(out, dim);
}

// ---- build -------------------------------------------------------------------------------------

function invalid(message: string): KnnExportError {
  return new KnnExportError('invalid-input', `KNN export: ${message}`);
}

function checkSettings(s: {
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
    data: normaliseRows(data, dim),
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
  checkSettings(input);
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
  const fail = checkSettings({
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

/** Validates a KNN export (parsed manifest JSON + binary) and decodes its rows to float32. */
export function readKnnExport(manifestJson: unknown, bytes: Uint8Array): KnnExportContents {
  const manifest = parseKnnManifest(manifestJson);
  const { count, dim } = manifest;
  const data = decodeKnnRows(bytes, count, dim, manifest.dtype);
  const rows = Array.from({ length: count }, (_, r) => data.subarray(r * dim, (r + 1) * dim));
  return { manifest, data, rows };
}

// ---- quantisation cost -------------------------------------------------------------------------

export interface QuantisationCost {
  dtype: KnnExportDtype;
  /** `accuracy` (single-label) or `micro-f1` (multi-label): the app's headline score. */
  metric: 'accuracy' | 'micro-f1';
  /** Validation items scored (those with at least one exported label). */
  n: number;
  /** Score in [0, 1] with float32 rows. */
  float32: number;
  /** Score in [0, 1] with `dtype` rows. */
  quantised: number;
  /** (quantised - float32) in percentage points, e.g. -0.4. */
  deltaPoints: number;
  /** Validation items whose predicted labels differ between float32 and `dtype`. */
  changed: number;
  /** Size of `knn-examples.bin` for float32 and for `dtype`. */
  bytes: { float32: number; quantised: number };
}

/** Predicted label indices for each query, from the app's own KNN head over the decoded rows. */
async function predictRows(
  contents: KnnExportContents,
  queries: readonly Float32Array[],
): Promise<{ labels: number[]; top: number }[]> {
  const { manifest, rows } = contents;
  const ids = manifest.labels.map((l) => l.id);
  const index = new Map(ids.map((id, i) => [id, i] as const));
  const head = KnnHead.build(
    rows.map((embedding, r) => ({
      id: String(r),
      embedding,
      labelIds: (manifest.rowLabels[r] ?? []).map((l) => ids[l] ?? ''),
    })),
    {
      kind: manifest.kind,
      labels: ids,
      config: {
        k: manifest.k,
        weighted: manifest.weighted,
        unknownSimilarity: manifest.unknownSimilarity,
        multiLabelThreshold: manifest.multiLabelThreshold,
      },
    },
  );
  try {
    const predictions = queries.length > 0 ? await head.predict(queries) : [];
    return predictions.map((p) => ({
      labels: p.labels.map((id) => index.get(id) ?? -1),
      top: p.top === null ? UNKNOWN : (index.get(p.top) ?? UNKNOWN),
    }));
  } finally {
    head.dispose();
  }
}

/**
 * Scores `validation` against the float32 rows and against `input.dtype` rows of the same export,
 * with the app's KNN head (tensors on the current tfjs backend), so the UI can say e.g.
 * "int8: -0.4 points". Validation items whose
 * labels are all outside the exported labels are not scored (labels outside are dropped).
 */
export async function measureQuantisationCost(
  input: KnnExportInput,
  validation: readonly KnnExportExample[],
): Promise<QuantisationCost> {
  const exact = buildKnnExport({ ...input, dtype: 'float32' });
  const quant = input.dtype === 'float32' ? exact : buildKnnExport(input);
  const exactRows = readKnnExport(exact.manifest, exact.examples);
  const quantRows = quant === exact ? exactRows : readKnnExport(quant.manifest, quant.examples);
  const index = new Map(input.labels.map((l, i) => [l.id, i] as const));
  const scored = validation
    .map((v) => ({
      embedding: v.embedding,
      truth: [...new Set(v.labelIds)]
        .map((id) => index.get(id))
        .filter((l): l is number => l !== undefined),
    }))
    .filter((v) => v.truth.length > 0 && v.embedding.length === exact.manifest.dim);
  const queries = scored.map((v) => v.embedding);
  const a = await predictRows(exactRows, queries);
  const b = await predictRows(quantRows, queries);
  const numLabels = input.labels.length;
  const score = (predicted: { labels: number[]; top: number }[]): number =>
    input.kind === 'single-label'
      ? headlineScore(
          singleLabelMetrics(
            scored.map((v) => v.truth[0] ?? 0),
            predicted.map((p) => (p.labels.length > 0 ? p.top : UNKNOWN)),
            numLabels,
          ),
        )
      : headlineScore(
          multiLabelMetrics(
            scored.map((v) => v.truth),
            predicted.map((p) => p.labels),
            numLabels,
          ),
        );
  const float32 = scored.length > 0 ? score(a) : 0;
  const quantised = scored.length > 0 ? score(b) : 0;
  const changed = a.filter((p, i) => {
    const other = b[i]?.labels ?? [];
    return p.labels.length !== other.length || p.labels.some((l, j) => other[j] !== l);
  }).length;
  return {
    dtype: input.dtype,
    metric: input.kind === 'single-label' ? 'accuracy' : 'micro-f1',
    n: scored.length,
    float32,
    quantised,
    deltaPoints: (quantised - float32) * 100,
    changed,
    bytes: { float32: exact.examples.byteLength, quantised: quant.examples.byteLength },
  };
}
