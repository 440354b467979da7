/**
 * Engine slice: backend status, and the embedding scheduler. Whenever a project is open and has
 * samples without an embedding for its backbone + aspect mode, one job computes them in the
 * worker; new imports mark the job dirty so it runs again. The backend choice is remembered
 * per backbone (persisted prefs) and can be overridden in settings.
 */
import type { BackboneSpec, ClassPrediction, PendingBackbone } from '../core/backbone/types';
import { embeddingTarget, pendingBackbone, projectBackboneSpec } from '../core/projectSettings';
import { embeddingKey } from '../core/backbone/types';
import { countEmbeddings, pruneEmbeddings } from '../core/storage/embeddings';
import { getProject, updateProject } from '../core/storage/projects';
import type { ProjectRecord } from '../core/storage/schema';
import type { BackendName, EmbedProgress, EngineStatus, ModelFilesInfo } from '../worker/api';
import type { SliceCreator } from './store';
import { announce, claimJob, type JobLease } from './tabSync';

export interface EngineSlice {
  engineStatus: EngineStatus | null;
  engineError: string | null;
  embedProgress: EmbedProgress | null;
  /** Embeddings cached for the open project's current backbone + aspect mode. */
  embeddedCount: number;
  computedThisSession: number;
  rememberedBackends: Record<string, BackendName>;
  backendOverride: BackendName | 'auto';
  setBackendOverride(choice: BackendName | 'auto'): Promise<void>;
  scheduleEmbedding(): Promise<void>;
  /**
   * Switches the project's backbone and/or aspect mode. The new embeddings are computed in the
   * background while the current ones (and the models on them) stay in use; the switch completes
   * when every image has one, and the old set is then dropped.
   */
  setBackbone(target: PendingBackbone): Promise<void>;
  /** Resolves once the worker has picked its backend for the open project's backbone. */
  engineReady(): Promise<void>;
  /**
   * Loads the open project's backbone in the worker in the background (errors surface when it is
   * used), so the first dropped images embed without waiting for the weights.
   */
  warmBackbone(): Promise<void>;
  cancelEmbedding(): void;
  /** The open project's backbone's own top-3 ImageNet classes for one sample. */
  baseModelSees(sampleId: string, signal?: AbortSignal): Promise<ClassPrediction[]>;
  /** Checks and stores model files picked for a custom backbone (throws what is wrong). */
  storeModelFiles(files: File[], folder?: string): Promise<ModelFilesInfo>;
}

