/**
 * Opens the Loupe database (once per page or worker with `lazyDatabase`) and runs cumulative
 * upgrades. Owns nothing else: reads and writes go through one repository module per aggregate
 * (projects, labels, samples, embeddings, models).
 */
import { openDB, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb';
import { DB_NAME, DB_VERSION, type LoupeDB } from './schema';

export type LoupeDatabase = IDBPDatabase<LoupeDB>;

type UpgradeTx = IDBPTransaction<LoupeDB, StoreNames<LoupeDB>[], 'versionchange'>;

/** Version 1 stored one optional `labelId` per sample; version 2 stores `labelIds: string[]`. */
interface SampleV1 {
  labelId?: string | null;
  labelIds?: string[];
  [key: string]: unknown;
}

async function upgradeLoupeDb(db: LoupeDatabase, oldVersion: number, tx: UpgradeTx): Promise<void> {
  if (oldVersion < 1) {
    const projects = db.createObjectStore('projects', { keyPath: 'id' });
    projects.createIndex('byUpdatedAt', 'updatedAt');
    const labels = db.createObjectStore('labels', { keyPath: 'id' });
    labels.createIndex('byProject', 'projectId');
    const samples = db.createObjectStore('samples', { keyPath: 'id' });
    samples.createIndex('byProject', 'projectId');
    samples.createIndex('byProjectHash', ['projectId', 'sha256']);
    const thumbnails = db.createObjectStore('thumbnails', { keyPath: 'sampleId' });
    thumbnails.createIndex('byProject', 'projectId');
  }
  if (oldVersion < 2) {
    // Multi-label ready samples, and the stores later features write into.
    const samples = tx.objectStore('samples');
    let cursor = await samples.openCursor();
    while (cursor) {
      const old = cursor.value as unknown as SampleV1;
      if (!Array.isArray(old.labelIds)) {
        const { labelId, ...rest } = old;
        const upgraded = { ...rest, labelIds: labelId ? [labelId] : [] };
        await cursor.update(upgraded as never);
      }
      cursor = await cursor.continue();
    }
    samples.createIndex('byLabel', 'labelIds', { multiEntry: true });
    const embeddings = db.createObjectStore('embeddings', {
      keyPath: ['sampleId', 'embeddingKey'],
    });
    embeddings.createIndex('bySample', 'sampleId');
    embeddings.createIndex('byProjectKey', ['projectId', 'embeddingKey']);
    const models = db.createObjectStore('models', { keyPath: 'id' });
    models.createIndex('byProject', 'projectId');
  }
  if (oldVersion < 3) {
    // Stored out-of-fold predictions, one record per project (derived data: starts empty).
    db.createObjectStore('outOfFold', { keyPath: 'projectId' });
  }
  if (oldVersion < 4) {
    // A user's own model files, by content hash (new data: starts empty).
    db.createObjectStore('backboneFiles', { keyPath: 'key' });
  }
  if (oldVersion < 5) {
    // The trash: deleted projects, labels and images kept whole until the trash is emptied.
    const trash = db.createObjectStore('trash', { keyPath: 'id' });
    trash.createIndex('byProject', 'projectId');
    db.createObjectStore('trashBundles', { keyPath: 'id' });
  }
}

export interface OpenOptions {
  name?: string;
  /** Called when another tab upgrades the schema: this connection must close and reload. */
  onVersionChange?: () => void;
}

export async function openLoupeDb(options: OpenOptions = {}): Promise<LoupeDatabase> {
  const db = await openDB<LoupeDB>(options.name ?? DB_NAME, DB_VERSION, {
    upgrade(database, oldVersion, _newVersion, tx) {
      // Only IDB requests of this transaction are awaited inside, so it stays alive throughout.
      upgradeLoupeDb(database, oldVersion, tx).catch((error: unknown) => {
        console.error('Loupe database upgrade failed; nothing was changed.', error);
        tx.abort();
      });
    },
    blocking() {
      db.close();
      options.onVersionChange?.();
    },
  });
  return db;
}

/**
 * One shared connection per context (page or worker), opened on first use. When another tab
 * upgrades the schema the connection closes, the next call opens a fresh one, and
 * `options.onVersionChange` runs (the page reloads there).
 */
export function lazyDatabase(options: OpenOptions = {}): () => Promise<LoupeDatabase> {
  let connection: Promise<LoupeDatabase> | null = null;
  return () =>
    (connection ??= openLoupeDb({
      ...options,
      onVersionChange: () => {
        connection = null;
        options.onVersionChange?.();
      },
    }));
}

/**
 * Rolls a failed write transaction back as a whole. A request that throws synchronously (e.g.
 * DataCloneError when the browser refuses a Blob) does not abort its transaction by itself, and
 * the requests already queued must not surface as unhandled rejections.
 */
export function abortTransaction(
  tx: { done: Promise<void>; abort(): void },
  writes: readonly Promise<unknown>[],
): void {
  tx.done.catch(() => undefined);
  void Promise.allSettled(writes);
  try {
    tx.abort();
  } catch {
    // Already finished, or aborted by a failed request.
  }
}
