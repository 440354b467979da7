/**
 * The small vocabulary every core area shares: what a project predicts (one label per image or
 * several) and how a non-square image becomes a backbone's square input. Defined once here; the
 * storage schema, heads, evaluation and export formats all use these names.
 */

/** Single-label projects give each image at most one label; multi-label projects any number. */
export type ProjectKind = 'single-label' | 'multi-label';
export const PROJECT_KINDS: readonly ProjectKind[] = ['single-label', 'multi-label'];

/** How a non-square image becomes the backbone's square input. */
export type AspectMode = 'centre-crop' | 'letterbox' | 'squash';
export const ASPECT_MODES: readonly AspectMode[] = ['centre-crop', 'letterbox', 'squash'];

export function isProjectKind(value: unknown): value is ProjectKind {
  return (PROJECT_KINDS as readonly unknown[]).includes(value);
}

export function isAspectMode(value: unknown): value is AspectMode {
  return (ASPECT_MODES as readonly unknown[]).includes(value);
}
