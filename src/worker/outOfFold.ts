/**
 * Out-of-fold KNN predictions for the open project (engine worker): the labelled examples the live
 * heads hold, in their content order, with the project's k and vote weighting. The page gets plain
 * probabilities per sample; every fold's head is built and disposed inside `outOfFoldPredictions`.
 * `storedProjectOutOfFold` keeps the last result per project in IndexedDB with the fingerprint of
 * what it was computed from, and returns it without recomputing while the fingerprint matches.
 */
import { outOfFoldPredictions, type OutOfFoldResult } from '../core/analysis/outOfFold';
import { outOfFoldFingerprint } from '../core/analysis/storedOutOfFold';
import type { LoupeDatabase } from '../core/storage/db';
import { getOutOfFold, putOutOfFold } from '../core/storage/outOfFold';
import type { ProjectHeads } from './headsService';

/** Folds of the stored predictions. */
export const OUT_OF_FOLD_FOLDS = 5;

export async function projectOutOfFold(
  heads: ProjectHeads,
  options: { labelOrder: string[]; signal: AbortSignal },
): Promise<OutOfFoldResult> {
  return outOfFoldPredictions(heads.labelled(), {
    kind: heads.kind,
    labels: options.labelOrder,
    ...heads.knnConfig(),
    folds: OUT_OF_FOLD_FOLDS,
    signal: options.signal,
  });
}

/** The stored predictions when their fingerprint still matches; else computed now and stored. */
export async function storedProjectOutOfFold(
  db: LoupeDatabase,
  heads: ProjectHeads,
  options: { labelOrder: string[]; signal: AbortSignal },
): Promise<OutOfFoldResult> {
  const { k, weighted } = heads.knnConfig();
  const fingerprint = outOfFoldFingerprint({
    embeddingKey: heads.embeddingKey,
    k,
    weighted,
    folds: OUT_OF_FOLD_FOLDS,
    labelOrder: options.labelOrder,
    labelled: heads.labelled(),
  });
  const stored = await getOutOfFold(db, heads.projectId);
  if (stored?.fingerprint === fingerprint) return stored.result;
  const result = await projectOutOfFold(heads, options);
  options.signal.throwIfAborted();
  await putOutOfFold(db, {
    projectId: heads.projectId,
    embeddingKey: heads.embeddingKey,
    k,
    weighted,
    folds: OUT_OF_FOLD_FOLDS,
    fingerprint,
    computedAt: Date.now(),
    result,
  });
  return result;
}
