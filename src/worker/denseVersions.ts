/**
 * The dense head's saved versions, as methods the engine worker's API spreads in: list those of
 * the open project and backbone (current first), pin or unpin one (pruning keeps pinned
 * versions), and make an older one current again (the live heads adopt it; as the top-ranked
 * record it is also what the project opens with after a reload, `modelRank`).
 */
import { DenseHead } from '../core/heads/dense';
import type { DenseModelSummary } from '../core/heads/savedModel';
import type { LoupeDatabase } from '../core/storage/db';
import { listModels, modelRank, updateModel } from '../core/storage/models';
import type { DenseModelRecord } from '../core/storage/schema';
import type { HeadsHolder } from './headsHolder';
import type { ProjectHeads } from './headsService';

/** One saved dense model as the Versions list shows it. */
export interface DenseVersion {
  id: string;
  createdAt: number;
  bestEpoch: number;
  /** The held-out fit's accuracy (subset accuracy for multi-label); null when none was scored. */
  accuracy: number | null;
  pinned: boolean;
  /** The version the heads use now (the first of the list). */
  current: boolean;
}

/** The open project's dense models trained on the heads' embeddings, current first. */
async function denseRecords(db: LoupeDatabase, heads: ProjectHeads): Promise<DenseModelRecord[]> {
  const models = await listModels(db, heads.projectId);
  return models.filter(
    (m): m is DenseModelRecord =>
      m.headType === 'dense' && m.payload.summary?.embeddingKey === heads.embeddingKey,
  );
}

function versionOf(record: DenseModelRecord, current: boolean): DenseVersion {
  const { summary } = record.payload;
  const metrics = summary.evaluations.find((e) => e.head === 'dense')?.metrics;
  const accuracy = !metrics
    ? null
    : metrics.kind === 'single-label'
      ? metrics.accuracy
      : metrics.subsetAccuracy;
  return {
    id: record.id,
    createdAt: record.createdAt,
    bestEpoch: summary.bestEpoch,
    accuracy,
    pinned: record.pinned === true,
    current,
  };
}

export async function listDenseVersions(
  db: LoupeDatabase,
  heads: ProjectHeads,
): Promise<DenseVersion[]> {
  return (await denseRecords(db, heads)).map((record, i) => versionOf(record, i === 0));
}

/** Pins or unpins one of the open project's versions; the list after the change. */
export async function pinDenseVersion(
  db: LoupeDatabase,
  heads: ProjectHeads,
  id: string,
  pinned: boolean,
): Promise<DenseVersion[]> {
  if (!(await updateModel(db, heads.projectId, id, { pinned })))
    throw new Error('That model version is no longer stored.');
  return listDenseVersions(db, heads);
}

/**
 * Makes a stored version current: ranked first in the database, adopted by the live heads. The
 * head is read before the ranking changes (a version that cannot be read is never made current).
 * If the heads were rebuilt meanwhile (another tab's change), they may have read the old ranking:
 * they are rebuilt once more. The replaced dense head is disposed once no job holds it.
 */
export async function useDenseVersion(
  db: LoupeDatabase,
  holder: HeadsHolder,
  id: string,
): Promise<DenseModelSummary> {
  const heads = holder.current;
  if (!heads) throw new Error('No project is open.');
  const records = await denseRecords(db, heads);
  const record = records.find((r) => r.id === id);
  if (!record) throw new Error('That model version is no longer stored.');
  const head = DenseHead.deserialize(record.payload.head);
  try {
    const top = records[0];
    if (top && top.id !== id) {
      const activatedAt = Math.max(Date.now(), modelRank(top) + 1);
      await updateModel(db, heads.projectId, id, { activatedAt });
    }
  } catch (error) {
    head.dispose();
    throw error;
  }
  if (holder.current !== heads) {
    head.dispose();
    const now = holder.current;
    if (now) await holder.open(now.target, true);
    return record.payload.summary;
  }
  const replaced = heads.replaceDense(head, record.payload.summary);
  if (replaced) holder.retire(replaced);
  return record.payload.summary;
}
