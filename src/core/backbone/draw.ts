/**
 * The drawing half of Loupe's one preprocessing pipeline, free of TF.js so a preprocessing worker
 * can run it without loading tfjs: `imageToPixels` (EXIF-aware decoding, the view's crop, drawing
 * and mirror, closing the bitmap), built on aspect geometry (`aspectRect`) and the resize to the
 * backbone's square input (`drawToPixels`). `preprocess.ts` re-exports all of it.
 */
import { ASPECT_MODES, type AspectMode } from '../kinds';
import { cropSeed, randomResizedCrop, type AugmentView, type SourceRegion } from './augment';

/** Bump whenever any step below changes its output: every cached embedding is then recomputed. */
export const PREPROCESS_VERSION = 2;

export const DEFAULT_ASPECT_MODE: AspectMode = 'centre-crop';
export { ASPECT_MODES };

/** Colour letterbox bars are filled with (and transparent pixels composited over). */
export const LETTERBOX_FILL = '#000000';

/** Source rectangle (in source pixels) drawn into destination rectangle (in output pixels). */
export interface AspectRect {
  sx: number;
  sy: number;
  sw: number;
  sh: number;
  dx: number;
  dy: number;
  dw: number;
  dh: number;
}

/**
 * Where a `srcW` x `srcH` image lands in a `size` x `size` input. All values are integers.
 * - `centre-crop`: the largest centred square of the source fills the output (odd leftovers
 *   round the offset down).
 * - `letterbox`: the whole source, scaled to fit the longer side, centred; the bars are black.
 * - `squash`: the whole source stretched to the square.
 */
export function aspectRect(srcW: number, srcH: number, size: number, mode: AspectMode): AspectRect {
  if (!(srcW > 0 && srcH > 0 && size > 0)) {
    throw new Error(`aspectRect: sizes must be positive (got ${srcW}x${srcH} -> ${size})`);
  }
  switch (mode) {
    case 'centre-crop': {
      const side = Math.min(srcW, srcH);
      return {
        sx: Math.floor((srcW - side) / 2),
        sy: Math.floor((srcH - side) / 2),
        sw: side,
        sh: side,
        dx: 0,
        dy: 0,
        dw: size,
        dh: size,
      };
    }
    case 'letterbox': {
      const scale = size / Math.max(srcW, srcH);
      const dw = Math.max(1, Math.min(size, Math.round(srcW * scale)));
      const dh = Math.max(1, Math.min(size, Math.round(srcH * scale)));
      return {
        sx: 0,
        sy: 0,
        sw: srcW,
        sh: srcH,
        dx: Math.floor((size - dw) / 2),
        dy: Math.floor((size - dh) / 2),
        dw,
        dh,
      };
    }
    case 'squash':
      return { sx: 0, sy: 0, sw: srcW, sh: srcH, dx: 0, dy: 0, dw: size, dh: size };
    default: {
      const never: never = mode;
      throw new Error(`Unknown aspect mode: ${String(never)}`);
    }
  }
}

/** Decodes an image Blob with its EXIF orientation applied. Browser/worker only. */
function decodeImage(blob: Blob): Promise<ImageBitmap> {
  return createImageBitmap(blob, { imageOrientation: 'from-image', premultiplyAlpha: 'default' });
}

type Context2D = OffscreenCanvasRenderingContext2D;

function context2d(canvas: OffscreenCanvas, readBack: boolean): Context2D {
  const ctx = canvas.getContext('2d', { willReadFrequently: readBack, alpha: true });
  if (!ctx) throw new Error('OffscreenCanvas 2D context unavailable');
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  return ctx;
}

/**
 * Draws `source` into a `size` x `size` RGBA image following `mode` (see `aspectRect`).
 * Downscales of more than 2x go through successive halvings first (each a 2x2 average, so no
 * source pixel is skipped whatever the browser's 'high' smoothing does), then one final
 * high-quality draw. Transparent pixels end up composited over black. With `region`, only that
 * rectangle of the source is used (an augmentation crop), as if it were the whole image.
 * Browser/worker only.
 */
export function drawToPixels(
  source: ImageBitmap | OffscreenCanvas,
  size: number,
  mode: AspectMode = DEFAULT_ASPECT_MODE,
  region?: SourceRegion,
): ImageData {
  const area = region ?? { x: 0, y: 0, w: source.width, h: source.height };
  const r = aspectRect(area.w, area.h, size, mode);
  let src: ImageBitmap | OffscreenCanvas = source;
  let { sx, sy, sw, sh } = r;
  sx += area.x;
  sy += area.y;
  while (sw >= 2 * r.dw && sh >= 2 * r.dh) {
    const w = Math.ceil(sw / 2);
    const h = Math.ceil(sh / 2);
    const half = new OffscreenCanvas(w, h);
    context2d(half, false).drawImage(src, sx, sy, sw, sh, 0, 0, w, h);
    src = half;
    sx = 0;
    sy = 0;
    sw = w;
    sh = h;
  }
  const out = new OffscreenCanvas(size, size);
  const ctx = context2d(out, true);
  ctx.fillStyle = LETTERBOX_FILL;
  ctx.fillRect(0, 0, size, size);
  // Enlarging: plain bilinear ('low'), which is what browsers and Teachable Machine's loader use
  // by default, so exported models see the same pixels there; shrinking keeps 'high'.
  if (r.dw > sw || r.dh > sh) ctx.imageSmoothingQuality = 'low';
  ctx.drawImage(src, sx, sy, sw, sh, r.dx, r.dy, r.dw, r.dh);
  return ctx.getImageData(0, 0, size, size);
}

/** RGBA pixels, row-major, 4 bytes per pixel (the layout of `ImageData`). */
export interface Pixels {
  data: Uint8ClampedArray | Uint8Array;
  width: number;
  height: number;
}

/** Mirrors RGBA pixels left-right in place (the horizontal-flip view). */
export function flipHorizontally<T extends Pixels>(image: T): T {
  const { data, width, height } = image;
  const row = new Uint32Array(data.buffer, data.byteOffset, (data.byteLength / 4) | 0);
  for (let y = 0; y < height; y++) row.subarray(y * width, (y + 1) * width).reverse();
  return image;
}

/** An augmentation view of one image, with the content hash that seeds its crops. */
export interface ImageView extends AugmentView {
  sha256: string;
}

/**
 * Steps 1-3 of the pipeline for one image: decodes a Blob (EXIF orientation applied) unless handed
 * a bitmap, draws it into the `size` x `size` input following `mode` (with `view`: its seeded crop
 * first, its mirror after), and closes the bitmap, decoded here or handed in, whatever happens.
 * Browser/worker only.
 */
export async function imageToPixels(
  source: Blob | ImageBitmap,
  size: number,
  mode: AspectMode,
  view?: ImageView,
): Promise<ImageData> {
  const bitmap = source instanceof Blob ? await decodeImage(source) : source;
  try {
    const region =
      view && view.crop > 0
        ? randomResizedCrop(bitmap.width, bitmap.height, cropSeed(view.sha256, view.crop))
        : undefined;
    const pixels = drawToPixels(bitmap, size, mode, region);
    return view?.flip ? flipHorizontally(pixels) : pixels;
  } finally {
    bitmap.close();
  }
}
