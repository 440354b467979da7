import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { LoupeDatabase } from '../../src/core/storage/db';
import { openLoupeDb } from '../../src/core/storage/db';
import * as embeddingsRepo from '../../src/core/storage/embeddings';
import * as labelsRepo from '../../src/core/storage/labels';
import * as samplesRepo from '../../src/core/storage/samples';
import type { LoupeStore } from '../../src/state/store';
import { UNDO_LIMIT } from '../../src/state/undoSlice';
import { fakeEngine, seedProject, storeWith, type FakeEngine } from '../fixtures/clients';
import { embedding } from '../fixtures/records';

let db: LoupeDatabase;
let store: LoupeStore;
const state = (): ReturnType<LoupeStore['getState']> => store.getState();

beforeEach(async () => {
  db = await openLoupeDb();
  store = storeWith(db);
});

/** The board as the user sees it, and as IndexedDB holds it: label names, images' label names. */
async function board(): Promise<unknown> {
  const projectId = state().project?.id ?? '';
  const nameOf = (labels: { id: string; name: string }[], ids: string[]): string[] =>
    ids.map((id) => labels.find((l) => l.id === id)?.name ?? `?${id}`);
  const shown = {
    labels: state().labels.map((l) => [l.id, l.name, l.order]),
    samples: state()
      .samples.map((s) => [s.id, nameOf(state().labels, s.labelIds)])
      .sort(),
  };
  const labels = await labelsRepo.listLabels(db, projectId);
  const stored = {
    labels: labels.map((l) => [l.id, l.name, l.order]),
    samples: (await samplesRepo.listSampleMeta(db, projectId))
      .map((s) => [s.id, nameOf(labels, s.labelIds)])
      .sort(),
  };
  expect(shown).toEqual(stored);
  return stored;
}

async function openSeeded(kind: 'single-label' | 'multi-label' = 'single-label') {
  const seeded = await seedProject(db, {
    kind,
    labels: ['A', 'B', 'C'],
    samples: [['A'], ['A'], ['B'], ['C'], []],
  });
  expect(await state().openProject(seeded.project.id)).toBe(true);
  return seeded;
}

describe('undo', () => {
  it(`reverts at least 20 steps (keeps ${UNDO_LIMIT}), newest first, each exactly`, async () => {
    const { labelIds, sampleIds } = await openSeeded();
    const targets = [labelIds.A, labelIds.B, labelIds.C, null];
    const snapshots: unknown[] = [];
    for (let i = 0; i < 25; i++) {
      snapshots.push(await board());
      await state().moveSamples([sampleIds[i % 5] ?? ''], targets[i % 4] ?? null);
    }
    expect(UNDO_LIMIT).toBeGreaterThanOrEqual(20);
    expect(state().undoSteps).toHaveLength(25);
    for (let i = 24; i >= 0; i--) {
      await state().undo();
      expect(await board()).toEqual(snapshots[i]);
    }
    expect(state().undoSteps).toHaveLength(0);
    await state().undo(); // nothing left: no change
    expect(await board()).toEqual(snapshots[0]);
  });

  it('bounds the stack and clears it when the project closes or changes', async () => {
    const { sampleIds, labelIds } = await openSeeded();
    for (let i = 0; i < UNDO_LIMIT + 10; i++)
      await state().moveSamples([sampleIds[0] ?? ''], i % 2 ? labelIds.A : labelIds.B);
    expect(state().undoSteps).toHaveLength(UNDO_LIMIT);
    state().closeProject();
    expect(state().undoSteps).toHaveLength(0);
    await openSeeded();
    await state().renameLabel(state().labels[0]?.id ?? '', 'Renamed');
    expect(state().undoSteps).toHaveLength(1);
    await openSeeded();
    expect(state().undoSteps).toHaveLength(0);
  });

  it('undoes tag, untag, rename, merge, label deletes (both ways) and image deletes', async () => {
    const { labelIds, sampleIds } = await openSeeded('multi-label');
    const [s0, , s2, s3, s4] = sampleIds as [string, string, string, string, string];
    const actions: [string, () => Promise<void>][] = [
      ['tag', () => state().tagSamples([s0, s4], labelIds.B, true)],
      ['untag', () => state().tagSamples([s2], labelIds.B, false)],
      ['rename', () => state().renameLabel(labelIds.C, 'Sea')],
      ['merge', () => state().mergeLabels(labelIds.A, labelIds.B)],
      ['delete label, keep images', () => state().deleteLabel(labelIds.C, 'move-to-inbox')],
      ['delete label and images', () => state().deleteLabel(labelIds.B, 'delete-images')],
      ['delete images', () => state().deleteSamples([s3, s4])],
    ];
    const snapshots: unknown[] = [];
    for (const [, act] of actions) {
      snapshots.push(await board());
      await act();
      expect(await board()).not.toEqual(snapshots[snapshots.length - 1]);
    }
    for (let i = actions.length - 1; i >= 0; i--) {
      await state().undo();
      expect(await board(), actions[i]?.[0]).toEqual(snapshots[i]);
    }
    expect(await db.count('trash')).toBe(0);
  });

  it('reports a step that cannot run and drops it', async () => {
    const { sampleIds } = await openSeeded();
    await state().deleteSamples([sampleIds[0] ?? '']);
    await state().emptyTrash('project');
    await state().undo();
    expect(state().undoSteps).toHaveLength(0);
    expect(state().notices.at(-1)).toMatchObject({ kind: 'error' });
  });
});

describe('trash slice', () => {
  it('lists, restores and empties the project list trash', async () => {
    const seeded = await openSeeded();
    await state().loadProjects();
    await state().deleteProject(seeded.project.id);
    expect(state().project).toBeNull();
    expect(state().projects).toEqual([]);
    expect(state().projectTrash.map((e) => [e.name, e.imageCount, e.labelCount])).toEqual([
      ['Seeded', 5, 3],
    ]);
    expect(state().trashBytes).toBeGreaterThan(0);
    expect(await state().restoreFromTrash(state().projectTrash[0]?.id ?? '')).toBe(true);
    expect(state().projects.map((p) => [p.name, p.imageCount, p.labelCount])).toEqual([
      ['Seeded', 5, 3],
    ]);
    expect(state().projectTrash).toEqual([]);

    await state().deleteProject(seeded.project.id);
    await state().emptyTrash('projects');
    expect(state().projectTrash).toEqual([]);
    expect(state().trashBytes).toBe(0);
    expect(await db.count('samples')).toBe(0);
  });

  it("reopens the worker's heads so that restored embeddings reach the KNN", async () => {
    const engine: FakeEngine = fakeEngine();
    store = storeWith(db, { engine });
    const seeded = await seedProject(db, { labels: ['A'], samples: [['A'], ['A']] });
    await embeddingsRepo.putEmbeddings(
      db,
      seeded.sampleIds.map((id) => embedding(seeded.project.id, id, 'k')),
    );
    expect(await state().openProject(seeded.project.id)).toBe(true);
    await vi.waitFor(() => expect(state().headsReady).toBe(true));
    await state().deleteSamples([seeded.sampleIds[0] ?? '']);
    await state().loadTrash();
    expect(state().trash.map((e) => e.kind)).toEqual(['images']);
    const opened = engine.calls.openHeads.length;
    await state().undo();
    expect(engine.calls.openHeads.length).toBe(opened + 1);
    expect(engine.calls.openHeads.at(-1)?.[0]).toMatchObject({ reload: true });
    expect(state().samples).toHaveLength(2);
    expect(await db.count('embeddings')).toBe(2);
  });
});
