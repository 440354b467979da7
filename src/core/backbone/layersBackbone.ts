/**
 * Layers-model backbones: any TF.js layers model (URL or dropped files through `tf.io.browserFiles`)
 * with a chosen embedding layer and input range. 4-D layer outputs are global-average-pooled,
 * 2-D outputs used as they are. Embeddings run through the model's fused pass (fusedForward.ts)
 * when it matches `predict` at load. Also the base class of the default MobileNet v1 backbone, and
 * `inspectLayersModel` for the UI's layer picker.
 */
import * as tf from '@tensorflow/tfjs';
import {
  assertBatch,
  embeddingModelAt,
  listCandidateLayers,
  loadLayersModelFrom,
  squareInputSize,
  warmUp,
  type LayerCandidate,
} from './layersModel';
import { compileForward, matchesPredict, type CompiledForward } from './fusedForward';
import { LazyBackbone } from './lazyBackbone';
import { modelFilesMissingMessage } from './modelFiles';
import type { BackboneOptions, CustomBackboneSpec, ModelSource } from './types';

/** What a layers-model backbone needs from its spec. */
export type LayersBackboneSpec = Pick<
  CustomBackboneSpec,
  'id' | 'label' | 'url' | 'inputSize' | 'inputRange' | 'embeddingSize' | 'embeddingLayer'
>;

/**
 * Images in the load-time warm-up batch: the embedding pipeline's batch on wasm, whose first run
 * at that size otherwise costs about three batches' time.
 */
const WARM_BATCH = 8;

export class LayersBackbone extends LazyBackbone {
  protected readonly spec: LayersBackboneSpec;
  /** Noun used in error messages ("MobileNet weights not found ..."). */
  protected readonly what: string;
  /** Command named when the weights are missing; null for user models. */
  protected readonly fixCommand: string | null;
  protected full: tf.LayersModel | null = null;
  private embedder: tf.LayersModel | null = null;
  /** The embedder's fused pass (see fusedForward.ts), when it matched `predict` at load. */
  private compiled: CompiledForward | null = null;
  /** See `featureMapModel` (undefined: not built yet). */
  private featureMaps: tf.LayersModel | null | undefined = undefined;

  constructor(
    spec: LayersBackboneSpec,
    options: BackboneOptions = {},
    what = 'Custom model',
    fixCommand: string | null = null,
  ) {
    super(spec, options);
    this.spec = spec;
    this.what = what;
    this.fixCommand = fixCommand;
  }

  get loaded(): boolean {
    return this.embedder !== null;
  }

  protected async doLoad(): Promise<void> {
    const full = await loadLayersModelFrom(this.source, this.what, this.fixCommand);
    try {
      const modelSize = squareInputSize(full);
      if (modelSize !== null && modelSize !== this.inputSize) {
        throw new Error(
          `${this.id}: the model takes ${modelSize}x${modelSize} input, the spec says ${this.inputSize}`,
        );
      }
      const embedder = embeddingModelAt(full, this.spec.embeddingLayer);
      const shape = embedder.outputs[0]?.shape;
      const size = this.checkLoaded(
        shape?.[shape.length - 1] ?? undefined,
        `layer "${this.spec.embeddingLayer}"`,
      );
      await this.afterLoad(full);
      await warmUp(embedder, this.inputSize, WARM_BATCH);
      this.compiled = await this.compile(embedder);
      this.full = full;
      this.embedder = embedder;
      this.publish(size);
    } catch (err) {
      full.dispose();
      throw err;
    }
  }

  /**
   * The fused pass of `embedder`, trusted only if it gives `predict`'s output on a seeded random
   * image (an unusual layer it misreads keeps the model on `predict`); null otherwise.
   */
  private async compile(embedder: tf.LayersModel): Promise<CompiledForward | null> {
    const compiled = compileForward(embedder);
    if (!compiled) return null;
    const [low, high] = this.inputRange;
    const probe = tf.randomUniform([1, this.inputSize, this.inputSize, 3], low, high, 'float32', 1);
    try {
      if (await matchesPredict(embedder, compiled, probe)) return compiled;
    } catch {
      // Fall through: predict stays the pass.
    } finally {
      probe.dispose();
    }
    compiled.dispose();
    return null;
  }

  /** Hook for subclasses (labels, extra checks) before the model is published. */
  protected async afterLoad(_full: tf.LayersModel): Promise<void> {}

  /** Input -> embedding (pooled) model, sharing the backbone's weights. Throws before `load()`. */
  embeddingModel(): tf.LayersModel {
    if (!this.embedder) throw new Error(`${this.id}: call load() first`);
    return this.embedder;
  }

  /**
   * Input -> the embedding layer's own output before pooling, when that is a 4-D feature map (the
   * last convolutional activation, e.g. `out_relu`), else null; shares the backbone's weights.
   * Built on first use. Throws before `load()`.
   */
  featureMapModel(): tf.LayersModel | null {
    const embedder = this.embeddingModel();
    if (this.featureMaps === undefined) {
      const layer = this.full?.getLayer(this.spec.embeddingLayer);
      const output = layer?.output;
      this.featureMaps =
        output && !Array.isArray(output) && output.shape.length === 4
          ? tf.model({ inputs: embedder.inputs, outputs: output, name: 'loupe_feature_maps' })
          : null;
    }
    return this.featureMaps;
  }

  embed(batch: tf.Tensor4D): tf.Tensor2D {
    const model = this.embeddingModel();
    assertBatch(batch, this.inputSize, this.id);
    const compiled = this.compiled;
    if (compiled) return compiled.run(batch) as tf.Tensor2D;
    return tf.tidy(() => model.predict(batch) as tf.Tensor2D);
  }

  override dispose(): void {
    super.dispose();
    // The embedding model shares the full model's layers (each layer is refcounted once, so
    // disposing both would throw) and only adds a weightless pooling layer: dispose the full model.
    this.full?.dispose();
    this.compiled?.dispose();
    this.compiled = null;
    this.embedder = null;
    this.featureMaps = undefined;
    this.full = null;
  }
}

export function createCustomBackbone(
  spec: CustomBackboneSpec,
  options: BackboneOptions = {},
): LayersBackbone {
  // A model picked as files has no URL: it loads only from the source its stored files give.
  if (spec.files !== undefined && options.source === undefined) {
    throw new Error(modelFilesMissingMessage(spec.label));
  }
  return new LayersBackbone(spec, options);
}

export interface LayersModelInfo {
  /** Square input size, or null when the model's input is dynamic or not square. */
  inputSize: number | null;
  /** Usable embedding layers, deepest first. */
  candidates: LayerCandidate[];
  layerCount: number;
  paramCount: number;
}

/** Loads a layers model just to describe it for the custom-backbone form, then frees it. */
export async function inspectLayersModel(source: ModelSource): Promise<LayersModelInfo> {
  const model = await loadLayersModelFrom(source, 'Custom model', null);
  try {
    return {
      inputSize: squareInputSize(model),
      candidates: listCandidateLayers(model),
      layerCount: model.layers.length,
      paramCount: model.countParams(),
    };
  } finally {
    model.dispose();
  }
}

export { customBackboneId } from './specs';
