/**
 * Training the open project's dense head (engine worker): a seeded stratified 80/20 split of the
 * labelled examples on their content order, augmented copies of the training part only, the
 * dense head trained with early stopping on the held-out part, that held-out fit and a KNN head
 * scored on that part (with the held-out sample ids of each confusion cell), then a fresh model
 * refit on every labelled image (and its augmented copies) for the chosen number of epochs: the
 * refit is what is saved to IndexedDB, made the live one and exported; its metrics are the
 * held-out fit's. Older versions beyond the previous one are pruned. Aborting leaves the
 * previously saved model untouched. `denseHoldoutParts`
 * tells which part of that split each labelled image is in (Review's leakage flag).
 */
import { augmentationViews, NO_AUGMENTATION, type Augmentation } from '../core/backbone/augment';
import { EVAL_SEED, holdoutSplit, type SplitItem } from '../core/eval/split';
import {
  DENSE_DEFAULTS,
  indexItems,
  KnnHead,
  scoreHead,
  trainDenseHead,
  type DenseConfig,
  type DenseHead,
  type EpochLog,
  type HeadScore,
  type LabelledEmbedding,
} from '../core/heads';
import { confusionCells } from '../core/analysis/confusionCells';
import { byPosition, withViews } from '../core/heads/trainingSet';
import { newId } from '../core/ids';
import type { LoupeDatabase } from '../core/storage/db';
import { pruneModels, saveModel } from '../core/storage/models';
import type {
  DenseModelPayload,
  DenseModelSummary,
  HeadEvaluation,
} from '../core/heads/savedModel';
import type { ProjectHeads } from './headsService';
import { loadViewEmbeddings } from './viewEmbeddings';

export interface TrainDenseOptions {
  /** Label ids in display order: the model's outputs follow it. */
  labelOrder: string[];
  config: Partial<DenseConfig>;
  /** Train on augmented copies too (their views must be embedded first). */
  augmentation?: Augmentation;
  onEpoch: (log: EpochLog) => void;
  signal: AbortSignal;
}

/** Dense models kept per project and embedding key: the new one and the one before it. */
export const KEEP_MODEL_VERSIONS = 2;

/** sampleId -> sorted label ids: tells whether the data changed since training. */
function snapshot(items: readonly LabelledEmbedding[]): Record<string, string[]> {
  return Object.fromEntries(items.map((i) => [i.id, [...i.labelIds].sort()]));
}

/**
 * Positions (in content order) of the held-out part of the seeded 80/20 split. Split on positions
 * in the content-sorted list, not on the random sample ids: the same images get the same split
 * (and so the same model) in any project they are imported into.
 */
function heldOutPositions(indexed: readonly SplitItem[]): Set<number> {
  return new Set(holdoutSplit(byPosition(indexed), { seed: EVAL_SEED }).validation.map(Number));
}

/**
 * The part of the dense head's hold-out split each labelled example is in (sample id -> part),
 * for the labels in `labelOrder`: the same split `trainDense` trains and scores on.
 */
export function denseHoldoutParts(
  heads: ProjectHeads,
  labelOrder: readonly string[],
): Map<string, 'train' | 'validation'> {
  const items = heads.labelled();
  const held = heldOutPositions(indexItems(items, heads.kind, labelOrder).items);
  return new Map(
    items.map((item, position) => [item.id, held.has(position) ? 'validation' : 'train']),
  );
}

/** Trains, scores, saves and adopts a dense head; null when aborted. */
export async function trainDense(
  db: LoupeDatabase,
  heads: ProjectHeads,
  options: TrainDenseOptions,
): Promise<DenseModelSummary | null> {
  const { kind } = heads;
  const augmentation = options.augmentation ?? NO_AUGMENTATION;
  const items = heads.labelled();
  const { items: indexed, labels } = indexItems(items, kind, options.labelOrder);
  const usedLabels = labels.filter((l) => indexed.some((i) => i.labelIds.includes(l)));
  const held = heldOutPositions(indexed);
  const train = items.filter((_, position) => !held.has(position));
  const validation = items.filter((_, position) => held.has(position));
  // Augmented copies of the training part only: a validation image never trains the scored model.
  const views = await loadViewEmbeddings(db, heads, augmentationViews(augmentation));
  const { config } = options;
  const headLabels: string[] = [];
  const evaluations: HeadEvaluation[] = [];
  /** Scores the held-out fit (and a KNN head on the same split) on the held-out part. */
  const scoreHeldOut = async (searched: DenseHead): Promise<void> => {
    headLabels.push(...searched.labels);
    const sizes = {
      labels: headLabels,
      validationSize: validation.length,
      trainSize: train.length,
    };
    const withCells = (score: HeadScore, which: 'dense' | 'knn'): HeadEvaluation => ({
      head: which,
      metrics: score.metrics,
      ...sizes,
      ...(kind === 'single-label'
        ? { cells: confusionCells(validation, score.predicted, headLabels) }
        : {}),
    });
    evaluations.push(withCells(await scoreHead(searched, validation, headLabels, kind), 'dense'));
    const knn = KnnHead.build(train, {
      kind,
      labels: headLabels,
      config: heads.knnConfig(await heads.kFor(train)),
    });
    try {
      evaluations.push(withCells(await scoreHead(knn, validation, headLabels, kind), 'knn'));
    } finally {
      knn.dispose();
    }
  };
  const result = await trainDenseHead(withViews(train, views), {
    kind,
    labels: usedLabels,
    config: { ...config, seed: config.seed ?? DENSE_DEFAULTS.seed },
    ...(validation.length > 0
      ? {
          validation,
          refitOn: { items: withViews(items, views), beforeRefit: scoreHeldOut },
        }
      : {}),
    onEpoch: options.onEpoch,
    signal: options.signal,
  });
  if (result.status === 'aborted') return null;
  const head = result.head;
  if (headLabels.length === 0) headLabels.push(...head.labels);
  const summary: DenseModelSummary = {
    id: newId(),
    createdAt: Date.now(),
    labels: headLabels,
    config: { ...head.config },
    history: [...head.history],
    bestEpoch: head.bestEpoch,
    evaluations,
    snapshot: snapshot(items),
    embeddingKey: heads.embeddingKey,
    backboneId: heads.backboneId,
    kind,
    augmentation: { flips: augmentation.flips, crops: augmentation.crops },
    ...(validation.length > 0
      ? { refit: { epochs: Math.max(1, head.bestEpoch), images: items.length } }
      : {}),
  };
  const payload: DenseModelPayload = { summary, head: head.serialize() };
  try {
    await saveModel(db, {
      id: summary.id,
      projectId: heads.projectId,
      createdAt: summary.createdAt,
      headType: 'dense',
      payload,
    });
  } catch (error) {
    head.dispose();
    throw error;
  }
  heads.adoptDense(head, summary);
  // A failed prune only leaves old versions behind: the new model is saved either way.
  await pruneModels(db, heads.projectId, KEEP_MODEL_VERSIONS).catch(() => []);
  return summary;
}
