/**
 * Clusters of images by similarity: spherical k-means (cosine) on L2-normalised embeddings with
 * seeded k-means++ initialisation (D² sampling, D² = 2 - 2 cos); an emptied cluster is reseeded with
 * the image farthest from its centroid. k is the caller's, or chosen automatically: the best mean
 * silhouette (cosine distance) over k = 2 ... min(12, n / 3), each k clustered on the same seeded
 * sample of at most 500 images (the pairwise similarities of the sample are computed once), ties
 * to the smaller k. Each clustering of the sample is the best (least inertia) of 3 seeded k-means++
 * starts; with more than 500 images, the sample's clustering for the chosen (or the user's) k then
 * initialises one k-means over every image (one pass of restarts over 5,000 images costs seconds). Each cluster lists its images most
 * typical first (closest to its centroid); clusters come largest first. Also purity and normalised
 * mutual information of a clustering against known classes (the eval). Plain Float32Array math.
 */
import { EVAL_SEED } from '../eval/split';
import { deriveSeed, mulberry32, seededShuffle, type Rng } from '../random';
import { normalisedRows } from './labelNext';

/** Largest k the automatic choice tries. */
export const MAX_AUTO_K = 12;
/** Images the automatic choice of k clusters and scores (a seeded sample of them). */
export const SAMPLE = 500;
const MAX_ITERATIONS = 30;
/** Seeded k-means++ starts per clustering. */
const RESTARTS = 3;

export interface ClusterOptions {
  /** A number of clusters (clamped to 1 ... n), or 'auto' (default). */
  k?: number | 'auto';
  seed?: number;
  signal?: AbortSignal;
}

export interface Clustering {
  k: number;
  /** Whether k was chosen automatically. */
  autoK: boolean;
  /** The largest k the automatic choice considers for these images. */
  maxK: number;
  /** Sample ids per cluster, most typical first; the largest cluster first. */
  clusters: { sampleIds: string[] }[];
  /** Mean silhouette per k the automatic choice tried (empty with a fixed k). */
  silhouettes: { k: number; score: number }[];
}

export interface KMeansResult {
  assignments: Int32Array;
  /** k unit-length centroids, row-major. */
  centroids: Float32Array;
  /** Sum over images of 1 - cos(image, its centroid). */
  inertia: number;
}

export class ClusteringAborted extends Error {
  constructor() {
    super('Clustering cancelled.');
    this.name = 'ClusteringAborted';
  }
}

/** The largest k the automatic choice tries for `n` images (at least 1). */
export function maxClusters(n: number): number {
  return Math.max(1, Math.min(MAX_AUTO_K, Math.floor(n / 3)));
}

function dotRows(a: Float32Array, ia: number, b: Float32Array, ib: number, dim: number): number {
  let sum = 0;
  const oa = ia * dim;
  const ob = ib * dim;
  for (let j = 0; j < dim; j++) sum += (a[oa + j] as number) * (b[ob + j] as number);
  return sum;
}

function normaliseRow(data: Float32Array, row: number, dim: number): void {
  let norm = 0;
  for (let j = 0; j < dim; j++) norm += (data[row * dim + j] as number) ** 2;
  if (norm === 0) return;
  const scale = 1 / Math.sqrt(norm);
  for (let j = 0; j < dim; j++) data[row * dim + j] = (data[row * dim + j] as number) * scale;
}

/** k-means++ seeds: the first uniformly, each next with probability proportional to D². */
function plusPlus(data: Float32Array, n: number, dim: number, k: number, rng: Rng): Float32Array {
  const centroids = new Float32Array(k * dim);
  const d2 = new Float64Array(n).fill(Infinity);
  let pick = Math.floor(rng() * n);
  for (let c = 0; c < k; c++) {
    centroids.set(data.subarray(pick * dim, (pick + 1) * dim), c * dim);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const d = Math.max(0, 2 - 2 * dotRows(data, i, centroids, c, dim));
      if (d < (d2[i] as number)) d2[i] = d;
      total += d2[i] as number;
    }
    if (c === k - 1) break;
    if (total <= 0) {
      pick = Math.floor(rng() * n);
      continue;
    }
    let target = rng() * total;
    pick = n - 1;
    for (let i = 0; i < n; i++) {
      target -= d2[i] as number;
      if (target < 0) {
        pick = i;
        break;
      }
    }
  }
  return centroids;
}

/**
 * Spherical k-means on unit rows `data` (n x dim): from the given `init` centroids, or the best
 * (least inertia) of `RESTARTS` seeded k-means++ starts (one start often merges two blobs and
 * splits another).
 */
