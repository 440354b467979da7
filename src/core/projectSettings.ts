/**
 * Typed readers of a project's settings: the backbone it embeds with (a built-in or the user's
 * own), a backbone switch in progress, what the embedding scheduler works on, and its head
 * settings. Pure functions of the stored record, shared by the store, the UI and the scripts.
 */
import { defaultBackboneSpec, getBuiltinSpec } from './backbone/specs';
import type { BackboneSpec, PendingBackbone } from './backbone/types';
import { normaliseHeadSettings, type HeadSettings } from './heads/settings';
import type { ProjectRecord } from './storage/schema';

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
