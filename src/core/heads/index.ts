/**
 * Public surface of the heads: the Head contract, KNN and dense heads (network, training, head),
 * scoring and cross-validation, and deserialisation by type.
 */
import { DenseHead } from './dense';
import type { SerializedDenseHead } from './dense';
import { KnnHead } from './knn';
import type { SerializedKnnHead } from './knn';
import type { Head } from './types';

export * from './types';
export * from './knn';
export * from './chooseK';
export * from './dense';
export * from './denseModel';
export * from './denseTrain';
export * from './evaluate';

export type SerializedHead = SerializedKnnHead | SerializedDenseHead;

/** Rebuilds a head from `serialize()` output (e.g. a ModelRecord payload). */
export function deserializeHead(serialized: SerializedHead): Head {
  return serialized.type === 'knn'
    ? KnnHead.deserialize(serialized)
    : DenseHead.deserialize(serialized);
}
export * from './ensemble';
