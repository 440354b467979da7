/**
 * Trash aggregate: deleting images, a label or a project moves their records (ids unchanged) out of
 * the live stores into one `trashBundles` record, listed by a small `trash` entry, in the same
 * transaction; `restoreTrash` writes them back in one transaction; `emptyTrash` is the only
 * permanent delete. Live stores never hold deleted records, so no query has to filter them out.
 */
import type { IDBPTransaction } from 'idb';
import { newId } from '../ids';
import type { LoupeDatabase } from './db';
import type { DeleteLabelMode } from './labels';
import { sameName } from './projects';
import type {
  EmbeddingRecord,
  LoupeDB,
  SampleRecord,
  StoreName,
  ThumbnailRecord,
  TrashBundle,
  TrashEntry,
  TrashKind,
} from './schema';
import { ALL_STORES } from './schema';

/** The stores a move to or from the trash touches: all but the shared model files. */
const TRASH_TX_STORES: StoreName[] = ALL_STORES.filter((store) => store !== 'backboneFiles');

type TrashTx = IDBPTransaction<LoupeDB, StoreName[], 'readwrite'>;

export class TrashRestoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrashRestoreError';
  }
}

/** Approximate stored bytes of a record: Blobs, typed arrays and strings, walked recursively. */
export function recordBytes(value: unknown, depth = 0): number {
  if (value instanceof Blob) return value.size;
  if (ArrayBuffer.isView(value)) return value.byteLength;
  if (value instanceof ArrayBuffer) return value.byteLength;
  if (typeof value === 'string') return value.length;
  if (typeof value === 'number') return 8;
  if (depth > 8 || value === null || typeof value !== 'object') return 0;
  let total = 0;
  for (const item of Array.isArray(value) ? value : Object.values(value))
    total += recordBytes(item, depth + 1);
  return total;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Records of some samples with their thumbnails and embeddings (all embedding keys). */
async function readSamples(
  tx: TrashTx,
  sampleIds: readonly string[],
): Promise<Pick<TrashBundle, 'samples' | 'thumbnails' | 'embeddings'>> {
  const samples = (
    await Promise.all(sampleIds.map((id) => tx.objectStore('samples').get(id)))
  ).filter((s): s is SampleRecord => !!s);
  const thumbnails = (
    await Promise.all(samples.map((s) => tx.objectStore('thumbnails').get(s.id)))
  ).filter((t): t is ThumbnailRecord => !!t);
  const embeddings = (
    await Promise.all(
      samples.map((s) => tx.objectStore('embeddings').index('bySample').getAll(s.id)),
    )
  ).flat();
  return { samples, thumbnails, embeddings };
}

function deleteSamplesIn(tx: TrashTx, bundle: Pick<TrashBundle, 'samples' | 'embeddings'>) {
  return [
    ...bundle.samples.map((s) => tx.objectStore('samples').delete(s.id)),
    ...bundle.samples.map((s) => tx.objectStore('thumbnails').delete(s.id)),
    ...bundle.embeddings.map((e) =>
      tx.objectStore('embeddings').delete([e.sampleId, e.embeddingKey]),
    ),
  ];
}

/** Writes the entry and its bundle; returns the entry. */
async function store(
  tx: TrashTx,
  kind: TrashKind,
  name: string,
  bundle: Omit<TrashBundle, 'id'>,
): Promise<TrashEntry> {
  const id = newId();
  const entry: TrashEntry = {
    id,
    projectId: bundle.projectId,
    kind,
    name,
    deletedAt: Date.now(),
    imageCount: bundle.samples.length,
    labelCount: bundle.labels.length,
    byteSize: recordBytes([
      bundle.samples.map((s) => s.blob),
      bundle.thumbnails.map((t) => t.blob),
      bundle.embeddings.map((e) => e.vector),
      bundle.models,
    ]),
  };
  await Promise.all([
    tx.objectStore('trash').add(entry),
    tx.objectStore('trashBundles').add({ ...bundle, id }),
  ]);
  return entry;
}

/** Moves samples (with thumbnails and embeddings) to the trash; null when none exists any more. */
export async function trashSamples(
  db: LoupeDatabase,
  sampleIds: readonly string[],
): Promise<TrashEntry | null> {
  const tx = db.transaction(TRASH_TX_STORES, 'readwrite');
  const records = await readSamples(tx, sampleIds);
  const first = records.samples[0];
  if (!first) {
    await tx.done;
    return null;
  }
  const name = records.samples.length === 1 ? first.name : plural(records.samples.length, 'image');
  const [entry] = await Promise.all([
    store(tx, 'images', name, { projectId: first.projectId, labels: [], models: [], ...records }),
    ...deleteSamplesIn(tx, records),
  ]);
  await tx.done;
  return entry;
}

/**
 * Moves a label to the trash. With 'delete-images' its images (and what hangs off them) go too;
 * with 'move-to-inbox' they only lose the label, and restoring gives it back to them. Null when
 * the label no longer exists.
 */
export async function trashLabel(
  db: LoupeDatabase,
  labelId: string,
  mode: DeleteLabelMode,
): Promise<TrashEntry | null> {
  const tx = db.transaction(TRASH_TX_STORES, 'readwrite');
  const label = await tx.objectStore('labels').get(labelId);
  if (!label) {
    // Already deleted (e.g. a second click): nothing to move, as deleting it again did nothing.
    await tx.done;
    return null;
  }
  const writes: Promise<unknown>[] = [tx.objectStore('labels').delete(labelId)];
  let bundle: Omit<TrashBundle, 'id'>;
  if (mode === 'delete-images') {
    const ids = await tx.objectStore('samples').index('byLabel').getAllKeys(labelId);
    const records = await readSamples(tx, ids);
    bundle = { projectId: label.projectId, labels: [label], models: [], ...records };
    writes.push(...deleteSamplesIn(tx, records));
  } else {
    const samples = await tx.objectStore('samples').index('byLabel').getAll(labelId);
    for (const s of samples)
      writes.push(
        tx.objectStore('samples').put({ ...s, labelIds: s.labelIds.filter((l) => l !== labelId) }),
      );
    bundle = {
      projectId: label.projectId,
      labels: [label],
      samples: [],
      thumbnails: [],
      embeddings: [],
      models: [],
      unlabelledIds: samples.map((s) => s.id),
    };
  }
  const [entry] = await Promise.all([store(tx, 'label', label.name, bundle), ...writes]);
  await tx.done;
  return entry;
}

/** Moves a project with everything that hangs off it to the trash (the project list's trash). */
export async function trashProject(db: LoupeDatabase, projectId: string): Promise<TrashEntry> {
  const tx = db.transaction(TRASH_TX_STORES, 'readwrite');
  const project = await tx.objectStore('projects').get(projectId);
  if (!project) throw new Error(`Project ${projectId} no longer exists. Reload the project list.`);
  const [labels, samples, thumbnails, models, embeddings, outOfFold] = await Promise.all([
    tx.objectStore('labels').index('byProject').getAll(projectId),
    tx.objectStore('samples').index('byProject').getAll(projectId),
    tx.objectStore('thumbnails').index('byProject').getAll(projectId),
    tx.objectStore('models').index('byProject').getAll(projectId),
    tx
      .objectStore('embeddings')
      .index('byProjectKey')
      .getAll(IDBKeyRange.bound([projectId, ''], [projectId, '\uffff'])),
    tx.objectStore('outOfFold').get(projectId),
  ]);
  const bundle: Omit<TrashBundle, 'id'> = {
    projectId,
    project,
    labels,
    samples,
    thumbnails,
    embeddings,
    models,
    ...(outOfFold ? { outOfFold } : {}),
  };
  const [entry] = await Promise.all([
    store(tx, 'project', project.name, bundle),
    tx.objectStore('projects').delete(projectId),
    ...labels.map((l) => tx.objectStore('labels').delete(l.id)),
    ...models.map((m) => tx.objectStore('models').delete(m.id)),
    tx.objectStore('outOfFold').delete(projectId),
    ...deleteSamplesIn(tx, { samples, embeddings }),
  ]);
  await tx.done;
  return entry;
}

const newestFirst = (a: TrashEntry, b: TrashEntry): number => b.deletedAt - a.deletedAt;

/** Deleted images and labels of one project, newest first. */
export async function listTrash(db: LoupeDatabase, projectId: string): Promise<TrashEntry[]> {
  const entries = await db.getAllFromIndex('trash', 'byProject', projectId);
  return entries.filter((e) => e.kind !== 'project').sort(newestFirst);
}

/** Deleted projects, newest first. */
export async function listProjectTrash(db: LoupeDatabase): Promise<TrashEntry[]> {
  const entries = await db.getAll('trash');
  return entries.filter((e) => e.kind === 'project').sort(newestFirst);
}

/** Bytes held by the whole trash (every project's, and deleted projects). */
export async function trashBytes(db: LoupeDatabase): Promise<number> {
  return (await db.getAll('trash')).reduce((n, e) => n + e.byteSize, 0);
}

export interface RestoreOutcome {
  entry: TrashEntry;
  /** Samples written back to the live stores. */
  restoredSampleIds: string[];
  /** Samples not restored because the project holds the same bytes again. */
  skippedDuplicates: number;
}

/**
 * Writes a trash entry's records back, ids unchanged, in one transaction, and drops the entry.
 * A label whose name was taken meanwhile merges into the live label; a restored image keeps only
 * labels that exist (restored or live; one in a single-label project); an image whose bytes were
 * imported again meanwhile is left out. Item entries need their project to exist.
 */
export async function restoreTrash(db: LoupeDatabase, entryId: string): Promise<RestoreOutcome> {
  const tx = db.transaction(TRASH_TX_STORES, 'readwrite');
  const [entry, bundle] = await Promise.all([
    tx.objectStore('trash').get(entryId),
    tx.objectStore('trashBundles').get(entryId),
  ]);
  if (!entry || !bundle) throw new TrashRestoreError('That item is no longer in the trash.');
  const project = bundle.project ?? (await tx.objectStore('projects').get(entry.projectId));
  if (!project) {
    throw new TrashRestoreError('Its project is in the trash: restore the project first.');
  }
  const writes: Promise<unknown>[] = [
    tx.objectStore('trash').delete(entryId),
    tx.objectStore('trashBundles').delete(entryId),
  ];
  if (bundle.project) writes.push(tx.objectStore('projects').put(bundle.project));

  // Labels: back under their id, or merged into a live label that took the name meanwhile.
  const live = await tx.objectStore('labels').index('byProject').getAll(project.id);
  const labelIdMap = new Map<string, string>(live.map((l) => [l.id, l.id]));
  for (const label of bundle.labels) {
    const clash = live.find((l) => l.id !== label.id && sameName(l.name, label.name));
    labelIdMap.set(label.id, clash ? clash.id : label.id);
    if (!clash) writes.push(tx.objectStore('labels').put(label));
  }
  const single = project.kind !== 'multi-label';
  const keepLabels = (ids: readonly string[]): string[] => {
    const kept = [
      ...new Set(ids.map((id) => labelIdMap.get(id)).filter((id): id is string => !!id)),
    ];
    return single ? kept.slice(0, 1) : kept;
  };

  // Samples, unless the same bytes are back in the project.
  const byHash = tx.objectStore('samples').index('byProjectHash');
  const taken = await Promise.all(
    bundle.samples.map((s) => byHash.getKey([s.projectId, s.sha256])),
  );
  const restored = new Set<string>();
  bundle.samples.forEach((s, i) => {
    if (taken[i] !== undefined) return;
    restored.add(s.id);
    writes.push(tx.objectStore('samples').put({ ...s, labelIds: keepLabels(s.labelIds) }));
  });
  const thumbnails: ThumbnailRecord[] = bundle.thumbnails.filter((t) => restored.has(t.sampleId));
  const embeddings: EmbeddingRecord[] = bundle.embeddings.filter((e) => restored.has(e.sampleId));
  writes.push(...thumbnails.map((t) => tx.objectStore('thumbnails').put(t)));
  writes.push(...embeddings.map((e) => tx.objectStore('embeddings').put(e)));
  writes.push(...bundle.models.map((m) => tx.objectStore('models').put(m)));
  if (bundle.outOfFold) writes.push(tx.objectStore('outOfFold').put(bundle.outOfFold));

  // A label deleted with its images kept: the images that still exist get it back.
  const labelBack = bundle.labels[0] ? labelIdMap.get(bundle.labels[0].id) : undefined;
  if (labelBack && bundle.unlabelledIds) {
    const samples = await Promise.all(
      bundle.unlabelledIds.map((id) => tx.objectStore('samples').get(id)),
    );
    for (const s of samples) {
      if (!s || s.projectId !== project.id || s.labelIds.includes(labelBack)) continue;
      if (single && s.labelIds.length > 0) continue; // relabelled meanwhile: that choice stays
      writes.push(tx.objectStore('samples').put({ ...s, labelIds: [...s.labelIds, labelBack] }));
    }
  }
  await Promise.all(writes);
  await tx.done;
  return {
    entry,
    restoredSampleIds: [...restored],
    skippedDuplicates: bundle.samples.length - restored.size,
  };
}

/** Deletes entries and their bundles for good, in one transaction. */
async function purge(db: LoupeDatabase, entries: readonly TrashEntry[]): Promise<number> {
  const tx = db.transaction(['trash', 'trashBundles'], 'readwrite');
  await Promise.all(
    entries.flatMap((e) => [
      tx.objectStore('trash').delete(e.id),
      tx.objectStore('trashBundles').delete(e.id),
    ]),
  );
  await tx.done;
  return entries.length;
}

/**
 * Empties a trash for good: one project's deleted images and labels, or (`null`) the project
 * list's: deleted projects with whatever their own trash held. Returns the number of entries.
 */
export async function emptyTrash(db: LoupeDatabase, projectId: string | null): Promise<number> {
  if (projectId !== null) return purge(db, await listTrash(db, projectId));
  const [entries, projects] = await Promise.all([db.getAll('trash'), db.getAllKeys('projects')]);
  const live = new Set(projects);
  return purge(
    db,
    entries.filter((e) => e.kind === 'project' || !live.has(e.projectId)),
  );
}
