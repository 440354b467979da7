/**
 * Batch preparation for classifying files that are not stored: each file becomes the backbone's
 * input pixels with `imageToPixels` (the one preprocessing path), in parallel; a file that cannot
 * be decoded is reported with its reason. Free of TF.js, so the preprocessing worker runs it while
 * the engine runs the model on the previous batch.
 */
import { imageToPixels, type Pixels } from '../core/backbone/draw';
import type { AspectMode } from '../core/backbone/types';
import type { BatchFile } from './api';

export interface DecodedFiles {
  paths: string[];
  pixels: Pixels[];
  failed: { path: string; reason: string }[];
}

/** Decodes one file to input pixels (tests pass a fake: Node cannot decode). */
export type DecodeFile = (file: Blob, size: number, mode: AspectMode) => Promise<Pixels>;

export async function decodeFiles(
  files: readonly BatchFile[],
  size: number,
  mode: AspectMode,
  decode: DecodeFile = imageToPixels,
): Promise<DecodedFiles> {
  const out: DecodedFiles = { paths: [], pixels: [], failed: [] };
  const decoded = await Promise.all(
    files.map(async (f) => {
      try {
        return { path: f.path, pixels: await decode(f.file, size, mode) };
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        out.failed.push({ path: f.path, reason: reason || 'not a readable image' });
        return null;
      }
    }),
  );
  for (const d of decoded) {
    if (!d) continue;
    out.paths.push(d.path);
    out.pixels.push(d.pixels);
  }
  return out;
}
