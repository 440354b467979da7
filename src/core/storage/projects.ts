/**
 * Projects aggregate: create, rename, duplicate, list with counts, name clashes, delete with full
 * cascade (`deleteProjectContents`, shared with restoring an archive over a project).
 */
import type { IDBPTransaction } from 'idb';
import { DEFAULT_BACKBONE_ID } from '../backbone/specs';
import { newId } from '../ids';
import type { LoupeDatabase } from './db';
import {
  ALL_STORES,
  type LoupeDB,
  type ProjectKind,
  type ProjectRecord,
  type ProjectSettings,
  type StoreName,
} from './schema';

export const DEFAULT_SETTINGS: ProjectSettings = {
  aspectMode: 'centre-crop',
  backboneId: DEFAULT_BACKBONE_ID,
};

export interface ProjectSummary extends ProjectRecord {
  imageCount: number;
  labelCount: number;
}

export async function createProject(
  db: LoupeDatabase,
  name: string,
  kind: ProjectKind = 'single-label',
): Promise<ProjectRecord> {
  const now = Date.now();
  const project: ProjectRecord = {
    id: newId(),
    name: cleanName(name, 'Untitled project'),
    kind,
    createdAt: now,
    updatedAt: now,
    settings: { ...DEFAULT_SETTINGS },
  };
  await db.add('projects', project);
  return project;
}

export function cleanName(name: string, fallback: string): string {
  const trimmed = name.replace(/\s+/g, ' ').trim().slice(0, 120);
  return trimmed.length > 0 ? trimmed : fallback;
}

/** Project and label names compare case-insensitively (accents count). */
export function sameName(a: string, b: string): boolean {
  return a.localeCompare(b, undefined, { sensitivity: 'accent' }) === 0;
}

/**
 * The existing project whose name equals `name` (case-insensitively, after the same clean-up
 * project names get), if any: the UI then asks "rename or replace?".
 */
export async function findNameConflict(
  db: LoupeDatabase,
  name: string,
): Promise<ProjectRecord | undefined> {
  const clean = cleanName(name, name);
  const projects = await db.getAll('projects');
  return projects.find((p) => sameName(p.name, clean));
}

/** `name`, or "name (2)", "name (3)", ... : the first that no project uses yet. */
export async function suggestProjectName(db: LoupeDatabase, name: string): Promise<string> {
  const clean = cleanName(name, 'Imported project');
  const projects = await db.getAll('projects');
  const taken = (candidate: string): boolean => projects.some((p) => sameName(p.name, candidate));
  if (!taken(clean)) return clean;
  for (let n = 2; ; n++) {
    const candidate = cleanName(`${clean.slice(0, 110)} (${n})`, clean);
    if (!taken(candidate)) return candidate;
  }
}

export async function getProject(
  db: LoupeDatabase,
  id: string,
): Promise<ProjectRecord | undefined> {
  return db.get('projects', id);
}

export async function listProjects(db: LoupeDatabase): Promise<ProjectSummary[]> {
  const tx = db.transaction(['projects', 'labels', 'samples'], 'readonly');
  const projects = await tx.objectStore('projects').getAll();
  const summaries = await Promise.all(
    projects.map(async (p) => ({
      ...p,
      imageCount: await tx.objectStore('samples').index('byProject').count(p.id),
      labelCount: await tx.objectStore('labels').index('byProject').count(p.id),
    })),
  );
  await tx.done;
  return summaries.sort((a, b) => b.updatedAt - a.updatedAt);
}

export async function updateProject(
  db: LoupeDatabase,
  id: string,
  /** `settings` keys are merged into the stored ones: pass only those that change. */
  patch: Partial<Pick<ProjectRecord, 'name' | 'kind'>> & { settings?: Partial<ProjectSettings> },
): Promise<ProjectRecord> {
  const tx = db.transaction('projects', 'readwrite');
  const current = await tx.store.get(id);
  if (!current) throw new Error(`Project ${id} no longer exists. Reload the project list.`);
  const next: ProjectRecord = {
    ...current,
    ...patch,
    name: patch.name !== undefined ? cleanName(patch.name, current.name) : current.name,
    settings: patch.settings ? { ...current.settings, ...patch.settings } : current.settings,
    updatedAt: Date.now(),
  };
  await tx.store.put(next);
  await tx.done;
  return next;
}

