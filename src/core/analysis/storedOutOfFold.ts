/**
 * What stored out-of-fold predictions were computed from, and whether they still hold: a
 * fingerprint of the basis (embedding key, KNN settings, folds, label order and every labelled
 * image with its labels), the staleness of a result against the project's current labels, and one
 * image's own prediction for the sample detail. Pure functions.
 */
import { labelKey } from './mislabels';
import type { OutOfFoldPrediction, OutOfFoldResult } from './outOfFold';

export interface OutOfFoldBasis {
  embeddingKey: string;
  k: number;
  weighted: boolean;
  folds: number;
  /** Label ids in display order (they decide the folds' strata and the probability order). */
  labelOrder: readonly string[];
  /** The labelled images the predictions cover (any order). */
  labelled: readonly { id: string; labelIds: readonly string[] }[];
}

/** FNV-1a over UTF-16 code units, from `seed`. */
function fnv1a(text: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * A short string that changes when anything the predictions depend on changes. Independent of the
 * order images are listed in (the folds are keyed on content order, which the embeddings fix).
 */
export function outOfFoldFingerprint(basis: OutOfFoldBasis): string {
  const lines = basis.labelled
    .filter((item) => item.labelIds.length > 0)
    .map((item) => `${item.id}=${labelKey(item.labelIds)}`)
    .sort();
  const text = [
    basis.embeddingKey,
    `k=${basis.k}`,
    `weighted=${basis.weighted}`,
    `folds=${basis.folds}`,
    `labels=${basis.labelOrder.join(',')}`,
    ...lines,
  ].join('\n');
  const hex = (n: number): string => n.toString(16).padStart(8, '0');
  return `${lines.length}:${hex(fnv1a(text, 0x811c9dc5))}${hex(fnv1a(text, 0x2166136d))}`;
}

/**
 * Whether `result` no longer matches the current labels: an image it predicted was deleted,
 * unlabelled or relabelled, or a labelled image has no prediction. (Settings changes are caught
 * by the worker's fingerprint.)
 */
export function isOutOfFoldStale(
  result: OutOfFoldResult,
  samples: readonly { id: string; labelIds: readonly string[] }[],
): boolean {
  const predicted = new Map(result.predictions.map((p) => [p.sampleId, labelKey(p.labelIds)]));
  let labelled = 0;
  for (const sample of samples) {
    if (sample.labelIds.length === 0) continue;
    labelled++;
    if (predicted.get(sample.id) !== labelKey(sample.labelIds)) return true;
  }
  return labelled !== predicted.size;
}

/** One image's out-of-fold prediction, as the sample detail shows it. */
export interface SamplePrediction {
  /** The most probable label. */
  predicted: string;
  probability: number;
  /** The prediction's top label is one the image carries. */
  agrees: boolean;
}

/**
 * The image's own prediction, while it still carries the labels it was predicted with (null for
 * an unlabelled or relabelled image, or one not predicted yet).
 */
export function samplePrediction(
  result: OutOfFoldResult | null,
  sample: { id: string; labelIds: readonly string[] },
): SamplePrediction | null {
  if (!result || sample.labelIds.length === 0) return null;
  const p: OutOfFoldPrediction | undefined = result.predictions.find(
    (x) => x.sampleId === sample.id,
  );
  if (!p || labelKey(p.labelIds) !== labelKey(sample.labelIds)) return null;
  let best = -1;
  p.probabilities.forEach((v, i) => {
    if (best < 0 || v > (p.probabilities[best] ?? 0)) best = i;
  });
  const predicted = result.labels[best];
  if (predicted === undefined) return null;
  return {
    predicted,
    probability: p.probabilities[best] ?? 0,
    agrees: sample.labelIds.includes(predicted),
  };
}
