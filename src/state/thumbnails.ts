/**
 * Thumbnail object URLs, read from IndexedDB on demand and cached per sample. URLs are revoked when
 * their sample is deleted or the cache is cleared (project closed), so blobs do not leak.
 *
 * Requests are batched: those made in the same task (a virtualised grid mounting a screenful of
 * thumbnails) are read in one transaction, and their object URLs are created in slices of at most
 * `SLICE_MS` with a yield between, so a board of thousands never blocks the main thread for one
 * long task; promises resolved in one slice settle together (one React render per slice).
 */
import type { LoupeDatabase } from '../core/storage/db';
import { getThumbnails } from '../core/storage/samples';

const urls = new Map<string, string>();
const pending = new Map<string, Promise<string | null>>();
const BATCH = 64;
const SLICE_MS = 8;

interface Request {
  sampleId: string;
  resolve: (url: string | null) => void;
  reject: (error: unknown) => void;
}
let queue: Request[] = [];
let draining = false;

const yieldToEventLoop = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

async function drain(db: () => Promise<LoupeDatabase>): Promise<void> {
  try {
    while (queue.length > 0) {
      const batch = queue.slice(0, BATCH);
      queue = queue.slice(BATCH);
      let thumbs;
      try {
        thumbs = await getThumbnails(
          await db(),
          batch.map((r) => r.sampleId),
        );
      } catch (error) {
        for (const r of batch) {
          pending.delete(r.sampleId);
          r.reject(error);
        }
        continue;
      }
      let sliceStart = performance.now();
      for (let i = 0; i < batch.length; i++) {
        const request = batch[i] as Request;
        const thumb = thumbs[i];
        pending.delete(request.sampleId);
        if (!thumb) {
          request.resolve(null);
          continue;
        }
        const url = URL.createObjectURL(thumb.blob);
        urls.set(request.sampleId, url);
        request.resolve(url);
        if (performance.now() - sliceStart > SLICE_MS) {
          await yieldToEventLoop();
          sliceStart = performance.now();
        }
      }
      await yieldToEventLoop();
    }
  } finally {
    draining = false;
  }
}

export function cachedThumbnailUrl(sampleId: string): string | undefined {
  return urls.get(sampleId);
}

export function loadThumbnailUrl(
  db: () => Promise<LoupeDatabase>,
  sampleId: string,
): Promise<string | null> {
  const hit = urls.get(sampleId);
  if (hit) return Promise.resolve(hit);
  let p = pending.get(sampleId);
  if (!p) {
    p = new Promise<string | null>((resolve, reject) => {
      queue.push({ sampleId, resolve, reject });
    });
    pending.set(sampleId, p);
    if (!draining) {
      draining = true;
      // A macrotask later, so every request of the current render lands in the first batch.
      setTimeout(() => void drain(db), 0);
    }
  }
  return p;
}

export function forgetThumbnails(sampleIds?: Iterable<string>): void {
  const ids = sampleIds ? [...sampleIds] : [...urls.keys()];
  for (const id of ids) {
    const url = urls.get(id);
    if (url) URL.revokeObjectURL(url);
    urls.delete(id);
  }
}
