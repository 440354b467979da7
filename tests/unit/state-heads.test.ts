import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defaultBackboneSpec } from '../../src/core/backbone/specs';
import { DEFAULT_HEAD_SETTINGS } from '../../src/core/heads/settings';
import type { LoupeDatabase } from '../../src/core/storage/db';
import { openLoupeDb } from '../../src/core/storage/db';
import * as projectsRepo from '../../src/core/storage/projects';
import { toMeta } from '../../src/core/storage/samples';
import type { LoupeStore } from '../../src/state/store';
import type {
  CompareRow,
  DenseModelSummary,
  EpochLog,
  LabelChange,
  TryPredictions,
} from '../../src/worker/api';
import {
  aborted,
  deferred,
  fakeEmbedder,
  fakeEngine,
  modelSummary,
  seedProject,
  storeWith,
  type FakeEngine,
} from '../fixtures/clients';
import { newSample } from '../fixtures/records';

let db: LoupeDatabase;
let engine: FakeEngine;
let store: LoupeStore;

const state = (): ReturnType<LoupeStore['getState']> => store.getState();
const active = defaultBackboneSpec();

beforeEach(async () => {
  db = await openLoupeDb();
  engine = fakeEngine();
  store = storeWith(db, { engine });
});

afterEach(() => {
  vi.useRealTimers();
});

async function openReady(projectId: string): Promise<void> {
  expect(await state().openProject(projectId)).toBe(true);
  await vi.waitFor(() => expect(state().headsReady).toBe(true));
}

/** Resolves once every label change sent so far has reached the engine. */
const synced = (): Promise<void> => state().syncHeadsWithSamples([], []);

/** What reached `applyLabelChanges`, call by call. */
const sent = (): [LabelChange[], string[]][] => engine.calls.applyLabelChanges;

const epoch = (n: number): EpochLog => ({
  epoch: n,
  loss: 1 / n,
  acc: 0.5,
  valLoss: null,
  valAcc: null,
});

const predictions: TryPredictions = {
  knn: { probabilities: [0.75, 0.25], top: 'a', topProbability: 0.75, labels: ['a'] },
  dense: null,
  knnLabels: ['a', 'b'],
  denseLabels: [],
};

describe('heads slice: opening', () => {
  it("passes the project's kind, target and normalised head settings", async () => {
    const { project } = await seedProject(db, {
      kind: 'multi-label',
      samples: [[]],
      settings: {
        heads: {
          k: 0, // out of range: auto
          weighted: true,
          knnUnknownBelow: 1.5, // not a share: never
          denseUnknownBelow: 0.4,
          flipTta: true,
        },
        classifier: 'dense',
      },
    });
    const summary = modelSummary({ labels: ['x'] });
    engine.impl.openHeads = () => Promise.resolve({ examples: 3, k: 7, summary });

    await openReady(project.id);
    expect(engine.calls.openHeads).toStrictEqual([
      [
        {
          projectId: project.id,
          spec: active,
          aspectMode: 'centre-crop',
          kind: 'multi-label',
          settings: {
            k: 'auto',
            weighted: true,
            knnUnknownBelow: null,
            denseUnknownBelow: 0.4,
            flipTta: true,
          },
        },
      ],
    ]);
    expect(state().knnK).toBe(7);
    expect(state().modelSummary).toEqual(summary);
    // With a saved model, the project's stored classifier choice applies.
    expect(state().classifier).toBe('dense');
    expect(state().headsError).toBeNull();
  });

  it('falls back to KNN without a saved model, and reopens when the kind changes', async () => {
    const { project } = await seedProject(db);
    engine.impl.openHeads = () => Promise.resolve({ examples: 0, k: 3, summary: null });
    store.setState({ classifier: 'dense' });
    await openReady(project.id);
    expect(state().classifier).toBe('knn');
    expect(state().knnK).toBe(3);
    expect(engine.calls.openHeads[0]?.[0]).toMatchObject({
      kind: 'single-label',
      settings: DEFAULT_HEAD_SETTINGS,
    });

    await state().setProjectKind('multi-label');
    expect(engine.calls.openHeads).toHaveLength(2);
    expect(engine.calls.openHeads[1]?.[0].kind).toBe('multi-label');
  });

  it('reports a failure to open the heads', async () => {
    const { project } = await seedProject(db);
    engine.impl.openHeads = () => Promise.reject(new Error('no embeddings store'));
    await state().openProject(project.id);
    await vi.waitFor(() => expect(state().headsError).toBe('no embeddings store'));
    expect(state().headsReady).toBe(false);
  });
});

