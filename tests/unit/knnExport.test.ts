// The KNN export format: float16 conversion, byte layout, round trips per dtype with error bounds,
// validation errors of the reader, and the measured accuracy cost of quantisation.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildKnnExport,
  decodeKnnRows,
  float16BitsToFloat32,
  float32ToFloat16Bits,
  KNN_BACKBONE_MODEL,
  KNN_EXAMPLES_FILE,
  knnExamplesByteLength,
  KnnExportError,
  readKnnExport,
  type KnnExportDtype,
  type KnnExportInput,
  type KnnExportExample,
} from '../../src/core/formats/knnExport';
import { measureQuantisationCost } from '../../src/core/formats/knnQuantisation';
import { KnnHead } from '../../src/core/heads/knn';
import { mulberry32 } from '../../src/core/random';
import { clusters } from '../fixtures/embeddings';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const LABELS = [
  { id: 'l-a', name: 'apple' },
  { id: 'l-b', name: 'banana' },
  { id: 'l-c', name: 'cherry' },
];

function baseInput(
  examples: readonly KnnExportExample[],
  patch: Partial<KnnExportInput> = {},
): KnnExportInput {
  return {
    examples,
    labels: LABELS,
    kind: 'single-label',
    k: 5,
    weighted: false,
    multiLabelThreshold: 0.5,
    unknownSimilarity: null,
    backbone: { id: 'mobilenet-v1-1.0-224', inputSize: 224, inputRange: [-1, 1] },
    preprocessing: { aspectMode: 'centre-crop', version: 1, description: 'Loupe preprocessing v1' },
    dtype: 'float32',
    ...patch,
  };
}

function unit(v: Float32Array): Float64Array {
  const norm = Math.sqrt(v.reduce((a, x) => a + x * x, 0));
  return Float64Array.from(v, (x) => x / norm);
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] ?? 0) * (b[i] ?? 0);
  return s;
}

/** A JSON round trip, as the manifest travels through knn-manifest.json. */
const viaJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

describe('float16 conversion', () => {
  it('encodes known values (round to nearest even, subnormals, overflow)', () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [0.5, 0x3800],
      [65504, 0x7bff],
      [65520, 0x7c00], // rounds up past the largest half
      [1e6, 0x7c00],
      [-Infinity, 0xfc00],
      [1 / 3, 0x3555],
      [0.1, 0x2e66],
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -25, 0x0000], // halfway to 0: ties to even
      [3 * 2 ** -25, 0x0002], // halfway between 1 and 2 subnormal steps: to even
      [2 ** -14, 0x0400], // smallest normal
      [1 + 2 ** -11, 0x3c00], // halfway between 1 and 1 + 2^-10: to even
      [1 + 3 * 2 ** -11, 0x3c02],
    ];
    for (const [value, bits] of cases)
      expect(float32ToFloat16Bits(value), String(value)).toBe(bits);
    expect(float32ToFloat16Bits(NaN) & 0x7c00).toBe(0x7c00);
    expect(float32ToFloat16Bits(NaN) & 0x3ff).not.toBe(0);
  });

  it('decodes every finite half and encodes it back to the same bits', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      if ((bits & 0x7c00) === 0x7c00) continue; // Inf / NaN
      const value = float16BitsToFloat32(bits);
      expect(Number.isFinite(value)).toBe(true);
      if (float32ToFloat16Bits(value) !== bits) {
        throw new Error(`bits ${bits.toString(16)} -> ${value} -> another pattern`);
      }
    }
    expect(float16BitsToFloat32(0x7c00)).toBe(Infinity);
    expect(float16BitsToFloat32(0x7e00)).toBeNaN();
  });

  it('rounds to the nearer half for random values', () => {
    const rng = mulberry32(5);
    for (let i = 0; i < 2000; i++) {
      const v = Math.fround((rng() * 2 - 1) * 4);
      const h = float16BitsToFloat32(float32ToFloat16Bits(v));
      const spacing = 2 ** (Math.floor(Math.log2(Math.abs(v))) - 10);
      expect(Math.abs(h - v)).toBeLessThanOrEqual(spacing / 2 + 1e-12);
    }
  });
});

