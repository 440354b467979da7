/** Embeddings aggregate: cached vectors keyed by (sample, backbone + preprocessing version). */
import type { LoupeDatabase } from './db';
import type { EmbeddingRecord } from './schema';

/** Writes a batch of embeddings in one transaction (5x faster than one transaction each). */
export async function putEmbeddings(db: LoupeDatabase, records: EmbeddingRecord[]): Promise<void> {
  if (records.length === 0) return;
  const tx = db.transaction('embeddings', 'readwrite');
  await Promise.all(records.map((r) => tx.store.put(r)));
  await tx.done;
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
  const keys = await db.getAllKeysFromIndex('embeddings', 'byProjectKey', [projectId, embeddingKey]);
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
export async function pruneEmbeddings(db: LoupeDatabase, projectId: string, keepKey: string): Promise<number> {
  const tx = db.transaction('embeddings', 'readwrite');
  const keys = await tx.store
    .index('byProjectKey')
    .getAllKeys(IDBKeyRange.bound([projectId, ''], [projectId, '\uffff']));
  const stale = keys.filter(([, key]) => key !== keepKey);
  await Promise.all(stale.map((k) => tx.store.delete(k)));
  await tx.done;
  return stale.length;
}
