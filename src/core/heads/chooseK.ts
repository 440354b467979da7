/**
 * Choosing k for the KNN head: stratified k-fold cross-validation of every candidate k on the
 * project's own labelled examples, all candidates voting on the same neighbours in each fold.
 */
import { crossValidateFolds } from './evaluate';
import { checkKnnConfig, KNN_DEFAULTS, KnnHead, knnVote } from './knn';
import type { KnnConfig, KnnExample } from './knn';
import type { ProjectKind } from '../kinds';

export const KNN_K_CANDIDATES: readonly number[] = [1, 3, 5, 7, 10];

export interface ChooseKOptions {
  kind: ProjectKind;
  /** Label ids in order (default: in order of appearance). */
  labels?: readonly string[];
  candidates?: readonly number[];
  folds?: number;
  seed?: number;
  /** Other KNN settings to evaluate with (weighted votes, multi-label threshold). */
  config?: Partial<KnnConfig>;
}

export interface ChooseKResult {
  k: number;
  /** Pooled out-of-fold headline score (accuracy, or micro F1 for multi-label) per candidate. */
  scores: { k: number; score: number }[];
}

/**
 * Picks k by stratified k-fold cross-validation: per fold one search for the largest candidate, then
 * every candidate votes on the same neighbours. Best pooled score wins; ties go to the candidate
 * nearest the default k (5), then the smaller. Fewer than 2 labelled items: the default, unscored.
 */
export async function chooseK(
  items: readonly KnnExample[],
  options: ChooseKOptions,
): Promise<ChooseKResult> {
  const candidates = [...new Set(options.candidates ?? KNN_K_CANDIDATES)].filter(
    (k) => Number.isInteger(k) && k >= 1,
  );
  if (candidates.length === 0) throw new Error('chooseK: no valid candidate');
  const fallback = candidates.includes(KNN_DEFAULTS.k) ? KNN_DEFAULTS.k : (candidates[0] as number);
  const config = checkKnnConfig({ ...KNN_DEFAULTS, ...options.config });
  const kMax = Math.max(...candidates);
  const outcome = await crossValidateFolds({
    items,
    kind: options.kind,
    labels: options.labels,
    folds: options.folds,
    seed: options.seed,
    variants: candidates.length,
    async evaluate(train, validation, labels) {
      const head = KnnHead.build(train, { kind: options.kind, labels, config });
      try {
        const found = await head.nearestIndexed(
          validation.map((v) => v.embedding),
          kMax,
        );
        return candidates.map((k) =>
          found.map(
            (neighbours) =>
              knnVote(neighbours.slice(0, k), labels.length, options.kind, config).labels,
          ),
        );
      } finally {
        head.dispose();
      }
    },
  });
  if (!outcome) return { k: fallback, scores: [] };
  const scores = candidates.map((k, i) => ({ k, score: outcome.scores[i] ?? 0 }));
  const best = scores.reduce((a, b) => {
    if (b.score !== a.score) return b.score > a.score ? b : a;
    const da = Math.abs(a.k - KNN_DEFAULTS.k);
    const db = Math.abs(b.k - KNN_DEFAULTS.k);
    return db < da || (db === da && b.k < a.k) ? b : a;
  });
  return { k: best.k, scores };
}