describe('byte layout', () => {
  // One row [3, 4] -> unit [0.6, 0.8]; one row [0, -2] -> [0, -1].
  const examples = [
    { embedding: Float32Array.from([3, 4]), labelIds: ['l-b'] },
    { embedding: Float32Array.from([0, -2]), labelIds: ['l-a', 'l-c'] },
  ];

  it('float32: count * dim little-endian floats, row-major', () => {
    const { manifest, examples: bytes } = buildKnnExport(baseInput(examples));
    expect(bytes.byteLength).toBe(16);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect([0, 4, 8, 12].map((o) => view.getFloat32(o, true))).toEqual([
      Math.fround(0.6),
      Math.fround(0.8),
      0,
      -1,
    ]);
    expect(manifest.rowLabels).toEqual([[1], [0, 2]]);
  });

  it('float16: count * dim little-endian halves', () => {
    const { examples: bytes } = buildKnnExport(baseInput(examples, { dtype: 'float16' }));
    expect(Array.from(bytes)).toEqual([0xcd, 0x38, 0x66, 0x3a, 0x00, 0x00, 0x00, 0xbc]);
  });

  it('int8: count float32 scales, then count * dim signed bytes', () => {
    const { examples: bytes } = buildKnnExport(baseInput(examples, { dtype: 'int8' }));
    expect(bytes.byteLength).toBe(4 * 2 + 2 * 2);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect(view.getFloat32(0, true)).toBe(Math.fround(Math.fround(0.8) / 127));
    expect(view.getFloat32(4, true)).toBe(Math.fround(1 / 127));
    expect([8, 9, 10, 11].map((o) => view.getInt8(o))).toEqual([95, 127, 0, -127]);
  });

  it('knnExamplesByteLength matches each layout', () => {
    expect(knnExamplesByteLength(10, 1024, 'float32')).toBe(40960);
    expect(knnExamplesByteLength(10, 1024, 'float16')).toBe(20480);
    expect(knnExamplesByteLength(10, 1024, 'int8')).toBe(40 + 10240);
  });
});

describe('buildKnnExport -> readKnnExport round trip', () => {
  const dim = 64;
  const data = clusters(1, [['l-a'], ['l-b'], ['l-c']], 20, dim, 0.6);

  it('writes the manifest the brief describes', () => {
    const { manifest, examples, skipped } = buildKnnExport(
      baseInput(
        [
          ...data,
          { embedding: new Float32Array(dim), labelIds: [] },
          { embedding: new Float32Array(dim), labelIds: ['l-unknown'] },
        ],
        { kind: 'multi-label', k: 7, weighted: true, unknownSimilarity: 0.2 },
      ),
    );
    expect(skipped).toBe(2);
    expect(manifest).toMatchObject({
      format: 'loupe-knn',
      version: 1,
      kind: 'multi-label',
      labels: LABELS,
      k: 7,
      weighted: true,
      multiLabelThreshold: 0.5,
      unknownSimilarity: 0.2,
      dim,
      count: 60,
      dtype: 'float32',
      examples: KNN_EXAMPLES_FILE,
      backbone: {
        id: 'mobilenet-v1-1.0-224',
        model: KNN_BACKBONE_MODEL,
        inputSize: 224,
        inputRange: [-1, 1],
      },
      preprocessing: { aspectMode: 'centre-crop', version: 1 },
    });
    expect(manifest.rowLabels).toHaveLength(60);
    expect(examples.byteLength).toBe(60 * dim * 4);
    expect(viaJson(manifest)).toEqual(manifest);
  });

  const bounds: Record<KnnExportDtype, { element: number; cosine: number; similarity: number }> = {
    float32: { element: 1e-7, cosine: 1 - 1e-6, similarity: 1e-6 },
    // Half spacing is 2^-10 below 1: rounding error <= 2^-11 per element before renormalising.
    float16: { element: 1e-3, cosine: 1 - 1e-5, similarity: 2e-3 },
    // Per-row scale max|x| / 127: error <= scale / 2 per element before renormalising.
    int8: { element: 1.5e-2, cosine: 1 - 1e-3, similarity: 1.5e-2 },
  };

  for (const dtype of ['float32', 'float16', 'int8'] as const) {
    it(`${dtype}: rows within the error bound, cosine agreement with float32`, () => {
      const built = buildKnnExport(baseInput(data, { dtype }));
      const read = readKnnExport(viaJson(built.manifest), built.examples);
      expect(read.manifest).toEqual(built.manifest);
      expect(read.rows).toHaveLength(data.length);
      const queries = clusters(1, [['l-a'], ['l-b'], ['l-c']], 4, dim, 0.6, 1);
      let worstElement = 0;
      let worstCosine = 1;
      let worstSimilarity = 0;
      read.rows.forEach((row, r) => {
        const exact = unit((data[r] as KnnExportExample).embedding);
        expect(dot(row, row)).toBeCloseTo(1, 5);
        for (let j = 0; j < dim; j++) {
          worstElement = Math.max(worstElement, Math.abs((row[j] ?? 0) - (exact[j] ?? 0)));
        }
        worstCosine = Math.min(worstCosine, dot(row, exact));
        for (const q of queries) {
          const uq = unit(q.embedding);
          worstSimilarity = Math.max(worstSimilarity, Math.abs(dot(row, uq) - dot(exact, uq)));
        }
      });
      expect(worstElement).toBeLessThan(bounds[dtype].element);
      expect(worstCosine).toBeGreaterThan(bounds[dtype].cosine);
      expect(worstSimilarity).toBeLessThan(bounds[dtype].similarity);
      if (dtype !== 'float32') {
        expect(built.examples.byteLength).toBeLessThan(data.length * dim * 4);
      }
    });
  }

  it('reads bytes that sit at an odd offset inside a bigger buffer', () => {
    const built = buildKnnExport(baseInput(data, { dtype: 'float32' }));
    const padded = new Uint8Array(built.examples.byteLength + 3);
    padded.set(built.examples, 3);
    const read = readKnnExport(built.manifest, padded.subarray(3));
    expect(read.data).toEqual(readKnnExport(built.manifest, built.examples).data);
  });
});

