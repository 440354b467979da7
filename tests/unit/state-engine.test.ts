import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  darknetTinySpec,
  defaultBackboneSpec,
  mobileNetV1Spec,
} from '../../src/core/backbone/specs';
import { embeddingKey } from '../../src/core/backbone/types';
import { countEmbeddings, putEmbeddings } from '../../src/core/storage/embeddings';
import type { LoupeDatabase } from '../../src/core/storage/db';
import { openLoupeDb } from '../../src/core/storage/db';
import * as projectsRepo from '../../src/core/storage/projects';
import { insertSamples, listSampleMeta } from '../../src/core/storage/samples';
import type { LoupeStore } from '../../src/state/store';
import type { EngineClient } from '../../src/worker/api';
import {
  deferred,
  engineStatus,
  fakeEmbedder,
  fakeEngine,
  seedProject,
  storeWith,
  type FakeEngine,
} from '../fixtures/clients';
import { embedding, newSample } from '../fixtures/records';

let db: LoupeDatabase;
let engine: FakeEngine;
let store: LoupeStore;

const state = (): ReturnType<LoupeStore['getState']> => store.getState();
/** A new project's backbone; `other` is the one switches go to. */
const active = defaultBackboneSpec();
const other = mobileNetV1Spec();
const activeKey = embeddingKey(active, 'centre-crop');

beforeEach(async () => {
  db = await openLoupeDb();
  engine = fakeEngine({ embedProject: fakeEmbedder(db) });
  store = storeWith(db, { engine });
});

/** Opens the project and waits until the embedding scheduler has nothing left to do. */
async function openAndSettle(projectId: string): Promise<void> {
  expect(await state().openProject(projectId)).toBe(true);
  await vi.waitFor(() => expect(state().headsReady || state().headsError).toBeTruthy());
  // Let openProject's own scheduleEmbedding start, then wait for the run (and any rerun).
  await new Promise((resolve) => setTimeout(resolve, 0));
  await state().scheduleEmbedding();
}

/** An embedder that starts embedding once `gate` resolves (or reports a cancel when aborted). */
const gatedEmbedder = (gate: Promise<void>): EngineClient['embedProject'] =>
  fakeEmbedder(db, { gate });

