/**
 * The one image preprocessing pipeline of Loupe, used for embedding, evaluation, the try panel and
 * export parity: EXIF-corrected bitmap -> aspect mode -> high-quality resize to the backbone's
 * square input -> scale 0..255 to the backbone's input range. Every caller goes through two steps,
 * so their order and the closing of bitmaps live in one place:
 * - `imageToPixels` (draw.ts, free of TF.js): decode, draw, close the bitmap (the preprocessing
 *   worker runs this step for the embedding pipeline);
 * - `pixelsToTensor`: stack RGBA images into one batch in the input range.
 * `preprocess` runs both for images in this thread. The pure parts (`aspectRect`,
 * `pixelsToTensor`) are testable in Node; decoding and drawing need a browser or worker.
 */
import * as tf from '@tensorflow/tfjs';
import type { AspectMode } from '../kinds';
import {
  ASPECT_MODES,
  DEFAULT_ASPECT_MODE,
  PREPROCESS_VERSION,
  imageToPixels,
  type Pixels,
} from './draw';

export * from './draw';

/**
 * Stacks same-sized RGBA images into a float32 `[n, height, width, 3]` tensor, alpha dropped,
 * each channel value v mapped to `v / 255 * (hi - lo) + lo`.
 */
export function pixelsToTensor(
  pixels: readonly Pixels[],
  inputRange: [number, number],
): tf.Tensor4D {
  const first = pixels[0];
  if (!first) throw new Error('pixelsToTensor: no images');
  const { width, height } = first;
  const [lo, hi] = inputRange;
  const scale = (hi - lo) / 255;
  const plane = width * height;
  const out = new Float32Array(pixels.length * plane * 3);
  let o = 0;
  for (const p of pixels) {
    if (p.width !== width || p.height !== height) {
      throw new Error(`pixelsToTensor: mixed sizes ${width}x${height} and ${p.width}x${p.height}`);
    }
    if (p.data.length !== plane * 4) {
      throw new Error(`pixelsToTensor: expected ${plane * 4} RGBA bytes, got ${p.data.length}`);
    }
    const d = p.data;
    for (let i = 0; i < d.length; i += 4) {
      out[o++] = (d[i] as number) * scale + lo;
      out[o++] = (d[i + 1] as number) * scale + lo;
      out[o++] = (d[i + 2] as number) * scale + lo;
    }
  }
  return tf.tensor4d(out, [pixels.length, height, width, 3], 'float32');
}

/** What `preprocess` needs to know of a backbone. */
export interface PreprocessTarget {
  inputSize: number;
  inputRange: [number, number];
}

/**
 * The whole pipeline: each image (Blob, or a bitmap this call takes over and closes) through
 * `imageToPixels`, then all of them stacked into one batch in the backbone's input range.
 * Browser/worker only.
 */
export async function preprocess(
  sources: readonly (Blob | ImageBitmap)[],
  target: PreprocessTarget,
  mode: AspectMode = DEFAULT_ASPECT_MODE,
): Promise<tf.Tensor4D> {
  const pixels = await Promise.all(sources.map((s) => imageToPixels(s, target.inputSize, mode)));
  return pixelsToTensor(pixels, target.inputRange);
}

const MODE_TEXT: Record<AspectMode, string> = {
  'centre-crop':
    'centre-crop: the largest centred square of the image is kept (offsets rounded down), the rest cropped away',
  letterbox:
    'letterbox: the whole image is scaled so its longer side fits, centred, and the remaining bars are filled with black (0, 0, 0)',
  squash: 'squash: the whole image is stretched to the square, ignoring its aspect ratio',
};

/** The exact preprocessing, in words, for the README and exported model metadata. */
export function describePreprocessing(
  opts: Partial<PreprocessTarget> & { aspectMode?: AspectMode } = {},
): string {
  const size = opts.inputSize !== undefined ? `${opts.inputSize}x${opts.inputSize}` : 'N x N';
  const range = opts.inputRange ? `[${opts.inputRange[0]}, ${opts.inputRange[1]}]` : '[lo, hi]';
  const modes = opts.aspectMode ? [opts.aspectMode] : ASPECT_MODES;
  return [
    `Loupe preprocessing v${PREPROCESS_VERSION}:`,
    `1. decode the file with its EXIF orientation applied (createImageBitmap, imageOrientation 'from-image'), sRGB;`,
    `2. aspect: ${modes.map((m) => MODE_TEXT[m]).join('; or ')};`,
    `3. resize to ${size} pixels: while the kept region is at least twice the target size it is halved (2x2 averaging), then drawn once with canvas smoothing 'high' when shrinking, plain bilinear ('low', the browser default that Teachable Machine's loader also uses) when enlarging; transparent pixels are composited over black;`,
    `4. take R, G, B (alpha dropped) and map each value v in 0..255 to v / 255 * (hi - lo) + lo with input range ${range}, as float32 NHWC.`,
  ].join('\n');
}