export const createEngineSlice: SliceCreator<EngineSlice> = (set, get, services) => {
  let controller: AbortController | null = null;
  let running: Promise<void> | null = null;
  let dirty = false;
  let initialised: Promise<EngineStatus> | null = null;

  const ensureEngine = (spec: BackboneSpec): Promise<EngineStatus> => {
    const engine = services.engine;
    if (!engine) return Promise.reject(new Error('No engine'));
    if (!initialised) {
      const override = get().backendOverride;
      const remembered = get().rememberedBackends[spec.id];
      initialised = engine
        .init({
          spec,
          ...(override !== 'auto' ? { override } : {}),
          ...(remembered ? { remembered } : {}),
        })
        .then((status) => {
          set({
            engineStatus: status,
            engineError: null,
            rememberedBackends:
              status.how === 'probed'
                ? { ...get().rememberedBackends, [spec.id]: status.backend }
                : get().rememberedBackends,
          });
          return status;
        })
        .catch((error: unknown) => {
          initialised = null;
          throw error;
        });
    }
    return initialised;
  };

  /** The pending backbone has every embedding: make it active, drop the old set, reopen heads. */
  const promote = async (project: ProjectRecord, key: string): Promise<void> => {
    const database = await services.db();
    // The record as it is now: settings changed during the run (here or in another tab) stay,
    // and a switch replaced meanwhile by another is not promoted.
    const current = (await getProject(database, project.id)) ?? project;
    const pending = pendingBackbone(current);
    if (!pending || embeddingKey(pending.spec, pending.aspectMode) !== key) return;
    const updated = await updateProject(database, project.id, {
      settings: {
        ...current.settings,
        backboneId: pending.spec.id,
        aspectMode: pending.aspectMode,
        customBackbone: pending.spec.kind === 'custom' ? pending.spec : undefined,
        pendingBackbone: undefined,
      },
    });
    await pruneEmbeddings(database, project.id, key);
    announce(services, project.id, 'project');
    if (get().project?.id === project.id) {
      set({ project: updated });
      await get().openHeads();
    }
  };

  const runOnce = async (): Promise<void> => {
    const project = get().project;
    const engine = services.engine;
    if (!project || !engine) return;
    const { spec, aspectMode } = embeddingTarget(project);
    const key = embeddingKey(spec, aspectMode);
    const database = await services.db();
    const refreshCount = async (): Promise<void> => {
      if (get().project?.id === project.id)
        set({ embeddedCount: await countEmbeddings(database, project.id, key) });
    };
    await refreshCount();
    if (get().embeddedCount >= get().samples.length) {
      // Nothing left to embed (e.g. an empty project): a pending switch is complete already.
      if (pendingBackbone(project)) await promote(project, key);
      return;
    }
    await ensureEngine(spec);
    controller = new AbortController();
    let lease: JobLease | null = null;
    try {
      // One embedding job per project across tabs: while another tab runs it, wait (its progress
      // shows here); when it ends or its tab closes, this one finishes whatever is left.
      lease = await claimJob(services, project.id, 'embedding', {
        wait: true,
        signal: controller.signal,
      });
      if (!lease) return;
      // After a wait the other tab has most likely embedded everything already.
      await refreshCount();
      if (get().embeddedCount >= get().samples.length) return;
      const job = lease;
      const report = await engine.embedProject({
        projectId: project.id,
        spec,
        aspectMode,
        signal: controller.signal,
        onProgress: (p) => {
          set({ embedProgress: p });
          job.progress(p.done, p.total);
        },
        onBatch: (ids) => {
          set({ embeddedCount: get().embeddedCount + ids.length });
          announce(services, project.id, 'embeddings', ids);
          void get().refreshTry();
        },
      });
      set({ computedThisSession: get().computedThisSession + report.computed });
      if (report.cancelled) dirty = false;
      else if (pendingBackbone(project) && report.failed.length === 0) await promote(project, key);
    } finally {
      lease?.end();
      controller = null;
      set({ embedProgress: null });
      await refreshCount();
      get().scheduleKRefresh();
    }
  };

  return {
    engineStatus: null,
    engineError: null,
    embedProgress: null,
    embeddedCount: 0,
    computedThisSession: 0,
    rememberedBackends: {},
    backendOverride: 'auto',
    async setBackendOverride(choice) {
      set({ backendOverride: choice });
      initialised = null;
      const project = get().project;
      if (project && services.engine) {
        try {
          await ensureEngine(projectBackboneSpec(project));
        } catch (error) {
          set({ engineError: error instanceof Error ? error.message : String(error) });
        }
      }
    },
    async warmBackbone() {
      const project = get().project;
      if (!project || !services.engine) return;
      const { spec } = embeddingTarget(project);
      try {
        await ensureEngine(spec);
        await services.engine.warmBackbone(spec);
      } catch {
        // Reported by the job that needs the backbone (embedding, try), with what to do.
      }
    },
    async engineReady() {
      const project = get().project;
      if (!project) return;
      await ensureEngine(projectBackboneSpec(project));
    },
    async setBackbone(target) {
      const project = get().project;
      if (!project) return;
      const active = {
        spec: projectBackboneSpec(project),
        aspectMode: project.settings.aspectMode,
      };
      const same = active.spec.id === target.spec.id && active.aspectMode === target.aspectMode;
      const updated = await updateProject(await services.db(), project.id, {
        settings: { pendingBackbone: same ? undefined : target },
      });
      set({ project: updated, engineError: null });
      announce(services, project.id, 'project');
      get().cancelEmbedding();
      await running;
      await get().scheduleEmbedding();
    },
    scheduleEmbedding() {
      if (!services.engine) return Promise.resolve();
      if (running) {
        dirty = true;
        return running;
      }
      running = (async () => {
        do {
          dirty = false;
          try {
            await runOnce();
          } catch (error) {
            set({ engineError: error instanceof Error ? error.message : String(error) });
            dirty = false;
          }
        } while (dirty);
        running = null;
      })();
      return running;
    },
    async baseModelSees(sampleId, signal) {
      const project = get().project;
      if (!project || !services.engine) return [];
      return services.engine.classifySample({
        sampleId,
        spec: projectBackboneSpec(project),
        aspectMode: project.settings.aspectMode,
        ...(signal ? { signal } : {}),
      });
    },
    cancelEmbedding() {
      dirty = false;
      controller?.abort();
    },
    storeModelFiles(files, folder) {
      if (!services.engine) return Promise.reject(new Error('No engine'));
      return services.engine.storeModelFiles({ files, ...(folder ? { folder } : {}) });
    },
  };
};
