/**
 * Batch preparation for the embedding pipeline: read stored samples and turn each into the
 * backbone's input pixels with `imageToPixels` (decode with EXIF orientation, draw, close), as the
 * original or an augmentation view (a seeded random crop, mirrored or not). Free of TF.js, so the
 * preprocessing worker can run it without loading tfjs.
 */
import type { AugmentView } from '../core/backbone/augment';
import { imageToPixels, type Pixels } from '../core/backbone/draw';
import type { AspectMode } from '../core/backbone/types';
import type { LoupeDatabase } from '../core/storage/db';

export interface Decoded {
  ids: string[];
  labelIds: string[][];
  pixels: Pixels[];
  failed: { sampleId: string; reason: string }[];
}

/**
 * Reads and preprocesses a batch of stored samples (in this thread), in parallel. A sample that
 * cannot be read or decoded is reported in `failed`; a deleted one is skipped.
 */
export async function decodeBatch(
  db: LoupeDatabase,
  ids: string[],
  size: number,
  mode: AspectMode,
  view: AugmentView,
): Promise<Decoded> {
  const out: Decoded = { ids: [], labelIds: [], pixels: [], failed: [] };
  const prepared = await Promise.all(
    ids.map(async (id) => {
      try {
        const sample = await db.get('samples', id);
        if (!sample) return null; // deleted meanwhile
        const pixels = await imageToPixels(sample.blob, size, mode, {
          ...view,
          sha256: sample.sha256,
        });
        return { id, labelIds: sample.labelIds, pixels };
      } catch (error) {
        out.failed.push({
          sampleId: id,
          reason: error instanceof Error ? error.message : String(error),
        });
        return null;
      }
    }),
  );
  for (const p of prepared) {
    if (!p) continue;
    out.pixels.push(p.pixels);
    out.ids.push(p.id);
    out.labelIds.push(p.labelIds);
  }
  return out;
}
