/**
 * Measurements of the Review analyses in the engine worker, on copies of the open project's data
 * (never its stored labels): `simulateMislabels` flips a seeded share of the labelled examples'
 * labels and scores the `Probable mislabels` ranking (same out-of-fold KNN and `rankMislabels` as
 * the view) against them; `benchAnalysis` times out-of-fold KNN and the near-duplicate search on
 * `count` embeddings made of the project's own (repeated with small seeded noise), or of seeded
 * random vectors when it has none.
 */
import { groupPairs } from '../core/analysis/duplicateGroups';
import { rankMislabels } from '../core/analysis/mislabels';
import { similarPairs } from '../core/analysis/nearDuplicates';
import { outOfFoldPredictions } from '../core/analysis/outOfFold';
import { flipLabels, scoreRanking, type RankingScore } from '../core/analysis/simulateMislabels';
import { mulberry32, randomNormal } from '../core/random';
import type { ProjectHeads } from './headsService';
import { DEFAULT_DUPLICATE_THRESHOLD, MIN_DUPLICATE_THRESHOLD } from './nearDuplicates';
import { OUT_OF_FOLD_FOLDS } from './outOfFold';

export interface MislabelSimulation extends RankingScore {
  labelled: number;
  k: number;
  ms: number;
}

/** What `simulateMislabels` is called with from the page. */
export interface SimulateCall {
  fraction: number;
  seed: number;
  labelOrder?: string[];
}

/** What `benchAnalysis` is called with from the page. */
export interface BenchCall {
  count: number;
  dim?: number;
  seed: number;
}

export async function simulateMislabels(
  heads: ProjectHeads,
  options: SimulateCall & { signal: AbortSignal },
): Promise<MislabelSimulation> {
  const t0 = performance.now();
  const labelled = heads.labelled();
  const labels = [
    ...new Set([...(options.labelOrder ?? []), ...labelled.flatMap((e) => e.labelIds)]),
  ].filter((l) => labelled.some((e) => e.labelIds.includes(l)));
  const { items, flipped } = flipLabels(labelled, labels, options.fraction, options.seed);
  const config = heads.knnConfig();
  const oof = await outOfFoldPredictions(items, {
    kind: heads.kind,
    labels,
    ...config,
    folds: OUT_OF_FOLD_FOLDS,
    signal: options.signal,
  });
  const ranked = rankMislabels(oof).map((c) => c.sampleId);
  return {
    ...scoreRanking(ranked, flipped),
    labelled: labelled.length,
    k: config.k,
    ms: Math.round(performance.now() - t0),
  };
}

export interface AnalysisBench {
  count: number;
  dim: number;
  /** Embeddings the copies were made from (0: seeded random vectors). */
  source: number;
  outOfFoldMs: number;
  duplicatesMs: number;
  pairs: number;
  groups: number;
}

export async function benchAnalysis(
  heads: ProjectHeads,
  options: BenchCall & { signal: AbortSignal },
): Promise<AnalysisBench> {
  const base = heads.labelled();
  const rng = mulberry32(options.seed);
  const dim = base[0]?.embedding.length ?? options.dim ?? 768;
  const labels = base.length > 0 ? [...new Set(base.flatMap((e) => e.labelIds))] : ['a', 'b', 'c'];
  const items = Array.from({ length: options.count }, (_, i) => {
    const source = base[i % Math.max(1, base.length)];
    const embedding = new Float32Array(dim);
    if (source) {
      let rms = 0;
      for (const v of source.embedding) rms += v * v;
      rms = Math.sqrt(rms / dim);
      // The first copy of each example is exact; later ones carry noise of 0.3 x its RMS.
      const noise = i < base.length ? 0 : 0.3 * rms;
      for (let d = 0; d < dim; d++)
        embedding[d] = (source.embedding[d] ?? 0) + noise * randomNormal(rng);
    } else for (let d = 0; d < dim; d++) embedding[d] = randomNormal(rng);
    const labelIds = source ? [...source.labelIds] : [labels[i % labels.length] ?? 'a'];
    return { id: `bench-${i}`, embedding, labelIds };
  });
  const t0 = performance.now();
  await outOfFoldPredictions(items, {
    kind: heads.kind,
    labels,
    ...heads.knnConfig(),
    folds: OUT_OF_FOLD_FOLDS,
    signal: options.signal,
  });
  const t1 = performance.now();
  const pairs = await similarPairs(
    items.map((i) => i.embedding),
    { floor: MIN_DUPLICATE_THRESHOLD, signal: options.signal },
  );
  const groups = groupPairs(items.length, pairs, DEFAULT_DUPLICATE_THRESHOLD);
  const t2 = performance.now();
  return {
    count: items.length,
    dim,
    source: base.length,
    outOfFoldMs: Math.round(t1 - t0),
    duplicatesMs: Math.round(t2 - t1),
    pairs: pairs.count,
    groups: groups.length,
  };
}
