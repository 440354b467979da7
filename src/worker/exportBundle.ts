/**
 * Assembles downloadable model exports inside the engine worker: the TF.js classifier (one layers
 * model + metadata.json) and, with the runtime files every export carries (loupe-runtime.js,
 * tfjs's UMD build, index.html, README.txt), zips them with fflate. Nothing leaves the device.
 */
import type * as tf from '@tensorflow/tfjs';
import { zipSync, type Zippable } from 'fflate';
import tfMinUrl from '@tensorflow/tfjs/dist/tf.min.js?url';
import type { Backbone, BackboneSpec } from '../core/backbone/types';
import { describePreprocessing } from '../core/backbone/preprocess';
import type { DenseHead } from '../core/heads/dense';
import {
  buildClassifierModel,
  classifierMetadata,
  saveLayersModel,
  type ExportedFile,
} from '../core/formats/tfjsExport';
import { LOUPE_VERSION } from '../core/formats/layout';
import { runtimeFiles } from '../runtime/bundle';
import {
  buildKnnExport,
  KNN_EXAMPLES_FILE,
  KNN_MANIFEST_FILE,
  type KnnExportDtype,
  type KnnExportExample,
} from '../core/formats/knnExport';
import {
  measureQuantisationCost,
  MIN_ITEMS_TO_MEASURE_QUANTISATION,
  type QuantisationCost,
} from '../core/formats/knnQuantisation';
import type { AspectMode, ProjectKind } from '../core/kinds';
import { EVAL_SEED, holdoutSplit } from '../core/eval/split';
import { indexItems } from '../core/heads/evaluate';
import { KNN_DEFAULTS } from '../core/heads/knn';
import { PREPROCESS_VERSION } from '../core/backbone/preprocess';

interface EmbeddingCapable extends Backbone {
  embeddingModel(): tf.LayersModel;
}

export function canExportBackbone(backbone: Backbone): backbone is EmbeddingCapable {
  return typeof (backbone as Partial<EmbeddingCapable>).embeddingModel === 'function';
}

let tfMin: Promise<Uint8Array> | null = null;
function tfjsUmd(): Promise<Uint8Array> {
  tfMin ??= fetch(tfMinUrl)
    .then((r) => {
      if (!r.ok) throw new Error(`tf.min.js not served (${r.status})`);
      return r.arrayBuffer();
    })
    .then((b) => new Uint8Array(b));
  return tfMin;
}

export async function zipExport(files: ExportedFile[]): Promise<Blob> {
  const tree: Zippable = {};
  for (const f of [...files, ...runtimeFiles(), { path: 'tf.min.js', bytes: await tfjsUmd() }]) {
    tree[f.path] = f.bytes;
  }
  const bytes = zipSync(tree, { level: 6 });
  return new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/zip' });
}

/** model.json + weights.bin + metadata.json of the whole classifier (backbone + dense head). */
export async function tfjsClassifierFiles(input: {
  backbone: Backbone;
  spec: BackboneSpec;
  head: DenseHead;
  labelNames: Map<string, string>;
  aspectMode: AspectMode;
  modelName: string;
  metrics?: unknown;
}): Promise<ExportedFile[]> {
  const { backbone, head } = input;
  if (!canExportBackbone(backbone)) {
    throw new Error(
      `${backbone.label} cannot be exported as a layers model; use MobileNet v1 or a custom layers backbone.`,
    );
  }
  const { headLayers, model } = buildClassifierModel(backbone.embeddingModel(), head.serialize());
  try {
    const files = await saveLayersModel(model);
    const metadata = classifierMetadata({
      modelName: input.modelName,
      labels: head.labels.map((id) => input.labelNames.get(id) ?? id),
      labelIds: [...head.labels],
      imageSize: backbone.inputSize,
      backboneId: input.spec.id,
      aspectMode: input.aspectMode,
      inputRange: backbone.inputRange,
      preprocessing: describePreprocessing({
        inputSize: backbone.inputSize,
        inputRange: backbone.inputRange,
        aspectMode: input.aspectMode,
      }),
      kind: head.kind,
      ...(head.kind === 'multi-label' ? { thresholds: [...head.thresholds] } : {}),
      metrics: input.metrics,
      loupeVersion: LOUPE_VERSION,
    });
    files.push({
      path: 'metadata.json',
      bytes: new TextEncoder().encode(JSON.stringify(metadata, null, 2)),
    });
    return files;
  } finally {
    // Only the head's layers: the backbone's layers are shared with the live backbone.
    headLayers.forEach((l) => l.dispose());
  }
}

/**
 * The KNN export: the labelled examples (float32, float16 or int8) + manifest, and the backbone's
 * embedding model under backbone/ so loupe-runtime.js can embed new images. The accuracy cost of
 * quantisation is measured on a seeded 20% hold-out and written into the manifest.
 */
export async function knnFiles(input: {
  backbone: Backbone;
  spec: BackboneSpec;
  examples: { id: string; embedding: Float32Array; labelIds: string[] }[];
  labels: { id: string; name: string }[];
  kind: ProjectKind;
  k: number;
  /** The project's KNN voting settings, so the exported model predicts like the app. */
  weighted: boolean;
  unknownSimilarity: number | null;
  aspectMode: AspectMode;
  dtype: KnnExportDtype;
}): Promise<ExportedFile[]> {
  const { backbone } = input;
  if (!canExportBackbone(backbone)) {
    throw new Error(
      `${backbone.label} cannot be exported as a layers model; use MobileNet v1 or a custom layers backbone.`,
    );
  }
  const exportInput = {
    labels: input.labels,
    kind: input.kind,
    k: input.k,
    weighted: input.weighted,
    multiLabelThreshold: KNN_DEFAULTS.multiLabelThreshold,
    unknownSimilarity: input.unknownSimilarity,
    backbone: { id: input.spec.id, inputSize: backbone.inputSize, inputRange: backbone.inputRange },
    preprocessing: {
      aspectMode: input.aspectMode,
      version: PREPROCESS_VERSION,
      description: describePreprocessing({
        inputSize: backbone.inputSize,
        inputRange: backbone.inputRange,
        aspectMode: input.aspectMode,
      }),
    },
    dtype: input.dtype,
  };
  const built = buildKnnExport({ ...exportInput, examples: input.examples });
  let accuracy: QuantisationCost | null = null;
  const { items } = indexItems(input.examples, input.kind);
  if (items.length >= MIN_ITEMS_TO_MEASURE_QUANTISATION) {
    const split = holdoutSplit(items, { seed: EVAL_SEED });
    const held = new Set(split.validation);
    const train: KnnExportExample[] = input.examples.filter((e) => !held.has(e.id));
    const validation = input.examples.filter((e) => held.has(e.id));
    accuracy = await measureQuantisationCost({ ...exportInput, examples: train }, validation);
  }
  const manifest = { ...built.manifest, accuracy };
  const embedding = await saveLayersModel(backbone.embeddingModel());
  return [
    { path: KNN_MANIFEST_FILE, bytes: new TextEncoder().encode(JSON.stringify(manifest)) },
    { path: KNN_EXAMPLES_FILE, bytes: built.examples },
    ...embedding.map((f) => ({ path: `backbone/${f.path}`, bytes: f.bytes })),
  ];
}
