/**
 * Stored model files of users' own backbones (store `backboneFiles`), keyed by content hash: a
 * project's custom spec names its record by `files`. Records are shared by every project whose
 * spec names them; `pruneBackboneFiles` removes those no project names any more.
 */
import type { LoupeDatabase } from './db';
import type { BackboneFilesRecord, ProjectRecord } from './schema';

export async function getBackboneFiles(
  db: LoupeDatabase,
  key: string,
): Promise<BackboneFilesRecord | null> {
  return (await db.get('backboneFiles', key)) ?? null;
}

/** Stores `record` (the same key again replaces it: same content by construction). */
export async function putBackboneFiles(
  db: LoupeDatabase,
  record: BackboneFilesRecord,
): Promise<void> {
  await db.put('backboneFiles', record);
}

/** The file keys a project's settings name (its custom backbone and a pending switch). */
export function referencedFileKeys(project: ProjectRecord): string[] {
  const specs = [project.settings.customBackbone, project.settings.pendingBackbone?.spec];
  return specs.flatMap((s) => (s?.kind === 'custom' && s.files !== undefined ? [s.files] : []));
}

/**
 * Deletes every stored model no project names, except `keep` (files just picked and not used
 * yet); returns the deleted keys. Projects in the trash count (a restored one needs its model).
 * One transaction, so a project saved or trashed meanwhile is seen.
 */
export async function pruneBackboneFiles(
  db: LoupeDatabase,
  keep: readonly string[] = [],
): Promise<string[]> {
  const tx = db.transaction(['projects', 'trashBundles', 'backboneFiles'], 'readwrite');
  const projects = await tx.objectStore('projects').getAll();
  const trashed: ProjectRecord[] = [];
  for await (const cursor of tx.objectStore('trashBundles')) {
    if (cursor.value.project) trashed.push(cursor.value.project);
  }
  const used = new Set([...keep, ...[...projects, ...trashed].flatMap(referencedFileKeys)]);
  const keys = await tx.objectStore('backboneFiles').getAllKeys();
  const unused = keys.filter((k) => !used.has(k));
  await Promise.all(unused.map((k) => tx.objectStore('backboneFiles').delete(k)));
  await tx.done;
  return unused;
}
