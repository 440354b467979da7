/** Models aggregate: saved (trained) heads of a project, typed by `headType`, newest first. */
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
