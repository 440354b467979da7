/**
 * Batch preparation for the embedding pipeline: read stored samples, decode them with EXIF
 * orientation, draw them to the backbone's input, as the original or an augmentation view (a
 * seeded random crop, mirrored or not). Free of TF.js, so the preprocessing worker can run it
 * without loading tfjs.
 */
import { cropSeed, randomResizedCrop, type AugmentView } from '../core/backbone/augment';
import { decodeImage, drawToPixels, type Pixels } from '../core/backbone/draw';
import type { AspectMode } from '../core/backbone/types';
import type { LoupeDatabase } from '../core/storage/db';

export interface Decoded {
  ids: string[];
  labelIds: string[][];
  pixels: Pixels[];
  failed: { sampleId: string; reason: string }[];
}

/** Mirrors RGBA pixels left-right in place (the horizontal-flip augmentation). */
export function flipHorizontally(image: ImageData): ImageData {
  const { data, width, height } = image;
  const row = new Uint32Array(data.buffer, data.byteOffset, (data.byteLength / 4) | 0);
  for (let y = 0; y < height; y++) row.subarray(y * width, (y + 1) * width).reverse();
  return image;
}

/** Reads, decodes and preprocesses a batch of stored samples (in this thread). */
export async function decodeBatch(
  db: LoupeDatabase,
  ids: string[],
  size: number,
  mode: AspectMode,
  view: AugmentView,
): Promise<Decoded> {
  const out: Decoded = { ids: [], labelIds: [], pixels: [], failed: [] };
  const bitmaps = await Promise.all(
    ids.map(async (id) => {
      try {
        const sample = await db.get('samples', id);
        if (!sample) return null; // deleted meanwhile
        return {
          id,
          labelIds: sample.labelIds,
          sha256: sample.sha256,
          bitmap: await decodeImage(sample.blob),
        };
      } catch (error) {
        out.failed.push({
          sampleId: id,
          reason: error instanceof Error ? error.message : String(error),
        });
        return null;
      }
    }),
  );
  for (const b of bitmaps) {
    if (!b) continue;
    try {
      const region =
        view.crop > 0
          ? randomResizedCrop(b.bitmap.width, b.bitmap.height, cropSeed(b.sha256, view.crop))
          : undefined;
      const pixels = drawToPixels(b.bitmap, size, mode, region);
      out.pixels.push(view.flip ? flipHorizontally(pixels) : pixels);
      out.ids.push(b.id);
      out.labelIds.push(b.labelIds);
    } finally {
      b.bitmap.close();
    }
  }
  return out;
}
