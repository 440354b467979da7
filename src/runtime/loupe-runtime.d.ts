/**
 * Types of `loupe-runtime.js` (the standalone runtime shipped in every export zip), so TypeScript
 * callers and tests can import it with allowJs off. Keep in step with the JS file.
 */
import type * as tfjs from '@tensorflow/tfjs';

export type AspectMode = 'centre-crop' | 'letterbox' | 'squash';

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

/** Where a srcW x srcH image lands in a size x size input (the app's `aspectRect`). */
export function aspectRect(srcW: number, srcH: number, size: number, mode: AspectMode): AspectRect;

/** Pixels with RGBA bytes, as `ImageData` holds them. */
export interface RgbaPixels {
  data: Uint8ClampedArray | Uint8Array;
  width: number;
  height: number;
}

export type ClassifierInput =
  | HTMLImageElement
  | HTMLCanvasElement
  | HTMLVideoElement
  | OffscreenCanvas
  | ImageBitmap
  | ImageData
  | RgbaPixels
  /** [h, w, 3] (or [1, h, w, 3]; extra channels ignored) with values 0..255. */
  | tfjs.Tensor3D
  | tfjs.Tensor4D;

export interface ClassifierPrediction {
  label: string;
  probability: number;
  /** Single-label: the winning label (none when KNN says unknown); multi-label: over threshold. */
  predicted: boolean;
}

export interface LoupeClassifier {
  /** Which export was found: metadata.json (dense) or knn-manifest.json (knn). */
  readonly type: 'dense' | 'knn';
  /** Label names, in the model's output order. */
  readonly labels: string[];
  readonly kind: 'single-label' | 'multi-label';
  /** Sorted by probability, most probable first; `topK` (default: all) entries. */
  classify(input: ClassifierInput, options?: { topK?: number }): Promise<ClassifierPrediction[]>;
  /** The model input for one image: [1, size, size, 3] float32 in the input range (caller disposes). */
  preprocess(input: ClassifierInput): tfjs.Tensor4D;
  /** Releases the model and the KNN rows. */
  dispose(): void;
}

export interface LoadClassifierOptions {
  /** The `@tensorflow/tfjs` namespace (npm import or the `tf` global of tf.min.js). */
  tf: typeof tfjs;
  /** Defaults to globalThis.fetch. */
  fetch?: (input: string, init?: RequestInit) => Promise<Response>;
}

/** Loads the export in folder `baseUrl` (metadata.json: dense model; else knn-manifest.json). */
export function loadClassifier(
  baseUrl: string,
  options: LoadClassifierOptions,
): Promise<LoupeClassifier>;