describe('readKnnExport validation', () => {
  const data = clusters(2, [['l-a'], ['l-b']], 3, 4, 0.5);
  const built = buildKnnExport(baseInput(data, { dtype: 'float32' }));
  const manifest = viaJson(built.manifest) as Record<string, unknown>;

  function code(json: unknown, bytes: Uint8Array = built.examples): string {
    try {
      readKnnExport(json, bytes);
    } catch (error) {
      expect(error).toBeInstanceOf(KnnExportError);
      return (error as KnnExportError).code;
    }
    return 'accepted';
  }

  it('accepts the built export', () => {
    expect(code(manifest)).toBe('accepted');
  });

  it('rejects another format, a newer or missing version', () => {
    expect(code(null)).toBe('wrong-format');
    expect(code([])).toBe('wrong-format');
    expect(code({ ...manifest, format: 'loupe-project' })).toBe('wrong-format');
    expect(code({ ...manifest, version: 2 })).toBe('unsupported-version');
    expect(code({ ...manifest, version: '1' })).toBe('invalid-manifest');
  });

  it('rejects dtypes, kinds and settings outside the whitelist', () => {
    expect(code({ ...manifest, dtype: 'float64' })).toBe('invalid-manifest');
    expect(code({ ...manifest, dtype: 'uint8' })).toBe('invalid-manifest');
    expect(code({ ...manifest, kind: 'regression' })).toBe('invalid-manifest');
    expect(code({ ...manifest, k: 0 })).toBe('invalid-manifest');
    expect(code({ ...manifest, k: 2.5 })).toBe('invalid-manifest');
    expect(code({ ...manifest, weighted: 'yes' })).toBe('invalid-manifest');
    expect(code({ ...manifest, multiLabelThreshold: null })).toBe('invalid-manifest');
    expect(code({ ...manifest, unknownSimilarity: 'low' })).toBe('invalid-manifest');
    expect(code({ ...manifest, dim: 0 })).toBe('invalid-manifest');
    expect(code({ ...manifest, labels: [{ id: 1, name: 'x' }] })).toBe('invalid-manifest');
    expect(code({ ...manifest, backbone: { id: 'x', model: 'm', inputSize: 0 } })).toBe(
      'invalid-manifest',
    );
    expect(
      code({ ...manifest, preprocessing: { aspectMode: 'zoom', version: 1, description: '' } }),
    ).toBe('invalid-manifest');
  });

  it('rejects rowLabels that do not match the rows or the labels', () => {
    const rows = built.manifest.rowLabels;
    expect(code({ ...manifest, rowLabels: rows.slice(1) })).toBe('invalid-manifest');
    expect(code({ ...manifest, rowLabels: [[], ...rows.slice(1)] })).toBe('invalid-manifest');
    expect(code({ ...manifest, rowLabels: [[3], ...rows.slice(1)] })).toBe('bad-label-index');
    expect(code({ ...manifest, rowLabels: [[-1], ...rows.slice(1)] })).toBe('bad-label-index');
    expect(code({ ...manifest, rowLabels: [[0.5], ...rows.slice(1)] })).toBe('bad-label-index');
  });

  it('rejects a wrong byte length for each dtype', () => {
    expect(code(manifest, built.examples.subarray(1))).toBe('bad-length');
    expect(code(manifest, new Uint8Array(built.examples.byteLength + 4))).toBe('bad-length');
    expect(code({ ...manifest, count: 5, rowLabels: built.manifest.rowLabels.slice(1) })).toBe(
      'bad-length',
    );
    for (const dtype of ['float16', 'int8'] as const) {
      const b = buildKnnExport(baseInput(data, { dtype }));
      expect(code(b.manifest, b.examples.subarray(0, b.examples.byteLength - 1))).toBe(
        'bad-length',
      );
    }
  });

  it('rejects NaN and Infinity in every dtype', () => {
    const f32 = built.examples.slice();
    new DataView(f32.buffer).setFloat32(8, NaN, true);
    expect(code(manifest, f32)).toBe('non-finite');
    new DataView(f32.buffer).setFloat32(8, Infinity, true);
    expect(code(manifest, f32)).toBe('non-finite');

    const half = buildKnnExport(baseInput(data, { dtype: 'float16' }));
    const h = half.examples.slice();
    new DataView(h.buffer).setUint16(2, 0x7c00, true);
    expect(code(half.manifest, h)).toBe('non-finite');

    const int8 = buildKnnExport(baseInput(data, { dtype: 'int8' }));
    const q = int8.examples.slice();
    new DataView(q.buffer).setFloat32(4, NaN, true);
    expect(code(int8.manifest, q)).toBe('non-finite');
  });

  it('builds nothing from bad input', () => {
    const fail = (input: KnnExportInput): string => {
      try {
        buildKnnExport(input);
      } catch (error) {
        return (error as KnnExportError).code;
      }
      return 'built';
    };
    expect(fail(baseInput([]))).toBe('invalid-input');
    expect(fail(baseInput([{ embedding: new Float32Array(4), labelIds: [] }]))).toBe(
      'invalid-input',
    );
    expect(
      fail(
        baseInput([
          { embedding: new Float32Array(4).fill(1), labelIds: ['l-a'] },
          { embedding: new Float32Array(5).fill(1), labelIds: ['l-a'] },
        ]),
      ),
    ).toBe('invalid-input');
    expect(fail(baseInput([{ embedding: Float32Array.from([1, NaN]), labelIds: ['l-a'] }]))).toBe(
      'invalid-input',
    );
    expect(fail(baseInput(data, { labels: [LABELS[0], LABELS[0]] as typeof LABELS }))).toBe(
      'invalid-input',
    );
    expect(fail(baseInput(data, { k: 0 }))).toBe('invalid-manifest');
    expect(fail(baseInput(data, { dtype: 'bf16' as KnnExportDtype }))).toBe('invalid-manifest');
  });

  it('decodeKnnRows keeps zero rows at zero', () => {
    for (const dtype of ['float32', 'float16', 'int8'] as const) {
      const rows = decodeKnnRows(new Uint8Array(knnExamplesByteLength(2, 3, dtype)), 2, 3, dtype);
      expect(Array.from(rows)).toEqual([0, 0, 0, 0, 0, 0]);
    }
  });
});

