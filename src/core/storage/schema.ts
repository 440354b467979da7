/**
 * The IndexedDB schema of Loupe: one typed `DBSchema`, opened through `openLoupeDb`.
 *
 * DO NOT CHANGE a store, key path or index here without adding an `if (oldVersion < N)` block
 * in `upgradeLoupeDb` and a fixture-based test in tests/unit/storage-migration.test.ts. Upgrades
 * are cumulative: a database at any older version walks every block after its own.
 */
import type { DBSchema } from 'idb';
import type { CustomBackboneSpec, PendingBackbone } from '../backbone/types';
import type { DenseModelPayload } from '../heads/savedModel';
import type { HeadSettings } from '../heads/settings';
import type { OutOfFoldResult } from '../analysis/outOfFold';
import type { AspectMode, ProjectKind } from '../kinds';

export const DB_NAME = 'loupe';
export const DB_VERSION = 5;

import type { DenseConfig } from '../heads/denseModel';
import type { Augmentation } from '../backbone/augment';
export type { AspectMode, ProjectKind };

/**
 * Typed project settings. Optional fields are absent on projects that never set them (readers in
 * core/projectSettings.ts fill defaults), so adding one needs no schema change.
 */
export interface ProjectSettings {
  /** How a non-square image becomes the backbone's square input. */
  aspectMode: AspectMode;
  /** Id of the backbone whose embeddings this project uses. */
  backboneId: string;
  /** The user's own layers model, when `backboneId` names it. */
  customBackbone?: CustomBackboneSpec;
  /** A backbone / aspect-mode switch whose embeddings are being computed. */
  pendingBackbone?: PendingBackbone;
  /** KNN k and votes, "unknown" thresholds, test-time flip (absent = defaults). */
  heads?: HeadSettings;
  /** Split name per image for dataset exports (set by tools or archives; checked when read). */
  splits?: SplitSpec;
  /** Images kept in Review's probable mislabels: sampleId -> sorted label ids joined by "|". */
  reviewedMislabels?: Record<string, string>;
  /** The head used for predictions, as last chosen (absent = KNN; checked when read). */
  classifier?: 'knn' | 'dense';
  /** Dense-head training settings the user changed (absent = defaults; checked when read). */
  denseConfig?: Partial<DenseConfig>;
  /** Augmented copies for training (absent = none; checked when read). */
  augmentation?: Augmentation;
  /** Review's near-duplicate similarity threshold (absent = default; checked when read). */
  duplicateThreshold?: number;
}

/** Split per image: `{ [sampleId]: splitName }` or `{ [splitName]: sampleIds[] }`. */
export type SplitSpec = Readonly<Record<string, string | readonly string[]>>;

export interface ProjectRecord {
  id: string;
  name: string;
  kind: ProjectKind;
  createdAt: number;
  updatedAt: number;
  settings: ProjectSettings;
}

export interface LabelRecord {
  id: string;
  projectId: string;
  name: string;
  /** Display order inside the project (ascending). */
  order: number;
  createdAt: number;
}

export type SampleSource = 'file-picker' | 'drop' | 'folder' | 'paste' | 'archive' | 'webcam';

export interface SampleMeta {
  id: string;
  projectId: string;
  /** Labels carried by this image; single-label projects keep at most one. Empty = unlabelled. */
  labelIds: string[];
  name: string;
  mime: string;
  byteSize: number;
  width: number;
  height: number;
  /** Hex SHA-256 of the original bytes; duplicates inside a project are detected by it. */
  sha256: string;
  createdAt: number;
  source: SampleSource;
  /** Folder path the file came from, if any (e.g. "flowers/daisy"). */
  relativePath?: string;
}

export interface SampleRecord extends SampleMeta {
  /** The original file bytes, exactly as dropped. */
  blob: Blob;
}

export interface ThumbnailRecord {
  sampleId: string;
  projectId: string;
  /** WebP (or JPEG where WebP encoding is unavailable), longest side <= 256 px. */
  blob: Blob;
  width: number;
  height: number;
}

export interface EmbeddingRecord {
  sampleId: string;
  projectId: string;
  /** Backbone id + preprocessing version, e.g. "mobilenet_v1_0.75_224@centre-crop#1". */
  embeddingKey: string;
  vector: Float32Array;
  createdAt: number;
}

interface ModelRecordBase {
  id: string;
  projectId: string;
  createdAt: number;
  /** Kept by pruning however old: the user pinned this version. */
  pinned?: boolean;
  /**
   * When the user made this version current again. The current version of a head is the one with
   * the latest `activatedAt ?? createdAt` (`modelRank`); a new training is newer than any.
   */
  activatedAt?: number;
}

