/**
 * KNN head: cosine k-nearest neighbours over every labelled embedding, ready the moment a sample is
 * labelled, relabelled or deleted (add / remove / updateLabels are O(d) on the CPU; the next predict
 * re-uploads only the chunk that changed). Owns the examples (ids, labels), the vote and the head
 * contract (predict, serialize); the rows and their search are knnStore.ts, choosing k chooseK.ts.
 *
 * Design choice: our own chunked matMul top-k, not @tensorflow-models/knn-classifier.
 * - knn-classifier concatenates every class matrix into one [n, d] tensor: at 10k x 1280 that fails on
 *   WebGL ("Failed to compile fragment shader", texture limits), and it can neither remove one sample,
 *   weight votes, vote multi-label, predict a batch, nor report similarities for an unknown threshold.
 * - Here examples live in one CPU Float32Array (L2-normalised rows) mirrored to the backend as row
 *   chunks of <= 4096 rows (default 2048), so each texture stays within an 8192 limit on every backend.
 *   10k examples cost a handful of small matMuls per query batch.
 * Votes: each of the k nearest votes 1 (or its similarity, clipped at 0, when `weighted`).
 * Single-label: probability = vote share of a class; ties go to the class of the nearer neighbour.
 * Multi-label: probability of a label = (weighted) share of neighbours carrying it; predicted labels
 * are those with share >= `multiLabelThreshold`. Optional unknown: nearest similarity below
 * `unknownSimilarity` -> top null, no labels.
 * Samples with no labels are not examples (adding one with [] removes it). Single-label examples vote
 * with their first label.
 */
import { ChunkedRows } from './knnStore';
import { batchDim, batchLength } from './tensors';
import { SERIALIZED_HEAD_FORMAT, SERIALIZED_HEAD_VERSION } from './types';
import type { ProjectKind } from '../kinds';
import type { EmbeddingBatch, Head, Neighbour, Prediction, SerializedHeadBase } from './types';

export interface KnnConfig {
  /** Neighbours that vote (clamped to the number of examples). */
  k: number;
  /** Weight each vote by its cosine similarity (clipped at 0) instead of 1. */
  weighted: boolean;
  /** Below this cosine similarity of the nearest example, predict unknown; null = never. */
  unknownSimilarity: number | null;
  /** Multi-label: a label is predicted when its vote share is >= this. */
  multiLabelThreshold: number;
  /** Rows per backend chunk, 1 ... MAX_CHUNK_ROWS. */
  chunkRows: number;
}

export const KNN_DEFAULTS: Readonly<KnnConfig> = {
  k: 5,
  weighted: false,
  unknownSimilarity: null,
  multiLabelThreshold: 0.5,
  chunkRows: 2048,
};

/** Keeps a [rows, 1280] chunk inside an 8192 texture limit on WebGL. */
export const MAX_CHUNK_ROWS = 4096;

export interface KnnExample {
  /** Sample id (unique within the head). */
  id: string;
  embedding: Float32Array;
  labelIds: readonly string[];
}

export interface KnnOptions {
  kind: ProjectKind;
  /** Label ids in display order; labels met later are appended. */
  labels?: readonly string[];
  config?: Partial<KnnConfig>;
}

/** A neighbour with label indices (into the head's `labels`). */
export interface IndexedNeighbour {
  id: string;
  similarity: number;
  labels: readonly number[];
}

export interface VoteResult {
  probabilities: number[];
  /** Predicted label indices (see module comment). */
  labels: number[];
  /** Index of the most probable predicted label, -1 for unknown. */
  top: number;
  topProbability: number;
}

export type SerializedKnnHead = SerializedHeadBase<
  'knn',
  KnnConfig,
  { ids: string[]; rowLabels: number[][] }
>;

export function checkKnnConfig(config: KnnConfig): KnnConfig {
  if (!Number.isInteger(config.k) || config.k < 1)
    throw new Error(`KNN: k must be an integer >= 1`);
  if (
    !Number.isInteger(config.chunkRows) ||
    config.chunkRows < 1 ||
    config.chunkRows > MAX_CHUNK_ROWS
  ) {
    throw new Error(`KNN: chunkRows must be an integer in [1, ${MAX_CHUNK_ROWS}]`);
  }
  return config;
}

