/**
 * The engine worker's loaded backbone: one at a time, loaded for the active backend and reused
 * until another spec or backend asks for it; its forward-pass timing (the backend probe) and the
 * batch size the pipeline uses on that backend. A spec's weights come from its URL, or from the
 * source `setBackboneSources` gives it (a model picked as files).
 */
import * as tf from '@tensorflow/tfjs';
import { createBackbone } from '../core/backbone/registry';
import type { Backbone, BackboneSpec, ModelSource } from '../core/backbone/types';

let loaded: { key: string; backbone: Promise<Backbone> } | null = null;

type SourceFor = (spec: BackboneSpec) => Promise<ModelSource | undefined>;
let sourceFor: SourceFor = () => Promise.resolve(undefined);

/** Where specs load from when not from their URL (the worker's stored model files). */
export function setBackboneSources(resolve: SourceFor): void {
  sourceFor = resolve;
}

/**
 * The backbone for `spec` on the active backend, loaded once: callers that arrive while it loads
 * (a warm-up and the first embedding job) share the one load; a failed load is forgotten, so the
 * next caller tries again.
 */
export function backboneFor(spec: BackboneSpec): Promise<Backbone> {
  const key = `${spec.id}|${tf.getBackend()}`;
  if (loaded?.key === key) return loaded.backbone;
  const previous = loaded?.backbone;
  const backbone = (async () => {
    // The previous backbone is released once its own load has settled.
    await previous?.then((b) => b.dispose()).catch(() => undefined);
    const source = await sourceFor(spec);
    const created = createBackbone(spec, source !== undefined ? { source } : {});
    await created.load();
    return created;
  })();
  const entry = { key, backbone };
  loaded = entry;
  backbone.catch(() => {
    if (loaded === entry) loaded = null;
  });
  return backbone;
}

/** Images/s of the backbone's forward pass on the active backend, on random input. */
export async function timeForward(spec: BackboneSpec, batch = 4, rounds = 2): Promise<number> {
  const backbone = await backboneFor(spec);
  const input = tf.randomUniform(
    [batch, spec.inputSize, spec.inputSize, 3],
    spec.inputRange[0],
    spec.inputRange[1],
  ) as tf.Tensor4D;
  try {
    const warm = backbone.embed(input);
    await warm.data();
    warm.dispose();
    const t0 = performance.now();
    for (let r = 0; r < rounds; r++) {
      const out = backbone.embed(input);
      await out.data();
      out.dispose();
    }
    return (batch * rounds) / ((performance.now() - t0) / 1000);
  } finally {
    input.dispose();
  }
}

/** Batch 8 on CPU-side backends (batching gains little without many threads), 16 on GPUs. */
export function pipelineBatchSize(): number {
  return tf.getBackend() === 'wasm' || tf.getBackend() === 'cpu' ? 8 : 16;
}
