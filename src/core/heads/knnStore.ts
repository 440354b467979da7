/**
 * The KNN head's example matrix: L2-normalised rows in one growing CPU Float32Array, mirrored to
 * the backend as row chunks of `chunkRows` rows (rebuilt lazily, only the chunks whose rows
 * changed), and the cosine top-k search over them. Knows rows only; ids and labels are the head's.
 *
 * Search: per chunk, sims = matMul(chunk [r, d], transpose(queries) [d, b]) (the M x q^T order,
 * with the queries transposed first rather than by matMul's flag: both are the faster choices on
 * wasm), then topk per query; the per-chunk top-k lists are merged on the CPU.
 * Queries go in slices of QUERY_ROWS, which bounds the [chunkRows, queries] similarity matrix.
 */
import * as tf from '@tensorflow/tfjs';
import { batchLength, unitRowsTensor } from './tensors';
import type { EmbeddingBatch } from './types';
import { l2NormalizeRowsInPlace } from './unitRows';

/**
 * Queries per matMul: bounds the [chunkRows, queries] similarity matrix (at most 16 MB). 1,024
 * rather than 256 made a 1,024-query search of 2,048 rows ~30 % faster on wasm.
 */
const QUERY_ROWS = 1024;

/** A stored row found by `search`. */
export interface RowHit {
  row: number;
  /** Cosine similarity to the query, in [-1, 1]. */
  similarity: number;
}

export class ChunkedRows {
  /** Row-major unit rows; capacity >= count rows. */
  private data = new Float32Array(0);
  private dimension = 0;
  private count = 0;
  /** Backend copy of rows [c * chunkRows, ...); null = stale, rebuilt on the next search. */
  private chunks: (tf.Tensor2D | null)[] = [];

  constructor(private chunkRows: number) {}

  /** Values per row; 0 until the first row is written. */
  get dim(): number {
    return this.dimension;
  }

  /** Number of rows. */
  get size(): number {
    return this.count;
  }

  /** Tensors held right now (one per materialised chunk). */
  get tensorCount(): number {
    return this.chunks.filter((c) => c !== null).length;
  }

  /** Changes the chunk size; every chunk is rebuilt on the next search. */
  setChunkRows(chunkRows: number): void {
    if (chunkRows !== this.chunkRows) this.dropChunks();
    this.chunkRows = chunkRows;
  }

  /** Fixes the row width (before the first write) and makes room for `rows` rows. */
  reserve(rows: number, dim: number): void {
    this.dimension = dim;
    const needed = rows * dim;
    if (needed <= this.data.length) return;
    const grown = new Float32Array(Math.max(needed, this.data.length * 2));
    grown.set(this.data.subarray(0, this.count * dim));
    this.data = grown;
  }

  /** Writes `embedding`, L2-normalised, into row `row` (`size` appends a row; room reserved). */
  write(row: number, embedding: Float32Array): void {
    const d = this.dimension;
    if (row === this.count) this.count++;
    const view = this.data.subarray(row * d, (row + 1) * d);
    view.set(embedding);
    l2NormalizeRowsInPlace(view, d);
    this.markStale(row);
  }

  /** Removes row `row`: the last row moves into its slot (unless it is the last). */
  removeRow(row: number): void {
    const last = this.count - 1;
    const d = this.dimension;
    if (row !== last) {
      this.data.copyWithin(row * d, last * d, (last + 1) * d);
      this.markStale(row);
    }
    this.markStale(last);
    this.count = last;
  }

  /** A copy of the rows, row-major. */
  rows(): Float32Array {
    return this.data.slice(0, this.count * this.dimension);
  }

  /** Replaces every row with `data` (`count` unit rows of width `dim`, copied). */
  load(data: Float32Array, count: number, dim: number): void {
    this.dropChunks();
    this.dimension = dim;
    this.data = data.slice();
    this.count = count;
  }

