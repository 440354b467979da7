/**
 * The inverse operations the board's actions push on the undo stack: labels given back to images
 * (move, tag, and the images of a merge), a merged label brought back, a label renamed back, and
 * a deletion restored from the trash. Each writes IndexedDB first, then the board's state, so
 * the store's subscription carries the change to the worker's heads.
 */
import * as labelsRepo from '../core/storage/labels';
import * as samplesRepo from '../core/storage/samples';
import * as projectsRepo from '../core/storage/projects';
import type { LabelRecord, SampleMeta } from '../core/storage/schema';
import type { Services } from './services';
import type { LoupeStore } from './store';
import type { UndoStep } from './undoSlice';
import { announce } from './tabSync';

interface Context {
  get: LoupeStore['getState'];
  set: LoupeStore['setState'];
  services: Services;
}

const images = (n: number): string => `${n} image${n === 1 ? '' : 's'}`;

/** Gives each of `before`'s samples the labels it had then (labels that still exist). */
async function giveLabelsBack(ctx: Context, before: readonly SampleMeta[]): Promise<void> {
  const { get, set, services } = ctx;
  const project = get().project;
  if (!project) return;
  const live = new Set(get().labels.map((l) => l.id));
  const labelsOf = new Map(before.map((s) => [s.id, s.labelIds.filter((l) => live.has(l))]));
  const db = await services.db();
  await samplesRepo.setEachSampleLabels(db, labelsOf);
  const now = get().samples;
  set({
    samples: now.map((s) => {
      const labelIds = labelsOf.get(s.id);
      return labelIds ? { ...s, labelIds } : s;
    }),
  });
  await projectsRepo.touchProject(db, project.id);
  announce(services, project.id, 'samples');
}

/** Undoes a move, a tag or a label removal on `before` (the samples as they were). */
export function relabelStep(ctx: Context, verb: string, before: readonly SampleMeta[]): UndoStep {
  const saved = before.map((s) => ({ ...s, labelIds: [...s.labelIds] }));
  return {
    description: `${verb} ${images(saved.length)}`,
    run: () => giveLabelsBack(ctx, saved),
  };
}

/** Undoes a merge: `source` comes back and its images get their labels back. */
export function mergeStep(
  ctx: Context,
  source: LabelRecord,
  before: readonly SampleMeta[],
): UndoStep {
  const saved = before.map((s) => ({ ...s, labelIds: [...s.labelIds] }));
  return {
    description: `merge of ${source.name}`,
    run: async () => {
      await labelsRepo.reinstateLabel(await ctx.services.db(), source);
      const labels = [...ctx.get().labels, source].sort(
        (a, b) => a.order - b.order || a.createdAt - b.createdAt,
      );
      ctx.set({ labels });
      await giveLabelsBack(ctx, saved);
    },
  };
}

/** Undoes a rename. */
export function renameStep(ctx: Context, id: string, oldName: string): UndoStep {
  return {
    description: `rename of ${oldName}`,
    run: () => ctx.get().renameLabel(id, oldName),
  };
}

/** Undoes a deletion by restoring its trash entry. */
export function restoreStep(ctx: Context, description: string, entryId: string): UndoStep {
  return {
    description,
    run: async () => {
      // An entry emptied from the trash meanwhile is reported by restoreFromTrash itself.
      await ctx.get().restoreFromTrash(entryId);
    },
  };
}
