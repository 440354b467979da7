/**
 * Decoding and thumbnailing of stored image bytes, in a browser page or worker: createImageBitmap
 * applies EXIF orientation; the thumbnail is a WebP (JPEG fallback) whose longest side is <= 256 px.
 * Asked for a model input, the same decoded bitmap is also drawn into the backbone's square input
 * (`drawToPixels`, exactly what the embedding pipeline would draw from the stored bytes), so an
 * imported image is decoded once for its checks, thumbnail and embedding.
 * Node tests inject their own `ImageDecoder` instead.
 */
import { drawToPixels } from '../backbone/draw';
import type { AspectMode } from '../kinds';

/** The backbone input an import can prepare along with the thumbnail. */
export interface ModelInputTarget {
  size: number;
  mode: AspectMode;
}

export interface DecodedImage {
  width: number;
  height: number;
  thumbnail: Blob;
  thumbnailWidth: number;
  thumbnailHeight: number;
  /** The model input (RGBA, `size` x `size`), when one was asked for. */
  modelInput?: ImageData;
}

export interface ImageDecoder {
  decode(blob: Blob, modelInput?: ModelInputTarget): Promise<DecodedImage>;
}

export const THUMBNAIL_MAX_SIDE = 256;

/**
 * An image already thumbnail-sized, in a still format every browser shows, and small in bytes is
 * its own thumbnail: no canvas, no encode (the `<img>` applies EXIF orientation as the decode did).
 */
const OWN_THUMBNAIL_TYPES = new Set(['image/jpeg', 'image/png', 'image/webp']);
const OWN_THUMBNAIL_MAX_BYTES = 48 * 1024;

export function isOwnThumbnail(blob: Blob, width: number, height: number): boolean {
  const [tw, th] = thumbnailSize(width, height);
  return (
    tw === width &&
    th === height &&
    OWN_THUMBNAIL_TYPES.has(blob.type) &&
    blob.size <= OWN_THUMBNAIL_MAX_BYTES
  );
}

export function thumbnailSize(
  width: number,
  height: number,
  maxSide = THUMBNAIL_MAX_SIDE,
): [number, number] {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  return [Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale))];
}

export const browserDecoder: ImageDecoder = {
  async decode(blob, target) {
    const bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image' });
    try {
      const { width, height } = bitmap;
      const [tw, th] = thumbnailSize(width, height);
      // Before the thumbnail's resize: the model input is drawn from the full-size bitmap.
      const modelInput = target ? drawToPixels(bitmap, target.size, target.mode) : undefined;
      if (isOwnThumbnail(blob, width, height)) {
        return {
          width,
          height,
          thumbnail: blob,
          thumbnailWidth: width,
          thumbnailHeight: height,
          ...(modelInput ? { modelInput } : {}),
        };
      }
      // Let the decoder downscale with its high-quality filter, then encode the small bitmap.
      const small =
        tw === width && th === height
          ? bitmap
          : await createImageBitmap(bitmap, {
              resizeWidth: tw,
              resizeHeight: th,
              resizeQuality: 'high',
            });
      try {
        const canvas = new OffscreenCanvas(tw, th);
        // A CPU-backed canvas: on software GPUs an accelerated one makes every encode a slow readback.
        const ctx = canvas.getContext('2d', { willReadFrequently: true });
        if (!ctx) throw new Error('2D canvas unavailable');
        ctx.drawImage(small, 0, 0);
        let thumbnail = await canvas.convertToBlob({ type: 'image/webp', quality: 0.82 });
        if (thumbnail.type !== 'image/webp') {
          thumbnail = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.85 });
        }
        return {
          width,
          height,
          thumbnail,
          thumbnailWidth: tw,
          thumbnailHeight: th,
          ...(modelInput ? { modelInput } : {}),
        };
      } finally {
        if (small !== bitmap) small.close();
      }
    } finally {
      bitmap.close();
    }
  },
};