describe('heads slice: label changes reach the KNN', () => {
  it('sends moves and deletions, and nothing when no label changed', async () => {
    const seeded = await seedProject(db, {
      labels: ['A', 'B'],
      samples: [[], [], ['A'], ['B']],
    });
    const [s0, s1, s2, s3] = seeded.sampleIds as [string, string, string, string];
    const { A } = seeded.labelIds;
    await openReady(seeded.project.id);

    await state().moveSamples([s0, s1], A);
    await synced();
    await state().moveSamples([s2, s0], A); // already there
    await synced();
    await state().moveSamples([s3], null);
    await state().deleteSamples([s1, s2]);
    await synced();

    expect(sent()).toStrictEqual([
      [
        [
          { sampleId: s0, labelIds: [A] },
          { sampleId: s1, labelIds: [A] },
        ],
        [],
      ],
      [[{ sampleId: s3, labelIds: [] }], []],
      [[], [s1, s2]],
    ]);
  });

  it('sends tags added and removed in a multi-label project', async () => {
    const seeded = await seedProject(db, {
      kind: 'multi-label',
      labels: ['A', 'B'],
      samples: [['A'], ['A', 'B'], []],
    });
    const [s0, s1, s2] = seeded.sampleIds as [string, string, string];
    const { A, B } = seeded.labelIds;
    await openReady(seeded.project.id);

    await state().tagSamples([s0, s1, s2], B, true);
    await state().tagSamples([s1], A, false);
    await state().tagSamples([s2], A, false); // did not carry A
    await synced();

    expect(sent()).toStrictEqual([
      [
        [
          { sampleId: s0, labelIds: [A, B] },
          { sampleId: s2, labelIds: [B] },
        ],
        [],
      ],
      [[{ sampleId: s1, labelIds: [B] }], []],
    ]);
  });

  it('sends labels a re-import added to known samples, but not the new samples', async () => {
    const seeded = await seedProject(db, {
      kind: 'multi-label',
      labels: ['A', 'B'],
      samples: [['A'], []],
    });
    const { A, B } = seeded.labelIds;
    await openReady(seeded.project.id);
    const [known] = state().samples;
    const added = toMeta(newSample(seeded.project.id, { labelIds: [B] }).sample);

    state().appendSamples([{ ...known!, labelIds: [A, B] }, added]);
    await synced();
    expect(state().samples.map((s) => s.id)).toEqual([...seeded.sampleIds, added.id]);
    expect(sent()).toStrictEqual([[[{ sampleId: known!.id, labelIds: [A, B] }], []]]);
  });

  it('sends the samples a deleted or merged label touched', async () => {
    const seeded = await seedProject(db, {
      labels: ['A', 'B', 'C'],
      samples: [['A'], ['B'], ['C'], [], ['A']],
    });
    const [s0, s1, s2, , s4] = seeded.sampleIds as [string, string, string, string, string];
    const { A, B, C } = seeded.labelIds;
    await openReady(seeded.project.id);

    await state().deleteLabel(A, 'move-to-inbox');
    await state().mergeLabels(B, C);
    await state().deleteLabel(C, 'delete-images');
    await synced();

    expect(sent()).toStrictEqual([
      [
        [
          { sampleId: s0, labelIds: [] },
          { sampleId: s4, labelIds: [] },
        ],
        [],
      ],
      [[{ sampleId: s1, labelIds: [C] }], []],
      [[], [s1, s2]],
    ]);
  });

  it('sends one change at a time, in board order, and shows the fresh predictions', async () => {
    const seeded = await seedProject(db, { labels: ['A'], samples: [[], []] });
    const [s0, s1] = seeded.sampleIds as [string, string];
    const { A } = seeded.labelIds;
    await openReady(seeded.project.id);
    const first = deferred<TryPredictions | null>();
    engine.impl.applyLabelChanges = () => first.promise;

    await state().moveSamples([s0], A);
    await state().deleteSamples([s1]);
    await vi.waitFor(() => expect(sent()).toHaveLength(1));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(sent()).toHaveLength(1); // the second waits for the first

    engine.impl.applyLabelChanges = () => Promise.resolve(predictions);
    first.resolve(null);
    await synced();
    expect(sent()).toStrictEqual([
      [[{ sampleId: s0, labelIds: [A] }], []],
      [[], [s1]],
    ]);
    expect(state().tryResult).toEqual(predictions);
  });

  it('sends nothing before the heads are open, nor when another project opens', async () => {
    const seeded = await seedProject(db, { labels: ['A'], samples: [[], []] });
    const other = await seedProject(db, { name: 'Other', samples: [[]] });
    const [s0, s1] = seeded.sampleIds as [string, string];
    const { A } = seeded.labelIds;
    const opening = deferred<void>();
    engine.impl.openHeads = async () => {
      await opening.promise;
      return { examples: 0, k: 5, summary: null };
    };

    await state().openProject(seeded.project.id);
    await state().moveSamples([s0], A);
    await synced();
    expect(sent()).toEqual([]);
    opening.resolve();
    await vi.waitFor(() => expect(state().headsReady).toBe(true));
    await synced();
    expect(sent()).toEqual([]);

    await state().moveSamples([s1], A);
    await synced();
    expect(sent()).toStrictEqual([[[{ sampleId: s1, labelIds: [A] }], []]]);

    await openReady(other.project.id);
    await synced();
    expect(sent()).toHaveLength(1);
  });

  it('re-chooses auto k once, 1.5 s after the last label change', async () => {
    const seeded = await seedProject(db, { labels: ['A'], samples: [[], [], []] });
    const { A } = seeded.labelIds;
    await openReady(seeded.project.id);
    // Only label changes schedule a refresh from here (the embedding run has ended).
    await state().scheduleEmbedding();
    engine.impl.refreshK = () => Promise.resolve(2);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const before = engine.calls.refreshK.length;

    for (const id of seeded.sampleIds) {
      await state().moveSamples([id], A);
      await synced();
      vi.advanceTimersByTime(1000);
    }
    expect(engine.calls.refreshK).toHaveLength(before);
    vi.advanceTimersByTime(600);
    expect(engine.calls.refreshK).toHaveLength(before + 1);
    await vi.waitFor(() => expect(state().knnK).toBe(2));
  });
});

