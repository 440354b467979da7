/**
 * Averaging predictions: of several heads on the same images (an ensemble of KNN and dense) and
 * of one head on an image and its mirror image (test-time flip). The average of the per-label
 * probabilities decides the labels again: single-label the most probable, multi-label every label
 * at or over `threshold`.
 */
import type { ProjectKind } from '../kinds';
import type { EmbeddingBatch, Head, Prediction } from './types';

/** What scoring needs from a head: its label order, predictions, and freeing it. */
export type Predictor = Pick<Head, 'labels' | 'predict' | 'dispose'>;

/** The multi-label cut an averaged prediction uses (each head's own tuned thresholds differ). */
export const AVERAGED_MULTI_LABEL_THRESHOLD = 0.5;

/**
 * Element-wise mean of `runs` (each one prediction per image, aligned with `labels`); every run
 * must hold the same number of predictions.
 */
export function averagePredictions(
  runs: readonly (readonly Prediction[])[],
  labels: readonly string[],
  kind: ProjectKind,
  threshold = AVERAGED_MULTI_LABEL_THRESHOLD,
): Prediction[] {
  const first = runs[0];
  if (!first) return [];
  if (runs.some((run) => run.length !== first.length)) {
    throw new Error('averagePredictions: every run needs one prediction per image');
  }
  return first.map((_, i) => {
    const probabilities = labels.map(
      (_, j) => runs.reduce((sum, run) => sum + (run[i]?.probabilities[j] ?? 0), 0) / runs.length,
    );
    let best = 0;
    for (let j = 1; j < probabilities.length; j++) {
      if ((probabilities[j] ?? 0) > (probabilities[best] ?? 0)) best = j;
    }
    const topProbability = probabilities[best] ?? 0;
    const top = labels[best] ?? null;
    const chosen =
      kind === 'single-label'
        ? top === null
          ? []
          : [top]
        : labels.filter((_, j) => (probabilities[j] ?? 0) >= threshold);
    return { probabilities, top, topProbability, labels: chosen };
  });
}

/** Reorders a prediction's probabilities from `from` label order to `to` (missing labels: 0). */
function alignTo(
  prediction: Prediction,
  from: readonly string[],
  to: readonly string[],
): Prediction {
  if (from.length === to.length && from.every((l, i) => l === to[i])) return prediction;
  const index = new Map(from.map((l, i) => [l, i]));
  return {
    ...prediction,
    probabilities: to.map((l) => {
      const i = index.get(l);
      return i === undefined ? 0 : (prediction.probabilities[i] ?? 0);
    }),
  };
}

/**
 * Several heads over the same labels as one predictor: the mean of their probabilities (in
 * `labels` order). Owns the heads: `dispose` frees them all.
 */
export class AveragedHeads implements Predictor {
  readonly labels: readonly string[];

  constructor(
    private readonly parts: readonly Predictor[],
    labels: readonly string[],
    private readonly kind: ProjectKind,
  ) {
    if (parts.length === 0) throw new Error('AveragedHeads needs at least one head');
    this.labels = [...labels];
  }

  async predict(embeddings: EmbeddingBatch): Promise<Prediction[]> {
    const runs = await Promise.all(
      this.parts.map(async (part) =>
        (await part.predict(embeddings)).map((p) => alignTo(p, part.labels, this.labels)),
      ),
    );
    return averagePredictions(runs, this.labels, this.kind);
  }

  dispose(): void {
    for (const part of this.parts) part.dispose();
  }
}
