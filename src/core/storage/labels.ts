/** Labels aggregate: add, rename, merge, delete (moving images to the inbox or deleting them). */
import { newId } from '../ids';
import type { LoupeDatabase } from './db';
import { cleanName, sameName } from './projects';
import type { LabelRecord } from './schema';
import { deleteSamplesInTx } from './samples';

export class LabelNameTakenError extends Error {
  constructor(name: string) {
    super(`A label named "${name}" already exists in this project. Pick another name, or merge.`);
    this.name = 'LabelNameTakenError';
  }
}

export async function listLabels(db: LoupeDatabase, projectId: string): Promise<LabelRecord[]> {
  const labels = await db.getAllFromIndex('labels', 'byProject', projectId);
  return labels.sort((a, b) => a.order - b.order || a.createdAt - b.createdAt);
}

export async function addLabel(
  db: LoupeDatabase,
  projectId: string,
  name: string,
): Promise<LabelRecord> {
  const tx = db.transaction('labels', 'readwrite');
  const existing = await tx.store.index('byProject').getAll(projectId);
  const clean = cleanName(name, nextDefaultName(existing));
  if (existing.some((l) => sameName(l.name, clean))) throw new LabelNameTakenError(clean);
  const label: LabelRecord = {
    id: newId(),
    projectId,
    name: clean,
    order: existing.reduce((m, l) => Math.max(m, l.order + 1), 0),
    createdAt: Date.now(),
  };
  await tx.store.add(label);
  await tx.done;
  return label;
}

function nextDefaultName(existing: LabelRecord[]): string {
  for (let i = existing.length + 1; ; i++) {
    const candidate = `Class ${i}`;
    if (!existing.some((l) => sameName(l.name, candidate))) return candidate;
  }
}

/** Finds labels by name (case-insensitive) and creates the missing ones, in one transaction. */
export async function ensureLabels(
  db: LoupeDatabase,
  projectId: string,
  names: string[],
): Promise<Map<string, LabelRecord>> {
  const tx = db.transaction('labels', 'readwrite');
  const existing = await tx.store.index('byProject').getAll(projectId);
  const result = new Map<string, LabelRecord>();
  let order = existing.reduce((m, l) => Math.max(m, l.order + 1), 0);
  for (const raw of names) {
    const name = cleanName(raw, 'Unnamed');
    const found = existing.find((l) => sameName(l.name, name));
    if (found) {
      result.set(raw, found);
      continue;
    }
    const label: LabelRecord = {
      id: newId(),
      projectId,
      name,
      order: order++,
      createdAt: Date.now(),
    };
    existing.push(label);
    await tx.store.add(label);
    result.set(raw, label);
  }
  await tx.done;
  return result;
}

export async function renameLabel(
  db: LoupeDatabase,
  id: string,
  name: string,
): Promise<LabelRecord> {
  const tx = db.transaction('labels', 'readwrite');
  const label = await tx.store.get(id);
  if (!label) throw new Error('That label no longer exists.');
  const clean = cleanName(name, label.name);
  const siblings = await tx.store.index('byProject').getAll(label.projectId);
  if (siblings.some((l) => l.id !== id && sameName(l.name, clean)))
    throw new LabelNameTakenError(clean);
  const next = { ...label, name: clean };
  await tx.store.put(next);
  await tx.done;
  return next;
}

/** Moves every image of `sourceId` into `targetId`, then removes `sourceId`. */
export async function mergeLabels(
  db: LoupeDatabase,
  sourceId: string,
  targetId: string,
): Promise<void> {
  if (sourceId === targetId) return;
  const tx = db.transaction(['labels', 'samples'], 'readwrite');
  const [source, target] = await Promise.all([
    tx.objectStore('labels').get(sourceId),
    tx.objectStore('labels').get(targetId),
  ]);
  if (!source || !target || source.projectId !== target.projectId) {
    throw new Error('Both labels must exist in the same project to merge them.');
  }
  const samples = await tx.objectStore('samples').index('byLabel').getAll(sourceId);
  await Promise.all(
    samples.map((s) => {
      const labelIds = [...new Set(s.labelIds.map((l) => (l === sourceId ? targetId : l)))];
      return tx.objectStore('samples').put({ ...s, labelIds });
    }),
  );
  await tx.objectStore('labels').delete(sourceId);
  await tx.done;
}

export type DeleteLabelMode = 'move-to-inbox' | 'delete-images';

/**
 * Deletes a label. Its images either lose that label (landing in "Unlabelled images" when they
 * carry no other) or are deleted with everything hanging off them.
 */
export async function deleteLabel(
  db: LoupeDatabase,
  id: string,
  mode: DeleteLabelMode,
): Promise<void> {
  const tx = db.transaction(['labels', 'samples', 'thumbnails', 'embeddings'], 'readwrite');
  const samples = await tx.objectStore('samples').index('byLabel').getAll(id);
  if (mode === 'delete-images') {
    await deleteSamplesInTx(
      tx,
      samples.map((s) => s.id),
    );
  } else {
    await Promise.all(
      samples.map((s) =>
        tx.objectStore('samples').put({ ...s, labelIds: s.labelIds.filter((l) => l !== id) }),
      ),
    );
  }
  await tx.objectStore('labels').delete(id);
  await tx.done;
}

export async function countByLabel(db: LoupeDatabase, labelId: string): Promise<number> {
  return db.countFromIndex('samples', 'byLabel', labelId);
}

/** Writes a removed label back under its id, name and order (undoing a merge). */
export async function reinstateLabel(db: LoupeDatabase, label: LabelRecord): Promise<void> {
  const tx = db.transaction('labels', 'readwrite');
  const siblings = await tx.store.index('byProject').getAll(label.projectId);
  if (siblings.some((l) => l.id !== label.id && sameName(l.name, label.name)))
    throw new LabelNameTakenError(label.name);
  await tx.store.put(label);
  await tx.done;
}
