/**
 * Label next: unlabelled images ranked by how much labelling them would help. Each candidate's
 * uncertainty comes from the current head's probabilities (single-label: 1 - the margin between
 * the two most probable labels; multi-label: the label whose probability is closest to 0.5, as
 * 1 - |2p - 1|); without probabilities (no labelled image yet) every candidate is equally
 * uncertain. Diversity is greedy: each next pick maximises `uncertainty - DIVERSITY_WEIGHT *
 * closeness`, where closeness = max(0, s - SAME_SCENE) / (1 - SAME_SCENE) for the largest cosine s
 * to the images already picked, so the top of the list is not a row of near-copies of one scene.
 * Only similarities above SAME_SCENE count: a plain max-cosine penalty (maximal marginal
 * relevance) favours the most atypical images, and on flowers5-dev that made the order worse than
 * random. Ties go to the sample id. Plain Float32Array math, no tensors: O(limit * n * d).
 */
import type { ProjectKind } from '../kinds';

export interface LabelNextCandidate {
  id: string;
  embedding: Float32Array;
  /** The head's probabilities, aligned with the ranking's `labels`; null when it cannot predict. */
  probabilities: readonly number[] | null;
}

export interface LabelNextItem {
  sampleId: string;
  /** The most probable label (null without probabilities). */
  suggested: string | null;
  suggestedProbability: number;
  /** 0 (the head is sure) ... 1 (a coin toss between the two best labels). */
  uncertainty: number;
  /** The greedy score the image was picked with (uncertainty less the diversity penalty). */
  score: number;
}

export interface LabelNextOptions {
  kind: ProjectKind;
  /** Label ids in the order of every candidate's probabilities. */
  labels: readonly string[];
  /** How many images to pick (default all). */
  limit?: number;
  /** Weight of the similarity penalty (default DIVERSITY_WEIGHT; 0 = uncertainty only). */
  diversity?: number;
  signal?: AbortSignal;
}

/** How much closeness to an already picked image costs, in units of uncertainty. */
export const DIVERSITY_WEIGHT = 1;
/** Cosine similarity above which two images count as views of the same scene. */
export const SAME_SCENE = 0.8;

/** The uncertainty of one prediction (see the module comment). */
export function uncertaintyOf(probabilities: readonly number[] | null, kind: ProjectKind): number {
  if (!probabilities || probabilities.length === 0) return 1;
  if (kind === 'multi-label') {
    let best = 0;
    for (const p of probabilities) best = Math.max(best, 1 - Math.abs(2 * p - 1));
    return best;
  }
  let first = 0;
  let second = 0;
  for (const p of probabilities) {
    if (p > first) {
      second = first;
      first = p;
    } else if (p > second) second = p;
  }
  return 1 - (first - second);
}

/** L2-normalised copies of `vectors` as one row-major matrix (zero rows stay zero). */
export function normalisedRows(vectors: readonly Float32Array[]): {
  data: Float32Array;
  dim: number;
} {
  const dim = vectors[0]?.length ?? 0;
  const data = new Float32Array(vectors.length * dim);
  vectors.forEach((v, i) => {
    let norm = 0;
    for (let j = 0; j < dim; j++) norm += (v[j] ?? 0) ** 2;
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let j = 0; j < dim; j++) data[i * dim + j] = (v[j] ?? 0) * scale;
  });
  return { data, dim };
}

/** Dot product of rows `a` and `b` of a row-major matrix. */
export function rowDot(data: Float32Array, dim: number, a: number, b: number): number {
  let sum = 0;
  const oa = a * dim;
  const ob = b * dim;
  for (let j = 0; j < dim; j++) sum += (data[oa + j] as number) * (data[ob + j] as number);
  return sum;
}

export class LabelNextAborted extends Error {
  constructor() {
    super('Label next cancelled.');
    this.name = 'LabelNextAborted';
  }
}

/** Picks up to `limit` candidates greedily (see the module comment), best first. */
export function rankLabelNext(
  candidates: readonly LabelNextCandidate[],
  options: LabelNextOptions,
): LabelNextItem[] {
  const n = candidates.length;
  const limit = Math.min(options.limit ?? n, n);
  const weight = options.diversity ?? DIVERSITY_WEIGHT;
  const { data, dim } = normalisedRows(candidates.map((c) => c.embedding));
  const uncertainty = candidates.map((c) => uncertaintyOf(c.probabilities, options.kind));
  // The closest picked image so far, per candidate (0 before the first pick: no penalty).
  const nearestPicked = new Float32Array(n);
  const picked = new Uint8Array(n);
  const out: LabelNextItem[] = [];
  for (let round = 0; round < limit; round++) {
    if (options.signal?.aborted) throw new LabelNextAborted();
    let best = -1;
    let bestScore = -Infinity;
    for (let i = 0; i < n; i++) {
      if (picked[i]) continue;
      const closeness = Math.max(0, (nearestPicked[i] as number) - SAME_SCENE) / (1 - SAME_SCENE);
      const score = (uncertainty[i] as number) - weight * closeness;
      const c = candidates[i] as LabelNextCandidate;
      if (
        score > bestScore ||
        (score === bestScore && c.id < (candidates[best] as LabelNextCandidate).id)
      ) {
        best = i;
        bestScore = score;
      }
    }
    if (best < 0) break;
    picked[best] = 1;
    const chosen = candidates[best] as LabelNextCandidate;
    let top = -1;
    const probabilities = chosen.probabilities ?? [];
    probabilities.forEach((p, l) => {
      if (top < 0 || p > (probabilities[top] as number)) top = l;
    });
    out.push({
      sampleId: chosen.id,
      suggested: top >= 0 ? (options.labels[top] ?? null) : null,
      suggestedProbability: top >= 0 ? (probabilities[top] as number) : 0,
      uncertainty: uncertainty[best] as number,
      score: bestScore,
    });
    if (weight === 0) continue;
    for (let i = 0; i < n; i++) {
      if (picked[i]) continue;
      const sim = rowDot(data, dim, i, best);
      if (sim > (nearestPicked[i] as number)) nearestPicked[i] = sim;
    }
  }
  return out;
}
