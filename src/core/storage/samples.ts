/** Samples aggregate: batched inserts with duplicate detection, relabelling, cascade deletes. */
import type { IDBPTransaction } from 'idb';
import type { LoupeDatabase } from './db';
import type { LoupeDB, SampleMeta, SampleRecord, ThumbnailRecord } from './schema';

export interface NewSample {
  sample: SampleRecord;
  thumbnail: ThumbnailRecord;
}

export interface InsertResult {
  inserted: SampleMeta[];
  /** Samples skipped because the project already holds the same bytes (same SHA-256). */
  duplicates: { name: string; existingId: string }[];
}

/**
 * Inserts a batch of samples and their thumbnails in one transaction. A sample whose SHA-256 is
 * already in the project (or earlier in the same batch) is skipped and reported.
 */
export async function insertSamples(db: LoupeDatabase, batch: NewSample[]): Promise<InsertResult> {
  const tx = db.transaction(['samples', 'thumbnails'], 'readwrite');
  const byHash = tx.objectStore('samples').index('byProjectHash');
  const seen = new Map<string, string>();
  const result: InsertResult = { inserted: [], duplicates: [] };
  const existing = await Promise.all(
    batch.map(({ sample }) => byHash.getKey([sample.projectId, sample.sha256])),
  );
  const writes: Promise<unknown>[] = [];
  try {
    batch.forEach(({ sample, thumbnail }, i) => {
      const key = `${sample.projectId}/${sample.sha256}`;
      const dup = existing[i] ?? seen.get(key);
      if (dup) {
        result.duplicates.push({ name: sample.name, existingId: dup });
        return;
      }
      seen.set(key, sample.id);
      writes.push(tx.objectStore('samples').add(sample));
      writes.push(tx.objectStore('thumbnails').put(thumbnail));
      result.inserted.push(toMeta(sample));
    });
    await Promise.all(writes);
  } catch (error) {
    // A write that throws synchronously (e.g. DataCloneError when the browser refuses Blobs) does
    // not abort the transaction by itself: abort it so the chunk is rolled back as a whole.
    tx.done.catch(() => undefined);
    void Promise.allSettled(writes);
    try {
      tx.abort();
    } catch {
      // Already aborted by a failed request.
    }
    throw error;
  }
  await tx.done;
  return result;
}

export function toMeta(sample: SampleRecord): SampleMeta {
  const { blob: _blob, ...meta } = sample;
  return meta;
}

/** Metadata of every sample in the project, without touching blob bytes. */
export async function listSampleMeta(db: LoupeDatabase, projectId: string): Promise<SampleMeta[]> {
  const samples = await db.getAllFromIndex('samples', 'byProject', projectId);
  return samples
    .map(toMeta)
    .sort((a, b) => a.createdAt - b.createdAt || a.name.localeCompare(b.name));
}

export async function getSample(db: LoupeDatabase, id: string): Promise<SampleRecord | undefined> {
  return db.get('samples', id);
}

export async function getThumbnail(
  db: LoupeDatabase,
  sampleId: string,
): Promise<ThumbnailRecord | undefined> {
  return db.get('thumbnails', sampleId);
}

export async function hasHash(
  db: LoupeDatabase,
  projectId: string,
  sha256: string,
): Promise<boolean> {
  return (await db.getKeyFromIndex('samples', 'byProjectHash', [projectId, sha256])) !== undefined;
}

/** Sets the label list of each sample (replacing what it had), in one transaction. */
export async function setSampleLabels(
  db: LoupeDatabase,
  sampleIds: string[],
  labelIds: string[],
): Promise<void> {
  const tx = db.transaction('samples', 'readwrite');
  const samples = await Promise.all(sampleIds.map((id) => tx.store.get(id)));
  await Promise.all(
    samples
      .filter((s): s is SampleRecord => !!s)
      .map((s) => tx.store.put({ ...s, labelIds: [...new Set(labelIds)] })),
  );
  await tx.done;
}

type CascadeTx = IDBPTransaction<
  LoupeDB,
  ('samples' | 'thumbnails' | 'embeddings' | 'labels')[],
  'readwrite'
>;

/** Deletes samples with their thumbnails and embeddings inside a caller's transaction. */
export async function deleteSamplesInTx(tx: CascadeTx, sampleIds: string[]): Promise<void> {
  const embeddingKeys = await Promise.all(
    sampleIds.map((id) => tx.objectStore('embeddings').index('bySample').getAllKeys(id)),
  );
  await Promise.all([
    ...sampleIds.map((id) => tx.objectStore('samples').delete(id)),
    ...sampleIds.map((id) => tx.objectStore('thumbnails').delete(id)),
    ...embeddingKeys.flat().map((key) => tx.objectStore('embeddings').delete(key)),
  ]);
}

export async function deleteSamples(db: LoupeDatabase, sampleIds: string[]): Promise<void> {
  const tx = db.transaction(['samples', 'thumbnails', 'embeddings', 'labels'], 'readwrite');
  await deleteSamplesInTx(tx, sampleIds);
  await tx.done;
}
