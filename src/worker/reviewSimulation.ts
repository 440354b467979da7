/**
 * Measurements of `Label next` and `Clusters` through the same code the Review view runs (engine
 * worker; the `npm run eval` and bench sections call these through `EngineClient`).
 *
 * `simulateReview` (single-label projects whose images are all labelled, e.g. flowers5-dev): a
 * fixed seeded stratified hold-out (20 %, EVAL_SEED) is the test set; per seed, a user starts from
 * `startPerClass` random pool images per class and then labels `batch` images at a time, either
 * the top of `rankLabelNext` (probabilities from a KNN on what is labelled so far, as the live head
 * would give) or in random order. After each batch the project's default head (KNN, automatic k
 * chosen on the labelled images alone) is scored on the hold-out. Curves are means over seeds.
 * Then all labels are hidden and every image is clustered (automatic k, and k = the number of
 * classes): purity and NMI against the true classes.
 *
 * `benchReview`: clustering and label-next ranking on seeded synthetic embeddings (non-negative
 * Gaussian blobs, like pooled ReLU features), timed in the worker.
 */
import { clusterAgreement, clusterEmbeddings, type Clustering } from '../core/analysis/clusters';
import { rankLabelNext } from '../core/analysis/labelNext';
import { indexItems, type IndexedItem } from '../core/heads/evaluate';
import { KnnHead } from '../core/heads';
import { EVAL_SEED, holdoutSplit } from '../core/eval/split';
import { deriveSeed, mulberry32, randomNormal, seededShuffle } from '../core/random';
import type { ProjectHeads } from './headsService';

export interface ReviewSimulationOptions {
  /** Seeds to average over (default 5). */
  seeds?: number;
  /** Label counts to report (default 50, 100, 200, 400). */
  checkpoints?: number[];
  startPerClass?: number;
  /** Images labelled between two refreshes of the ranking (default 10). */
  batch?: number;
  /** The ranking's diversity weight (default the one `Label next` uses). */
  diversity?: number;
  signal?: AbortSignal;
}

export interface ClusterScore {
  k: number;
  purity: number;
  nmi: number;
}

