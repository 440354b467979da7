import { describe, expect, it } from 'vitest';
import {
  ArchiveError,
  collectBinaryPaths,
  decodeBinaryJson,
  encodeBinaryJson,
  type BinaryBlob,
  type JsonValue,
} from '../../src/core/formats';
import { parseJsonEntry } from '../../src/core/formats/json';

function roundTrip(value: unknown, requireFinite = false): unknown {
  const { json, blobs } = encodeBinaryJson(value, { pathPrefix: 'blobs/' });
  // Through real JSON text, as in an archive.
  const parsed = JSON.parse(JSON.stringify(json)) as JsonValue;
  const byPath = new Map(blobs.map((b) => [b.path, b.bytes.slice()]));
  return decodeBinaryJson(parsed, (p) => byPath.get(p), { requireFinite });
}

function decodeWith(json: JsonValue, blobs: BinaryBlob[], requireFinite = false): unknown {
  const byPath = new Map(blobs.map((b) => [b.path, b.bytes]));
  return decodeBinaryJson(json, (p) => byPath.get(p), { requireFinite, documentPath: 'doc.json' });
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof ArchiveError ? error.code : `not an ArchiveError: ${String(error)}`;
  }
  return undefined;
}

describe('binaryJson', () => {
  it('round-trips every supported array type, ArrayBuffers and special numbers', () => {
    const value = {
      name: 'head',
      nested: { deeper: [{ w: Float32Array.from([1.5, -2, 3e-8]) }] },
      f64: Float64Array.from([Math.PI, -0.5]),
      i8: Int8Array.from([-128, 127]),
      i16: Int16Array.from([-32768, 5]),
      i32: Int32Array.from([-2147483648, 2147483647]),
      u8: Uint8Array.from([0, 255]),
      u8c: Uint8ClampedArray.from([0, 200]),
      u16: Uint16Array.from([65535]),
      u32: Uint32Array.from([4294967295]),
      buffer: Uint8Array.from([1, 2, 3]).buffer,
      empty: new Float32Array(0),
      numbers: [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -1.25],
      flags: [true, false, null],
    };
    const back = roundTrip(value) as typeof value;
    expect(back).toEqual(value);
    expect(back.u8c).toBeInstanceOf(Uint8ClampedArray);
    expect(back.buffer).toBeInstanceOf(ArrayBuffer);
    expect(back.numbers[0]).toBeNaN();
  });

  it('replaces arrays by {$binary, dtype, length} and encodes only a view’s own window', () => {
    const big = Float32Array.from([0, 1, 2, 3, 4, 5]);
    const view = big.subarray(2, 5);
    const { json, blobs } = encodeBinaryJson(
      { a: view, b: [Uint8Array.from([7])] },
      { pathPrefix: 'm/x/' },
    );
    expect(json).toEqual({
      a: { $binary: 'm/x/0.bin', dtype: 'float32', length: 3 },
      b: [{ $binary: 'm/x/1.bin', dtype: 'uint8', length: 1 }],
    });
    expect(blobs.map((b) => b.bytes.byteLength)).toEqual([12, 1]);
    expect(collectBinaryPaths(json)).toEqual(['m/x/0.bin', 'm/x/1.bin']);
    const back = decodeWith(json, blobs) as { a: Float32Array };
    expect([...back.a]).toEqual([2, 3, 4]);
    // Decoded arrays own exactly their bytes.
    expect(back.a.buffer.byteLength).toBe(12);
  });

  it('drops undefined object fields, writes undefined array items as null', () => {
    expect(roundTrip({ a: undefined, b: [undefined, 1] })).toEqual({ b: [null, 1] });
  });

  it('refuses values that cannot round-trip', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const bad of [
      { when: new Date(0) },
      { map: new Map() },
      { fn: () => 1 },
      { big: 10n },
      { view: new DataView(new ArrayBuffer(2)) },
      { big64: new BigInt64Array(1) },
      cyclic,
      JSON.parse('{"__proto__": 1}') as unknown,
      { $binary: 'x' },
      { nested: { $number: 'NaN' } },
    ]) {
      expect(() => encodeBinaryJson(bad, { pathPrefix: '' })).toThrow(TypeError);
    }
    // Shared (non-cyclic) references are fine.
    const shared = { v: 1 };
    expect(roundTrip({ a: shared, b: shared })).toEqual({ a: { v: 1 }, b: { v: 1 } });
  });

  it('validates references: dtype whitelist, byte length, missing blob, finite floats', () => {
    const blobs = [
      { path: 'w.bin', bytes: new Uint8Array(new Float32Array([1, Number.NaN]).buffer) },
    ];
    const ref = (fields: Record<string, JsonValue>): JsonValue => ({
      $binary: 'w.bin',
      dtype: 'float32',
      length: 2,
      ...fields,
    });
    expect(codeOf(() => decodeWith(ref({ dtype: 'float16' }), blobs))).toBe('bad-tensor');
    expect(codeOf(() => decodeWith(ref({ dtype: 'object' }), blobs))).toBe('bad-tensor');
    expect(codeOf(() => decodeWith(ref({ length: 3 }), blobs))).toBe('bad-tensor');
    expect(codeOf(() => decodeWith(ref({ length: -1 }), blobs))).toBe('bad-tensor');
    expect(codeOf(() => decodeWith(ref({ length: 1.5 }), blobs))).toBe('bad-tensor');
    expect(codeOf(() => decodeWith(ref({ $binary: 'other.bin' }), blobs))).toBe('missing-file');
    expect(codeOf(() => decodeWith(ref({ shape: [2] }), blobs))).toBe('bad-tensor');
    expect(codeOf(() => decodeWith(ref({ dtype: 'int32' }), blobs))).toBeUndefined();
    expect(codeOf(() => decodeWith(ref({}), blobs))).toBeUndefined();
    expect(codeOf(() => decodeWith(ref({}), blobs, true))).toBe('non-finite');
    expect(codeOf(() => decodeWith({ $number: 'Infinite' }, blobs))).toBe('invalid-record');
    expect(
      codeOf(() => decodeWith(JSON.parse('{"a": {"__proto__": {}}}') as JsonValue, blobs)),
    ).toBe('forbidden-key');
  });
});

describe('parseJsonEntry', () => {
  const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
  it('parses JSON and rejects forbidden keys, bad UTF-8, size and depth', () => {
    expect(parseJsonEntry(bytes('{"a": [1, "x"]}'), 'a.json', 100)).toEqual({ a: [1, 'x'] });
    const code = (input: Uint8Array, max = 1000): string | undefined =>
      codeOf(() => parseJsonEntry(input, 'a.json', max));
    expect(code(bytes('{"x": {"__proto__": {"y": 1}}}'))).toBe('forbidden-key');
    expect(code(bytes('[{"constructor": 1}]'))).toBe('forbidden-key');
    expect(code(bytes('{"prototype": null}'))).toBe('forbidden-key');
    expect(code(bytes('{"a": 1}'), 3)).toBe('json-too-large');
    expect(code(Uint8Array.from([0x22, 0xc3, 0x28, 0x22]))).toBe('bad-json');
    expect(code(bytes('{"a": }'))).toBe('bad-json');
    expect(code(bytes(`${'{"a":'.repeat(70)}1${'}'.repeat(70)}`))).toBe('bad-json');
    expect(code(bytes(`${'['.repeat(64)}${']'.repeat(64)}`))).toBeUndefined();
  });
});