export function kMeans(
  data: Float32Array,
  n: number,
  dim: number,
  k: number,
  options: { seed?: number; signal?: AbortSignal; init?: Float32Array } = {},
): KMeansResult {
  const seed = options.seed ?? EVAL_SEED;
  if (options.init) return kMeansOnce(data, n, dim, k, options.init, options.signal);
  let best: KMeansResult | null = null;
  for (let r = 0; r < RESTARTS; r++) {
    const init = plusPlus(data, n, dim, k, mulberry32(deriveSeed(seed, r)));
    const run = kMeansOnce(data, n, dim, k, init, options.signal);
    if (!best || run.inertia < best.inertia) best = run;
  }
  return best as KMeansResult;
}

function kMeansOnce(
  data: Float32Array,
  n: number,
  dim: number,
  k: number,
  init: Float32Array,
  signal: AbortSignal | undefined,
): KMeansResult {
  const centroids = init.slice();
  const assignments = new Int32Array(n).fill(-1);
  const best = new Float32Array(n);
  for (let iteration = 0; iteration < MAX_ITERATIONS; iteration++) {
    if (signal?.aborted) throw new ClusteringAborted();
    let changed = 0;
    for (let i = 0; i < n; i++) {
      let bestC = 0;
      let bestDot = -Infinity;
      for (let c = 0; c < k; c++) {
        const d = dotRows(data, i, centroids, c, dim);
        if (d > bestDot) {
          bestDot = d;
          bestC = c;
        }
      }
      best[i] = bestDot;
      if (assignments[i] !== bestC) {
        assignments[i] = bestC;
        changed++;
      }
    }
    if (changed === 0 && iteration > 0) break;
    centroids.fill(0);
    const sizes = new Int32Array(k);
    for (let i = 0; i < n; i++) {
      const c = assignments[i] as number;
      sizes[c] = (sizes[c] as number) + 1;
      for (let j = 0; j < dim; j++)
        centroids[c * dim + j] = (centroids[c * dim + j] as number) + (data[i * dim + j] as number);
    }
    for (let c = 0; c < k; c++) {
      if (sizes[c] === 0) {
        // Reseed an empty cluster with the image that fits its own centroid worst.
        let far = 0;
        for (let i = 1; i < n; i++) if ((best[i] as number) < (best[far] as number)) far = i;
        centroids.set(data.subarray(far * dim, (far + 1) * dim), c * dim);
        best[far] = 1;
      } else normaliseRow(centroids, c, dim);
    }
  }
  let inertia = 0;
  for (let i = 0; i < n; i++) inertia += 1 - (best[i] as number);
  return { assignments, centroids, inertia };
}

/** Mean silhouette (cosine distance) from an m x m similarity matrix; singletons score 0. */
export function silhouette(similarity: Float32Array, m: number, assignments: Int32Array): number {
  let k = 0;
  for (const a of assignments) k = Math.max(k, a + 1);
  const sizes = new Int32Array(k);
  for (const a of assignments) sizes[a] = (sizes[a] as number) + 1;
  const sums = new Float64Array(k);
  let total = 0;
  for (let i = 0; i < m; i++) {
    sums.fill(0);
    for (let j = 0; j < m; j++) {
      if (i === j) continue;
      const c = assignments[j] as number;
      sums[c] = (sums[c] as number) + 1 - (similarity[i * m + j] as number);
    }
    const own = assignments[i] as number;
    const ownSize = (sizes[own] as number) - 1;
    if (ownSize === 0) continue;
    const a = (sums[own] as number) / ownSize;
    let b = Infinity;
    for (let c = 0; c < k; c++) {
      if (c === own || sizes[c] === 0) continue;
      b = Math.min(b, (sums[c] as number) / (sizes[c] as number));
    }
    if (!Number.isFinite(b)) continue;
    const denominator = Math.max(a, b);
    total += denominator > 0 ? (b - a) / denominator : 0;
  }
  return m > 0 ? total / m : 0;
}

/** A seeded sample of at most `SAMPLE` rows of `data` (all of them, in order, when n is small). */
function sampleRows(data: Float32Array, n: number, dim: number, seed: number): Float32Array {
  if (n <= SAMPLE) return data;
  const indices = seededShuffle(
    Array.from({ length: n }, (_, i) => i),
    seed,
  ).slice(0, SAMPLE);
  const sample = new Float32Array(SAMPLE * dim);
  indices.forEach((row, i) => sample.set(data.subarray(row * dim, (row + 1) * dim), i * dim));
  return sample;
}

/**
 * The automatic k for the unit rows `sample` (m x dim; see the module comment), with the score of
 * each k tried and the centroids of the chosen k's clustering of the sample.
 */
