/**
 * Models aggregate: saved (trained) heads of a project, typed by `headType`, newest first, and
 * pruning of old versions (every training adds a record; `pruneModels` keeps the newest few per
 * head and embedding key).
 */
import type { LoupeDatabase } from './db';
import type { DenseModelRecord, ModelRecord } from './schema';

export async function saveModel(db: LoupeDatabase, model: ModelRecord): Promise<void> {
  await db.put('models', model);
}

export async function listModels(db: LoupeDatabase, projectId: string): Promise<ModelRecord[]> {
  const models = await db.getAllFromIndex('models', 'byProject', projectId);
  return models.sort((a, b) => b.createdAt - a.createdAt);
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
 * Deletes all but the newest `keep` models of each `modelGroup` of a project, in one transaction;
 * returns the deleted ids. Other projects' models are untouched.
 */
export async function pruneModels(
  db: LoupeDatabase,
  projectId: string,
  keep: number,
): Promise<string[]> {
  const tx = db.transaction('models', 'readwrite');
  const models = await tx.store.index('byProject').getAll(projectId);
  models.sort((a, b) => b.createdAt - a.createdAt);
  const kept = new Map<string, number>();
  const deleted: string[] = [];
  for (const model of models) {
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
