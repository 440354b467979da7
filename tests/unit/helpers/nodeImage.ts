/**
 * Node stand-in for `drawToPixels` (OffscreenCanvas is browser-only): the same `aspectRect`
 * geometry, the same halving-then-final-resize strategy, with `tf.image.resizeBilinear` as the
 * resampler, and transparency composited over black. Returns RGBA pixels for `pixelsToTensor`.
 */
import * as tf from '@tensorflow/tfjs';
import { aspectRect, type AspectMode } from '../../../src/core/backbone';
import type { RgbaImage } from './png';

export function nodeDrawToPixels(img: RgbaImage, size: number, mode: AspectMode): RgbaImage {
  const r = aspectRect(img.width, img.height, size, mode);
  const rgba = tf.tidy(() => {
    const all = tf.tensor3d(Float32Array.from(img.data), [img.height, img.width, 4]);
    const alpha = tf.slice(all, [0, 0, 3], [-1, -1, 1]).div(255);
    const rgb = tf.mul(tf.slice(all, [0, 0, 0], [-1, -1, 3]), alpha); // over black
    let region: tf.Tensor3D = tf.slice(rgb as tf.Tensor3D, [r.sy, r.sx, 0], [r.sh, r.sw, 3]);
    let [h, w] = [r.sh, r.sw];
    while (w >= 2 * r.dw && h >= 2 * r.dh) {
      [h, w] = [Math.ceil(h / 2), Math.ceil(w / 2)];
      region = tf.image.resizeBilinear(region, [h, w], false, true);
    }
    const resized = tf.image.resizeBilinear(region, [r.dh, r.dw], false, true);
    const padded = tf.pad(resized, [
      [r.dy, size - r.dy - r.dh],
      [r.dx, size - r.dx - r.dw],
      [0, 0],
    ]);
    const opaque = tf.fill([size, size, 1], 255);
    return tf.concat([padded.round().clipByValue(0, 255), opaque], 2);
  });
  const data = new Uint8ClampedArray(rgba.dataSync());
  rgba.dispose();
  return { data, width: size, height: size };
}