describe('engine slice: embedding scheduler', () => {
  it('opens a project: picks the backend once, then embeds the missing samples', async () => {
    const { project, sampleIds } = await seedProject(db, { samples: [[], [], []] });
    store.setState({ backendOverride: 'wasm', rememberedBackends: { [active.id]: 'webgl' } });
    const batches: number[] = [];
    store.subscribe((s, prev) => {
      if (s.embeddedCount !== prev.embeddedCount) batches.push(s.embeddedCount);
    });

    await openAndSettle(project.id);

    expect(engine.calls.init).toStrictEqual([
      [{ spec: active, override: 'wasm', remembered: 'webgl' }],
    ]);
    expect(engine.calls.embedProject).toHaveLength(1);
    const call = engine.calls.embedProject[0]![0];
    expect(call).toMatchObject({ projectId: project.id, spec: active, aspectMode: 'centre-crop' });
    expect(call.view).toBeUndefined();
    // Each reported batch raised the count at once; it ends at the stored count.
    expect(batches).toEqual([1, 2, 3]);
    expect(state().embeddedCount).toBe(3);
    expect(await countEmbeddings(db, project.id, activeKey)).toBe(sampleIds.length);
    expect(state().computedThisSession).toBe(3);
    expect(state().embedProgress).toBeNull();
    expect(state().engineStatus).toEqual(engineStatus());
  });

  it('sends neither override nor remembered backend when the prefs have none', async () => {
    const { project } = await seedProject(db, { samples: [[]] });
    await openAndSettle(project.id);
    expect(engine.calls.init).toStrictEqual([[{ spec: active }]]);
  });

  it('shows progress while embedding and clears it after', async () => {
    const gate = deferred<void>();
    engine.impl.embedProject = gatedEmbedder(gate.promise);
    const { project } = await seedProject(db, { samples: [[], []] });
    await state().openProject(project.id);
    await vi.waitFor(() => expect(engine.calls.embedProject).toHaveLength(1));
    engine.calls.embedProject[0]![0].onProgress({
      done: 1,
      total: 2,
      computed: 1,
      rate: 4,
      etaSeconds: 1,
    });
    expect(state().embedProgress).toMatchObject({ done: 1, total: 2 });
    gate.resolve();
    await state().scheduleEmbedding();
    expect(state().embedProgress).toBeNull();
  });

  it('computes nothing when every sample already has its embedding', async () => {
    const { project, sampleIds } = await seedProject(db, { samples: [[], []] });
    await putEmbeddings(
      db,
      sampleIds.map((id) => embedding(project.id, id, activeKey)),
    );
    await openAndSettle(project.id);
    expect(engine.calls.embedProject).toEqual([]);
    expect(state().embeddedCount).toBe(2);
  });

  it('runs exactly once more when asked again while a run is in flight', async () => {
    const gate = deferred<void>();
    engine.impl.embedProject = gatedEmbedder(gate.promise);
    const { project } = await seedProject(db, { samples: [[], []] });
    await state().openProject(project.id);
    await vi.waitFor(() => expect(engine.calls.embedProject).toHaveLength(1));

    // New samples arrive (an import appends them) and the scheduler is asked three more times.
    const added = [newSample(project.id), newSample(project.id)];
    await insertSamples(db, added);
    state().appendSamples(await listSampleMeta(db, project.id));
    const asked = [state().scheduleEmbedding(), state().scheduleEmbedding()];
    gate.resolve();
    await Promise.all(asked);

    expect(engine.calls.embedProject).toHaveLength(2);
    expect(state().embeddedCount).toBe(4);
    expect(await countEmbeddings(db, project.id, activeKey)).toBe(4);
    // Nothing is left to do: asking again embeds nothing.
    await state().scheduleEmbedding();
    expect(engine.calls.embedProject).toHaveLength(2);
  });

  it('cancelEmbedding aborts the running job and drops a pending rerun', async () => {
    engine.impl.embedProject = gatedEmbedder(new Promise(() => {}));
    const { project } = await seedProject(db, { samples: [[], []] });
    await state().openProject(project.id);
    await vi.waitFor(() => expect(engine.calls.embedProject).toHaveLength(1));
    const signal = engine.calls.embedProject[0]![0].signal;
    const running = state().scheduleEmbedding(); // marks a rerun
    expect(signal.aborted).toBe(false);

    state().cancelEmbedding();
    expect(signal.aborted).toBe(true);
    await running;
    expect(engine.calls.embedProject).toHaveLength(1);
    expect(state().embedProgress).toBeNull();
    expect(state().engineError).toBeNull();
    expect(state().embeddedCount).toBe(0);
  });

  it('reports a failed run as engineError and runs again when asked', async () => {
    const { project } = await seedProject(db, { samples: [[]] });
    engine.impl.embedProject = () => Promise.reject(new Error('worker crashed'));
    await state().openProject(project.id);
    await vi.waitFor(() => expect(state().engineError).toBe('worker crashed'));
    expect(state().embedProgress).toBeNull();
    const attempts = engine.calls.embedProject.length;
    engine.impl.embedProject = fakeEmbedder(db);
    await state().scheduleEmbedding();
    expect(engine.calls.embedProject).toHaveLength(attempts + 1);
    expect(state().embeddedCount).toBe(1);
  });
});

