/**
 * Built-in Keras-style TF.js layers MobileNets with an ImageNet head: v1 0.75 (embedding = global
 * average of `conv_pw_13_relu`, 768-d) and v2 1.0 (`out_relu`, 1280-d). The model's own ImageNet
 * head is kept for `classify` ("base model sees: ..."), with class names from the spec's labels
 * file (v1: the folder's metadata.json; v2: imagenet_labels.txt, one name per line).
 */
import * as tf from '@tensorflow/tfjs';
import { LayersBackbone } from './layersBackbone';
import { FIX_MODELS_COMMAND, assertBatch, fetchLabels, topKClasses } from './layersModel';
import type {
  BackboneOptions,
  ClassPrediction,
  ImageNetLayersSpec,
  MobileNetV1Spec,
} from './types';

/** `.../model.json` -> `.../metadata.json` (where the models script puts the class names). */
export function labelsUrlNextTo(modelUrl: string): string {
  return modelUrl.replace(/[^/?#]*([?#].*)?$/, 'metadata.json');
}

export class MobileNetV1Backbone extends LayersBackbone {
  private labels: readonly string[] | null;
  private readonly labelsUrl: string | null;

  constructor(spec: MobileNetV1Spec | ImageNetLayersSpec, options: BackboneOptions = {}) {
    super(spec, options, 'MobileNet', FIX_MODELS_COMMAND);
    this.labels = options.labels ?? null;
    this.labelsUrl =
      options.labels !== undefined
        ? null
        : (spec.labelsUrl ??
          (typeof this.source === 'string' ? labelsUrlNextTo(this.source) : null));
  }

  protected override async afterLoad(full: tf.LayersModel): Promise<void> {
    const out = full.outputs[0]?.shape;
    if (full.outputs.length !== 1 || out?.length !== 2) {
      throw new Error(`${this.id}: expected one [n, classes] ImageNet output`);
    }
    if (this.labels === null && this.labelsUrl !== null) {
      this.labels = await fetchLabels(this.labelsUrl);
    }
  }

  /** Class names of the ImageNet head, or null when none could be loaded ("class i" is shown). */
  classNames(): readonly string[] | null {
    return this.labels;
  }

  /** Top-k (default 3) ImageNet classes of the model's own softmax head, per image. */
  async classify(batch: tf.Tensor4D, topK = 3): Promise<ClassPrediction[][]> {
    const full = this.full;
    if (!full) throw new Error(`${this.id}: call load() first`);
    assertBatch(batch, this.inputSize, this.id);
    const probabilities = tf.tidy(() => full.predict(batch) as tf.Tensor2D);
    try {
      return await topKClasses(probabilities, topK, this.labels);
    } finally {
      probabilities.dispose();
    }
  }
}

export function createMobileNetV1Backbone(
  spec: MobileNetV1Spec | ImageNetLayersSpec,
  options: BackboneOptions = {},
): MobileNetV1Backbone {
  return new MobileNetV1Backbone(spec, options);
}
