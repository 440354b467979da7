/**
 * MobileNet v2 backbone through `@tensorflow-models/mobilenet`: `load({ version: 2, alpha,
 * modelUrl })` on a same-origin graph model bundled by `npm run models -- --download-v2`;
 * embeddings from `infer(x, true)` (node `module_apply_default/MobilenetV2/Logits/AvgPool`),
 * ImageNet top-k from the package's own `classify`.
 */
import * as tf from '@tensorflow/tfjs';
import { load as loadMobileNet, type MobileNet } from '@tensorflow-models/mobilenet';
import { FIX_MODELS_COMMAND, assertBatch, loadModelFrom } from './layersModel';
import { LazyBackbone } from './lazyBackbone';
import type { BackboneOptions, ClassPrediction, MobileNetV2Spec } from './types';

/** The graph node the package reads embeddings from; the v2 fixture must carry it. */
export const MOBILENET_V2_EMBEDDING_NODE = 'module_apply_default/MobilenetV2/Logits/AvgPool';

/** The package keeps its GraphModel in a field it does not type; we need it to free the weights. */
function graphModelOf(net: MobileNet): { dispose(): void } | null {
  const model = (net as unknown as { model?: unknown }).model;
  if (model && typeof (model as { dispose?: unknown }).dispose === 'function') {
    return model as { dispose(): void };
  }
  return null;
}

export class MobileNetV2Backbone extends LazyBackbone {
  private readonly spec: MobileNetV2Spec;
  private net: MobileNet | null = null;

  constructor(spec: MobileNetV2Spec, options: BackboneOptions = {}) {
    if (spec.inputSize !== 224) {
      throw new Error(`${spec.id}: @tensorflow-models/mobilenet always runs at 224 px`);
    }
    super(spec, options);
    this.spec = spec;
  }

  protected async doLoad(): Promise<void> {
    const net = await loadModelFrom(
      this.source,
      'MobileNet v2',
      `${FIX_MODELS_COMMAND} -- --download-v2`,
      (guarded) =>
        loadMobileNet({
          version: 2,
          alpha: this.spec.alpha,
          modelUrl: guarded,
          inputRange: this.inputRange,
        }),
    );
    try {
      // One embedding pass: warms the embedding path up and tells its size.
      const probe = tf.tidy(() => this.inferEmbedding(net, tf.zeros([1, 224, 224, 3])));
      const probed = probe.shape[1];
      probe.dispose();
      const size = this.checkLoaded(probed, 'the model');
      this.net = net;
      this.publish(size);
    } catch (err) {
      graphModelOf(net)?.dispose();
      throw err;
    }
  }

  /** The package maps 0..255 to the model's range itself, so the batch goes back to 0..255. */
  private toPixelRange(batch: tf.Tensor4D): tf.Tensor4D {
    const [lo, hi] = this.inputRange;
    return tf.mul(tf.sub(batch, lo), 255 / (hi - lo));
  }

  private inferEmbedding(net: MobileNet, batch: tf.Tensor4D): tf.Tensor2D {
    const n = batch.shape[0];
    const out = net.infer(this.toPixelRange(batch), true);
    return tf.reshape(out, [n, -1]);
  }

  embed(batch: tf.Tensor4D): tf.Tensor2D {
    const net = this.net;
    if (!net) throw new Error(`${this.id}: call load() first`);
    assertBatch(batch, this.inputSize, this.id);
    return tf.tidy(() => this.inferEmbedding(net, batch));
  }

  async classify(batch: tf.Tensor4D, topK = 3): Promise<ClassPrediction[][]> {
    const net = this.net;
    if (!net) throw new Error(`${this.id}: call load() first`);
    assertBatch(batch, this.inputSize, this.id);
    const images = tf.tidy(() => tf.unstack(this.toPixelRange(batch)) as tf.Tensor3D[]);
    try {
      const rows: ClassPrediction[][] = [];
      for (const image of images) rows.push(await net.classify(image, topK));
      return rows;
    } finally {
      tf.dispose(images);
    }
  }

  override dispose(): void {
    super.dispose();
    if (this.net) graphModelOf(this.net)?.dispose();
    this.net = null;
  }
}

export function createMobileNetV2Backbone(
  spec: MobileNetV2Spec,
  options: BackboneOptions = {},
): MobileNetV2Backbone {
  return new MobileNetV2Backbone(spec, options);
}
