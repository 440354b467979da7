/**
 * Seeded, stratified data splits: an 80/20-style hold-out and k-fold cross-validation.
 *
 * Guarantees (tested in tests/unit/eval-split.test.ts):
 * - The same items (in any order) and seed give the same split: items are ordered by id inside each
 *   stratum before the seeded shuffle, so the order the database returns them in does not matter.
 * - Stratified: single-label items are grouped by their class; multi-label items by their rarest
 *   label (fewest items overall, ties to the lower index); items without labels form one group.
 * - Hold-out: every group with >= 2 items puts at least one in validation and keeps at least one in
 *   training; a group of 1 trains. The validation total is round(n * fraction), or more when the
 *   one-per-group minimum needs it.
 * - k-fold: the validation parts of the folds partition the items (each item is validated exactly
 *   once), each fold trains on everything else, fold sizes differ by at most one, and each group is
 *   dealt round-robin across the folds.
 * - No id is ever in both the training and the validation part of a split. Duplicate ids throw.
 */
import { deriveSeed, mulberry32, shuffleInPlace } from '../random';

export interface SplitItem {
  id: string;
  /** Class index (single-label: exactly one) or label indices (multi-label). */
  labels: readonly number[];
}

export interface Fold {
  train: string[];
  validation: string[];
}

export interface HoldoutOptions {
  /** Share of items in validation, 0 <= f < 1 (default 0.2). 0 means everything trains. */
  validationFraction?: number;
  seed?: number;
}

export interface KFoldOptions {
  /** Number of folds (default 5); clamped to the number of items. */
  folds?: number;
  seed?: number;
}

export const DEFAULT_VALIDATION_FRACTION = 0.2;
export const DEFAULT_FOLDS = 5;

/**
 * Seed of the app's evaluation splits (the training report's hold-out, Compare heads folds, auto-k
 * folds, the KNN export's quantisation hold-out): the same data always gives the same numbers.
 */
export const EVAL_SEED = 1234;

const NO_LABEL = -1;

/** The stratum of each item: its class (single-label) or its globally rarest label (multi-label). */
export function strataOf(items: readonly SplitItem[]): number[] {
  const counts = new Map<number, number>();
  for (const item of items) {
    for (const label of new Set(item.labels)) counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  return items.map((item) => {
    let best = NO_LABEL;
    let bestCount = Infinity;
    for (const label of item.labels) {
      const c = counts.get(label) ?? 0;
      if (c < bestCount || (c === bestCount && label < best)) {
        best = label;
        bestCount = c;
      }
    }
    return best;
  });
}

/** Groups ids by stratum: strata in ascending order, ids sorted then shuffled with one seeded stream. */
function shuffledGroups(items: readonly SplitItem[], seed: number): string[][] {
  const seen = new Set<string>();
  for (const item of items) {
    if (seen.has(item.id)) throw new Error(`split: duplicate id "${item.id}"`);
    seen.add(item.id);
  }
  const strata = strataOf(items);
  const byStratum = new Map<number, string[]>();
  items.forEach((item, i) => {
    const s = strata[i] ?? NO_LABEL;
    const group = byStratum.get(s);
    if (group) group.push(item.id);
    else byStratum.set(s, [item.id]);
  });
  const rng = mulberry32(deriveSeed(seed, 0));
  return [...byStratum.keys()]
    .sort((a, b) => a - b)
    .map((s) => {
      const ids = (byStratum.get(s) ?? []).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      return shuffleInPlace(ids, rng);
    });
}

/** Stratified, seeded hold-out split (default 80/20). */
export function holdoutSplit(items: readonly SplitItem[], options: HoldoutOptions = {}): Fold {
  const fraction = options.validationFraction ?? DEFAULT_VALIDATION_FRACTION;
  if (!(fraction >= 0 && fraction < 1))
    throw new Error(`split: validationFraction ${fraction} not in [0, 1)`);
  const groups = shuffledGroups(items, options.seed ?? 0);
  if (fraction === 0) return { train: groups.flat(), validation: [] };

  // Per group: floor(share), at least 1 and at most n - 1 when n >= 2; then the remaining slots up
  // to round(total * fraction) go to the largest fractional remainders (ties: earlier group).
  const target = Math.round(items.length * fraction);
  const take = groups.map((g) => {
    if (g.length < 2) return 0;
    return Math.min(g.length - 1, Math.max(1, Math.floor(g.length * fraction)));
  });
  let remaining = target - take.reduce((a, b) => a + b, 0);
  const order = groups
    .map((g, i) => ({ i, rem: g.length * fraction - Math.floor(g.length * fraction) }))
    .sort((a, b) => b.rem - a.rem || a.i - b.i);
  while (remaining > 0) {
    let progressed = false;
    for (const { i } of order) {
      if (remaining <= 0) break;
      const g = groups[i] ?? [];
      const t = take[i] ?? 0;
      if (g.length >= 2 && t < g.length - 1) {
        take[i] = t + 1;
        remaining--;
        progressed = true;
      }
    }
    if (!progressed) break;
  }

  const train: string[] = [];
  const validation: string[] = [];
  groups.forEach((g, i) => {
    const t = take[i] ?? 0;
    validation.push(...g.slice(0, t));
    train.push(...g.slice(t));
  });
  return { train, validation };
}

/** Stratified, seeded k-fold split (default 5 folds). Throws with fewer than 2 items. */
export function kFoldSplit(items: readonly SplitItem[], options: KFoldOptions = {}): Fold[] {
  const requested = options.folds ?? DEFAULT_FOLDS;
  if (!Number.isInteger(requested) || requested < 2)
    throw new Error(`split: folds must be an integer >= 2`);
  if (items.length < 2) throw new Error('split: k-fold needs at least 2 items');
  const k = Math.min(requested, items.length);
  const groups = shuffledGroups(items, options.seed ?? 0);

  const validation: string[][] = Array.from({ length: k }, () => []);
  let position = 0;
  for (const group of groups) {
    for (const id of group) {
      validation[position % k]?.push(id);
      position++;
    }
  }
  return validation.map((val, f) => ({
    train: validation.flatMap((other, g) => (g === f ? [] : other)),
    validation: val,
  }));
}
