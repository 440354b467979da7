/**
 * Typed readers of a project's settings: the backbone it embeds with (a built-in or the user's
 * own), a backbone switch in progress, what the embedding scheduler works on, its head
 * settings, the classifier choice and dense-training settings last used, and Review's
 * near-duplicate threshold. Pure functions of the stored record, shared by the store, the UI and
 * the scripts.
 */
import { defaultBackboneSpec, getBuiltinSpec } from './backbone/specs';
import type { BackboneSpec, PendingBackbone } from './backbone/types';
import { CROPS_PER_IMAGE, NO_AUGMENTATION, type Augmentation } from './backbone/augment';
import type { DenseConfig } from './heads/denseModel';
import { normaliseHeadSettings, type HeadSettings } from './heads/settings';
import type { ProjectRecord } from './storage/schema';
import { validDuplicateThreshold } from './analysis/duplicateGroups';

/** The backbone the project's active embeddings come from. */
export function projectBackboneSpec(project: ProjectRecord): BackboneSpec {
  const custom = project.settings.customBackbone;
  if (custom && custom.id === project.settings.backboneId) return custom;
  return getBuiltinSpec(project.settings.backboneId) ?? defaultBackboneSpec();
}

/** A backbone / aspect-mode switch whose embeddings are being computed, if any. */
export function pendingBackbone(project: ProjectRecord): PendingBackbone | null {
  return project.settings.pendingBackbone ?? null;
}

/** What the embedding scheduler works on: the pending switch if any, else the active settings. */
export function embeddingTarget(project: ProjectRecord): PendingBackbone {
  return (
    pendingBackbone(project) ?? {
      spec: projectBackboneSpec(project),
      aspectMode: project.settings.aspectMode,
    }
  );
}

/** The project's head settings, valid whatever was stored. */
export function projectHeadSettings(project: ProjectRecord): HeadSettings {
  return normaliseHeadSettings(project.settings.heads);
}

/** The head used for predictions as last chosen (KNN unless Dense was chosen). */
export function projectClassifier(project: ProjectRecord): 'knn' | 'dense' {
  return project.settings.classifier === 'dense' ? 'dense' : 'knn';
}

/** The dense settings a user may change, with the ranges the train panel offers. */
const DENSE_SETTING_RANGES = {
  hiddenUnits: { min: 0, max: 1024, integer: true },
  dropout: { min: 0, max: 0.9, integer: false },
  epochs: { min: 1, max: 500, integer: true },
  batchSize: { min: 1, max: 1024, integer: true },
  learningRate: { min: 0.00001, max: 1, integer: false },
} as const;

/** The stored dense-head settings the user changed; invalid or unknown fields are left out. */
export function projectDenseConfig(project: ProjectRecord): Partial<DenseConfig> {
  const stored: unknown = project.settings.denseConfig;
  if (typeof stored !== 'object' || stored === null) return {};
  const config: Partial<DenseConfig> = {};
  for (const key of Object.keys(DENSE_SETTING_RANGES) as (keyof typeof DENSE_SETTING_RANGES)[]) {
    const value: unknown = (stored as Record<string, unknown>)[key];
    const range = DENSE_SETTING_RANGES[key];
    if (
      typeof value === 'number' &&
      value >= range.min &&
      value <= range.max &&
      (!range.integer || Number.isInteger(value))
    )
      config[key] = value;
  }
  return config;
}

/** The stored training augmentation (none when absent or invalid). */
export function projectAugmentation(project: ProjectRecord): Augmentation {
  const stored: unknown = project.settings.augmentation;
  if (typeof stored !== 'object' || stored === null) return { ...NO_AUGMENTATION };
  const { flips, crops } = stored as Record<string, unknown>;
  return {
    flips: flips === true,
    crops:
      typeof crops === 'number' && Number.isInteger(crops) && crops >= 0 && crops <= CROPS_PER_IMAGE
        ? crops
        : 0,
  };
}

/** Review's near-duplicate similarity threshold (the default when absent or invalid). */
export function projectDuplicateThreshold(project: ProjectRecord): number {
  return validDuplicateThreshold(project.settings.duplicateThreshold);
}