describe('measureQuantisationCost', () => {
  const dim = 32;
  const sets = [['l-a'], ['l-b'], ['l-c']];
  // Overlapping clusters, so some validation items are wrong and scores are not trivially 1.
  const train = clusters(3, sets, 25, dim, 3);
  const validation = clusters(3, sets, 40, dim, 3, 1);

  async function appScore(input: KnnExportInput): Promise<number> {
    const head = KnnHead.build(train, {
      kind: input.kind,
      labels: LABELS.map((l) => l.id),
      config: {
        k: input.k,
        weighted: input.weighted,
        unknownSimilarity: input.unknownSimilarity,
        multiLabelThreshold: input.multiLabelThreshold,
      },
    });
    try {
      const predictions = await head.predict(validation.map((v) => v.embedding));
      const correct = predictions.filter((p, i) => p.top === validation[i]?.labelIds[0]).length;
      return correct / validation.length;
    } finally {
      head.dispose();
    }
  }

  it('float32 scores exactly like the app KNN head; float32 vs float32 costs nothing', async () => {
    const input = baseInput(train, { k: 7, weighted: true });
    const cost = await measureQuantisationCost(input, validation);
    expect(cost.metric).toBe('accuracy');
    expect(cost.n).toBe(validation.length);
    expect(cost.float32).toBeGreaterThan(0.4);
    expect(cost.float32).toBeLessThan(1);
    expect(cost.float32).toBeCloseTo(await appScore(input), 10);
    expect(cost).toMatchObject({ dtype: 'float32', deltaPoints: 0, changed: 0 });
    expect(cost.quantised).toBe(cost.float32);
  });

  it('reports the cost of float16 and int8 in points and the bytes saved', async () => {
    for (const dtype of ['float16', 'int8'] as const) {
      const cost = await measureQuantisationCost(baseInput(train, { dtype }), validation);
      expect(cost.dtype).toBe(dtype);
      expect(cost.deltaPoints).toBeCloseTo((cost.quantised - cost.float32) * 100, 10);
      expect(Math.abs(cost.deltaPoints)).toBeLessThanOrEqual(5);
      expect(cost.changed).toBeLessThanOrEqual(validation.length * 0.05);
      expect(cost.bytes.float32).toBe(train.length * dim * 4);
      expect(cost.bytes.quantised).toBe(knnExamplesByteLength(train.length, dim, dtype));
    }
  });

  it('counts a changed prediction as a lost point', async () => {
    // int8 steps are 1/127 ~ 0.00787 here: row a's 0.0039 rounds to 0 and row b's 0.0085 to
    // 0.00787, so the query (angle 0.0045) is nearer a in float32 but nearer b once quantised.
    const rowA = Float32Array.from([1, 0.0039]);
    const rowB = Float32Array.from([1, 0.0085]);
    const query = Float32Array.from([1, 0.0045]);
    const input = baseInput(
      [
        { embedding: rowA, labelIds: ['l-a'] },
        { embedding: rowB, labelIds: ['l-b'] },
      ],
      { k: 1, dtype: 'int8' },
    );
    const cost = await measureQuantisationCost(input, [{ embedding: query, labelIds: ['l-a'] }]);
    expect(cost.float32).toBe(1);
    expect(cost.quantised).toBe(0);
    expect(cost.deltaPoints).toBe(-100);
    expect(cost.changed).toBe(1);
  });

  it('multi-label reports micro F1 and skips validation items without exported labels', async () => {
    const multiSets = [['l-a'], ['l-a', 'l-b'], ['l-c']];
    const cost = await measureQuantisationCost(
      baseInput(clusters(4, multiSets, 20, dim, 0.8), { kind: 'multi-label', dtype: 'int8' }),
      [
        ...clusters(4, multiSets, 10, dim, 0.8, 1),
        { embedding: new Float32Array(dim).fill(1), labelIds: ['l-missing'] },
      ],
    );
    expect(cost.metric).toBe('micro-f1');
    expect(cost.n).toBe(30);
    expect(cost.float32).toBeGreaterThan(0.8);
  });
});
