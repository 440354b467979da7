/**
 * Classification metrics (plain TS): single-label accuracy / per-class and macro P, R, F1 /
 * confusion matrix; multi-label per-label P, R, F1 / subset accuracy / Hamming loss / micro and
 * macro F1; and per-label threshold tuning for F1.
 *
 * Conventions:
 * - Zero divisions are defined as 0: precision of a class never predicted, recall of a class with no
 *   true items, F1 when P + R = 0, and every rate over an empty set of items.
 * - Macro averages are taken over the classes that occur in the truth or the predictions; a class
 *   absent from both (e.g. missing from one fold) has no defined score and is left out.
 * - Single-label predictions may be UNKNOWN (-1, "abstain"): that counts as wrong for accuracy,
 *   lowers the recall of the true class, counts towards no class's precision, and is tallied in
 *   `unknownByClass` (per true class) rather than in the confusion matrix.
 * - Multi-label truths and predictions are sets of label indices; duplicates are ignored.
 */

export const UNKNOWN = -1;

export interface ClassScores {
  precision: number;
  recall: number;
  f1: number;
  /** Number of items truly in this class / carrying this label. */
  support: number;
}

export interface AverageScores {
  precision: number;
  recall: number;
  f1: number;
}

export interface SingleLabelMetrics {
  kind: 'single-label';
  /** Number of items scored. */
  n: number;
  accuracy: number;
  perClass: ClassScores[];
  macro: AverageScores;
  /** confusion[t][p] = items of true class t predicted as p (rows = true, columns = predicted). */
  confusion: number[][];
  /** unknownByClass[t] = items of true class t predicted UNKNOWN. */
  unknownByClass: number[];
}

export interface MultiLabelMetrics {
  kind: 'multi-label';
  n: number;
  perLabel: ClassScores[];
  /** Share of items whose predicted label set equals the true set exactly. */
  subsetAccuracy: number;
  /** Wrong (item, label) decisions / (n * numLabels). */
  hammingLoss: number;
  /** P, R, F1 from true/false positives and false negatives pooled over all labels. */
  micro: AverageScores;
  macro: AverageScores;
}

export type Metrics = SingleLabelMetrics | MultiLabelMetrics;

export function safeDivide(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator;
}

export function f1Score(precision: number, recall: number): number {
  return safeDivide(2 * precision * recall, precision + recall);
}

function scores(tp: number, fp: number, fn: number): ClassScores {
  const precision = safeDivide(tp, tp + fp);
  const recall = safeDivide(tp, tp + fn);
  return { precision, recall, f1: f1Score(precision, recall), support: tp + fn };
}

function macroOf(perClass: readonly ClassScores[], present: readonly boolean[]): AverageScores {
  const used = perClass.filter((_, i) => present[i]);
  const mean = (pick: (s: ClassScores) => number): number =>
    safeDivide(
      used.reduce((a, s) => a + pick(s), 0),
      used.length,
    );
  return {
    precision: mean((s) => s.precision),
    recall: mean((s) => s.recall),
    f1: mean((s) => s.f1),
  };
}

function checkIndex(label: number, numClasses: number, allowUnknown: boolean): void {
  const ok =
    Number.isInteger(label) &&
    label < numClasses &&
    (label >= 0 || (allowUnknown && label === UNKNOWN));
  if (!ok) throw new Error(`metrics: label ${label} out of range for ${numClasses} classes`);
}

/** Single-label metrics from true and predicted class indices (predicted may be UNKNOWN). */
export function singleLabelMetrics(
  truth: readonly number[],
  predicted: readonly number[],
  numClasses: number,
): SingleLabelMetrics {
  if (truth.length !== predicted.length)
    throw new Error('metrics: truth and predictions differ in length');
  const confusion = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  const unknownByClass = new Array<number>(numClasses).fill(0);
  let correct = 0;
  truth.forEach((t, i) => {
    const p = predicted[i] ?? UNKNOWN;
    checkIndex(t, numClasses, false);
    checkIndex(p, numClasses, true);
    const row = confusion[t] as number[];
    if (p === UNKNOWN) unknownByClass[t] = (unknownByClass[t] ?? 0) + 1;
    else row[p] = (row[p] ?? 0) + 1;
    if (p === t) correct++;
  });

  const perClass: ClassScores[] = [];
  const present: boolean[] = [];
  for (let c = 0; c < numClasses; c++) {
    const tp = confusion[c]?.[c] ?? 0;
    const rowSum = (confusion[c] ?? []).reduce((a, b) => a + b, 0) + (unknownByClass[c] ?? 0);
    const colSum = confusion.reduce((a, row) => a + (row[c] ?? 0), 0);
    perClass.push(scores(tp, colSum - tp, rowSum - tp));
    present.push(rowSum > 0 || colSum > 0);
  }
  return {
    kind: 'single-label',
    n: truth.length,
    accuracy: safeDivide(correct, truth.length),
    perClass,
    macro: macroOf(perClass, present),
    confusion,
    unknownByClass,
  };
}

