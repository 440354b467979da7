/**
 * How much each project takes in IndexedDB, read cheaply enough for thousands of images: image
 * bytes from the samples' recorded `byteSize`, thumbnails from their Blob sizes (a Blob handle,
 * not its bytes), embeddings as count x dimension x 4 from a key-only cursor plus one vector per
 * backbone, models from the typed arrays they hold. Record overhead is not counted, so the sum is
 * a little under what the browser reports as usage.
 */
import type { LoupeDatabase } from './db';

export interface ProjectSize {
  images: number;
  thumbnails: number;
  embeddings: number;
  models: number;
  total: number;
}

const empty = (): ProjectSize => ({ images: 0, thumbnails: 0, embeddings: 0, models: 0, total: 0 });

/** Bytes of every typed array inside `value` (nested objects and arrays included). */
export function typedArrayBytes(value: unknown, seen = new Set<object>()): number {
  if (ArrayBuffer.isView(value)) return value.byteLength;
  if (typeof value !== 'object' || value === null || seen.has(value)) return 0;
  seen.add(value);
  const children: unknown[] = Array.isArray(value) ? value : Object.values(value);
  return children.reduce<number>((n, child) => n + typedArrayBytes(child, seen), 0);
}

/** Sizes by project id (projects without records are absent: they take nothing). */
export async function projectSizes(db: LoupeDatabase): Promise<Map<string, ProjectSize>> {
  const sizes = new Map<string, ProjectSize>();
  const of = (projectId: string): ProjectSize => {
    let size = sizes.get(projectId);
    if (!size) sizes.set(projectId, (size = empty()));
    return size;
  };
  const tx = db.transaction(['samples', 'thumbnails', 'embeddings', 'models'], 'readonly');
  for (let c = await tx.objectStore('samples').openCursor(); c; c = await c.continue()) {
    of(c.value.projectId).images += c.value.byteSize;
  }
  for (let c = await tx.objectStore('thumbnails').openCursor(); c; c = await c.continue()) {
    of(c.value.projectId).thumbnails += c.value.blob.size;
  }
  // Counts per [projectId, embeddingKey] without loading a single vector.
  const counts = new Map<string, { key: [string, string]; count: number }>();
  const byKey = tx.objectStore('embeddings').index('byProjectKey');
  for (let c = await byKey.openKeyCursor(); c; c = await c.continue()) {
    const [projectId, embeddingKey] = c.key;
    const id = `${projectId}\n${embeddingKey}`;
    const entry = counts.get(id) ?? { key: [projectId, embeddingKey], count: 0 };
    entry.count++;
    counts.set(id, entry);
  }
  for (const { key, count } of counts.values()) {
    const first = await byKey.get(key);
    of(key[0]).embeddings += count * (first?.vector.byteLength ?? 0);
  }
  for (let c = await tx.objectStore('models').openCursor(); c; c = await c.continue()) {
    of(c.value.projectId).models += typedArrayBytes(c.value.payload);
  }
  await tx.done;
  for (const size of sizes.values()) {
    size.total = size.images + size.thumbnails + size.embeddings + size.models;
  }
  return sizes;
}