describe('heads slice: training', () => {
  async function trainableProject(): Promise<{ labelOrder: string[] }> {
    const seeded = await seedProject(db, {
      labels: ['A', 'B'],
      samples: [['A'], ['B']],
      settings: { heads: { ...DEFAULT_HEAD_SETTINGS, k: 1 } },
    });
    await openReady(seeded.project.id);
    return { labelOrder: [seeded.labelIds.A, seeded.labelIds.B] };
  }

  it('trains with label order, config and augmentation, logging each epoch', async () => {
    const { labelOrder } = await trainableProject();
    const result = deferred<DenseModelSummary | null>();
    engine.impl.trainDense = () => result.promise;
    state().setDenseConfig({ epochs: 3 });
    state().setDenseConfig({ hiddenUnits: 0 });

    const training = state().train();
    await vi.waitFor(() => expect(engine.calls.trainDense).toHaveLength(1));
    const call = engine.calls.trainDense[0]![0];
    expect(call).toMatchObject({
      labelOrder,
      config: { epochs: 3, hiddenUnits: 0 },
      augmentation: { flips: false, crops: 0 },
    });
    expect(call.signal.aborted).toBe(false);
    expect(state().training).toEqual({ epochs: [], maxEpochs: 3, preparing: null });
    call.onEpoch(epoch(1));
    call.onEpoch(epoch(2));
    expect(state().training?.epochs).toEqual([epoch(1), epoch(2)]);

    await state().train(); // one training at a time
    expect(engine.calls.trainDense).toHaveLength(1);

    const summary = modelSummary({ labels: labelOrder });
    result.resolve(summary);
    await training;
    expect(state().modelSummary).toEqual(summary);
    expect(state().classifier).toBe('dense');
    expect(state().training).toBeNull();
    expect(state().headsError).toBeNull();
  });

  it('embeds the augmented views first, showing their progress', async () => {
    const { labelOrder } = await trainableProject();
    engine.impl.embedProject = fakeEmbedder(db);
    const preparing: ({ done: number; total: number } | null)[] = [];
    store.subscribe((s, prev) => {
      if (s.training && s.training.preparing !== prev.training?.preparing) {
        preparing.push(s.training.preparing);
      }
    });
    let preparingWhenTrained: unknown = 'not trained';
    engine.impl.trainDense = () => {
      preparingWhenTrained = state().training?.preparing;
      return Promise.resolve(modelSummary());
    };
    state().setAugmentation({ flips: true });
    state().setAugmentation({ crops: 1 });

    const embedded = engine.calls.embedProject.length;
    await state().train();
    const views = engine.calls.embedProject.slice(embedded).map(([call]) => call.view);
    expect(views).toEqual([
      { flip: true, crop: 0 },
      { flip: false, crop: 1 },
    ]);
    expect(preparing).toEqual([
      { done: 0, total: 0 },
      { done: 0, total: 4 },
      { done: 1, total: 4 },
      { done: 2, total: 4 },
      { done: 3, total: 4 },
      null,
    ]);
    expect(preparingWhenTrained).toBeNull();
    expect(engine.calls.trainDense[0]?.[0]).toMatchObject({
      labelOrder,
      augmentation: { flips: true, crops: 1 },
    });
  });

  it('stopTraining aborts the training and keeps the classifier', async () => {
    await trainableProject();
    engine.impl.trainDense = async ({ signal }) => {
      await aborted(signal);
      return null;
    };
    const training = state().train();
    await vi.waitFor(() => expect(engine.calls.trainDense).toHaveLength(1));
    const signal = engine.calls.trainDense[0]![0].signal;
    state().stopTraining();
    expect(signal.aborted).toBe(true);
    await training;
    expect(state().training).toBeNull();
    expect(state().classifier).toBe('knn');
    expect(state().modelSummary).toBeNull();
    expect(state().headsError).toBeNull();
  });

  it('stopping while the views are embedded trains nothing', async () => {
    await trainableProject();
    const embedded = engine.calls.embedProject.length;
    engine.impl.embedProject = fakeEmbedder(db, { gate: new Promise(() => {}) });
    state().setAugmentation({ flips: true });
    const training = state().train();
    await vi.waitFor(() => expect(engine.calls.embedProject).toHaveLength(embedded + 1));
    state().stopTraining();
    await training;
    expect(engine.calls.embedProject.at(-1)?.[0].signal.aborted).toBe(true);
    expect(engine.calls.trainDense).toEqual([]);
    expect(state().training).toBeNull();
  });

  it('reports a failed training', async () => {
    await trainableProject();
    engine.impl.trainDense = () => Promise.reject(new Error('out of memory'));
    await state().train();
    expect(state().headsError).toBe('out of memory');
    expect(state().training).toBeNull();
    expect(state().classifier).toBe('knn');
  });
});

