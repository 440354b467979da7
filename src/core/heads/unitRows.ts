/**
 * L2 normalisation of embedding rows on the CPU, free of TF.js: the one definition of "unit row"
 * shared by the heads (KNN examples, dense inputs) and the KNN export format (rows written and read
 * back). A zero row stays zero.
 */

/** Floor of the norm a row is divided by, so a zero row stays zero instead of becoming NaN. */
export const UNIT_ROW_EPSILON = 1e-12;

/** Scales each row of a row-major [rows, dim] buffer to unit length, in place (zero rows stay 0). */
export function l2NormalizeRowsInPlace(data: Float32Array, dim: number): Float32Array {
  for (let start = 0; start + dim <= data.length; start += dim) {
    let sum = 0;
    for (let j = start; j < start + dim; j++) {
      const v = data[j] ?? 0;
      sum += v * v;
    }
    const scale = 1 / Math.max(Math.sqrt(sum), UNIT_ROW_EPSILON);
    for (let j = start; j < start + dim; j++) data[j] = (data[j] ?? 0) * scale;
  }
  return data;
}

/** Copies rows into one row-major buffer, L2-normalised. Throws on a width mismatch. */
export function packUnitRows(rows: readonly Float32Array[], dim: number): Float32Array {
  const out = new Float32Array(rows.length * dim);
  rows.forEach((row, i) => {
    if (row.length !== dim)
      throw new Error(`embedding ${i} has width ${row.length}, expected ${dim}`);
    out.set(row, i * dim);
  });
  return l2NormalizeRowsInPlace(out, dim);
}
