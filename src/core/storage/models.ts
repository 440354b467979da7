/**
 * Models aggregate: saved (trained) heads of a project, typed by `headType`, current first (by
 * `modelRank`: when trained, or when the user made an older version current again), pinning and
 * re-activating a version, and pruning of old versions (every training adds a record;
 * `pruneModels` keeps the first few per head and embedding key, and every pinned one).
 */
import type { LoupeDatabase } from './db';
import type { DenseModelRecord, ModelRecord } from './schema';

export async function saveModel(db: LoupeDatabase, model: ModelRecord): Promise<void> {
  await db.put('models', model);
}

/** Orders versions: the later of training and re-activation. */
export function modelRank(model: ModelRecord): number {
  return Math.max(model.createdAt, model.activatedAt ?? 0);
}

/** Current first: by `modelRank`, then newest trained. */
function byRank(a: ModelRecord, b: ModelRecord): number {
  return modelRank(b) - modelRank(a) || b.createdAt - a.createdAt;
}

export async function listModels(db: LoupeDatabase, projectId: string): Promise<ModelRecord[]> {
  const models = await db.getAllFromIndex('models', 'byProject', projectId);
  return models.sort(byRank);
}

/**
 * Pins or unpins a saved model, or makes it current (`activatedAt`), in one transaction; the
 * updated record, or undefined when it is not one of `projectId`'s models.
 */
export async function updateModel(
  db: LoupeDatabase,
  projectId: string,
  id: string,
  change: { pinned?: boolean; activatedAt?: number },
): Promise<ModelRecord | undefined> {
  const tx = db.transaction('models', 'readwrite');
  const model = await tx.store.get(id);
  if (!model || model.projectId !== projectId) {
    await tx.done;
    return undefined;
  }
  const updated: ModelRecord = { ...model };
  if (change.pinned !== undefined) {
    if (change.pinned) updated.pinned = true;
    else delete updated.pinned;
  }
  if (change.activatedAt !== undefined) updated.activatedAt = change.activatedAt;
  await tx.store.put(updated);
  await tx.done;
  return updated;
}

/** The newest dense model of the project trained on embeddings of `embeddingKey`, if any. */
export async function latestDenseModel(
  db: LoupeDatabase,
  projectId: string,
  embeddingKey: string,
): Promise<DenseModelRecord | undefined> {
  const models = await listModels(db, projectId);
  // `?.`: archives imported before restore validated model payloads could hold a dense record
  // without a summary; such a record is passed over rather than failing to open the project.
  return models.find(
    (m): m is DenseModelRecord =>
      m.headType === 'dense' && m.payload.summary?.embeddingKey === embeddingKey,
  );
}

export async function deleteModel(db: LoupeDatabase, id: string): Promise<void> {
  await db.delete('models', id);
}

/**
 * Which versions replace each other: the head type and the embedding key the head was trained on
 * (read from `payload.summary.embeddingKey` when present), so switching backbones back and forth
 * keeps each backbone's model.
 */
export function modelGroup(model: ModelRecord): string {
  return `${model.headType}|${model.payload.summary.embeddingKey}`;
}

/**
 * Deletes all but the first `keep` models (by `modelRank`: the current one, the previous one...)
 * of each `modelGroup` of a project, in one transaction, never a pinned one (nor does a pinned one
 * count toward `keep`); returns the deleted ids. Other projects' models are untouched.
 */
export async function pruneModels(
  db: LoupeDatabase,
  projectId: string,
  keep: number,
): Promise<string[]> {
  const tx = db.transaction('models', 'readwrite');
  const models = await tx.store.index('byProject').getAll(projectId);
  models.sort(byRank);
  const kept = new Map<string, number>();
  const deleted: string[] = [];
  for (const model of models) {
    if (model.pinned) continue;
    const group = modelGroup(model);
    const n = kept.get(group) ?? 0;
    if (n < Math.max(0, keep)) kept.set(group, n + 1);
    else {
      deleted.push(model.id);
      void tx.store.delete(model.id);
    }
  }
  await tx.done;
  return deleted;
}
