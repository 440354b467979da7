/**
 * Probable mislabels: labelled images ranked by how strongly their out-of-fold prediction
 * disagrees with their label. Score = 1 - p(given label) (multi-label: the given label the
 * prediction believes least); ties go to the larger margin of the best other label over the given
 * one, then to the closer evidence for the suggested label (the mean similarity of the neighbours
 * that voted for it: a copy-like neighbour in another label is stronger evidence than a distant
 * one, and vote shares of a small k tie often), then to the sample id. Only images whose best other label is at least as probable as the
 * given one are listed. Images the user kept (reviewed with exactly their current labels) are
 * skipped until their labels change. Pure functions.
 */
import type { OutOfFoldResult } from './outOfFold';

export interface MislabelCandidate {
  sampleId: string;
  /** The label the image carries that the prediction disagrees with most. */
  given: string;
  /** The most probable label the image does not carry. */
  suggested: string;
  givenProbability: number;
  suggestedProbability: number;
  /** 1 - p(given). */
  score: number;
  /** p(suggested) - p(given). */
  margin: number;
  /** Mean similarity of the neighbours that voted for the suggested label. */
  support: number;
}

/** sampleId -> the image's label key when the user kept it. */
export type ReviewedMislabels = Readonly<Record<string, string>>;

/** The key a kept image is remembered with: its sorted label ids. */
export function labelKey(labelIds: readonly string[]): string {
  return [...labelIds].sort().join('|');
}

export interface RankOptions {
  reviewed?: ReviewedMislabels;
  /** Keep the top `limit` only. */
  limit?: number;
}

export function rankMislabels(
  oof: OutOfFoldResult,
  options: RankOptions = {},
): MislabelCandidate[] {
  const { labels } = oof;
  const reviewed = options.reviewed ?? {};
  const out: MislabelCandidate[] = [];
  for (const p of oof.predictions) {
    if (p.labelIds.length === 0) continue;
    if (reviewed[p.sampleId] === labelKey(p.labelIds)) continue;
    const prob = (label: string): number => p.probabilities[labels.indexOf(label)] ?? 0;
    let given = p.labelIds[0] ?? '';
    for (const label of p.labelIds) if (prob(label) < prob(given)) given = label;
    let suggested: string | null = null;
    for (const label of labels) {
      if (p.labelIds.includes(label)) continue;
      if (suggested === null || prob(label) > prob(suggested)) suggested = label;
    }
    if (suggested === null) continue;
    const givenProbability = prob(given);
    const suggestedProbability = prob(suggested);
    if (suggestedProbability <= 0 || suggestedProbability < givenProbability) continue;
    out.push({
      sampleId: p.sampleId,
      given,
      suggested,
      givenProbability,
      suggestedProbability,
      score: 1 - givenProbability,
      margin: suggestedProbability - givenProbability,
      support: p.support[labels.indexOf(suggested)] ?? 0,
    });
  }
  out.sort(
    (a, b) =>
      b.score - a.score ||
      b.margin - a.margin ||
      b.support - a.support ||
      (a.sampleId < b.sampleId ? -1 : a.sampleId > b.sampleId ? 1 : 0),
  );
  return options.limit === undefined ? out : out.slice(0, options.limit);
}
