/**
 * `Label next` for the open project (engine worker): every embedded image without a label, under
 * the live heads' embedding key, predicted by the live KNN head (in chunks, checking for abort
 * between them) and ranked by `core/analysis/labelNext.ts`. Only sample ids, suggested labels and
 * scores return to the page; the KNN's tensors live and die inside its `predict`.
 */
import { rankLabelNext, type LabelNextItem } from '../core/analysis/labelNext';
import type { LoupeDatabase } from '../core/storage/db';
import { listEmbeddings } from '../core/storage/embeddings';
import { listSampleMeta } from '../core/storage/samples';
import type { ProjectHeads } from './headsService';

export interface LabelNextResult {
  /** The ranked images, best first (at most the requested limit). */
  items: LabelNextItem[];
  /** Embedded images without a label. */
  unlabelled: number;
}

/** Images `Label next` lists by default. */
export const LABEL_NEXT_LIMIT = 30;
/** Embeddings per KNN prediction call. */
const PREDICT_CHUNK = 1024;

/** The project's embedded images that carry no label, sorted by sample id. */
export async function unlabelledEmbeddings(
  db: LoupeDatabase,
  heads: ProjectHeads,
): Promise<{ id: string; embedding: Float32Array }[]> {
  const [metas, embeddings] = await Promise.all([
    listSampleMeta(db, heads.projectId),
    listEmbeddings(db, heads.projectId, heads.embeddingKey),
  ]);
  const unlabelled = new Set(metas.filter((m) => m.labelIds.length === 0).map((m) => m.id));
  return embeddings
    .filter((e) => unlabelled.has(e.sampleId))
    .map((e) => ({ id: e.sampleId, embedding: e.vector }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** One head's probabilities for `embeddings` (null per image when the head cannot predict). */
export async function knnProbabilities(
  heads: ProjectHeads,
  embeddings: Float32Array[],
  signal: AbortSignal,
): Promise<{ labels: string[]; probabilities: (number[] | null)[] }> {
  const probabilities: (number[] | null)[] = [];
  let labels: string[] = [];
  for (let i = 0; i < embeddings.length; i += PREDICT_CHUNK) {
    signal.throwIfAborted();
    const result = await heads.predictWith('knn', embeddings.slice(i, i + PREDICT_CHUNK));
    if (!result) return { labels: [], probabilities: embeddings.map(() => null) };
    labels = result.labels;
    for (const p of result.predictions) probabilities.push(p.probabilities);
  }
  return { labels, probabilities };
}

export async function projectLabelNext(
  db: LoupeDatabase,
  heads: ProjectHeads,
  options: { limit?: number; signal: AbortSignal },
): Promise<LabelNextResult> {
  const items = await unlabelledEmbeddings(db, heads);
  const { labels, probabilities } = await knnProbabilities(
    heads,
    items.map((i) => i.embedding),
    options.signal,
  );
  options.signal.throwIfAborted();
  const ranked = rankLabelNext(
    items.map((item, i) => ({ ...item, probabilities: probabilities[i] ?? null })),
    {
      kind: heads.kind,
      labels,
      limit: options.limit ?? LABEL_NEXT_LIMIT,
      signal: options.signal,
    },
  );
  return { items: ranked, unlabelled: items.length };
}
