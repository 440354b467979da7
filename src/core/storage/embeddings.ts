/** Embeddings aggregate: cached vectors keyed by (sample, backbone + preprocessing version). */
import type { LoupeDatabase } from './db';
import type { EmbeddingRecord } from './schema';

/**
 * Writes a batch of embeddings in one transaction (far faster than one transaction each). Records
 * whose sample was deleted meanwhile are dropped, so no embedding outlives its sample.
 */
export async function putEmbeddings(
  db: LoupeDatabase,
  records: EmbeddingRecord[],
): Promise<number> {
  if (records.length === 0) return 0;
  const tx = db.transaction(['samples', 'embeddings'], 'readwrite');
  const alive = await Promise.all(records.map((r) => tx.objectStore('samples').getKey(r.sampleId)));
  const kept = records.filter((_, i) => alive[i] !== undefined);
  await Promise.all(kept.map((r) => tx.objectStore('embeddings').put(r)));
  await tx.done;
  return kept.length;
}

export async function listEmbeddings(
  db: LoupeDatabase,
  projectId: string,
  embeddingKey: string,
): Promise<EmbeddingRecord[]> {
  return db.getAllFromIndex('embeddings', 'byProjectKey', [projectId, embeddingKey]);
}

/** Sample ids that already have an embedding under `embeddingKey`. */
export async function embeddedSampleIds(
  db: LoupeDatabase,
  projectId: string,
  embeddingKey: string,
): Promise<Set<string>> {
  const keys = await db.getAllKeysFromIndex('embeddings', 'byProjectKey', [
    projectId,
    embeddingKey,
  ]);
  return new Set(keys.map(([sampleId]) => sampleId));
}

export async function countEmbeddings(
  db: LoupeDatabase,
  projectId: string,
  embeddingKey: string,
): Promise<number> {
  return db.countFromIndex('embeddings', 'byProjectKey', [projectId, embeddingKey]);
}

/** Drops every embedding of the project not computed under `keepKey` (after a backbone switch). */
export async function pruneEmbeddings(
  db: LoupeDatabase,
  projectId: string,
  keepKey: string,
): Promise<number> {
  const tx = db.transaction('embeddings', 'readwrite');
  const keys = await tx.store
    .index('byProjectKey')
    .getAllKeys(IDBKeyRange.bound([projectId, ''], [projectId, '\uffff']));
  const stale = keys.filter(([, key]) => key !== keepKey);
  await Promise.all(stale.map((k) => tx.store.delete(k)));
  await tx.done;
  return stale.length;
}
