/** Models aggregate: trained head artifacts, newest first. */
import type { LoupeDatabase } from './db';
import type { ModelRecord } from './schema';

export async function saveModel(db: LoupeDatabase, model: ModelRecord): Promise<void> {
  await db.put('models', model);
}

export async function listModels(db: LoupeDatabase, projectId: string): Promise<ModelRecord[]> {
  const models = await db.getAllFromIndex('models', 'byProject', projectId);
  return models.sort((a, b) => b.createdAt - a.createdAt);
}

export async function deleteModel(db: LoupeDatabase, id: string): Promise<void> {
  await db.delete('models', id);
}