/** A trained dense head with its summary (written by the heads service in the engine worker). */
export interface DenseModelRecord extends ModelRecordBase {
  headType: 'dense';
  payload: DenseModelPayload;
}

/**
 * A saved model, told apart by `headType`; each head adds its own member with its payload type.
 * Typing the union changed no stored bytes (Loupe only ever wrote dense records of this shape),
 * so it needed no version bump or upgrade step.
 */
export type ModelRecord = DenseModelRecord;

/** Every `headType` this version stores and reads. */
export type ModelHeadType = ModelRecord['headType'];

/**
 * A project's out-of-fold predictions (one record per project, written by the engine worker) with
 * what they were computed from: current while `fingerprint` (embedding key, KNN settings, label
 * order and every labelled image with its labels) matches the project's data.
 */
export interface OutOfFoldRecord {
  projectId: string;
  embeddingKey: string;
  k: number;
  weighted: boolean;
  folds: number;
  fingerprint: string;
  computedAt: number;
  result: OutOfFoldResult;
}

/**
 * A user's own layers model picked as files, stored so a project using it keeps working after a
 * reload: keyed by the SHA-256 of model.json and weights together (a custom spec's `files`), so
 * the same files picked twice, or by several projects, are stored once.
 */
export interface BackboneFilesRecord {
  key: string;
  /** The model's name as picked (folder or model.json name). */
  name: string;
  /** model.json's text, as picked. */
  modelJson: string;
  /** The weight files in manifest order; their bytes concatenated are the model's weight data. */
  weights: { path: string; blob: Blob }[];
  byteSize: number;
  createdAt: number;
}

/** What one deletion moved to the trash: `project` (the list's trash), `label` or `images`. */
export type TrashKind = 'project' | 'label' | 'images';

/**
 * One deletion in the trash, small enough to list: what it was, when, and how much it holds.
 * Its records live in the `trashBundles` record with the same id (read only to restore).
 */
export interface TrashEntry {
  id: string;
  /** The project the deletion came from (the deleted project itself for `project`). */
  projectId: string;
  kind: TrashKind;
  /** Project name, label name, or the image's file name / "3 images". */
  name: string;
  deletedAt: number;
  imageCount: number;
  labelCount: number;
  /** Bytes held: originals, thumbnails, embeddings, models (an estimate for the last). */
  byteSize: number;
}

/** The records one deletion removed from the live stores, ids unchanged, for `Restore`. */
export interface TrashBundle {
  id: string;
  projectId: string;
  project?: ProjectRecord;
  labels: LabelRecord[];
  samples: SampleRecord[];
  thumbnails: ThumbnailRecord[];
  embeddings: EmbeddingRecord[];
  models: ModelRecord[];
  outOfFold?: OutOfFoldRecord;
  /** A label deleted with its images kept: the images that lost it (it is given back on restore). */
  unlabelledIds?: string[];
}

export interface LoupeDB extends DBSchema {
  projects: { key: string; value: ProjectRecord; indexes: { byUpdatedAt: number } };
  labels: { key: string; value: LabelRecord; indexes: { byProject: string } };
  samples: {
    key: string;
    value: SampleRecord;
    indexes: { byProject: string; byProjectHash: [string, string]; byLabel: string };
  };
  thumbnails: { key: string; value: ThumbnailRecord; indexes: { byProject: string } };
  embeddings: {
    key: [string, string];
    value: EmbeddingRecord;
    indexes: { bySample: string; byProjectKey: [string, string] };
  };
  models: { key: string; value: ModelRecord; indexes: { byProject: string } };
  outOfFold: { key: string; value: OutOfFoldRecord };
  backboneFiles: { key: string; value: BackboneFilesRecord };
  trash: { key: string; value: TrashEntry; indexes: { byProject: string } };
  trashBundles: { key: string; value: TrashBundle };
}

export type StoreName =
  | 'projects'
  | 'labels'
  | 'samples'
  | 'thumbnails'
  | 'embeddings'
  | 'models'
  | 'outOfFold'
  | 'backboneFiles'
  | 'trash'
  | 'trashBundles';
export const ALL_STORES: StoreName[] = [
  'projects',
  'labels',
  'samples',
  'thumbnails',
  'embeddings',
  'models',
  'outOfFold',
  'backboneFiles',
  'trash',
  'trashBundles',
];

/** The stores that hold deleted records (`core/storage/trash.ts`), not a project's live data. */
export const TRASH_STORES: readonly StoreName[] = ['trash', 'trashBundles'];
