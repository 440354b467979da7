/**
 * Engine slice: backend status, and the embedding scheduler. Whenever a project is open and has
 * samples without an embedding for its backbone + aspect mode, one job computes them in the
 * worker; new imports mark the job dirty so it runs again. The backend choice is remembered
 * per backbone (persisted prefs) and can be overridden in settings.
 */
import { getBuiltinSpec, defaultBackboneSpec } from '../core/backbone/registry';
import type { BackboneSpec } from '../core/backbone/types';
import { embeddingKey } from '../core/backbone/types';
import { countEmbeddings } from '../core/storage/embeddings';
import type { ProjectRecord } from '../core/storage/schema';
import type { BackendName, EmbedProgress, EngineStatus } from '../worker/engineBridge';
import type { SliceCreator } from './store';

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
  /** Resolves once the worker has picked its backend for the open project's backbone. */
  engineReady(): Promise<void>;
  cancelEmbedding(): void;
}

export function projectBackboneSpec(project: ProjectRecord): BackboneSpec {
  const custom = project.settings['customBackbone'] as BackboneSpec | undefined;
  if (custom && custom.id === project.settings.backboneId) return custom;
  return getBuiltinSpec(project.settings.backboneId) ?? defaultBackboneSpec();
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
      initialised = engine
        .init(spec, {
          ...(override !== 'auto' ? { override } : {}),
          ...(get().rememberedBackends[spec.id]
            ? { remembered: get().rememberedBackends[spec.id] }
            : {}),
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

  const runOnce = async (): Promise<void> => {
    const project = get().project;
    const engine = services.engine;
    if (!project || !engine) return;
    const spec = projectBackboneSpec(project);
    const aspectMode = project.settings.aspectMode;
    const key = embeddingKey(spec, aspectMode);
    const database = await services.db();
    const refreshCount = async (): Promise<void> => {
      if (get().project?.id === project.id)
        set({ embeddedCount: await countEmbeddings(database, project.id, key) });
    };
    await refreshCount();
    if (get().embeddedCount >= get().samples.length) return;
    await ensureEngine(spec);
    controller = new AbortController();
    try {
      const report = await engine.embedProject({
        projectId: project.id,
        spec,
        aspectMode,
        signal: controller.signal,
        onProgress: (p) => set({ embedProgress: p }),
        onBatch: (ids) => {
          set({ embeddedCount: get().embeddedCount + ids.length });
          void get().refreshTry();
        },
      });
      set({ computedThisSession: get().computedThisSession + report.computed });
      if (report.cancelled) dirty = false;
    } finally {
      controller = null;
      set({ embedProgress: null });
      await refreshCount();
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
    async engineReady() {
      const project = get().project;
      if (!project) return;
      await ensureEngine(projectBackboneSpec(project));
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
    cancelEmbedding() {
      dirty = false;
      controller?.abort();
    },
  };
};
