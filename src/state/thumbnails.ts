/**
 * Thumbnail object URLs, read from IndexedDB on demand and cached per sample. URLs are revoked when
 * their sample is deleted or the cache is cleared (project closed), so blobs do not leak.
 */
import type { LoupeDatabase } from '../core/storage/db';
import { getThumbnail } from '../core/storage/samples';

const urls = new Map<string, string>();
const pending = new Map<string, Promise<string | null>>();

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
    p = (async () => {
      const thumb = await getThumbnail(await db(), sampleId);
      pending.delete(sampleId);
      if (!thumb) return null;
      const url = URL.createObjectURL(thumb.blob);
      urls.set(sampleId, url);
      return url;
    })();
    pending.set(sampleId, p);
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
