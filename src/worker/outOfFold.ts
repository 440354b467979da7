/**
 * Out-of-fold KNN predictions for the open project (engine worker): the labelled examples the live
 * heads hold, in their content order, with the project's k and vote weighting. The page gets plain
 * probabilities per sample; every fold's head is built and disposed inside `outOfFoldPredictions`.
 */
import { outOfFoldPredictions, type OutOfFoldResult } from '../core/analysis/outOfFold';
import type { ProjectHeads } from './headsService';

export async function projectOutOfFold(
  heads: ProjectHeads,
  options: { labelOrder: string[]; signal: AbortSignal },
): Promise<OutOfFoldResult> {
  return outOfFoldPredictions(heads.labelled(), {
    kind: heads.kind,
    labels: options.labelOrder,
    ...heads.knnConfig(),
    signal: options.signal,
  });
}