export async function touchProject(db: LoupeDatabase, id: string): Promise<void> {
  const tx = db.transaction('projects', 'readwrite');
  const current = await tx.store.get(id);
  if (current) await tx.store.put({ ...current, updatedAt: Date.now() });
  await tx.done;
}

/** A read-write transaction over every store (`ALL_STORES`). */
export type AllStoresTx = IDBPTransaction<LoupeDB, StoreName[], 'readwrite'>;

/**
 * Deletes everything that hangs off a project (labels, samples, thumbnails, embeddings, models,
 * stored out-of-fold predictions), but not the project record, inside the caller's transaction:
 * `deleteProject`, and restoring an archive over a project, which keeps the record's id.
 */
export async function deleteProjectContents(tx: AllStoresTx, projectId: string): Promise<void> {
  const deleteByIndex = async (
    store: 'labels' | 'samples' | 'thumbnails' | 'models',
  ): Promise<void> => {
    const keys = await tx.objectStore(store).index('byProject').getAllKeys(projectId);
    await Promise.all(keys.map((k) => tx.objectStore(store).delete(k)));
  };
  const embeddingKeys = await tx
    .objectStore('embeddings')
    .index('byProjectKey')
    .getAllKeys(IDBKeyRange.bound([projectId, ''], [projectId, '\uffff']));
  await Promise.all([
    deleteByIndex('labels'),
    deleteByIndex('samples'),
    deleteByIndex('thumbnails'),
    deleteByIndex('models'),
    ...embeddingKeys.map((k) => tx.objectStore('embeddings').delete(k)),
    tx.objectStore('outOfFold').delete(projectId),
  ]);
}

/** Deletes the project and everything that hangs off it, in one transaction. */
export async function deleteProject(db: LoupeDatabase, id: string): Promise<void> {
  const tx = db.transaction(ALL_STORES, 'readwrite');
  await Promise.all([tx.objectStore('projects').delete(id), deleteProjectContents(tx, id)]);
  await tx.done;
}

/**
 * Copies a project: labels, samples (same bytes), thumbnails and cached embeddings get new ids.
 * Trained models are not copied: they belong to the data they were trained on.
 */
export async function duplicateProject(
  db: LoupeDatabase,
  id: string,
  name?: string,
): Promise<ProjectRecord> {
  const tx = db.transaction(
    ['projects', 'labels', 'samples', 'thumbnails', 'embeddings'],
    'readwrite',
  );
  const source = await tx.objectStore('projects').get(id);
  if (!source) throw new Error(`Project ${id} no longer exists. Reload the project list.`);
  const now = Date.now();
  const copy: ProjectRecord = {
    ...source,
    id: newId(),
    name: cleanName(name ?? `${source.name} (copy)`, `${source.name} (copy)`),
    createdAt: now,
    updatedAt: now,
    settings: { ...source.settings },
  };
  const labels = await tx.objectStore('labels').index('byProject').getAll(id);
  const samples = await tx.objectStore('samples').index('byProject').getAll(id);
  const thumbs = await tx.objectStore('thumbnails').index('byProject').getAll(id);
  const embeddings = await tx
    .objectStore('embeddings')
    .index('byProjectKey')
    .getAll(IDBKeyRange.bound([id, ''], [id, '\uffff']));
  const labelMap = new Map(labels.map((l) => [l.id, newId()]));
  const sampleMap = new Map(samples.map((s) => [s.id, newId()]));
  const writes: Promise<unknown>[] = [tx.objectStore('projects').add(copy)];
  for (const l of labels) {
    writes.push(
      tx.objectStore('labels').add({ ...l, id: labelMap.get(l.id)!, projectId: copy.id }),
    );
  }
  for (const s of samples) {
    const labelIds = s.labelIds.map((l) => labelMap.get(l)).filter((l): l is string => !!l);
    writes.push(
      tx
        .objectStore('samples')
        .add({ ...s, id: sampleMap.get(s.id)!, projectId: copy.id, labelIds }),
    );
  }
  for (const t of thumbs) {
    const sampleId = sampleMap.get(t.sampleId);
    if (sampleId)
      writes.push(tx.objectStore('thumbnails').add({ ...t, sampleId, projectId: copy.id }));
  }
  for (const e of embeddings) {
    const sampleId = sampleMap.get(e.sampleId);
    if (sampleId)
      writes.push(tx.objectStore('embeddings').add({ ...e, sampleId, projectId: copy.id }));
  }
  await Promise.all(writes);
  await tx.done;
  return copy;
}