/** Votes of neighbours sorted nearest first (already cut to k). Pure; exported for tests. */
export function knnVote(
  neighbours: readonly { similarity: number; labels: readonly number[] }[],
  numLabels: number,
  kind: ProjectKind,
  config: Pick<KnnConfig, 'weighted' | 'unknownSimilarity' | 'multiLabelThreshold'>,
): VoteResult {
  const probabilities = new Array<number>(numLabels).fill(0);
  if (neighbours.length === 0) return { probabilities, labels: [], top: -1, topProbability: 0 };
  let weights = neighbours.map((n) => (config.weighted ? Math.max(n.similarity, 0) : 1));
  let total = weights.reduce((a, b) => a + b, 0);
  if (!(total > 0)) {
    weights = neighbours.map(() => 1);
    total = neighbours.length;
  }
  const raw = new Array<number>(numLabels).fill(0);
  const firstRank = new Array<number>(numLabels).fill(Infinity);
  neighbours.forEach((n, rank) => {
    const votes = kind === 'single-label' ? n.labels.slice(0, 1) : [...new Set(n.labels)];
    for (const l of votes) {
      if (l < 0 || l >= numLabels) continue;
      raw[l] = (raw[l] ?? 0) + (weights[rank] ?? 0);
      firstRank[l] = Math.min(firstRank[l] ?? Infinity, rank);
    }
  });
  let top = -1;
  for (let l = 0; l < numLabels; l++) {
    const v = raw[l] ?? 0;
    probabilities[l] = v / total;
    if (v <= 0) continue;
    const best = top < 0 ? -Infinity : (raw[top] ?? 0);
    const tieTolerance = 1e-9 * total;
    if (
      v > best + tieTolerance ||
      (Math.abs(v - best) <= tieTolerance && (firstRank[l] ?? 0) < (firstRank[top] ?? 0))
    ) {
      top = l;
    }
  }
  const topProbability = top >= 0 ? (probabilities[top] ?? 0) : 0;
  let labels: number[];
  if (kind === 'single-label') {
    labels = top >= 0 ? [top] : [];
  } else {
    labels = probabilities
      .map((p, l) => ({ p, l }))
      .filter(({ p }) => p > 0 && p >= config.multiLabelThreshold)
      .sort((a, b) => b.p - a.p || a.l - b.l)
      .map(({ l }) => l);
    if (labels.length === 0) top = -1;
  }
  const nearest = neighbours[0]?.similarity ?? -Infinity;
  if (config.unknownSimilarity !== null && nearest < config.unknownSimilarity) {
    return { probabilities, labels: [], top: -1, topProbability };
  }
  return { probabilities, labels, top, topProbability };
}

export class KnnHead implements Head {
  readonly type = 'knn' as const;
  readonly kind: ProjectKind;
  private cfg: KnnConfig;
  private labelList: string[] = [];
  private labelIndex = new Map<string, number>();
  /** Row r holds the example `rowIds[r]`, voting with `rowLabels[r]`. */
  private readonly store: ChunkedRows;
  private rowIds: string[] = [];
  private rowLabels: number[][] = [];
  private rowOf = new Map<string, number>();
  private disposed = false;

  constructor(options: KnnOptions) {
    this.kind = options.kind;
    this.cfg = checkKnnConfig({ ...KNN_DEFAULTS, ...options.config });
    this.store = new ChunkedRows(this.cfg.chunkRows);
    for (const label of options.labels ?? []) this.indexOfLabel(label);
  }

  /** Builds the head from many examples at once (one buffer, one upload per chunk). */
  static build(examples: readonly KnnExample[], options: KnnOptions): KnnHead {
    const head = new KnnHead(options);
    head.addMany(examples);
    return head;
  }

  get labels(): readonly string[] {
    return this.labelList;
  }

  get dim(): number {
    return this.store.dim;
  }

  /** Number of stored examples. */
  get size(): number {
    return this.store.size;
  }

