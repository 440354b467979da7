/**
 * Training-time augmentation views of an image, as pure geometry: which views exist (the image,
 * its mirror, seeded random resized crops), the suffix their cached embeddings are keyed under,
 * and the source rectangle of each crop. Crops are seeded by the image's content hash, so the same
 * photo always gets the same crops (and the same trained model) in any project.
 */
import { deriveSeed, mulberry32 } from '../random';

/** One way of looking at an image: mirrored or not, whole (`crop` 0) or its crop number `crop`. */
export interface AugmentView {
  flip: boolean;
  crop: number;
}

export const ORIGINAL_VIEW: Readonly<AugmentView> = { flip: false, crop: 0 };

/** Suffix of a view's embedding key: '' for the original, e.g. '~flip', '~crop2', '~crop1~flip'. */
export function viewSuffix(view: AugmentView): string {
  return `${view.crop > 0 ? `~crop${view.crop}` : ''}${view.flip ? '~flip' : ''}`;
}

/**
 * Extra training copies (their embeddings computed once and cached): `flips` adds each training
 * image's mirror, `crops` that many seeded random resized crops of it.
 */
export interface Augmentation {
  flips: boolean;
  crops: number;
}

export const NO_AUGMENTATION: Readonly<Augmentation> = { flips: false, crops: 0 };

/** Random crops per image when the crop option is on (each is one more embedding pass). */
export const CROPS_PER_IMAGE = 2;

/** The augmentation views `augmentation` trains on, besides the originals. */
export function augmentationViews(augmentation: Augmentation): AugmentView[] {
  const views: AugmentView[] = augmentation.flips ? [{ flip: true, crop: 0 }] : [];
  for (let crop = 1; crop <= augmentation.crops; crop++) views.push({ flip: false, crop });
  return views;
}

/** A rectangle of the source image, in source pixels (integers). */
export interface SourceRegion {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Share of the image area a random crop keeps, and its aspect-ratio range (width / height). */
export const CROP_AREA: readonly [number, number] = [0.35, 1];
export const CROP_RATIO: readonly [number, number] = [3 / 4, 4 / 3];

/** A 32-bit seed from a content hash (hex) and a crop number. */
export function cropSeed(sha256: string, crop: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < sha256.length; i++) h = Math.imul(h ^ sha256.charCodeAt(i), 0x01000193);
  return deriveSeed(h >>> 0, crop);
}

/**
 * A random resized crop (as in Inception / torchvision): a rectangle covering `CROP_AREA` of the
 * image with an aspect ratio drawn log-uniformly from `CROP_RATIO`, at a random position. Up to
 * 10 draws; if none fits, the largest centred rectangle within the ratio range.
 */
export function randomResizedCrop(width: number, height: number, seed: number): SourceRegion {
  if (!(width > 0 && height > 0)) throw new Error(`randomResizedCrop: bad size ${width}x${height}`);
  const rng = mulberry32(seed);
  const area = width * height;
  const [minRatio, maxRatio] = CROP_RATIO;
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * (CROP_AREA[0] + rng() * (CROP_AREA[1] - CROP_AREA[0]));
    const ratio = Math.exp(Math.log(minRatio) + rng() * (Math.log(maxRatio) - Math.log(minRatio)));
    const w = Math.round(Math.sqrt(target * ratio));
    const h = Math.round(Math.sqrt(target / ratio));
    if (w >= 1 && h >= 1 && w <= width && h <= height) {
      const x = Math.floor(rng() * (width - w + 1));
      const y = Math.floor(rng() * (height - h + 1));
      return { x, y, w, h };
    }
  }
  const ratio = Math.min(Math.max(width / height, minRatio), maxRatio);
  const w = Math.max(1, Math.min(width, Math.round(height * ratio)));
  const h = Math.max(1, Math.min(height, Math.round(w / ratio)));
  return { x: Math.floor((width - w) / 2), y: Math.floor((height - h) / 2), w, h };
}
