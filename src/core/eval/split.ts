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
 * - Items sharing a `group` (copies of one image) always land on the same side of a split, so a
 *   copy in training never answers for its twin in validation. A group moves as one unit: its
 *   stratum is that of its first id, hold-out sizes and k-fold sizes are met as closely as whole
 *   groups allow (k-fold deals each group to the fold with the fewest items so far; a hold-out
 *   validates at least one group of every class that holds 2 groups or more), and when all the
 *   items form fewer than 2 units (groups and ungrouped ids) the groups are ignored. Without
 *   groups every split is exactly as above.
 */
import { deriveSeed, mulberry32, shuffleInPlace } from '../random';

export interface SplitItem {
  id: string;
  /** Class index (single-label: exactly one) or label indices (multi-label). */
  labels: readonly number[];
  /** Items with the same group are never split apart (e.g. `splitGroups`: copies of one image). */
  group?: string;
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

/** Ids that always travel together: one image's copies (a single id when it has none). */
type Unit = string[];

const byId = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const size = (units: readonly Unit[]): number => units.reduce((n, u) => n + u.length, 0);

/**
 * Units by stratum: strata in ascending order; inside each, units sorted by first id, then
 * shuffled with one seeded stream. A unit's stratum is that of its first id. With fewer than two
 * units in all, groups are ignored (every id its own unit).
 */
function shuffledUnits(items: readonly SplitItem[], seed: number): Unit[][] {
  const seen = new Set<string>();
  for (const item of items) {
    if (seen.has(item.id)) throw new Error(`split: duplicate id "${item.id}"`);
    seen.add(item.id);
  }
  const strata = strataOf(items);
  const stratumOf = new Map(items.map((item, i) => [item.id, strata[i] ?? NO_LABEL]));
  const grouped = new Map<string, string[]>();
  let units: Unit[] = [];
  for (const item of items) {
    if (item.group === undefined) {
      units.push([item.id]);
      continue;
    }
    const members = grouped.get(item.group);
    if (members) members.push(item.id);
    else {
      const unit = [item.id];
      grouped.set(item.group, unit);
      units.push(unit);
    }
  }
  if (units.length < 2) units = items.map((item) => [item.id]);
  for (const unit of units) unit.sort(byId);
  const byStratum = new Map<number, Unit[]>();
  for (const unit of units) {
    const s = stratumOf.get(unit[0] ?? '') ?? NO_LABEL;
    const list = byStratum.get(s);
    if (list) list.push(unit);
    else byStratum.set(s, [unit]);
  }
  const rng = mulberry32(deriveSeed(seed, 0));
  return [...byStratum.keys()]
    .sort((a, b) => a - b)
    .map((s) => {
      const list = (byStratum.get(s) ?? []).sort((a, b) => byId(a[0] ?? '', b[0] ?? ''));
      return shuffleInPlace(list, rng);
    });
}

/** Stratified, seeded hold-out split (default 80/20). */
export function holdoutSplit(items: readonly SplitItem[], options: HoldoutOptions = {}): Fold {
  const fraction = options.validationFraction ?? DEFAULT_VALIDATION_FRACTION;
  if (!(fraction >= 0 && fraction < 1))
    throw new Error(`split: validationFraction ${fraction} not in [0, 1)`);
  const strata = shuffledUnits(items, options.seed ?? 0);
  if (fraction === 0) return { train: strata.flat(2), validation: [] };

  // Per stratum of n items: floor(share), at least 1 and at most n - 1 when it holds 2 units or
  // more; then the remaining slots up to round(total * fraction) go to the largest fractional
  // remainders (ties: earlier stratum).
  const target = Math.round(items.length * fraction);
  const groups = strata.map((units) => ({ length: size(units), units: units.length }));
  const take = groups.map((g) => {
    if (g.units < 2) return 0;
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
      const g = groups[i] ?? { length: 0, units: 0 };
      const t = take[i] ?? 0;
      if (g.units >= 2 && t < g.length - 1) {
        take[i] = t + 1;
        remaining--;
        progressed = true;
      }
    }
    if (!progressed) break;
  }

  // Whole units go to validation, in order, while the stratum's share is not reached and the unit
  // overshoots it by no more than it fills (a unit that would skips to training); at least one
  // unit trains. Single ids take exactly the share.
  // A stratum owed validation items that got none this way (all its units too big) gives its
  // smallest unit (the first of them), so every class of 2 units or more is validated.
  const train: string[] = [];
  const validation: string[] = [];
  strata.forEach((units, i) => {
    const t = take[i] ?? 0;
    let held = 0;
    let trained = 0;
    const validated = units.map((unit, u) => {
      const need = t - held;
      const lastChance = u === units.length - 1 && trained === 0;
      if (need > 0 && unit.length <= 2 * need && !lastChance) {
        held += unit.length;
        return true;
      }
      trained++;
      return false;
    });
    if (t > 0 && held === 0 && units.length >= 2) {
      let smallest = 0;
      units.forEach((unit, u) => {
        if (unit.length < (units[smallest]?.length ?? Infinity)) smallest = u;
      });
      validated[smallest] = true;
    }
    units.forEach((unit, u) => (validated[u] ? validation : train).push(...unit));
  });
  return { train, validation };
}

/** Stratified, seeded k-fold split (default 5 folds). Throws with fewer than 2 items. */
export function kFoldSplit(items: readonly SplitItem[], options: KFoldOptions = {}): Fold[] {
  const requested = options.folds ?? DEFAULT_FOLDS;
  if (!Number.isInteger(requested) || requested < 2)
    throw new Error(`split: folds must be an integer >= 2`);
  if (items.length < 2) throw new Error('split: k-fold needs at least 2 items');
  const strata = shuffledUnits(items, options.seed ?? 0);
  const k = Math.min(
    requested,
    strata.reduce((n, units) => n + units.length, 0),
  );

  // Each unit goes to the fold with the fewest items so far (ties: the lowest index): with single
  // ids this is a round-robin deal.
  const validation: string[][] = Array.from({ length: k }, () => []);
  for (const units of strata) {
    for (const unit of units) {
      let fold = 0;
      for (let f = 1; f < k; f++) {
        if ((validation[f]?.length ?? 0) < (validation[fold]?.length ?? 0)) fold = f;
      }
      validation[fold]?.push(...unit);
    }
  }
  return validation.map((val, f) => ({
    train: validation.flatMap((other, g) => (g === f ? [] : other)),
    validation: val,
  }));
}