  get config(): Readonly<KnnConfig> {
    return this.cfg;
  }

  /** Tensors this head holds right now (one per materialised chunk). */
  get tensorCount(): number {
    return this.store.tensorCount;
  }

  setConfig(patch: Partial<KnnConfig>): void {
    const next = checkKnnConfig({ ...this.cfg, ...patch });
    this.store.setChunkRows(next.chunkRows);
    this.cfg = next;
  }

  has(id: string): boolean {
    return this.rowOf.has(id);
  }

  sampleIds(): string[] {
    return this.rowIds.slice(0, this.size);
  }

  /** Adds or replaces one example. An empty label list removes the sample instead. */
  add(example: KnnExample): void {
    this.addMany([example]);
  }

  /** Adds or replaces many examples (one capacity growth). */
  addMany(examples: readonly KnnExample[]): void {
    this.assertAlive();
    const labelled = examples.filter((e) => e.labelIds.length > 0);
    const d = this.store.dim || (labelled[0]?.embedding.length ?? 0);
    for (const e of labelled) {
      if (e.embedding.length !== d || d === 0) {
        throw new Error(`KNN: embedding of ${e.id} has width ${e.embedding.length}, expected ${d}`);
      }
    }
    for (const e of examples) if (e.labelIds.length === 0) this.remove(e.id);
    if (labelled.length === 0) return;
    this.store.reserve(this.size + labelled.length, d);
    for (const e of labelled) {
      let row = this.rowOf.get(e.id);
      if (row === undefined) {
        row = this.size;
        this.rowOf.set(e.id, row);
        this.rowIds[row] = e.id;
      }
      this.rowLabels[row] = this.labelIndices(e.labelIds);
      this.store.write(row, e.embedding);
    }
  }

  /** Removes one sample; false when it was not there. The last row moves into its slot. */
  remove(id: string): boolean {
    this.assertAlive();
    const row = this.rowOf.get(id);
    if (row === undefined) return false;
    const last = this.size - 1;
    if (row !== last) {
      const movedId = this.rowIds[last] as string;
      this.rowIds[row] = movedId;
      this.rowLabels[row] = this.rowLabels[last] ?? [];
      this.rowOf.set(movedId, row);
    }
    this.store.removeRow(row);
    this.rowOf.delete(id);
    this.rowIds.length = last;
    this.rowLabels.length = last;
    return true;
  }

  /** Changes the labels of one sample (no tensor work). Empty labels remove it. False if absent. */
  updateLabels(id: string, labelIds: readonly string[]): boolean {
    this.assertAlive();
    const row = this.rowOf.get(id);
    if (row === undefined) return false;
    if (labelIds.length === 0) return this.remove(id);
    this.rowLabels[row] = this.labelIndices(labelIds);
    return true;
  }

  /**
   * Replaces the label set (new order; labels not listed are dropped from every sample, and samples
   * left without labels are removed). Probabilities follow the new order.
   */
  setLabels(labels: readonly string[]): void {
    this.assertAlive();
    const old = this.labelList;
    this.labelList = [];
    this.labelIndex = new Map();
    for (const label of labels) this.indexOfLabel(label);
    const orphans: string[] = [];
    for (let row = 0; row < this.size; row++) {
      const mapped = (this.rowLabels[row] ?? [])
        .map((l) => this.labelIndex.get(old[l] ?? ''))
        .filter((l): l is number => l !== undefined);
      this.rowLabels[row] = mapped;
      if (mapped.length === 0) orphans.push(this.rowIds[row] as string);
    }
    for (const id of orphans) this.remove(id);
  }

  /** The k nearest stored examples of each query, nearest first, with label ids. */
  async neighbours(embeddings: EmbeddingBatch, k = this.cfg.k): Promise<Neighbour[][]> {
    const found = await this.nearestIndexed(embeddings, k);
    const labels = this.labelList.slice();
    return found.map((list) =>
      list.map((n) => ({
        id: n.id,
        similarity: n.similarity,
        labelIds: n.labels.map((l) => labels[l] ?? ''),
      })),
    );
  }

