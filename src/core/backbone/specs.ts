/**
 * Built-in backbone specs: plain JSON descriptors (default: MobileNet v2 1.0 @ 224 as a layers
 * model; MobileNet v1 0.75 for older projects; the optional TF Hub MobileNet v2 graph model),
 * served same-origin from models/... next to index.html. No TF.js here, so the page can list and
 * choose backbones without loading a model runtime; `registry.ts` turns a spec into a loaded
 * backbone.
 * `modelUrl` is how every model URL is resolved and checked before a fetch; `customBackboneId`
 * names a user's own model.
 */
import { resolveSameOrigin } from '../sameOrigin';
import type {
  BackboneSpec,
  CustomBackboneSpec,
  ImageNetLayersSpec,
  MobileNetV1Spec,
  MobileNetV2Spec,
} from './types';

/**
 * Where `npm run models` puts model folders (public/models), relative to the app's own location
 * so the app works under any sub-path.
 */
export const MODELS_BASE_URL = 'models/';

/** The command that installs the built-in weights (named when they are missing). */
export const FIX_MODELS_COMMAND = 'npm run models';

/** Earlier builds wrote built-in model URLs from the site root; stored specs may still hold them. */
const LEGACY_MODELS_BASE_URL = '/models/';
const BUILTIN_MODEL_FOLDERS = [
  'mobilenet_v1_0.75_224',
  'mobilenet_v2_1.0_224',
  'mobilenet_v2_hub_1.0_224',
  'darknet_tiny_imagenet',
] as const;

/**
 * A model URL (as a spec or the user wrote it) resolved against the app's location and checked by
 * the same-origin rule (throws `CrossOriginModelError`). A root path into a built-in model folder
 * (`/models/mobilenet_v1_0.75_224/...`, stored by earlier builds) means that folder next to the
 * app, so such stored specs keep working when the app is served from a sub-path.
 */
export function modelUrl(url: string): string {
  const legacy = BUILTIN_MODEL_FOLDERS.some((f) =>
    url.startsWith(`${LEGACY_MODELS_BASE_URL}${f}/`),
  );
  return resolveSameOrigin(legacy ? url.slice(1) : url);
}

/** New projects embed with this backbone (older projects keep the one they were made with). */
export const DEFAULT_BACKBONE_ID = 'mobilenet_v2_1.0_224_quant';

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

/**
 * MobileNet v2 1.0 as a TF.js layers model (uint8-quantised weights of Google's
 * quantisation-aware-trained model, activations in float), bundled from ../shared by
 * `npm run models`. Embedding: global average of `out_relu` (1280-d).
 */
export function mobileNetV2Spec(base = MODELS_BASE_URL): ImageNetLayersSpec {
  return {
    kind: 'imagenet-layers',
    id: 'mobilenet_v2_1.0_224_quant',
    label: 'MobileNet v2 (width 1.0, 224 px)',
    url: `${base}mobilenet_v2_1.0_224/model.json`,
    labelsUrl: `${base}mobilenet_v2_1.0_224/imagenet_labels.txt`,
    embeddingLayer: 'out_relu',
    inputSize: 224,
    inputRange: [-1, 1],
    embeddingSize: 1280,
  };
}

/**
 * TF Hub's MobileNet v2 graph model through `@tensorflow-models/mobilenet`: optional, present only
 * where `npm run models:v2` downloaded it (needs internet at build time).
 */
export function mobileNetV2HubSpec(base = MODELS_BASE_URL): MobileNetV2Spec {
  return {
    kind: 'mobilenet-v2',
    id: 'mobilenet_v2_1.0_224',
    label: 'MobileNet v2 (TF Hub graph model, width 1.0, 224 px)',
    url: `${base}mobilenet_v2_hub_1.0_224/model.json`,
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

export const BUILTIN_BACKBONES: readonly BackboneSpec[] = [
  mobileNetV2Spec(),
  mobileNetV1Spec(),
  mobileNetV2HubSpec(),
];

export function getBuiltinSpec(id: string): BackboneSpec | undefined {
  return BUILTIN_BACKBONES.find((s) => s.id === id);
}

export function defaultBackboneSpec(): BackboneSpec {
  return getBuiltinSpec(DEFAULT_BACKBONE_ID) ?? mobileNetV2Spec();
}

/** A stable id for a custom backbone: name, layer and (ideally) a hash of the model files. */
export function customBackboneId(
  name: string,
  embeddingLayer: string,
  contentHash?: string,
): string {
  const slug = (s: string): string =>
    s
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^-+|-+$/g, '');
  const hash = contentHash ? `-${contentHash.slice(0, 12)}` : '';
  return `custom:${slug(name) || 'model'}:${slug(embeddingLayer)}${hash}`;
}
