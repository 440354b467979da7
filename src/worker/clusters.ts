/**
 * `Clusters` for the open project (engine worker): the embedded images without a label, under the
 * live heads' embedding key, grouped by `core/analysis/clusters.ts` (k automatic or the user's).
 * Only sample ids return to the page.
 */
import { clusterEmbeddings, type Clustering } from '../core/analysis/clusters';
import type { LoupeDatabase } from '../core/storage/db';
import type { ProjectHeads } from './headsService';
import { unlabelledEmbeddings } from './labelNext';

export async function projectClusters(
  db: LoupeDatabase,
  heads: ProjectHeads,
  options: { k?: number | 'auto'; signal: AbortSignal },
): Promise<Clustering> {
  const items = await unlabelledEmbeddings(db, heads);
  options.signal.throwIfAborted();
  return clusterEmbeddings(items, { k: options.k ?? 'auto', signal: options.signal });
}