describe('engine slice: backend choice', () => {
  it('remembers a probed backend per backbone id, keeping the others', async () => {
    engine.impl.init = () => Promise.resolve(engineStatus({ backend: 'webgpu', how: 'probed' }));
    store.setState({ rememberedBackends: { other_backbone: 'wasm' } });
    const { project } = await seedProject(db);
    await openAndSettle(project.id);
    expect(state().rememberedBackends).toEqual({ other_backbone: 'wasm', [active.id]: 'webgpu' });
    expect(state().engineStatus?.backend).toBe('webgpu');
  });

  it('does not overwrite the remembered backend with a forced one', async () => {
    engine.impl.init = ({ override }) =>
      Promise.resolve(engineStatus({ backend: override ?? 'webgl', how: 'override' }));
    store.setState({ backendOverride: 'cpu', rememberedBackends: { [active.id]: 'webgl' } });
    const { project } = await seedProject(db);
    await openAndSettle(project.id);
    expect(state().engineStatus).toMatchObject({ backend: 'cpu', how: 'override' });
    expect(state().rememberedBackends).toEqual({ [active.id]: 'webgl' });
  });

  it('setBackendOverride picks the backend again with the new choice', async () => {
    const { project } = await seedProject(db);
    await openAndSettle(project.id);
    expect(engine.calls.init).toHaveLength(1);

    await state().setBackendOverride('wasm');
    expect(state().backendOverride).toBe('wasm');
    expect(engine.calls.init.at(-1)).toStrictEqual([
      { spec: active, override: 'wasm', remembered: 'cpu' },
    ]);

    engine.impl.init = () => Promise.reject(new Error('wasm is unavailable'));
    await state().setBackendOverride('auto');
    expect(engine.calls.init.at(-1)).toStrictEqual([{ spec: active, remembered: 'cpu' }]);
    expect(state().engineError).toBe('wasm is unavailable');
  });

  it('tries to pick a backend again after a failed attempt', async () => {
    let attempts = 0;
    engine.impl.init = () =>
      ++attempts === 1
        ? Promise.reject(new Error('no backend'))
        : Promise.resolve(engineStatus({ backend: 'wasm' }));
    const { project } = await seedProject(db);
    await state().openProject(project.id);
    await vi.waitFor(() => expect(state().headsError).toBe('no backend'));
    await state().engineReady();
    expect(engine.calls.init).toHaveLength(2);
    expect(state().engineStatus?.backend).toBe('wasm');
    await state().engineReady();
    expect(engine.calls.init).toHaveLength(2);
  });
});

