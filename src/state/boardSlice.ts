/**
 * Board slice: the open project, its labels and sample metadata, and the thumbnail selection.
 * Blobs never enter the store: thumbnails are read on demand by `thumbnails.ts`. Deleted images
 * and labels go to the project's trash; each board action pushes its inverse on the undo stack.
 */
import * as labelsRepo from '../core/storage/labels';
import * as projectsRepo from '../core/storage/projects';
import * as samplesRepo from '../core/storage/samples';
import * as trashRepo from '../core/storage/trash';
import type { DeleteLabelMode } from '../core/storage/labels';
import type { LabelRecord, ProjectRecord, SampleMeta } from '../core/storage/schema';
import type { SliceCreator } from './store';
import { loadThumbnailUrl } from './thumbnails';
import { announce } from './tabSync';
import { mergeStep, relabelStep, renameStep, restoreStep } from './undoSteps';

export type SelectMode = 'replace' | 'toggle' | 'range';

export interface BoardSlice {
  project: ProjectRecord | null;
  labels: LabelRecord[];
  samples: SampleMeta[];
  boardLoading: boolean;
  selection: ReadonlySet<string>;
  selectionAnchor: string | null;
  /** The label that paste and keyboard actions target (last one interacted with). */
  activeLabelId: string | null;
  openProject(id: string): Promise<boolean>;
  closeProject(): void;
  reloadBoard(): Promise<void>;
  addLabel(name?: string): Promise<LabelRecord>;
  renameLabel(id: string, name: string): Promise<void>;
  mergeLabels(sourceId: string, targetId: string): Promise<void>;
  deleteLabel(id: string, mode: DeleteLabelMode): Promise<void>;
  moveSamples(ids: string[], labelId: string | null): Promise<void>;
  /** Multi-label: adds or removes one label on the samples, keeping their other labels. */
  tagSamples(ids: string[], labelId: string, on: boolean): Promise<void>;
  /**
   * Switches single- / multi-label. Refused (false, with an error notice giving the count) when
   * switching to single-label while images carry several labels.
   */
  setProjectKind(kind: ProjectRecord['kind']): Promise<boolean>;
  deleteSamples(ids: string[]): Promise<void>;
  appendSamples(added: SampleMeta[]): void;
  /** The original image bytes of one sample (for the detail view); null when it is gone. */
  loadSampleBlob(id: string): Promise<Blob | null>;
  /** An object URL of a sample's thumbnail, cached until the sample or project goes away. */
  thumbnailUrl(id: string): Promise<string | null>;
  select(id: string, mode: SelectMode, orderedIds: readonly string[]): void;
  selectMany(ids: readonly string[]): void;
  clearSelection(): void;
  setActiveLabel(id: string | null): void;
}

/** Number of images that carry more than one label. */
export function countMultiLabelled(samples: readonly SampleMeta[]): number {
  return samples.reduce((n, s) => (s.labelIds.length > 1 ? n + 1 : n), 0);
}

export function refusedSingleLabel(count: number): string {
  const images = count === 1 ? '1 image carries' : `${count} images carry`;
  return (
    `Cannot switch to single-label: ${images} several labels. Give each of them one label ` +
    '(remove the extra labels), then switch again.'
  );
}