describe('heads slice: comparing heads', () => {
  const row: CompareRow = {
    variant: 'knn',
    head: 'KNN',
    accuracy: 0.8,
    macroF1: 0.75,
    std: 0.01,
    folds: 5,
  };

  it('shows the rows of the comparison', async () => {
    const seeded = await seedProject(db, { labels: ['A', 'B'], samples: [['A']] });
    await openReady(seeded.project.id);
    const rows = deferred<CompareRow[]>();
    engine.impl.compareHeads = () => rows.promise;
    const comparing = state().compareHeads();
    await vi.waitFor(() => expect(engine.calls.compareHeads).toHaveLength(1));
    expect(state().comparing).toBe(true);
    expect(engine.calls.compareHeads[0]?.[0]).toMatchObject({
      labelOrder: [seeded.labelIds.A, seeded.labelIds.B],
      augmentation: { flips: false, crops: 0 },
    });
    // Each finished fold updates the progress and its time left.
    const onProgress = engine.calls.compareHeads[0]?.[0].onProgress;
    expect(state().compareProgress).toBeNull();
    onProgress?.({ done: 3, total: 15 });
    expect(state().compareProgress).toMatchObject({ done: 3, total: 15 });
    expect(state().compareProgress?.etaSeconds).toBeGreaterThanOrEqual(0);
    rows.resolve([row]);
    await comparing;
    expect(state().compareRows).toEqual([row]);
    expect(state().comparing).toBe(false);
    expect(state().compareProgress).toBeNull();
  });

  it('cancelCompare aborts it quietly', async () => {
    const seeded = await seedProject(db, { labels: ['A'], samples: [['A']] });
    await openReady(seeded.project.id);
    engine.impl.compareHeads = async ({ signal }) => {
      await aborted(signal);
      throw new Error('Job cancelled');
    };
    const comparing = state().compareHeads();
    await vi.waitFor(() => expect(engine.calls.compareHeads).toHaveLength(1));
    state().cancelCompare();
    expect(engine.calls.compareHeads[0]?.[0].signal.aborted).toBe(true);
    await comparing;
    expect(state().comparing).toBe(false);
    expect(state().headsError).toBeNull();
    expect(state().compareRows).toBeNull();
  });

  it('reports a comparison that failed on its own', async () => {
    const seeded = await seedProject(db, { labels: ['A'], samples: [['A']] });
    await openReady(seeded.project.id);
    engine.impl.compareHeads = () => Promise.reject(new Error('too few examples'));
    await state().compareHeads();
    expect(state().headsError).toBe('too few examples');
    expect(state().comparing).toBe(false);
  });
});

