/**
 * Stored out-of-fold predictions: one record per project, replaced whenever the engine worker
 * recomputes them. A record is written only while its project exists, so none outlives it
 * (`deleteProjectContents` removes it with the rest of the project).
 */
import type { LoupeDatabase } from './db';
import type { OutOfFoldRecord } from './schema';

export async function getOutOfFold(
  db: LoupeDatabase,
  projectId: string,
): Promise<OutOfFoldRecord | null> {
  return (await db.get('outOfFold', projectId)) ?? null;
}

/** Writes `record` unless its project was deleted meanwhile; returns whether it was written. */
export async function putOutOfFold(db: LoupeDatabase, record: OutOfFoldRecord): Promise<boolean> {
  const tx = db.transaction(['projects', 'outOfFold'], 'readwrite');
  const alive = (await tx.objectStore('projects').getKey(record.projectId)) !== undefined;
  if (alive) await tx.objectStore('outOfFold').put(record);
  await tx.done;
  return alive;
}
