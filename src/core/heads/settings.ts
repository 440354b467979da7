/**
 * A project's prediction settings for both heads (stored in `ProjectSettings.heads`): KNN's k and
 * vote weighting, the optional "unknown" thresholds, and test-time flip. `normaliseHeadSettings`
 * is the one reader: whatever is stored (older versions, archives, hand edits) comes out valid.
 */

export interface HeadSettings {
  /** KNN neighbours: fixed, or 'auto' (cross-validated on the project's own data). */
  k: 'auto' | number;
  /** KNN votes weighted by cosine similarity. */
  weighted: boolean;
  /** KNN says unknown when the nearest example's cosine similarity is below this; null = never. */
  knnUnknownBelow: number | null;
  /** The dense head says unknown when its top probability is below this; null = never. */
  denseUnknownBelow: number | null;
  /** Try panel: embed each image and its mirror and predict on their mean (test-time flip). */
  flipTta: boolean;
}

export const DEFAULT_HEAD_SETTINGS: Readonly<HeadSettings> = {
  k: 'auto',
  weighted: false,
  knnUnknownBelow: null,
  denseUnknownBelow: null,
  flipTta: false,
};

/** Largest fixed k a project may store. */
export const MAX_FIXED_K = 100;

/** Valid head settings from any stored value; invalid or missing fields take their defaults. */
export function normaliseHeadSettings(stored: unknown): HeadSettings {
  const s = (typeof stored === 'object' && stored !== null ? stored : {}) as Partial<
    Record<keyof HeadSettings, unknown>
  >;
  const share = (value: unknown): number | null =>
    typeof value === 'number' && value > 0 && value < 1 ? value : null;
  const k = s.k;
  return {
    k: typeof k === 'number' && Number.isInteger(k) && k >= 1 && k <= MAX_FIXED_K ? k : 'auto',
    weighted: s.weighted === true,
    knnUnknownBelow: share(s.knnUnknownBelow),
    denseUnknownBelow: share(s.denseUnknownBelow),
    flipTta: s.flipTta === true,
  };
}
