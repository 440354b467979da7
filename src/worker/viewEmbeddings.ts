/**
 * Reads the cached embeddings of augmentation views (computed by the embedding pipeline under
 * the project's key + a view suffix) for training and evaluation.
 */
import { viewSuffix, type AugmentView } from '../core/backbone/augment';
import type { ViewEmbeddings } from '../core/heads/trainingSet';
import type { LoupeDatabase } from '../core/storage/db';
import { listEmbeddings } from '../core/storage/embeddings';

/**
 * One `ViewEmbeddings` per view, keyed by `keyOf(sampleId)`: the sample id itself, or another key
 * the items carry; undefined drops a record.
 */
export async function loadViewEmbeddings(
  db: LoupeDatabase,
  target: { projectId: string; embeddingKey: string },
  views: readonly AugmentView[],
  keyOf: (sampleId: string) => string | undefined = (sampleId) => sampleId,
): Promise<ViewEmbeddings[]> {
  return Promise.all(
    views.map(async (view) => {
      const suffix = viewSuffix(view);
      const records = await listEmbeddings(db, target.projectId, target.embeddingKey + suffix);
      const vectors = new Map<string, Float32Array>();
      for (const r of records) {
        const key = keyOf(r.sampleId);
        if (key !== undefined) vectors.set(key, r.vector);
      }
      return { suffix, vectors };
    }),
  );
}
