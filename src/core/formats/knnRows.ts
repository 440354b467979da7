/**
 * The rows of the "KNN model" export (`knn-examples.bin`): IEEE-754 binary16 conversion and the
 * encoding / decoding of L2-normalised example rows as float32, float16 or int8. Plain TypeScript.
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
import { l2NormalizeRowsInPlace } from '../heads/unitRows';
import { KNN_EXAMPLES_FILE, KnnExportError, type KnnExportDtype } from './knnManifest';

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
  return l2NormalizeRowsInPlace(out, dim);
}
