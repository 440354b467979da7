/**
 * The engine worker's TF.js backend choice (`pickBackend`: a forced or remembered backend, or a
 * probe of all of them) and the rule that backend switches and the work that loads a model
 * outside the backbone cache (checking picked model files) run one at a time, in call order
 * (`exclusive`): a model loaded while `tf.setBackend` is still initialising another backend fails
 * ("Backend 'wasm' has not yet been initialized"), which model files picked while the board's
 * first engine start probed the backends ran into.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackboneSpec } from '../core/backbone/types';
import type { EngineStatus } from './api';
import { timeForward } from './backboneCache';
import { describeBackend, probeBackends, useBackend, type BackendName } from './backends';

let tail: Promise<unknown> = Promise.resolve();

/** Runs `work` after every earlier `exclusive` call has settled; its result is passed through. */
export function exclusive<T>(work: () => Promise<T>): Promise<T> {
  const run = tail.then(work, work);
  tail = run.catch(() => undefined);
  return run;
}

/** `work` (e.g. checking picked model files) on a settled, ready backend, between switches. */
export function onReadyBackend<T>(work: () => Promise<T>): Promise<T> {
  return exclusive(async () => {
    await tf.ready();
    return work();
  });
}

/**
 * Picks the backend: `override` forces one; `remembered` (from an earlier probe on this device)
 * is reused when it still works; otherwise every backend is probed with the real backbone.
 * `previous` is the status so far (its probe reports are kept when a backend is reused).
 */
export async function pickBackend(
  options: { spec: BackboneSpec; override?: BackendName; remembered?: BackendName },
  previous: EngineStatus | null,
): Promise<EngineStatus> {
  const pick = options.override ?? options.remembered;
  if (pick && (await useBackend(pick))) {
    const d = await describeBackend(pick);
    return {
      backend: pick,
      detail: d.detail,
      reports: previous?.reports ?? [],
      how: options.override ? 'override' : 'remembered',
    };
  }
  const { reports, chosen } = await probeBackends(() => timeForward(options.spec), {});
  await useBackend(chosen);
  const detail = reports.find((r) => r.name === chosen)?.detail ?? '';
  return { backend: chosen, detail, reports, how: 'probed' };
}