  /** As `neighbours`, with label indices; the snapshot is taken before the first await. */
  async nearestIndexed(embeddings: EmbeddingBatch, k: number): Promise<IndexedNeighbour[][]> {
    this.assertAlive();
    const n = batchLength(embeddings);
    const count = this.size;
    if (count === 0 || n === 0) return Array.from({ length: n }, () => []);
    if (batchDim(embeddings) !== this.dim) {
      throw new Error(`KNN: query width ${batchDim(embeddings)}, expected ${this.dim}`);
    }
    const kk = Math.max(1, Math.min(Math.floor(k), count));
    const ids = this.rowIds.slice(0, count);
    const rowLabels = this.rowLabels.slice(0, count);
    const hits = await this.store.search(embeddings, kk);
    return hits.map((list) =>
      list.map(({ row, similarity }) => ({
        id: ids[row] ?? '',
        similarity,
        labels: rowLabels[row] ?? [],
      })),
    );
  }

  async predict(embeddings: EmbeddingBatch): Promise<Prediction[]> {
    const found = await this.nearestIndexed(embeddings, this.cfg.k);
    const labels = this.labelList.slice();
    return found.map((neighbours) => {
      const vote = knnVote(neighbours, labels.length, this.kind, this.cfg);
      return {
        probabilities: vote.probabilities,
        top: vote.top >= 0 ? (labels[vote.top] ?? null) : null,
        topProbability: vote.topProbability,
        labels: vote.labels.map((l) => labels[l] ?? ''),
        neighbours: neighbours.map((n) => ({
          id: n.id,
          similarity: n.similarity,
          labelIds: n.labels.map((l) => labels[l] ?? ''),
        })),
      };
    });
  }

  serialize(): SerializedKnnHead {
    this.assertAlive();
    return {
      format: SERIALIZED_HEAD_FORMAT,
      version: SERIALIZED_HEAD_VERSION,
      type: 'knn',
      kind: this.kind,
      labels: this.labelList.slice(),
      dim: this.dim,
      config: { ...this.cfg },
      state: {
        ids: this.sampleIds(),
        rowLabels: this.rowLabels.slice(0, this.size).map((l) => l.slice()),
      },
      tensors: [{ name: 'examples', shape: [this.size, this.dim], data: this.store.rows() }],
    };
  }

  static deserialize(serialized: SerializedKnnHead): KnnHead {
    if (serialized.format !== SERIALIZED_HEAD_FORMAT || serialized.type !== 'knn') {
      throw new Error('KNN: not a serialized KNN head');
    }
    if (serialized.version > SERIALIZED_HEAD_VERSION)
      throw new Error(`KNN: format version ${serialized.version} is newer than this app`);
    const head = new KnnHead({
      kind: serialized.kind,
      labels: serialized.labels,
      config: serialized.config,
    });
    const { ids, rowLabels } = serialized.state;
    const examples = serialized.tensors.find((t) => t.name === 'examples');
    const d = serialized.dim;
    if (!examples || examples.data.length !== ids.length * d || rowLabels.length !== ids.length) {
      throw new Error('KNN: serialized head is inconsistent');
    }
    head.store.load(examples.data, ids.length, d);
    head.rowIds = ids.slice();
    head.rowLabels = rowLabels.map((l) => l.slice());
    ids.forEach((id, row) => head.rowOf.set(id, row));
    return head;
  }

  dispose(): void {
    this.store.dispose();
    this.disposed = true;
    this.rowIds = [];
    this.rowLabels = [];
    this.rowOf.clear();
  }

  private assertAlive(): void {
    if (this.disposed) throw new Error('KNN: head used after dispose()');
  }

  private indexOfLabel(label: string): number {
    let index = this.labelIndex.get(label);
    if (index === undefined) {
      index = this.labelList.length;
      this.labelList.push(label);
      this.labelIndex.set(label, index);
    }
    return index;
  }

  private labelIndices(labelIds: readonly string[]): number[] {
    return [...new Set(labelIds)].map((label) => this.indexOfLabel(label));
  }
}
