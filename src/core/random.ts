/**
 * Seeded randomness for everything that must be reproducible (splits, batch order, dropout seeds):
 * a mulberry32 generator and Fisher-Yates shuffles driven by it. Not for security.
 */

/** A generator of uniform floats in [0, 1). */
export type Rng = () => number;

/** mulberry32: a tiny 32-bit PRNG; the same seed always yields the same sequence. */
export function mulberry32(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Integer in [0, n) from `rng`. */
export function randomInt(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

/** A 32-bit unsigned integer from `rng` (e.g. to seed a tfjs op or a child generator). */
export function randomSeed(rng: Rng): number {
  return Math.floor(rng() * 4294967296) >>> 0;
}

/** Shuffles `items` in place (Fisher-Yates) and returns it. */
export function shuffleInPlace<T>(items: T[], rng: Rng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(rng, i + 1);
    const tmp = items[i] as T;
    items[i] = items[j] as T;
    items[j] = tmp;
  }
  return items;
}

/** A shuffled copy of `items`; `seed` may be a number or an existing generator. */
export function seededShuffle<T>(items: readonly T[], seed: number | Rng): T[] {
  const rng = typeof seed === 'number' ? mulberry32(seed) : seed;
  return shuffleInPlace(items.slice(), rng);
}

/** Derives a well-mixed child seed from a seed and a stream number (e.g. one per fold). */
export function deriveSeed(seed: number, stream: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Standard normal sample (Box-Muller) from `rng`. */
export function randomNormal(rng: Rng): number {
  const u = 1 - rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
