/**
 * Near-duplicate groups of the open project (engine worker): every embedded image (labelled or
 * not) under the live heads' embedding key, with its current labels, grouped by
 * `core/analysis/nearDuplicates.ts`. Only sample ids and flags return to the page.
 */
import { nearDuplicateGroups, type DuplicateGroup } from '../core/analysis/nearDuplicates';
import type { LoupeDatabase } from '../core/storage/db';
import { listEmbeddings } from '../core/storage/embeddings';
import { listSampleMeta } from '../core/storage/samples';
import type { ProjectHeads } from './headsService';

/** Cosine similarity at or above which two images count as near-duplicates by default. */
export const DEFAULT_DUPLICATE_THRESHOLD = 0.95;

export async function projectNearDuplicates(
  db: LoupeDatabase,
  heads: ProjectHeads,
  options: { threshold?: number; signal: AbortSignal },
): Promise<DuplicateGroup[]> {
  const [metas, embeddings] = await Promise.all([
    listSampleMeta(db, heads.projectId),
    listEmbeddings(db, heads.projectId, heads.embeddingKey),
  ]);
  const labelsOf = new Map(metas.map((m) => [m.id, m.labelIds]));
  const items = embeddings.flatMap((e) => {
    const labelIds = labelsOf.get(e.sampleId);
    return labelIds ? [{ id: e.sampleId, embedding: e.vector, labelIds }] : [];
  });
  options.signal.throwIfAborted();
  return nearDuplicateGroups(items, {
    threshold: options.threshold ?? DEFAULT_DUPLICATE_THRESHOLD,
    signal: options.signal,
  });
}
