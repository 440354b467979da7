/**
 * Measuring `Probable mislabels` on known errors: a seeded copy of labelled examples with a share
 * of their labels flipped to another label (`flipLabels`), and the precision and recall of the
 * top N of a ranking against the flipped set (`scoreRanking`). Pure functions; the user's data is
 * never touched (the copy is new objects).
 */
import { deriveSeed, mulberry32, randomInt, shuffleInPlace } from '../random';

export interface FlipResult<T> {
  /** A copy of the items, the flipped ones carrying another label. */
  items: T[];
  /** Ids of the flipped items. */
  flipped: Set<string>;
}

/**
 * Flips round(fraction * n) items (seeded choice) from their first label to a random other label
 * of `labels` (the rest of their labels kept). Items are copied; with fewer than two labels none
 * is flipped.
 */
export function flipLabels<T extends { id: string; labelIds: readonly string[] }>(
  items: readonly T[],
  labels: readonly string[],
  fraction: number,
  seed: number,
): FlipResult<T> {
  const copy = items.map((item) => ({ ...item, labelIds: [...item.labelIds] }));
  const flipped = new Set<string>();
  if (labels.length < 2) return { items: copy, flipped };
  const rng = mulberry32(deriveSeed(seed, 1));
  const positions = shuffleInPlace(
    copy.map((_, i) => i),
    rng,
  ).slice(0, Math.round(Math.max(0, Math.min(1, fraction)) * copy.length));
  for (const position of positions) {
    const item = copy[position];
    const from = item?.labelIds[0];
    if (!item || from === undefined) continue;
    const others = labels.filter((l) => !item.labelIds.includes(l));
    const to = others[randomInt(rng, others.length)];
    if (to === undefined) continue;
    item.labelIds = [to, ...item.labelIds.slice(1)];
    flipped.add(item.id);
  }
  return { items: copy, flipped };
}

export interface RankingScore {
  /** N: the number of flipped items. */
  n: number;
  /** Flipped items among the top N. */
  hits: number;
  /** hits / N (a ranking that lists fewer than N counts the missing places as misses). */
  precision: number;
  /** hits / flipped. */
  recall: number;
}

/** Precision and recall of the top N of `ranked` ids, N = the number of flipped ids. */
export function scoreRanking(
  ranked: readonly string[],
  flipped: ReadonlySet<string>,
): RankingScore {
  const n = flipped.size;
  const hits = ranked.slice(0, n).filter((id) => flipped.has(id)).length;
  return { n, hits, precision: n === 0 ? 0 : hits / n, recall: n === 0 ? 0 : hits / n };
}