export interface ReviewSimulation {
  images: number;
  classes: number;
  heldOut: number;
  pool: number;
  seeds: number;
  batch: number;
  checkpoints: number[];
  /** Mean hold-out accuracy at each checkpoint, labelling in `Label next` order. */
  labelNext: number[];
  /** The same, labelling in random order. */
  random: number[];
  /**
   * Per checkpoint: the fewest labels (on the batch grid) random order needed to reach the mean
   * accuracy `Label next` has there; null when it never did within the run.
   */
  randomLabelsForSameAccuracy: (number | null)[];
  /** The full mean curves: [labels, accuracy]. */
  curves: { labelNext: [number, number][]; random: [number, number][] };
  clusters: { auto: ClusterScore; classes: ClusterScore };
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

/** One simulated user: labels counts -> hold-out accuracy. */
async function simulateOrder(
  heads: ProjectHeads,
  order: 'labelNext' | 'random',
  data: { items: IndexedItem[]; labels: string[]; start: number[]; pool: number[]; test: number[] },
  options: {
    checkpoints: number[];
    batch: number;
    seed: number;
    diversity?: number;
    signal?: AbortSignal;
  },
): Promise<Map<number, number>> {
  const { items, labels } = data;
  const at = (i: number): IndexedItem => items[i] as IndexedItem;
  const labelled = [...data.start];
  let remaining = data.pool.filter((i) => !data.start.includes(i));
  if (order === 'random') remaining = seededShuffle(remaining, deriveSeed(options.seed, 99));
  const last = Math.max(...options.checkpoints);
  const curve = new Map<number, number>();
  const testEmbeddings = data.test.map((i) => at(i).embedding);
  for (;;) {
    options.signal?.throwIfAborted();
    const train = labelled.map(at);
    const k = await heads.kFor(train);
    const head = KnnHead.build(train, { kind: 'single-label', labels, config: heads.knnConfig(k) });
    let ranked: number[] = [];
    try {
      const predicted = await head.predict(testEmbeddings);
      const correct = predicted.filter(
        (p, j) => p.top !== null && p.top === labels[at(data.test[j] as number).labels[0] ?? -1],
      ).length;
      curve.set(labelled.length, correct / Math.max(1, data.test.length));
      const next = options.checkpoints.find((c) => c > labelled.length);
      if (labelled.length >= last || remaining.length === 0 || next === undefined) break;
      const take = Math.min(options.batch, next - labelled.length, remaining.length);
      if (order === 'random') ranked = remaining.slice(0, take);
      else {
        const pool = remaining.map(at);
        const probabilities = await head.predict(pool.map((p) => p.embedding));
        const picks = rankLabelNext(
          pool.map((p, j) => ({
            id: String(remaining[j]),
            embedding: p.embedding,
            probabilities: probabilities[j]?.probabilities ?? null,
          })),
          {
            kind: 'single-label',
            labels,
            limit: take,
            ...(options.diversity === undefined ? {} : { diversity: options.diversity }),
          },
        );
        ranked = picks.map((p) => Number(p.sampleId));
      }
    } finally {
      head.dispose();
    }
    const taken = new Set(ranked);
    labelled.push(...ranked);
    remaining = remaining.filter((i) => !taken.has(i));
  }
  return curve;
}

function scoreClustering(clustering: Clustering, ids: string[], truth: number[]): ClusterScore {
  const clusterOf = new Map<string, number>();
  clustering.clusters.forEach((c, index) => c.sampleIds.forEach((id) => clusterOf.set(id, index)));
  const { purity, nmi } = clusterAgreement(
    ids.map((id) => clusterOf.get(id) ?? -1),
    truth,
  );
  return { k: clustering.k, purity, nmi };
}

export async function simulateReview(
  heads: ProjectHeads,
  options: ReviewSimulationOptions = {},
): Promise<ReviewSimulation> {
  if (heads.kind !== 'single-label')
    throw new Error('The simulation needs a single-label project.');
  const checkpoints = [...(options.checkpoints ?? [50, 100, 200, 400])].sort((a, b) => a - b);
  const seeds = options.seeds ?? 5;
  const batch = options.batch ?? 10;
  const startPerClass = options.startPerClass ?? 10;
  const { items, labels } = indexItems(heads.labelled(), 'single-label');
  const split = holdoutSplit(
    items.map((item, i) => ({
      id: String(i),
      labels: item.labels,
      ...(item.group === undefined ? {} : { group: item.group }),
    })),
    { validationFraction: 0.2, seed: EVAL_SEED },
  );
  const test = split.validation.map(Number);
  const pool = split.train.map(Number);
  const runs: Record<'labelNext' | 'random', Map<number, number>[]> = { labelNext: [], random: [] };
  for (let s = 0; s < seeds; s++) {
    const seed = deriveSeed(EVAL_SEED, s + 1);
    const perClass = new Map<number, number>();
    const start = seededShuffle(pool, seed).filter((i) => {
      const c = items[i]?.labels[0] ?? -1;
      const n = perClass.get(c) ?? 0;
      perClass.set(c, n + 1);
      return n < startPerClass;
    });
    const data = { items, labels, start, pool, test };
    const run = {
      checkpoints,
      batch,
      seed,
      ...(options.diversity === undefined ? {} : { diversity: options.diversity }),
      ...(options.signal ? { signal: options.signal } : {}),
    };
    runs.labelNext.push(await simulateOrder(heads, 'labelNext', data, run));
    runs.random.push(await simulateOrder(heads, 'random', data, run));
  }
  const meanCurve = (curves: Map<number, number>[]): [number, number][] =>
    [...(curves[0]?.keys() ?? [])]
      .filter((c) => curves.every((curve) => curve.has(c)))
      .map((c) => [c, mean(curves.map((curve) => curve.get(c) ?? 0))]);
  const labelNextCurve = meanCurve(runs.labelNext);
  const randomCurve = meanCurve(runs.random);
  const accuracyAt = (curve: [number, number][], c: number): number =>
    curve.find(([n]) => n === c)?.[1] ?? NaN;
  const labelNext = checkpoints.map((c) => accuracyAt(labelNextCurve, c));
  const ids = items.map((item) => item.id);
  const truth = items.map((item) => item.labels[0] ?? -1);
  const clusterItems = items.map((item) => ({ id: item.id, embedding: item.embedding }));
  const signal = options.signal ? { signal: options.signal } : {};
  return {
    images: items.length,
    classes: labels.length,
    heldOut: test.length,
    pool: pool.length,
    seeds,
    batch,
    checkpoints,
    labelNext,
    random: checkpoints.map((c) => accuracyAt(randomCurve, c)),
    randomLabelsForSameAccuracy: labelNext.map(
      (target) => randomCurve.find(([, accuracy]) => accuracy >= target)?.[0] ?? null,
    ),
    curves: { labelNext: labelNextCurve, random: randomCurve },
    clusters: {
      auto: scoreClustering(clusterEmbeddings(clusterItems, { k: 'auto', ...signal }), ids, truth),
      classes: scoreClustering(
        clusterEmbeddings(clusterItems, { k: labels.length, ...signal }),
        ids,
        truth,
      ),
    },
  };
}

export interface ReviewBench {
  n: number;
  dim: number;
  clusters: { ms: number; k: number };
  labelNext: { labelled: number; predictMs: number; rankMs: number; ms: number };
}

/** Times clustering and label-next ranking on `n` seeded synthetic embeddings (see above). */
export async function benchReview(
  options: {
    n?: number;
    dim?: number;
    blobs?: number;
    labelled?: number;
    signal?: AbortSignal;
  } = {},
): Promise<ReviewBench> {
  const n = options.n ?? 5000;
  const dim = options.dim ?? 768;
  const blobs = options.blobs ?? 10;
  const labelledCount = Math.min(n, options.labelled ?? 500);
  const rng = mulberry32(EVAL_SEED);
  const centres = Array.from({ length: blobs }, () =>
    Float32Array.from({ length: dim }, () => Math.abs(randomNormal(rng))),
  );
  const items = Array.from({ length: n }, (_, i) => {
    const centre = centres[i % blobs] as Float32Array;
    return {
      id: `b${String(i).padStart(5, '0')}`,
      embedding: centre.map((v) => Math.max(0, v + 0.8 * randomNormal(rng))),
      labelIds: [`blob${i % blobs}`],
    };
  });
  const signal = options.signal ? { signal: options.signal } : {};
  let t0 = performance.now();
  const clustering = clusterEmbeddings(items, { k: 'auto', ...signal });
  const clusterMs = performance.now() - t0;

  t0 = performance.now();
  const head = KnnHead.build(items.slice(0, labelledCount), { kind: 'single-label' });
  const rest = items.slice(labelledCount);
  let predictions;
  try {
    predictions = await head.predict(rest.map((r) => r.embedding));
  } finally {
    head.dispose();
  }
  const predictMs = performance.now() - t0;
  t0 = performance.now();
  rankLabelNext(
    rest.map((r, i) => ({ ...r, probabilities: predictions[i]?.probabilities ?? null })),
    { kind: 'single-label', labels: [...head.labels], limit: 30, ...signal },
  );
  const rankMs = performance.now() - t0;
  return {
    n,
    dim,
    clusters: { ms: Math.round(clusterMs), k: clustering.k },
    labelNext: {
      labelled: labelledCount,
      predictMs: Math.round(predictMs),
      rankMs: Math.round(rankMs),
      ms: Math.round(predictMs + rankMs),
    },
  };
}