describe('versions slice', () => {
  it('lists, pins and uses a saved version; the summary and the list follow', async () => {
    const seeded = await seedProject(db, { labels: ['A', 'B'], samples: [['A'], ['B']] });
    await openReady(seeded.project.id);
    const older = modelSummary({ labels: [seeded.labelIds.A, seeded.labelIds.B] });
    const version = (id: string, current: boolean, pinned = false) => ({
      id,
      createdAt: 1,
      bestEpoch: 3,
      accuracy: 0.9,
      pinned,
      current,
    });
    engine.impl.listDenseVersions = () =>
      Promise.resolve([version('new', true), version(older.id, false)]);
    await state().loadDenseVersions();
    expect(state().denseVersions?.map((v) => v.id)).toEqual(['new', older.id]);

    engine.impl.pinDenseVersion = (id, pinned) =>
      Promise.resolve([version('new', true), version(id, false, pinned)]);
    await state().pinDenseVersion(older.id, true);
    expect(engine.calls.pinDenseVersion).toEqual([[older.id, true]]);
    expect(state().denseVersions?.[1]?.pinned).toBe(true);

    engine.impl.useDenseVersion = () => Promise.resolve(older);
    engine.impl.listDenseVersions = () =>
      Promise.resolve([version(older.id, true, true), version('new', false)]);
    await state().useDenseVersion(older.id);
    expect(engine.calls.useDenseVersion).toEqual([[older.id]]);
    expect(state().modelSummary).toEqual(older);
    expect(state().denseVersions?.[0]).toMatchObject({ id: older.id, current: true });
    expect(state().headsError).toBeNull();

    engine.impl.useDenseVersion = () =>
      Promise.reject(new Error('That model version is no longer stored.'));
    await state().useDenseVersion('gone');
    expect(state().headsError).toBe('That model version is no longer stored.');
    expect(state().modelSummary).toEqual(older);

    // Another project starts with no list.
    const other = await seedProject(db, { labels: ['C'], samples: [['C']] });
    await openReady(other.project.id);
    expect(state().denseVersions).toBeNull();
  });
});

describe('heads slice: head settings', () => {
  it('stores the settings in the project and forwards them to the open heads', async () => {
    const { project } = await seedProject(db, { samples: [[]] });
    await openReady(project.id);
    engine.impl.setHeadSettings = () => Promise.resolve(3);

    await state().setHeadSettings({ k: 3 });
    await state().setHeadSettings({ weighted: true });
    const expected = { ...DEFAULT_HEAD_SETTINGS, k: 3, weighted: true };
    expect(engine.calls.setHeadSettings).toStrictEqual([
      [{ ...DEFAULT_HEAD_SETTINGS, k: 3 }],
      [expected],
    ]);
    expect(state().knnK).toBe(3);
    expect(state().project?.settings.heads).toEqual(expected);
    expect((await projectsRepo.getProject(db, project.id))?.settings.heads).toEqual(expected);

    // Reopening the project (a fresh store, as after a reload) opens the heads with them.
    store = storeWith(db, { engine });
    await openReady(project.id);
    expect(engine.calls.openHeads.at(-1)?.[0].settings).toEqual(expected);
  });

  it('stores settings before the heads are open without forwarding them', async () => {
    const { project } = await seedProject(db);
    engine.impl.openHeads = () => new Promise(() => {});
    await state().openProject(project.id);
    await state().setHeadSettings({ flipTta: true });
    expect(engine.calls.setHeadSettings).toEqual([]);
    expect((await projectsRepo.getProject(db, project.id))?.settings.heads?.flipTta).toBe(true);
  });

  it('shows the stored settings again when they cannot be stored', async () => {
    let storageDown = false;
    store = storeWith(
      () => (storageDown ? Promise.reject(new Error('storage unavailable')) : Promise.resolve(db)),
      { engine },
    );
    const { project } = await seedProject(db);
    await openReady(project.id);
    storageDown = true;
    await state().setHeadSettings({ k: 9 });
    expect(state().headsError).toBe('storage unavailable');
    expect(state().project?.settings.heads).toBeUndefined();
    expect(engine.calls.setHeadSettings).toEqual([]);
  });
});