  /**
   * The `k` most similar rows to each query (unit-normalised here), most similar first, ties to the
   * lower row. Rows are those at the call: chunks are uploaded and every matMul dispatched before
   * the first await. Needs rows, queries of width `dim`, and 1 <= k <= size.
   */
  async search(queries: EmbeddingBatch, k: number): Promise<RowHit[][]> {
    const n = batchLength(queries);
    const chunkRows = this.chunkRows;
    const chunks = this.materialise();
    const d = this.dimension;

    // Dispatch every matMul/topk synchronously, then download.
    const pending: {
      q0: number;
      qn: number;
      base: number;
      kc: number;
      values: tf.Tensor;
      indices: tf.Tensor;
    }[] = [];
    const unit = unitRowsTensor(queries, d);
    try {
      for (let q0 = 0; q0 < n; q0 += QUERY_ROWS) {
        const qn = Math.min(QUERY_ROWS, n - q0);
        chunks.forEach((chunk, c) => {
          const kc = Math.min(k, chunk.shape[0]);
          const { values, indices } = tf.tidy(() => {
            const q = unit.slice([q0, 0], [qn, d]);
            // An explicit transpose, not matMul's transposeB flag: ~10x faster on wasm.
            const sims = tf.transpose(tf.matMul(chunk, tf.transpose(q)));
            return tf.topk(sims, kc, true);
          });
          pending.push({ q0, qn, base: c * chunkRows, kc, values, indices });
        });
      }
    } catch (error) {
      for (const p of pending) tf.dispose([p.values, p.indices]);
      throw error;
    } finally {
      unit.dispose();
    }

    const hits: RowHit[][] = Array.from({ length: n }, () => []);
    try {
      const downloaded = await Promise.all(
        pending.map((p) => Promise.all([p.values.data(), p.indices.data()])),
      );
      pending.forEach((p, i) => {
        const [values, indices] = downloaded[i] ?? [new Float32Array(0), new Int32Array(0)];
        for (let q = 0; q < p.qn; q++) {
          const list = hits[p.q0 + q] as RowHit[];
          for (let j = 0; j < p.kc; j++) {
            list.push({
              row: p.base + (indices[q * p.kc + j] ?? 0),
              similarity: values[q * p.kc + j] ?? -Infinity,
            });
          }
        }
      });
    } finally {
      for (const p of pending) tf.dispose([p.values, p.indices]);
    }
    return hits.map((list) =>
      list.sort((a, b) => b.similarity - a.similarity || a.row - b.row).slice(0, k),
    );
  }

  /** Releases every chunk and the rows. */
  dispose(): void {
    this.dropChunks();
    this.data = new Float32Array(0);
    this.count = 0;
  }

  private markStale(row: number): void {
    const c = Math.floor(row / this.chunkRows);
    const chunk = this.chunks[c];
    if (chunk) chunk.dispose();
    if (c < this.chunks.length) this.chunks[c] = null;
  }

  private dropChunks(): void {
    for (const chunk of this.chunks) chunk?.dispose();
    this.chunks = [];
  }

  /** Uploads stale chunks; returns one tensor per chunk covering rows [0, size). */
  private materialise(): tf.Tensor2D[] {
    const rowsPer = this.chunkRows;
    const d = this.dimension;
    const wanted = Math.ceil(this.count / rowsPer);
    for (let c = wanted; c < this.chunks.length; c++) this.chunks[c]?.dispose();
    this.chunks.length = wanted;
    const out: tf.Tensor2D[] = [];
    for (let c = 0; c < wanted; c++) {
      let chunk = this.chunks[c] ?? null;
      const start = c * rowsPer;
      const rows = Math.min(rowsPer, this.count - start);
      if (chunk && chunk.shape[0] !== rows) {
        chunk.dispose();
        chunk = null;
      }
      if (!chunk) {
        chunk = tf.tensor2d(this.data.slice(start * d, (start + rows) * d), [rows, d]);
        this.chunks[c] = chunk;
      }
      out.push(chunk);
    }
    return out;
  }
}
