/**
 * Samples aggregate: batched inserts with duplicate detection (and, on request, dropping label ids
 * whose label no longer exists), relabelling, cascade deletes.
 */
import type { IDBPTransaction } from 'idb';
import { abortTransaction, type LoupeDatabase } from './db';
import type { LoupeDB, SampleMeta, SampleRecord, ThumbnailRecord } from './schema';

export interface NewSample {
  sample: SampleRecord;
  thumbnail: ThumbnailRecord;
}

export interface InsertResult {
  inserted: SampleMeta[];
  /** Samples skipped because the project already holds the same bytes (same SHA-256). */
  duplicates: { name: string; existingId: string }[];
  /** Multi-label merge: existing samples that gained the dropped labels (duplicates still counted). */
  relabelled: SampleMeta[];
  /** With `dropMissingLabels`: label ids that have no label in the project, and what they cost. */
  droppedLabels: DroppedLabel[];
}

/** A label id a batch named that has no label in the project (deleted meanwhile, or trashed). */
export interface DroppedLabel {
  labelId: string;
  /** Stored samples that would have carried it. */
  count: number;
  /** Of those, the ones left with no label at all (stored unlabelled). */
  unlabelled: number;
}

export interface InsertOptions {
  /** A duplicate dropped with labels adds those labels to the stored sample (multi-label projects). */
  mergeDuplicateLabels?: boolean;
  /**
   * Keep only label ids that name a label of the sample's project, read in the insert's own
   * transaction (a label deleted by another tab is never written into a sample); a sample left
   * with none is stored unlabelled. What was dropped is reported in `droppedLabels`. Opt-in: the
   * import paths pass it; fixtures that store samples under made-up label ids do not.
   */
  dropMissingLabels?: boolean;
}

/**
 * Inserts a batch of samples and their thumbnails in one transaction. A sample whose SHA-256 is
 * already in the project (or earlier in the same batch) is skipped and reported.
 */
export async function insertSamples(
  db: LoupeDatabase,
  batch: NewSample[],
  options: InsertOptions = {},
): Promise<InsertResult> {
  // One scope whether or not labels are checked (`labels` is only read).
  const tx = db.transaction(['samples', 'thumbnails', 'labels'], 'readwrite');
  const byHash = tx.objectStore('samples').index('byProjectHash');
  const seen = new Map<string, string>();
  const result: InsertResult = { inserted: [], duplicates: [], relabelled: [], droppedLabels: [] };
  const extraLabels = new Map<string, Set<string>>();
  const named = options.dropMissingLabels
    ? [...new Set(batch.flatMap(({ sample }) => sample.labelIds))]
    : [];
  const [existing, labels] = await Promise.all([
    Promise.all(batch.map(({ sample }) => byHash.getKey([sample.projectId, sample.sha256]))),
    Promise.all(named.map((id) => tx.objectStore('labels').get(id))),
  ]);
  const projectOf = new Map(labels.flatMap((l) => (l ? [[l.id, l.projectId] as const] : [])));
  const dropped = new Map<string, DroppedLabel>();
  /** The sample with only its live label ids (as given when unchecked). */
  const live = (sample: SampleRecord, stored: boolean): SampleRecord => {
    if (!options.dropMissingLabels) return sample;
    const labelIds = sample.labelIds.filter((l) => projectOf.get(l) === sample.projectId);
    if (labelIds.length === sample.labelIds.length) return sample;
    if (stored) {
      for (const labelId of sample.labelIds.filter((l) => !labelIds.includes(l))) {
        const entry = dropped.get(labelId) ?? { labelId, count: 0, unlabelled: 0 };
        entry.count += 1;
        if (labelIds.length === 0) entry.unlabelled += 1;
        dropped.set(labelId, entry);
      }
    }
    return { ...sample, labelIds };
  };
  const writes: Promise<unknown>[] = [];
  try {
    batch.forEach(({ sample: given, thumbnail }, i) => {
      const key = `${given.projectId}/${given.sha256}`;
      const dup = existing[i] ?? seen.get(key);
      const sample = live(given, !dup);
      if (dup) {
        result.duplicates.push({ name: sample.name, existingId: dup });
        if (options.mergeDuplicateLabels && sample.labelIds.length > 0) {
          const set = extraLabels.get(dup) ?? new Set<string>();
          sample.labelIds.forEach((l) => set.add(l));
          extraLabels.set(dup, set);
        }
        return;
      }
      seen.set(key, sample.id);
      writes.push(tx.objectStore('samples').add(sample));
      writes.push(tx.objectStore('thumbnails').put(thumbnail));
      result.inserted.push(toMeta(sample));
    });
    await Promise.all(writes);
    for (const [id, extra] of extraLabels) {
      const stored = await tx.objectStore('samples').get(id);
      if (!stored) continue;
      const merged = [...new Set([...stored.labelIds, ...extra])];
      if (merged.length === stored.labelIds.length) continue;
      const next = { ...stored, labelIds: merged };
      await tx.objectStore('samples').put(next);
      result.relabelled.push(toMeta(next));
    }
  } catch (error) {
    // The chunk is rolled back as a whole.
    abortTransaction(tx, writes);
    throw error;
  }
  await tx.done;
  result.droppedLabels = [...dropped.values()];
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

/** Several thumbnails in one read transaction, in the order of `sampleIds` (undefined: none). */
export async function getThumbnails(
  db: LoupeDatabase,
  sampleIds: readonly string[],
): Promise<(ThumbnailRecord | undefined)[]> {
  const tx = db.transaction('thumbnails', 'readonly');
  const records = await Promise.all(sampleIds.map((id) => tx.store.get(id)));
  await tx.done;
  return records;
}

export async function hasHash(
  db: LoupeDatabase,
  projectId: string,
  sha256: string,
): Promise<boolean> {
  return (await db.getKeyFromIndex('samples', 'byProjectHash', [projectId, sha256])) !== undefined;
}

/** Adds (or removes) one label on each sample, keeping its other labels (multi-label projects). */
export async function toggleSampleLabel(
  db: LoupeDatabase,
  sampleIds: string[],
  labelId: string,
  on: boolean,
): Promise<SampleMeta[]> {
  const tx = db.transaction('samples', 'readwrite');
  const samples = await Promise.all(sampleIds.map((id) => tx.store.get(id)));
  const updated: SampleMeta[] = [];
  for (const s of samples) {
    if (!s) continue;
    const labelIds = on
      ? [...new Set([...s.labelIds, labelId])]
      : s.labelIds.filter((l) => l !== labelId);
    await tx.store.put({ ...s, labelIds });
    updated.push(toMeta({ ...s, labelIds }));
  }
  await tx.done;
  return updated;
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

/** Sets each sample's own label list (samples that no longer exist are skipped), in one transaction. */
export async function setEachSampleLabels(
  db: LoupeDatabase,
  labelsOf: ReadonlyMap<string, readonly string[]>,
): Promise<void> {
  const tx = db.transaction('samples', 'readwrite');
  const samples = await Promise.all([...labelsOf.keys()].map((id) => tx.store.get(id)));
  await Promise.all(
    samples
      .filter((s): s is SampleRecord => !!s)
      .map((s) => tx.store.put({ ...s, labelIds: [...new Set(labelsOf.get(s.id) ?? [])] })),
  );
  await tx.done;
}