describe('engine slice: backbone switch', () => {
  /** A project whose two samples are embedded under the active (default) backbone. */
  async function embeddedProject(): Promise<{ projectId: string; sampleIds: string[] }> {
    const { project, sampleIds } = await seedProject(db, { samples: [[], []] });
    await putEmbeddings(
      db,
      sampleIds.map((id) => embedding(project.id, id, activeKey)),
    );
    await openAndSettle(project.id);
    return { projectId: project.id, sampleIds };
  }

  it('embeds for the pending backbone, then switches to it and reopens the heads', async () => {
    const { projectId } = await embeddedProject();
    const gate = deferred<void>();
    engine.impl.embedProject = gatedEmbedder(gate.promise);
    const target = { spec: other, aspectMode: 'letterbox' as const };
    const v2Key = embeddingKey(target.spec, target.aspectMode);

    const switching = state().setBackbone(target);
    await vi.waitFor(() => expect(engine.calls.embedProject).toHaveLength(1));
    // While the new embeddings are computed, the old backbone stays active.
    const stored = await projectsRepo.getProject(db, projectId);
    expect(stored?.settings).toMatchObject({
      backboneId: active.id,
      aspectMode: 'centre-crop',
      pendingBackbone: target,
    });
    expect(state().project?.settings.pendingBackbone).toEqual(target);
    expect(engine.calls.embedProject[0]![0]).toMatchObject({
      projectId,
      spec: target.spec,
      aspectMode: 'letterbox',
    });
    const headsOpened = engine.calls.openHeads.length;

    gate.resolve();
    await switching;
    const switched = await projectsRepo.getProject(db, projectId);
    expect(switched?.settings.backboneId).toBe(target.spec.id);
    expect(switched?.settings.aspectMode).toBe('letterbox');
    expect(switched?.settings.pendingBackbone).toBeUndefined();
    expect(state().project?.settings).toMatchObject({ backboneId: target.spec.id });
    expect(state().project?.settings.pendingBackbone).toBeUndefined();
    expect(engine.calls.openHeads).toHaveLength(headsOpened + 1);
    expect(engine.calls.openHeads.at(-1)?.[0]).toMatchObject({
      projectId,
      spec: target.spec,
      aspectMode: 'letterbox',
    });
    // The old embeddings are dropped; the count is the new set's.
    expect(await countEmbeddings(db, projectId, activeKey)).toBe(0);
    expect(await countEmbeddings(db, projectId, v2Key)).toBe(2);
    expect(state().embeddedCount).toBe(2);
  });

  it('switches an empty project at once, with nothing to embed', async () => {
    const { project } = await seedProject(db, { samples: [] });
    await openAndSettle(project.id);
    await state().setBackbone({ spec: other, aspectMode: 'centre-crop' });
    const stored = await projectsRepo.getProject(db, project.id);
    expect(stored?.settings.backboneId).toBe(other.id);
    expect(stored?.settings.pendingBackbone).toBeUndefined();
    expect(state().project?.settings.backboneId).toBe(other.id);
    expect(engine.calls.embedProject).toHaveLength(0);
  });

  it('stores a custom backbone spec when switching to it', async () => {
    const { projectId } = await embeddedProject();
    const custom = darknetTinySpec();
    await state().setBackbone({ spec: custom, aspectMode: 'centre-crop' });
    const switched = await projectsRepo.getProject(db, projectId);
    expect(switched?.settings.backboneId).toBe(custom.id);
    expect(switched?.settings.customBackbone).toEqual(custom);
    expect(engine.calls.openHeads.at(-1)?.[0].spec).toEqual(custom);
  });

  it('keeps the old backbone while some image failed to embed', async () => {
    const { projectId, sampleIds } = await embeddedProject();
    engine.impl.embedProject = fakeEmbedder(db, { failing: [sampleIds[1]!] });
    const target = { spec: other, aspectMode: 'centre-crop' as const };
    const headsOpened = engine.calls.openHeads.length;
    await state().setBackbone(target);
    const stored = await projectsRepo.getProject(db, projectId);
    expect(stored?.settings.backboneId).toBe(active.id);
    expect(stored?.settings.pendingBackbone).toEqual(target);
    expect(await countEmbeddings(db, projectId, activeKey)).toBe(2);
    expect(engine.calls.openHeads).toHaveLength(headsOpened);
  });

  it('choosing the active backbone again cancels the pending switch', async () => {
    const { projectId } = await embeddedProject();
    engine.impl.embedProject = gatedEmbedder(new Promise(() => {}));
    const switching = state().setBackbone({ spec: other, aspectMode: 'centre-crop' });
    await vi.waitFor(() => expect(engine.calls.embedProject).toHaveLength(1));
    const signal = engine.calls.embedProject[0]![0].signal;

    await state().setBackbone({ spec: active, aspectMode: 'centre-crop' });
    expect(signal.aborted).toBe(true);
    await switching;
    const stored = await projectsRepo.getProject(db, projectId);
    expect(stored?.settings.backboneId).toBe(active.id);
    expect(stored?.settings.pendingBackbone).toBeUndefined();
    expect(state().project?.settings.pendingBackbone).toBeUndefined();
    expect(engine.calls.embedProject).toHaveLength(1);
    expect(state().embeddedCount).toBe(2);
  });
});

describe('engine slice: base model', () => {
  it('baseModelSees asks the backbone with the project target and the signal', async () => {
    const guesses = [{ className: 'tabby cat', probability: 0.9 }];
    engine.impl.classifySample = () => Promise.resolve(guesses);
    expect(await state().baseModelSees('nothing-open')).toEqual([]);
    expect(engine.calls.classifySample).toEqual([]);

    const { project, sampleIds } = await seedProject(db, { samples: [[]] });
    await openAndSettle(project.id);
    const controller = new AbortController();
    expect(await state().baseModelSees(sampleIds[0]!, controller.signal)).toEqual(guesses);
    expect(engine.calls.classifySample).toStrictEqual([
      [
        {
          sampleId: sampleIds[0],
          spec: active,
          aspectMode: 'centre-crop',
          signal: controller.signal,
        },
      ],
    ]);
  });
});
