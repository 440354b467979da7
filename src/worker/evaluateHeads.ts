/**
 * Cross-validation of head variants for the open project (engine worker): the "Compare heads"
 * table and the `npm run eval` accuracy report. Every variant runs on the same seeded folds, keyed
 * on positions in the content-sorted list of labelled examples (not on random sample ids), so the
 * same images give the same numbers in any project. Augmented copies join the training folds only.
 */
import {
  augmentationViews,
  NO_AUGMENTATION,
  type Augmentation,
  type AugmentView,
} from '../core/backbone/augment';
import { kFoldSplit } from '../core/eval/split';
import { indexItems } from '../core/heads/evaluate';
import {
  AveragedHeads,
  crossValidateHead,
  KnnHead,
  trainDenseHead,
  type DenseConfig,
  type LabelledEmbedding,
  type Predictor,
} from '../core/heads';
import { byPosition, firstPerClass, withViews } from '../core/heads/trainingSet';
import type { ViewEmbeddings } from '../core/heads/trainingSet';
import {
  augmentationSuffix,
  compareVariants,
  parseVariant,
  usesTestTimeFlip,
  variantName,
  type CompareProgress,
  type CompareRow,
  type EvalRow,
  type EvalVariant,
} from '../core/heads/variants';
import type { LoupeDatabase } from '../core/storage/db';
import { EVAL_SEED } from '../core/eval/split';
import type { ProjectHeads } from './headsService';
import { loadViewEmbeddings } from './viewEmbeddings';

export interface EvaluateOptions {
  variants: EvalVariant[];
  /** Label ids in display order (metrics follow it); labels seen only in the data come after. */
  labelOrder?: string[];
  folds?: number;
  /** Keep only this many training images per label in each fold (validation folds stay whole). */
  trainPerClass?: number;
  /** Dense settings over the defaults, for the dense and ensemble variants (not logreg). */
  denseConfig?: Partial<DenseConfig>;
  signal: AbortSignal;
  /** After each fold of each variant: folds done and in all (variants x folds). */
  onProgress?: (progress: CompareProgress) => void;
}

/** The mirror-image view test-time flip averaging predicts on. */
const FLIP_VIEW: AugmentView = { flip: true, crop: 0 };

/**
 * Cross-validates head variants on the same seeded folds: KNN with the project's k (auto k is
 * chosen inside each fold on its unaugmented training part), dense defaults and the
 * logistic-regression probe, each with or without augmented copies of the training images.
 */
export async function evaluateVariants(
  db: LoupeDatabase,
  heads: ProjectHeads,
  options: EvaluateOptions,
): Promise<EvalRow[]> {
  const { kind } = heads;
  const labelled = heads.labelled();
  const items = byPosition(labelled);
  const positionOf = new Map(labelled.map((item, position) => [item.id, String(position)]));
  const viewCache = new Map<string, Promise<ViewEmbeddings[]>>();
  const viewsFor = (augmentation: Augmentation): Promise<ViewEmbeddings[]> => {
    const key = augmentationSuffix(augmentation);
    let views = viewCache.get(key);
    if (!views) {
      views = loadViewEmbeddings(db, heads, augmentationViews(augmentation), (id) =>
        positionOf.get(id),
      );
      viewCache.set(key, views);
    }
    return views;
  };
  const rows: EvalRow[] = [];
  const folds = options.folds ?? 5;
  // The folds every variant shares, split once (as crossValidateHead would for each). Copies of
  // one image stay in one fold, so there may be fewer folds than asked for.
  const splits =
    items.length < 2
      ? undefined
      : kFoldSplit(indexItems(items, kind, options.labelOrder).items, { folds, seed: EVAL_SEED });
  const total = options.variants.length * (splits?.length ?? 0);
  let done = 0;
  let flipViews: Promise<ViewEmbeddings[]> | null = null;
  for (const variant of options.variants) {
    const { head, augmentation } = parseVariant(variant);
    const views = await viewsFor(augmentation);
    let testViews: ((id: string) => Float32Array[]) | undefined;
    if (usesTestTimeFlip(variant)) {
      flipViews ??= loadViewEmbeddings(db, heads, [FLIP_VIEW], (id) => positionOf.get(id));
      const mirrored = (await flipViews)[0]?.vectors ?? new Map<string, Float32Array>();
      testViews = (id) => {
        const v = mirrored.get(id);
        return v ? [v] : [];
      };
    }
    const kPerFold: number[] = [];
    const dense = async (train: LabelledEmbedding[], labels: string[], logreg: boolean) => {
      const config = logreg ? { hiddenUnits: 0, dropout: 0 } : (options.denseConfig ?? {});
      const r = await trainDenseHead(train, { kind, labels, config, signal: options.signal });
      if (r.status === 'aborted') throw new Error('Evaluation cancelled.');
      return r.head;
    };
    const result = await crossValidateHead({
      items,
      kind,
      ...(options.labelOrder ? { labels: options.labelOrder } : {}),
      folds,
      seed: EVAL_SEED,
      ...(splits ? { splits } : {}),
      signal: options.signal,
      onFold: () => options.onProgress?.({ done: Math.min(++done, total), total }),
      ...(testViews ? { testViews } : {}),
      fit: async (fold: LabelledEmbedding[], labels: string[]): Promise<Predictor> => {
        // Folds are already seeded shuffles: keeping the first N of each label is a random draw.
        const original = firstPerClass(fold, options.trainPerClass ?? null);
        const train = withViews(original, views);
        if (head === 'dense' || head === 'logreg') return dense(train, labels, head === 'logreg');
        const k = await heads.kFor(original);
        kPerFold.push(k);
        const knn = KnnHead.build(train, { kind, labels, config: heads.knnConfig(k) });
        if (head === 'knn') return knn;
        try {
          return new AveragedHeads([knn, await dense(train, labels, false)], labels, kind);
        } catch (error) {
          knn.dispose();
          throw error;
        }
      },
    });
    const pooled = result.pooled;
    rows.push({
      variant,
      accuracy: pooled.kind === 'single-label' ? pooled.accuracy : pooled.subsetAccuracy,
      macroF1: pooled.macro.f1,
      std: result.headline.std,
      folds: result.folds.length,
      trainPerClass: options.trainPerClass ?? null,
      kPerFold,
    });
  }
  return rows;
}

/**
 * The "Compare heads" table: KNN (the project's k), dense defaults and the logistic-regression
 * reference, plus both heads trained with `augmentation` when it adds anything, on the same 5
 * folds (the augmentation views' embeddings must be cached first).
 */
export async function compareHeads(
  db: LoupeDatabase,
  heads: ProjectHeads,
  options: {
    labelOrder: string[];
    augmentation?: Augmentation;
    signal: AbortSignal;
    onProgress?: (progress: CompareProgress) => void;
  },
): Promise<CompareRow[]> {
  const variants = compareVariants(options.augmentation ?? NO_AUGMENTATION);
  const rows = await evaluateVariants(db, heads, {
    variants,
    labelOrder: options.labelOrder,
    signal: options.signal,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const k = heads.settings.k === 'auto' ? 'auto' : heads.k;
  return rows.map((row) => ({
    variant: row.variant,
    head: variantName(row.variant, k),
    accuracy: row.accuracy,
    macroF1: row.macroF1,
    std: row.std,
    folds: row.folds,
  }));
}
