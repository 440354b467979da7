/**
 * Near-duplicate groups of the open project (engine worker): every embedded image (labelled or
 * not) under the live heads' embedding key. The all-pairs search (`similarPairs`, down to the
 * lowest threshold the UI offers) runs once per set of embedded images and is kept here; a call
 * with another threshold, or after label edits, only regroups those pairs and sets the flags
 * from the current labels (`conflict`) and the dense head's current hold-out split (`leakage`).
 * Only sample ids and flags return to the page.
 */
import {
  DEFAULT_DUPLICATE_THRESHOLD,
  flagGroups,
  groupPairs,
  MIN_DUPLICATE_THRESHOLD,
  type SimilarPairs,
} from '../core/analysis/duplicateGroups';
import { similarPairs, type DuplicateGroup } from '../core/analysis/nearDuplicates';
import type { LoupeDatabase } from '../core/storage/db';
import { embeddedSampleIds, listEmbeddings } from '../core/storage/embeddings';
import { listSampleMeta } from '../core/storage/samples';
import type { ProjectHeads } from './headsService';
import { denseHoldoutParts } from './trainDense';

export { DEFAULT_DUPLICATE_THRESHOLD, MIN_DUPLICATE_THRESHOLD };

/** The last search: for which images (in order) and which pairs it found. */
let searched: { key: string; ids: string[]; pairs: SimilarPairs } | null = null;

/** Forgets the cached pairs (tests; a project switch replaces them anyway). */
export function clearDuplicateCache(): void {
  searched = null;
}

async function pairsFor(
  db: LoupeDatabase,
  heads: ProjectHeads,
  floor: number,
  signal: AbortSignal,
): Promise<{ ids: string[]; pairs: SimilarPairs }> {
  const ids = [...(await embeddedSampleIds(db, heads.projectId, heads.embeddingKey))].sort();
  const key = [heads.projectId, heads.embeddingKey, floor, ids.join(',')].join('|');
  if (searched?.key === key) return searched;
  const vectors = new Map(
    (await listEmbeddings(db, heads.projectId, heads.embeddingKey)).map((e) => [
      e.sampleId,
      e.vector,
    ]),
  );
  const present = ids.filter((id) => vectors.has(id));
  signal.throwIfAborted();
  const pairs = await similarPairs(
    present.map((id) => vectors.get(id) ?? new Float32Array(0)),
    { floor, signal },
  );
  searched = { key, ids: present, pairs };
  return searched;
}

export async function projectNearDuplicates(
  db: LoupeDatabase,
  heads: ProjectHeads,
  options: { threshold?: number; labelOrder?: string[]; signal: AbortSignal },
): Promise<DuplicateGroup[]> {
  const threshold = Math.min(1, options.threshold ?? DEFAULT_DUPLICATE_THRESHOLD);
  const floor = Math.min(MIN_DUPLICATE_THRESHOLD, threshold);
  const { ids, pairs } = await pairsFor(db, heads, floor, options.signal);
  const metas = await listSampleMeta(db, heads.projectId);
  const labelsOf = new Map(metas.map((m) => [m.id, m.labelIds]));
  const parts = denseHoldoutParts(heads, options.labelOrder ?? []);
  const groups = groupPairs(ids.length, pairs, threshold)
    .map((g) => ({ sampleIds: g.members.map((i) => ids[i] ?? ''), similarity: g.similarity }))
    // A sample deleted since the search is left out of its group.
    .map((g) => ({ ...g, sampleIds: g.sampleIds.filter((id) => labelsOf.has(id)) }))
    .filter((g) => g.sampleIds.length >= 2);
  return flagGroups(
    groups,
    (id) => labelsOf.get(id) ?? [],
    (id) => parts.get(id),
  );
}
