/**
 * Writing a restored archive without holding it whole: `StagedRestore.begin` takes the project's
 * metadata, `write` stores each batch of records (read by core/formats/restoreStream.ts) in its
 * own transaction under new ids, all under a project id that no project record has yet, so
 * nothing of it is visible; `finish` makes it visible in one transaction (adds the project record,
 * or swaps the staged records in for a replaced project's); `discard` deletes it.
 *
 * A staging left behind (a reload or a crash mid-restore) is what `dropStaleStaging` removes:
 * child records whose project does not exist. Nothing else leaves such records (deleting and
 * trashing a project move or delete its records in the transaction that removes the project), so
 * the caller only has to say which stagings are still being written (`held`).
 */
import { abortTransaction, type LoupeDatabase } from './db';
import { cleanName } from './projects';
import {
  emptyProjectToReplace,
  IdMap,
  remapModel,
  remapSettings,
  type ProjectContents,
  type RestoreOptions,
} from './restoreProject';
import {
  ALL_STORES,
  type BackboneFilesRecord,
  type LabelRecord,
  type ProjectRecord,
  type SampleRecord,
} from './schema';
import { newId } from '../ids';

/** One batch of records under the archive's ids (a `ContentBatch` of restoreStream.ts). */
export type StagedBatch = Pick<ProjectContents, 'models' | 'samples' | 'thumbnails' | 'embeddings'>;

/** What a staging needs before its first batch: the project, its labels and its image ids. */
export interface StagingStart {
  project: ProjectRecord;
  labels: readonly LabelRecord[];
  sampleIds: readonly string[];
  /** Written with the project when it is made visible (shared by key; put if absent). */
  backboneFiles?: readonly BackboneFilesRecord[];
}

/** Child stores indexed `byProject` (embeddings are found through `byProjectKey`). */
const BY_PROJECT = ['labels', 'samples', 'thumbnails', 'models'] as const;
const CHILD_STORES = [...BY_PROJECT, 'embeddings'] as const;
/** Records deleted per transaction when a staging is removed. */
const DELETE_CHUNK = 500;

const embeddingRange = (projectId: string): IDBKeyRange =>
  IDBKeyRange.bound([projectId, ''], [projectId, '\uffff']);

export class StagedRestore {
  private finished = false;

  private constructor(
    private readonly db: LoupeDatabase,
    /** The project id every staged record carries (the new project's id in 'new' mode). */
    readonly id: string,
    private readonly start: StagingStart,
    private readonly ids: IdMap,
  ) {}

  /** Writes the labels under a fresh staging id; `id` may be given (e.g. to hold a lock first). */
  static async begin(
    db: LoupeDatabase,
    start: StagingStart,
    id: string = newId(),
  ): Promise<StagedRestore> {
    const ids = new IdMap([
      [start.project.id, id],
      ...start.labels.map((l): [string, string] => [l.id, newId()]),
      ...start.sampleIds.map((s): [string, string] => [s, newId()]),
    ]);
    const staged = new StagedRestore(db, id, start, ids);
    const tx = db.transaction('labels', 'readwrite');
    const writes = start.labels.map((l) =>
      tx.store.add({ ...l, id: ids.record(l.id, 'A label'), projectId: id }),
    );
    try {
      await Promise.all(writes);
      await tx.done;
    } catch (error) {
      abortTransaction(tx, writes);
      throw error;
    }
    return staged;
  }

  /** Stores one batch in one transaction, still invisible. */
  async write(batch: StagedBatch): Promise<void> {
    const { ids, id: projectId } = this;
    const tx = this.db.transaction(['samples', 'thumbnails', 'embeddings', 'models'], 'readwrite');
    const writes: Promise<unknown>[] = [];
    try {
      for (const s of batch.samples) {
        const sample: SampleRecord = {
          ...s,
          id: ids.record(s.id, 'An image'),
          projectId,
          labelIds: s.labelIds.map((l) => ids.record(l, 'An image')),
        };
        writes.push(tx.objectStore('samples').add(sample));
      }
      for (const t of batch.thumbnails) {
        const sampleId = ids.record(t.sampleId, 'A thumbnail');
        writes.push(tx.objectStore('thumbnails').add({ ...t, sampleId, projectId }));
      }
      for (const e of batch.embeddings) {
        const sampleId = ids.record(e.sampleId, 'An embedding');
        writes.push(tx.objectStore('embeddings').add({ ...e, sampleId, projectId }));
      }
      for (const m of batch.models) {
        ids.define(m.id);
        writes.push(tx.objectStore('models').add(remapModel(m, projectId, ids)));
      }
      await Promise.all(writes);
      await tx.done;
    } catch (error) {
      abortTransaction(tx, writes);
      throw error;
    }
  }

