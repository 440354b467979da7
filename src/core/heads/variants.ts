/**
 * Head variants as the evaluation tables name them: a head ('knn', 'dense', the 'logreg'
 * reference, or the 'ensemble' of KNN and dense), optionally trained with flipped copies and/or
 * random crops ('dense+flip', 'knn+crops', ...), optionally predicting with test-time flip
 * averaging ('dense+tta'). Parsing, naming and the rows the cross-validation returns; no tensors.
 */
import { CROPS_PER_IMAGE, type Augmentation } from '../backbone/augment';

export type VariantHead = 'knn' | 'dense' | 'logreg' | 'ensemble';

type AugmentationSuffix = '' | '+flip' | '+crops' | '+flip+crops';

/**
 * A head, optionally trained with flips and/or `CROPS_PER_IMAGE` random crops, optionally scored
 * on the average of its predictions for each image and its mirror image ('+tta', last).
 */
export type EvalVariant =
  `${VariantHead}${AugmentationSuffix}` | `${VariantHead}${AugmentationSuffix}+tta`;

/** Whether the variant averages each prediction with the one for the mirrored image. */
export function usesTestTimeFlip(variant: EvalVariant): boolean {
  return variant.endsWith('+tta');
}

export function parseVariant(variant: EvalVariant): {
  head: VariantHead;
  augmentation: Augmentation;
} {
  const [head, ...extras] = variant.split('+') as [VariantHead, ...string[]];
  return {
    head,
    augmentation: {
      flips: extras.includes('flip'),
      crops: extras.includes('crops') ? CROPS_PER_IMAGE : 0,
    },
  };
}

/** The variant suffix ('', '+flip', '+crops', '+flip+crops') of an augmentation. */
export function augmentationSuffix(augmentation: Augmentation): string {
  return `${augmentation.flips ? '+flip' : ''}${augmentation.crops > 0 ? '+crops' : ''}`;
}

/** `head` trained with `augmentation`. */
export function variantOf(head: VariantHead, augmentation: Augmentation): EvalVariant {
  return `${head}${augmentationSuffix(augmentation)}` as EvalVariant;
}

/**
 * The variants "Compare heads" scores: KNN, dense and the logistic-regression reference, plus
 * KNN and dense trained with `augmentation` when it adds anything.
 */
export function compareVariants(augmentation: Augmentation): EvalVariant[] {
  return augmentationSuffix(augmentation)
    ? ['knn', variantOf('knn', augmentation), 'dense', variantOf('dense', augmentation), 'logreg']
    : ['knn', 'dense', 'logreg'];
}

/** How the Compare heads table names a variant. */
export function variantName(variant: EvalVariant, k: number | 'auto'): string {
  const { head, augmentation } = parseVariant(variant);
  const base =
    head === 'knn'
      ? k === 'auto'
        ? 'KNN (auto k)'
        : `KNN (k=${k})`
      : head === 'dense'
        ? 'Dense (defaults)'
        : head === 'ensemble'
          ? 'KNN and dense averaged'
          : 'Logistic regression (reference)';
  return [
    base,
    ...(augmentation.flips ? ['flips'] : []),
    ...(augmentation.crops > 0 ? [`${augmentation.crops} crops`] : []),
    ...(usesTestTimeFlip(variant) ? ['flip at test time'] : []),
  ].join(' + ');
}

/** One variant's cross-validated scores. */
export interface EvalRow {
  variant: EvalVariant;
  accuracy: number;
  macroF1: number;
  std: number;
  folds: number;
  trainPerClass: number | null;
  /** KNN variants: the k used in each fold (auto k is chosen inside each fold); else empty. */
  kPerFold: number[];
}

/** How far a comparison is: cross-validation folds done, of all variants' folds. */
export interface CompareProgress {
  done: number;
  total: number;
}

/** A row of the Compare heads table: an `EvalRow` with its display name. */
export interface CompareRow {
  variant: EvalVariant;
  head: string;
  accuracy: number;
  macroF1: number;
  std: number;
  folds: number;
}
