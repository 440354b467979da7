/**
 * Backbone contracts: the `Backbone` interface every embedding model implements, the JSON-able
 * `BackboneSpec` that names one (stored in project settings, sent to the worker), and
 * `embeddingKey`, the cache key embeddings are stored under in IndexedDB.
 */
import type * as tf from '@tensorflow/tfjs';
import type { AspectMode } from '../kinds';
import { PREPROCESS_VERSION } from './draw';

export type { AspectMode };

/** Where a model's files come from: a model.json URL or an IOHandler (e.g. `tf.io.browserFiles`). */
export type ModelSource = string | tf.io.IOHandler;

/** Per-instance overrides for `createBackbone`, for what a JSON spec cannot carry. */
export interface BackboneOptions {
  /** Load from here instead of `spec.url` (dropped files, tests). */
  source?: ModelSource;
  /** ImageNet class names for `classify`, instead of fetching `spec.labelsUrl`. */
  labels?: readonly string[];
}

/** One ImageNet guess of a backbone's own classification head. */
export interface ClassPrediction {
  className: string;
  probability: number;
}

export interface Backbone {
  /** Stable id; part of the embedding cache key, so it must change when the weights change. */
  readonly id: string;
  /** Human name for the UI. */
  readonly label: string;
  /** Side of the square input, in pixels. */
  readonly inputSize: number;
  /** Range pixel values 0..255 are mapped to before `embed` (e.g. [-1, 1]). */
  readonly inputRange: [number, number];
  /** Length of one embedding vector. Custom backbones without a declared size know it after `load()`. */
  readonly embeddingSize: number;
  /** Fetches the weights and warms the model up. Safe to call twice. */
  load(): Promise<void>;
  /** `[n, inputSize, inputSize, 3]`, already preprocessed into `inputRange` -> `[n, embeddingSize]`. */
  embed(batch: tf.Tensor4D): tf.Tensor2D;
  /** Top-k ImageNet classes of the backbone's own head (default k = 3), one list per image. */
  classify?(batch: tf.Tensor4D, topK?: number): Promise<ClassPrediction[][]>;
  /** Frees every tensor and variable the backbone holds. */
  dispose(): void;
}

export type BackboneKind = 'mobilenet-v1' | 'imagenet-layers' | 'mobilenet-v2' | 'custom';

interface BackboneSpecBase {
  /** See `Backbone.id`. */
  id: string;
  label: string;
  /** URL of the model.json. Same-origin for built-ins (`/models/<name>/model.json`). */
  url: string;
  inputSize: number;
  inputRange: [number, number];
  /** Declared embedding length, when known before loading. */
  embeddingSize?: number;
}

/** A Keras-style TF.js layers model with an ImageNet head (the default backbone). */
export interface MobileNetV1Spec extends BackboneSpecBase {
  kind: 'mobilenet-v1';
  /** Layer whose output, after global average pooling, is the embedding (`conv_pw_13_relu`). */
  embeddingLayer: string;
  /** JSON with `{ labels: string[] }` (or a bare array) for the ImageNet head. */
  labelsUrl?: string;
}

/**
 * Any other Keras-style TF.js layers model with an ImageNet head, built in like v1 (MobileNet v2
 * 1.0): same embedding-layer contract, class names from `labelsUrl` (JSON, or text with one name
 * per line).
 */
export interface ImageNetLayersSpec extends Omit<MobileNetV1Spec, 'kind'> {
  kind: 'imagenet-layers';
}

/** A TF Hub MobileNet v2 graph model run through `@tensorflow-models/mobilenet`. */
export interface MobileNetV2Spec extends BackboneSpecBase {
  kind: 'mobilenet-v2';
  alpha: 0.5 | 0.75 | 1.0;
}

/** Any TF.js layers model with a chosen embedding layer. */
export interface CustomBackboneSpec extends BackboneSpecBase {
  kind: 'custom';
  embeddingLayer: string;
  /**
   * Key of model files picked on this device (IndexedDB store `backboneFiles`); when set the
   * model loads from them, never from `url` (which is then empty).
   */
  files?: string;
}

/** JSON-able descriptor of a backbone: what project settings store and the worker receives. */
export type BackboneSpec =
  MobileNetV1Spec | ImageNetLayersSpec | MobileNetV2Spec | CustomBackboneSpec;

/** A backbone / aspect-mode switch in progress: its embeddings are computed before it takes over. */
export interface PendingBackbone {
  spec: BackboneSpec;
  aspectMode: AspectMode;
}

/**
 * The key a sample's embedding is cached under: backbone id, aspect mode and preprocessing
 * version, e.g. `mobilenet_v1_0.75_224@centre-crop#1`. Any change to one of them is a new key.
 */
export function embeddingKey(spec: { id: string }, aspectMode: AspectMode): string {
  return `${spec.id}@${aspectMode}#${PREPROCESS_VERSION}`;
}