/** Multi-label metrics from true and predicted label sets. */
export function multiLabelMetrics(
  truth: readonly (readonly number[])[],
  predicted: readonly (readonly number[])[],
  numLabels: number,
): MultiLabelMetrics {
  if (truth.length !== predicted.length)
    throw new Error('metrics: truth and predictions differ in length');
  const tp = new Array<number>(numLabels).fill(0);
  const fp = new Array<number>(numLabels).fill(0);
  const fn = new Array<number>(numLabels).fill(0);
  let exact = 0;
  let wrong = 0;
  truth.forEach((tList, i) => {
    const t = new Set(tList);
    const p = new Set(predicted[i] ?? []);
    for (const l of t) checkIndex(l, numLabels, false);
    for (const l of p) checkIndex(l, numLabels, false);
    let mistakes = 0;
    for (const l of p) {
      if (t.has(l)) tp[l] = (tp[l] ?? 0) + 1;
      else {
        fp[l] = (fp[l] ?? 0) + 1;
        mistakes++;
      }
    }
    for (const l of t) {
      if (!p.has(l)) {
        fn[l] = (fn[l] ?? 0) + 1;
        mistakes++;
      }
    }
    if (mistakes === 0) exact++;
    wrong += mistakes;
  });

  const perLabel = tp.map((x, l) => scores(x, fp[l] ?? 0, fn[l] ?? 0));
  const present = tp.map((x, l) => x + (fp[l] ?? 0) + (fn[l] ?? 0) > 0);
  const sum = (a: number[]): number => a.reduce((s, v) => s + v, 0);
  const micro = scores(sum(tp), sum(fp), sum(fn));
  return {
    kind: 'multi-label',
    n: truth.length,
    perLabel,
    subsetAccuracy: safeDivide(exact, truth.length),
    hammingLoss: safeDivide(wrong, truth.length * numLabels),
    micro: { precision: micro.precision, recall: micro.recall, f1: micro.f1 },
    macro: macroOf(perLabel, present),
  };
}

/** One number to rank models by: accuracy (single-label) or micro F1 (multi-label). */
export function headlineScore(metrics: Metrics): number {
  return metrics.kind === 'single-label' ? metrics.accuracy : metrics.micro.f1;
}

/** Candidate thresholds 0.05, 0.10, ..., 0.95. */
export const DEFAULT_THRESHOLD_CANDIDATES: readonly number[] = Array.from(
  { length: 19 },
  (_, i) => Math.round((i + 1) * 5) / 100,
);

export interface TuneThresholdOptions {
  /**
   * Labels with fewer validation positives keep `fallback`: a threshold tuned on two or three
   * examples is noise (default 1: tune whenever there is a positive).
   */
  minPositives?: number;
  /** Thresholds to try (a score >= threshold predicts the label). Default 0.05 ... 0.95. */
  candidates?: readonly number[];
  /** Threshold for a label with no positive item in `truths` (its F1 is 0 everywhere). Default 0.5. */
  fallback?: number;
}

/**
 * Per-label threshold maximising that label's F1 on validation data.
 * `scores[i][l]` is item i's score for label l; `truths[i]` is item i's true label set.
 * Ties between candidates go to the one closest to 0.5, then to the lower one.
 */
export function tuneThresholds(
  scores: readonly ArrayLike<number>[],
  truths: readonly (readonly number[])[],
  options: TuneThresholdOptions = {},
): number[] {
  if (scores.length !== truths.length)
    throw new Error('tuneThresholds: scores and truths differ in length');
  const candidates = options.candidates ?? DEFAULT_THRESHOLD_CANDIDATES;
  const fallback = options.fallback ?? 0.5;
  const minPositives = Math.max(1, options.minPositives ?? 1);
  const numLabels = scores.reduce((m, s) => Math.max(m, s.length), 0);
  const truthSets = truths.map((t) => new Set(t));
  const thresholds: number[] = [];
  for (let l = 0; l < numLabels; l++) {
    const positives = truthSets.reduce((a, t) => a + (t.has(l) ? 1 : 0), 0);
    if (positives < minPositives || candidates.length === 0) {
      thresholds.push(fallback);
      continue;
    }
    let best = fallback;
    let bestF1 = -1;
    for (const c of candidates) {
      let tp = 0;
      let fp = 0;
      scores.forEach((s, i) => {
        if ((s[l] ?? 0) >= c) {
          if (truthSets[i]?.has(l)) tp++;
          else fp++;
        }
      });
      const f1 = scoresF1(tp, fp, positives - tp);
      const closer =
        Math.abs(c - 0.5) < Math.abs(best - 0.5) ||
        (Math.abs(c - 0.5) === Math.abs(best - 0.5) && c < best);
      if (f1 > bestF1 || (f1 === bestF1 && closer)) {
        best = c;
        bestF1 = f1;
      }
    }
    thresholds.push(best);
  }
  return thresholds;
}

function scoresF1(tp: number, fp: number, fn: number): number {
  return scores(tp, fp, fn).f1;
}

/** Applies per-label thresholds: the labels whose score is >= their threshold. */
export function applyThresholds(
  scores: ArrayLike<number>,
  thresholds: readonly number[],
): number[] {
  const out: number[] = [];
  for (let l = 0; l < scores.length; l++)
    if ((scores[l] ?? 0) >= (thresholds[l] ?? 0.5)) out.push(l);
  return out;
}

/** Index of the largest value (first on ties); -1 for an empty array. */
export function argmax(values: ArrayLike<number>): number {
  let best = -1;
  let bestValue = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] ?? -Infinity;
    if (v > bestValue) {
      best = i;
      bestValue = v;
    }
  }
  return best;
}
