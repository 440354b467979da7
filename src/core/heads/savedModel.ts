/**
 * Types of a saved (trained) model as stored in IndexedDB and in project archives: the dense
 * head's payload, its summary for the UI and its held-out evaluations. Types only; the heads
 * service writes them, the models repository reads them, archive restore validates their ids.
 */
import type { Augmentation } from '../backbone/augment';
import type { Metrics } from '../eval/metrics';
import type { ProjectKind } from '../kinds';
import type { DenseConfig, EpochLog, SerializedDenseHead } from './dense';

export interface HeadEvaluation {
  head: 'knn' | 'dense';
  metrics: Metrics;
  /** Label ids in the order of the metrics' per-class rows and confusion matrix. */
  labels: string[];
  validationSize: number;
  trainSize: number;
  /**
   * Single-label: held-out sample ids per confusion cell, `cells[true][predicted]` (so a cell can
   * open its images); absent on models saved before it was recorded, and for multi-label.
   */
  cells?: string[][][];
}

/** What the UI needs to know about the saved dense model (no tensors). */
export interface DenseModelSummary {
  /** The model record's id. */
  id: string;
  createdAt: number;
  /** Label ids, in the order of the head's outputs. */
  labels: string[];
  config: DenseConfig;
  history: EpochLog[];
  bestEpoch: number;
  evaluations: HeadEvaluation[];
  /** sampleId -> sorted label ids used for training + validation: tells whether data changed since. */
  snapshot: Record<string, string[]>;
  embeddingKey: string;
  backboneId: string;
  kind: ProjectKind;
  /** Training-time augmentation; absent on models saved before it existed (= none). */
  augmentation?: Augmentation;
  /**
   * Present when the saved head is a refit: after the held-out fit chose `epochs` (and was scored
   * for `evaluations`), a fresh model trained on all `images` labelled images for that many
   * epochs. Absent: the saved head is the held-out fit itself (older models, or nothing held out).
   */
  refit?: { epochs: number; images: number };
}

export interface DenseModelPayload {
  summary: DenseModelSummary;
  head: SerializedDenseHead;
}
