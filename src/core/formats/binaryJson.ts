/**
 * binaryJson: JSON documents that carry binary arrays out of line. `encodeBinaryJson` turns a
 * structured-clone-style value (plain objects, arrays, strings, numbers, booleans, null, typed
 * arrays, ArrayBuffers) into a JSON value plus a list of binary blobs; each typed array is replaced
 * by `{"$binary": path, "dtype": ..., "length": n}` (n elements, little-endian bytes in `path`).
 * Non-finite numbers outside typed arrays become `{"$number": "NaN" | "Infinity" | "-Infinity"}`
 * so nothing is lost to JSON. `decodeBinaryJson` reverses it and validates every reference: dtype
 * whitelist, byte length = length x element size, optionally finite floats only.
 */
import { isPlainObject } from '../objects';
import { ArchiveError } from './errors';
import { FORBIDDEN_KEYS, isJsonObject, own, type JsonObject, type JsonValue } from './json';

export type TypedArrayDtype =
  | 'float32'
  | 'float64'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'uint8'
  | 'uint8clamped'
  | 'uint16'
  | 'uint32';

/** Element types a `$binary` reference may declare; `arraybuffer` is a bare ArrayBuffer. */
export type BinaryDtype = TypedArrayDtype | 'arraybuffer';

export type SupportedTypedArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint8Array
  | Uint8ClampedArray
  | Uint16Array
  | Uint32Array;

export interface BinaryRef {
  $binary: string;
  dtype: BinaryDtype;
  /** Number of elements (bytes for `arraybuffer`). */
  length: number;
}

export interface BinaryBlob {
  path: string;
  bytes: Uint8Array;
}

export interface EncodedBinaryJson {
  json: JsonValue;
  blobs: BinaryBlob[];
}

export interface EncodeOptions {
  /** Prepended to each blob's file name (`<prefix><n>.bin`), e.g. "models/<id>/". */
  pathPrefix: string;
}

export interface DecodeOptions {
  /** Reject NaN / Infinity inside float32 / float64 arrays (weights, embeddings). */
  requireFinite?: boolean;
  /** Name of the document, for error messages. */
  documentPath?: string;
}

const TYPED_ARRAYS = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  uint8: Uint8Array,
  uint8clamped: Uint8ClampedArray,
  uint16: Uint16Array,
  uint32: Uint32Array,
} as const;

const TAG_TO_DTYPE: Readonly<Record<string, TypedArrayDtype>> = {
  '[object Float32Array]': 'float32',
  '[object Float64Array]': 'float64',
  '[object Int8Array]': 'int8',
  '[object Int16Array]': 'int16',
  '[object Int32Array]': 'int32',
  '[object Uint8Array]': 'uint8',
  '[object Uint8ClampedArray]': 'uint8clamped',
  '[object Uint16Array]': 'uint16',
  '[object Uint32Array]': 'uint32',
};

export const BINARY_DTYPES: readonly BinaryDtype[] = [
  ...(Object.keys(TYPED_ARRAYS) as TypedArrayDtype[]),
  'arraybuffer',
];

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function tagOf(value: unknown): string {
  return Object.prototype.toString.call(value);
}