export const createBoardSlice: SliceCreator<BoardSlice> = (set, get, services) => {
  const projectId = (): string => {
    const p = get().project;
    if (!p) throw new Error('No project is open.');
    return p.id;
  };
  const undoContext = { get, set, services };
  const refreshLabels = async (): Promise<void> => {
    set({ labels: await labelsRepo.listLabels(await services.db(), projectId()) });
  };
  const refreshSamples = async (): Promise<void> => {
    set({ samples: await samplesRepo.listSampleMeta(await services.db(), projectId()) });
  };
  /** Every board edit ends here, after its write: other tabs hear of it. */
  const touch = async (kind: 'samples' | 'labels' = 'samples'): Promise<void> => {
    const id = projectId();
    await projectsRepo.touchProject(await services.db(), id);
    announce(services, id, kind);
  };

  return {
    project: null,
    labels: [],
    samples: [],
    boardLoading: false,
    selection: new Set(),
    selectionAnchor: null,
    activeLabelId: null,

    async openProject(id) {
      set({ boardLoading: true });
      const db = await services.db();
      const project = await projectsRepo.getProject(db, id);
      if (!project) {
        set({ boardLoading: false, project: null, labels: [], samples: [] });
        return false;
      }
      const [labels, samples] = await Promise.all([
        labelsRepo.listLabels(db, id),
        samplesRepo.listSampleMeta(db, id),
      ]);
      set({
        project,
        labels,
        samples,
        boardLoading: false,
        selection: new Set(),
        selectionAnchor: null,
        activeLabelId: null,
        embeddedCount: 0,
        headsReady: false,
        modelSummary: null,
        denseVersions: null,
        tryResult: null,
        compareRows: null,
      });
      void get()
        .openHeads()
        .then(() => {
          void get().warmBackbone();
          return get().scheduleEmbedding();
        });
      return true;
    },
    closeProject() {
      get().cancelEmbedding();
      get().stopTraining();
      get().clearTry();
      set({ headsReady: false, modelSummary: null, denseVersions: null });
      set({
        project: null,
        labels: [],
        samples: [],
        selection: new Set(),
        selectionAnchor: null,
        activeLabelId: null,
      });
    },
    async reloadBoard() {
      await Promise.all([refreshLabels(), refreshSamples()]);
    },
    async addLabel(name) {
      const label = await labelsRepo.addLabel(await services.db(), projectId(), name ?? '');
      set({ labels: [...get().labels, label] });
      await touch('labels');
      return label;
    },
    async renameLabel(id, name) {
      const oldName = get().labels.find((l) => l.id === id)?.name;
      const label = await labelsRepo.renameLabel(await services.db(), id, name);
      if (oldName !== undefined && oldName !== label.name)
        get().pushUndo(renameStep(undoContext, id, oldName));
      set({ labels: get().labels.map((l) => (l.id === id ? label : l)) });
      await touch('labels');
    },
    async mergeLabels(sourceId, targetId) {
      const source = get().labels.find((l) => l.id === sourceId);
      const carried = get().samples.filter((s) => s.labelIds.includes(sourceId));
      await labelsRepo.mergeLabels(await services.db(), sourceId, targetId);
      await Promise.all([refreshLabels(), refreshSamples()]);
      if (source && sourceId !== targetId) get().pushUndo(mergeStep(undoContext, source, carried));
      await touch('labels');
    },
    async deleteLabel(id, mode) {
      // To the project's trash (restored by `restoreFromTrash`, or by Undo).
      const entry = await trashRepo.trashLabel(await services.db(), id, mode);
      if (entry) get().pushUndo(restoreStep(undoContext, `deletion of ${entry.name}`, entry.id));
      const selection = new Set(get().selection);
      await Promise.all([refreshLabels(), refreshSamples()]);
      const alive = new Set(get().samples.map((s) => s.id));
      for (const s of selection) if (!alive.has(s)) selection.delete(s);
      set({ selection, activeLabelId: get().activeLabelId === id ? null : get().activeLabelId });
      await touch('labels');
    },
    async moveSamples(ids, labelId) {
      const labelIds = labelId ? [labelId] : [];
      await samplesRepo.setSampleLabels(await services.db(), ids, labelIds);
      const moved = new Set(ids);
      const before = get().samples;
      set({ samples: before.map((s) => (moved.has(s.id) ? { ...s, labelIds } : s)) });
      get().pushUndo(
        relabelStep(
          undoContext,
          'move of',
          before.filter((s) => moved.has(s.id)),
        ),
      );
      await touch();
    },
    async tagSamples(ids, labelId, on) {
      const updated = await samplesRepo.toggleSampleLabel(await services.db(), ids, labelId, on);
      const byId = new Map(updated.map((s) => [s.id, s]));
      const before = get().samples;
      set({ samples: before.map((s) => byId.get(s.id) ?? s) });
      get().pushUndo(
        relabelStep(
          undoContext,
          on ? 'tag of' : 'untag of',
          before.filter((s) => byId.has(s.id)),
        ),
      );
      await touch();
    },
    async setProjectKind(kind) {
      const several = countMultiLabelled(get().samples);
      if (kind === 'single-label' && get().project?.kind !== kind && several > 0) {
        // A single-label project whose images carry several labels would export archives that
        // its import refuses: the switch waits until every image has at most one label.
        get().pushNotice({ kind: 'error', message: refusedSingleLabel(several), rejected: [] });
        return false;
      }
      const project = await projectsRepo.updateProject(await services.db(), projectId(), { kind });
      set({ project });
      announce(services, project.id, 'project');
      await get().openHeads();
      return true;
    },
    async deleteSamples(ids) {
      // To the project's trash (restored by `restoreFromTrash`, or by Undo).
      const entry = await trashRepo.trashSamples(await services.db(), ids);
      if (entry) get().pushUndo(restoreStep(undoContext, `deletion of ${entry.name}`, entry.id));
      const gone = new Set(ids);
      const selection = new Set([...get().selection].filter((s) => !gone.has(s)));
      const before = get().samples;
      set({ samples: before.filter((s) => !gone.has(s.id)), selection });
      await touch();
    },
    appendSamples(added) {
      const current = get().project;
      const mine = added.filter((s) => s.projectId === current?.id);
      if (mine.length === 0) return;
      const before = get().samples;
      const byId = new Map(mine.map((s) => [s.id, s]));
      const updated = before.map((s) => byId.get(s.id) ?? s);
      const known = new Set(before.map((s) => s.id));
      set({ samples: [...updated, ...mine.filter((s) => !known.has(s.id))] });
      void get().scheduleEmbedding();
    },
    async loadSampleBlob(id) {
      return (await samplesRepo.getSample(await services.db(), id))?.blob ?? null;
    },
    thumbnailUrl(id) {
      return loadThumbnailUrl(services.db, id);
    },
    select(id, mode, orderedIds) {
      const { selection, selectionAnchor } = get();
      if (mode === 'replace') {
        set({ selection: new Set([id]), selectionAnchor: id });
      } else if (mode === 'toggle') {
        const next = new Set(selection);
        if (next.has(id)) next.delete(id);
        else next.add(id);
        set({ selection: next, selectionAnchor: id });
      } else {
        const from = selectionAnchor ? orderedIds.indexOf(selectionAnchor) : -1;
        const to = orderedIds.indexOf(id);
        if (from < 0 || to < 0) {
          set({ selection: new Set([id]), selectionAnchor: id });
          return;
        }
        const [lo, hi] = from < to ? [from, to] : [to, from];
        set({ selection: new Set([...selection, ...orderedIds.slice(lo, hi + 1)]) });
      }
    },
    selectMany(ids) {
      set({ selection: new Set(ids), selectionAnchor: ids[0] ?? null });
    },
    clearSelection() {
      set({ selection: new Set(), selectionAnchor: null });
    },
    setActiveLabel(id) {
      set({ activeLabelId: id });
    },
  };
};