export function chooseClusterCount(
  sample: Float32Array,
  m: number,
  dim: number,
  maxK: number,
  options: { seed?: number; signal?: AbortSignal } = {},
): { k: number; silhouettes: { k: number; score: number }[]; centroids: Float32Array | null } {
  if (Math.min(maxK, m) < 2) return { k: 1, silhouettes: [], centroids: null };
  const similarity = new Float32Array(m * m);
  for (let i = 0; i < m; i++) {
    similarity[i * m + i] = 1;
    for (let j = i + 1; j < m; j++) {
      const s = dotRows(sample, i, sample, j, dim);
      similarity[i * m + j] = s;
      similarity[j * m + i] = s;
    }
  }
  const silhouettes: { k: number; score: number }[] = [];
  let best = { k: 2, score: -Infinity, centroids: null as Float32Array | null };
  for (let k = 2; k <= Math.min(maxK, m); k++) {
    const { assignments, centroids } = kMeans(sample, m, dim, k, options);
    const score = silhouette(similarity, m, assignments);
    silhouettes.push({ k, score });
    if (score > best.score) best = { k, score, centroids };
  }
  return { k: best.k, silhouettes, centroids: best.centroids };
}

/** Clusters `items` by their embeddings (see the module comment). */
export function clusterEmbeddings(
  items: readonly { id: string; embedding: Float32Array }[],
  options: ClusterOptions = {},
): Clustering {
  const n = items.length;
  const maxK = maxClusters(n);
  if (n === 0) return { k: 0, autoK: options.k === 'auto', maxK, clusters: [], silhouettes: [] };
  const { data, dim } = normalisedRows(items.map((i) => i.embedding));
  const seed = options.seed ?? EVAL_SEED;
  const run = { seed, ...(options.signal ? { signal: options.signal } : {}) };
  const sample = sampleRows(data, n, dim, seed);
  const m = sample.length / Math.max(1, dim);
  const fixed = typeof options.k === 'number' ? Math.max(1, Math.min(n, Math.round(options.k))) : 0;
  const auto = fixed > 0 ? null : chooseClusterCount(sample, m, dim, maxK, run);
  const k = fixed || (auto?.k ?? 1);
  // The sample's clustering (k-means++ restarts) seeds one refinement on every image.
  const init =
    sample === data
      ? undefined
      : (auto?.centroids ?? (k <= m ? kMeans(sample, m, dim, k, run).centroids : undefined));
  const { assignments, centroids } = kMeans(data, n, dim, k, { ...run, ...(init ? { init } : {}) });
  const members: { id: string; sim: number }[][] = Array.from({ length: k }, () => []);
  items.forEach((item, i) => {
    const c = assignments[i] as number;
    members[c]?.push({ id: item.id, sim: dotRows(data, i, centroids, c, dim) });
  });
  const byId = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  const clusters = members
    .filter((c) => c.length > 0)
    .map((c) => ({
      sampleIds: c.sort((a, b) => b.sim - a.sim || byId(a.id, b.id)).map((x) => x.id),
    }))
    .sort(
      (a, b) =>
        b.sampleIds.length - a.sampleIds.length || byId(a.sampleIds[0] ?? '', b.sampleIds[0] ?? ''),
    );
  return { k, autoK: auto !== null, maxK, clusters, silhouettes: auto?.silhouettes ?? [] };
}

/**
 * Purity (the share of images in their cluster's majority class) and normalised mutual
 * information (2 I(C; T) / (H(C) + H(T)), 1 when both are constant) of cluster ids against
 * class ids, one of each per image.
 */
export function clusterAgreement(
  clusters: readonly number[],
  classes: readonly number[],
): { purity: number; nmi: number } {
  const n = clusters.length;
  if (n === 0) return { purity: 0, nmi: 0 };
  const joint = new Map<string, number>();
  const cCount = new Map<number, number>();
  const tCount = new Map<number, number>();
  clusters.forEach((c, i) => {
    const t = classes[i] ?? -1;
    joint.set(`${c}:${t}`, (joint.get(`${c}:${t}`) ?? 0) + 1);
    cCount.set(c, (cCount.get(c) ?? 0) + 1);
    tCount.set(t, (tCount.get(t) ?? 0) + 1);
  });
  const majority = new Map<number, number>();
  let mutual = 0;
  for (const [key, count] of joint) {
    const [c, t] = key.split(':').map(Number) as [number, number];
    majority.set(c, Math.max(majority.get(c) ?? 0, count));
    mutual += (count / n) * Math.log((count * n) / ((cCount.get(c) ?? 1) * (tCount.get(t) ?? 1)));
  }
  const entropy = (counts: Map<number, number>): number =>
    [...counts.values()].reduce((h, c) => h - (c / n) * Math.log(c / n), 0);
  const hc = entropy(cCount);
  const ht = entropy(tCount);
  let purity = 0;
  for (const m of majority.values()) purity += m;
  return { purity: purity / n, nmi: hc + ht === 0 ? 1 : (2 * mutual) / (hc + ht) };
}