  /**
   * Makes the staged project visible in one transaction: in 'new' mode by adding its project
   * record; in 'replace' mode by deleting the replaced project's records and moving the staged
   * ones under its id (kept). On failure nothing changes and the staging stays for another try.
   */
  async finish(options: RestoreOptions): Promise<ProjectRecord> {
    if (this.finished) throw new Error('This restore was already finished.');
    const now = options.now?.() ?? Date.now();
    const projectId = options.mode === 'replace' ? options.replaceProjectId : this.id;
    const src = this.start.project;
    const project: ProjectRecord = {
      ...src,
      id: projectId,
      name: cleanName(options.name ?? src.name, src.name),
      updatedAt: now,
      settings: remapSettings(src.settings, this.ids),
    };
    const tx = this.db.transaction(ALL_STORES, 'readwrite');
    const writes: Promise<unknown>[] = [];
    try {
      if (options.mode === 'replace') {
        await emptyProjectToReplace(tx, projectId);
        for (const store of BY_PROJECT) {
          let cursor = await tx.objectStore(store).index('byProject').openCursor(this.id);
          while (cursor) {
            await cursor.update({ ...cursor.value, projectId });
            cursor = await cursor.continue();
          }
        }
        let cursor = await tx
          .objectStore('embeddings')
          .index('byProjectKey')
          .openCursor(embeddingRange(this.id));
        while (cursor) {
          await cursor.update({ ...cursor.value, projectId });
          cursor = await cursor.continue();
        }
        writes.push(tx.objectStore('projects').put(project));
      } else {
        writes.push(tx.objectStore('projects').add(project));
      }
      for (const f of this.start.backboneFiles ?? [])
        writes.push(tx.objectStore('backboneFiles').put(f));
      await Promise.all(writes);
      await tx.done;
    } catch (error) {
      abortTransaction(tx, writes);
      throw error;
    }
    this.finished = true;
    return project;
  }

  /** Deletes everything staged (nothing once `finish` succeeded). */
  async discard(): Promise<void> {
    if (!this.finished) await deleteStaging(this.db, this.id);
  }
}

/**
 * Deletes the child records of `projectId`, a chunk per transaction, unless a project record of
 * that id exists (then it is a project, not a staging, and nothing is deleted).
 */
export async function deleteStaging(db: LoupeDatabase, projectId: string): Promise<void> {
  for (;;) {
    const tx = db.transaction(['projects', ...CHILD_STORES], 'readwrite');
    if (await tx.objectStore('projects').getKey(projectId)) {
      await tx.done;
      return;
    }
    let deleted = 0;
    for (const store of BY_PROJECT) {
      let cursor = await tx.objectStore(store).index('byProject').openCursor(projectId);
      while (cursor && deleted < DELETE_CHUNK) {
        await cursor.delete();
        deleted++;
        cursor = await cursor.continue();
      }
    }
    let cursor = await tx
      .objectStore('embeddings')
      .index('byProjectKey')
      .openCursor(embeddingRange(projectId));
    while (cursor && deleted < DELETE_CHUNK) {
      await cursor.delete();
      deleted++;
      cursor = await cursor.continue();
    }
    await tx.done;
    if (deleted < DELETE_CHUNK) return;
  }
}

/**
 * Removes stagings nobody is writing any more: child records whose project does not exist, except
 * those `held` names (asked after the scan, so a staging begun meanwhile is either unseen or
 * held). Returns the staging ids removed.
 */
export async function dropStaleStaging(
  db: LoupeDatabase,
  held: () => Promise<ReadonlySet<string>>,
): Promise<string[]> {
  const projects = new Set(await db.getAllKeys('projects'));
  const orphans = new Set<string>();
  for (const store of BY_PROJECT) {
    const tx = db.transaction(store);
    let cursor = await tx.objectStore(store).index('byProject').openKeyCursor(null, 'nextunique');
    while (cursor) {
      if (!projects.has(cursor.key)) orphans.add(cursor.key);
      cursor = await cursor.continue();
    }
  }
  const tx = db.transaction('embeddings');
  let cursor = await tx.store.index('byProjectKey').openKeyCursor(null, 'nextunique');
  while (cursor) {
    const [projectId] = cursor.key;
    if (!projects.has(projectId)) orphans.add(projectId);
    cursor = await cursor.continue();
  }
  if (orphans.size === 0) return [];
  const live = await held();
  const stale = [...orphans].filter((id) => !live.has(id));
  for (const id of stale) await deleteStaging(db, id);
  return stale;
}
