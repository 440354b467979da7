/**
 * Built-in backbone specs: plain JSON descriptors (default: MobileNet v1 0.75 @ 224, served
 * same-origin from models/...). No TF.js here, so the page can list and choose backbones without
 * loading a model runtime; `registry.ts` turns a spec into a loaded backbone.
 */
import type { BackboneSpec, CustomBackboneSpec, MobileNetV1Spec, MobileNetV2Spec } from './types';

/** Where `npm run models` puts model folders, as served by Vite (public/models). */
export const MODELS_BASE_URL = '/models/';

export const DEFAULT_BACKBONE_ID = 'mobilenet_v1_0.75_224';

export function mobileNetV1Spec(base = MODELS_BASE_URL): MobileNetV1Spec {
  return {
    kind: 'mobilenet-v1',
    id: 'mobilenet_v1_0.75_224',
    label: 'MobileNet v1 (width 0.75, 224 px)',
    url: `${base}mobilenet_v1_0.75_224/model.json`,
    labelsUrl: `${base}mobilenet_v1_0.75_224/metadata.json`,
    embeddingLayer: 'conv_pw_13_relu',
    inputSize: 224,
    inputRange: [-1, 1],
    embeddingSize: 768,
  };
}

/** Present only where `npm run models` found or downloaded it (`--download-v2`). */
export function mobileNetV2Spec(base = MODELS_BASE_URL): MobileNetV2Spec {
  return {
    kind: 'mobilenet-v2',
    id: 'mobilenet_v2_1.0_224',
    label: 'MobileNet v2 (width 1.0, 224 px)',
    url: `${base}mobilenet_v2_1.0_224/model.json`,
    alpha: 1.0,
    inputSize: 224,
    // TF Hub's MobileNet v2 classification graph models take [0, 1] input.
    inputRange: [0, 1],
    embeddingSize: 1280,
  };
}

/** The custom-backbone test model the models script copies from ../shared when present. */
export function darknetTinySpec(base = MODELS_BASE_URL): CustomBackboneSpec {
  return {
    kind: 'custom',
    id: 'custom:darknet_tiny_imagenet:leaky_re_lu_14',
    label: 'Darknet tiny (ImageNet)',
    url: `${base}darknet_tiny_imagenet/model.json`,
    embeddingLayer: 'leaky_re_lu_14',
    inputSize: 224,
    inputRange: [0, 1],
    embeddingSize: 512,
  };
}

export const BUILTIN_BACKBONES: readonly BackboneSpec[] = [mobileNetV1Spec(), mobileNetV2Spec()];

export function getBuiltinSpec(id: string): BackboneSpec | undefined {
  return BUILTIN_BACKBONES.find((s) => s.id === id);
}

export function defaultBackboneSpec(): BackboneSpec {
  return mobileNetV1Spec();
}