/** The dtype of a supported typed array (realm-independent), or null. */
export function typedArrayDtype(value: unknown): TypedArrayDtype | null {
  if (!ArrayBuffer.isView(value)) return null;
  return TAG_TO_DTYPE[tagOf(value)] ?? null;
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

function specialNumber(n: number): JsonObject {
  return { $number: Number.isNaN(n) ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity' };
}

/**
 * Splits `value` into JSON + binary blobs. Throws a TypeError for anything that cannot round-trip
 * (functions, Maps, Dates, BigInts, cycles, reserved or forbidden keys), naming where it sits.
 */
export function encodeBinaryJson(value: unknown, options: EncodeOptions): EncodedBinaryJson {
  if (!LITTLE_ENDIAN) throw new TypeError('binaryJson: big-endian platforms are not supported.');
  const blobs: BinaryBlob[] = [];
  const ancestors = new Set<object>();

  const addBlob = (bytes: Uint8Array, dtype: BinaryDtype, length: number): JsonObject => {
    const path = `${options.pathPrefix}${blobs.length}.bin`;
    blobs.push({ path, bytes });
    return { $binary: path, dtype, length };
  };

  const walk = (v: unknown, where: string): JsonValue => {
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
    if (typeof v === 'number') return Number.isFinite(v) ? v : specialNumber(v);
    if (typeof v !== 'object') throw new TypeError(`Cannot archive a ${typeof v} at ${where}.`);
    if (tagOf(v) === '[object ArrayBuffer]') {
      const buffer = v as ArrayBuffer;
      return addBlob(new Uint8Array(buffer), 'arraybuffer', buffer.byteLength);
    }
    if (ArrayBuffer.isView(v)) {
      const dtype = typedArrayDtype(v);
      if (!dtype) throw new TypeError(`Cannot archive a ${tagOf(v)} at ${where}.`);
      return addBlob(bytesOf(v), dtype, (v as SupportedTypedArray).length);
    }
    if (ancestors.has(v)) throw new TypeError(`Cannot archive a cyclic structure at ${where}.`);
    ancestors.add(v);
    try {
      if (Array.isArray(v)) {
        return v.map((item: unknown, i) =>
          item === undefined ? null : walk(item, `${where}[${i}]`),
        );
      }
      if (!isPlainObject(v)) throw new TypeError(`Cannot archive a ${tagOf(v)} at ${where}.`);
      const out: JsonObject = {};
      for (const [key, item] of Object.entries(v)) {
        if (FORBIDDEN_KEYS.has(key) || key === '$binary' || key === '$number') {
          throw new TypeError(`Cannot archive the reserved key "${key}" at ${where}.`);
        }
        if (item === undefined) continue;
        out[key] = walk(item, `${where}.${key}`);
      }
      return out;
    } finally {
      ancestors.delete(v);
    }
  };

  return { json: walk(value, '$'), blobs };
}

function isBinaryRef(value: JsonObject): boolean {
  return Object.hasOwn(value, '$binary');
}

/** Every blob path referenced by `$binary` in `json`, in document order. */
export function collectBinaryPaths(json: JsonValue): string[] {
  const paths: string[] = [];
  const visit = (v: JsonValue): void => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (isJsonObject(v)) {
      const ref = own(v, '$binary');
      if (typeof ref === 'string') paths.push(ref);
      else Object.values(v).forEach(visit);
    }
  };
  visit(json);
  return paths;
}

function badTensor(doc: string, where: string, message: string): ArchiveError {
  return new ArchiveError('bad-tensor', `${doc}: ${message} (at ${where}).`, doc);
}

function decodeRef(
  ref: JsonObject,
  where: string,
  resolve: (path: string) => Uint8Array | undefined,
  options: DecodeOptions,
): SupportedTypedArray | ArrayBuffer {
  const doc = options.documentPath ?? 'document';
  const keys = Object.keys(ref).sort().join(',');
  if (keys !== '$binary,dtype,length') {
    throw badTensor(doc, where, 'a binary reference must have exactly $binary, dtype and length');
  }
  const path = own(ref, '$binary');
  const dtype = own(ref, 'dtype');
  const length = own(ref, 'length');
  if (typeof path !== 'string') throw badTensor(doc, where, '$binary must be a path');
  if (typeof dtype !== 'string' || !(BINARY_DTYPES as readonly string[]).includes(dtype)) {
    throw badTensor(
      doc,
      where,
      `dtype ${JSON.stringify(dtype)} is not one of ${BINARY_DTYPES.join(', ')}`,
    );
  }
  if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) {
    throw badTensor(doc, where, `length ${JSON.stringify(length)} is not a non-negative integer`);
  }
  const bytes = resolve(path);
  if (!bytes) {
    throw new ArchiveError(
      'missing-file',
      `${doc} refers to ${path}, which is not in the archive.`,
      path,
    );
  }
  const elementSize =
    dtype === 'arraybuffer' ? 1 : TYPED_ARRAYS[dtype as TypedArrayDtype].BYTES_PER_ELEMENT;
  if (bytes.byteLength !== length * elementSize) {
    throw badTensor(
      doc,
      where,
      `${path} holds ${bytes.byteLength} bytes but ${length} ${dtype} values need ${length * elementSize}`,
    );
  }
  // Always own an exact-size buffer: views onto a larger buffer would drag it into IndexedDB.
  const owned =
    bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength &&
    bytes.buffer instanceof ArrayBuffer
      ? bytes.buffer
      : bytes.slice().buffer;
  if (dtype === 'arraybuffer') return owned;
  const array = new TYPED_ARRAYS[dtype as TypedArrayDtype](owned);
  if (options.requireFinite && (dtype === 'float32' || dtype === 'float64')) {
    for (let i = 0; i < array.length; i++) {
      if (!Number.isFinite(array[i])) {
        throw new ArchiveError(
          'non-finite',
          `${doc}: ${path} contains ${String(array[i])} at element ${i}; weights must be finite numbers.`,
          path,
        );
      }
    }
  }
  return array;
}

/**
 * Rebuilds the value `encodeBinaryJson` produced. `resolve` returns the bytes of a blob path, or
 * undefined when the archive lacks it. Throws ArchiveError ('bad-tensor', 'non-finite',
 * 'missing-file', 'invalid-record') on any malformed reference.
 */
export function decodeBinaryJson(
  json: JsonValue,
  resolve: (path: string) => Uint8Array | undefined,
  options: DecodeOptions = {},
): unknown {
  const doc = options.documentPath ?? 'document';
  const walk = (v: JsonValue, where: string): unknown => {
    if (Array.isArray(v)) return v.map((item, i) => walk(item, `${where}[${i}]`));
    if (!isJsonObject(v)) return v;
    if (isBinaryRef(v)) return decodeRef(v, where, resolve, options);
    if (Object.hasOwn(v, '$number')) {
      const text = own(v, '$number');
      if (
        Object.keys(v).length !== 1 ||
        (text !== 'NaN' && text !== 'Infinity' && text !== '-Infinity')
      ) {
        throw new ArchiveError(
          'invalid-record',
          `${doc}: malformed special number at ${where}.`,
          options.documentPath,
        );
      }
      return Number(text);
    }
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(v)) {
      if (FORBIDDEN_KEYS.has(key)) {
        throw new ArchiveError('forbidden-key', `${doc}: forbidden key "${key}" at ${where}.`, doc);
      }
      out[key] = walk(item, `${where}.${key}`);
    }
    return out;
  };
  return walk(json, '$');
}
