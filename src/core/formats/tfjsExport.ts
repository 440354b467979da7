/**
 * The "TF.js model" export: ONE layers model = backbone up to its embedding layer + global average
 * pooling + the trained dense head, with softmax (or sigmoid) probabilities as its output, saved as
 * model.json + weights.bin + metadata.json (Teachable Machine's fields plus Loupe's own).
 *
 * Only layer types and config fields that tfjs 1.3.1 (Teachable Machine's loader) can read are
 * used. The dense head normalises its input as x / ||x|| * s (s = sqrt(d) or 1); no layer of that
 * era computes an L2 norm, so it is expressed exactly with basic layers:
 *   Reshape [d, 1] -> Conv1D(2 filters, kernel 1, weights [1, -1]) -> Flatten  => z = (x0, -x0, x1, -x1, …)
 *   LayerNormalization(z): mean(z) = 0, var(z) = ||x||² / d, so LN(z) = z · sqrt(d) / ||x||.
 * The head's first kernel is then interleaved with zero rows (the -x copies) and scaled by
 * s / sqrt(d). Outputs match the app to float32 rounding.
 */
import * as tf from '@tensorflow/tfjs';
import type { SerializedDenseHead } from '../heads/dense';
import type { AspectMode, ProjectKind } from '../kinds';

export const TFJS_EXPORT_FORMAT_VERSION = 1;

export interface ExportedFile {
  path: string;
  bytes: Uint8Array;
}

function tensorOf(
  head: SerializedDenseHead,
  name: string,
): { shape: number[]; data: Float32Array } {
  const t = head.tensors.find((x) => x.name === name);
  if (!t) throw new Error(`The trained head has no "${name}" weights; train it again.`);
  return t;
}

/** Builds the exported classifier on top of `embeddingModel` (input -> [n, d] embedding). */
export function buildClassifierModel(
  embeddingModel: tf.LayersModel,
  head: SerializedDenseHead,
): { model: tf.LayersModel; headLayers: tf.layers.Layer[] } {
  const d = head.dim;
  const embedding = embeddingModel.outputs[0];
  if (!embedding || embedding.shape[1] !== d) {
    throw new Error(
      `The head expects ${d}-d embeddings but the backbone gives ${embedding?.shape[1]}.`,
    );
  }
  const scale = head.config.inputScale === 'sqrt-dim' ? 1 : 1 / Math.sqrt(d);
  const layers: tf.layers.Layer[] = [];
  const add = <T extends tf.layers.Layer>(layer: T): T => {
    layers.push(layer);
    return layer;
  };
  const reshape = add(tf.layers.reshape({ targetShape: [d, 1], name: 'loupe_head_reshape' }));
  const plusMinus = add(
    tf.layers.conv1d({ filters: 2, kernelSize: 1, useBias: false, name: 'loupe_head_plus_minus' }),
  );
  const flatten = add(tf.layers.flatten({ name: 'loupe_head_flatten' }));
  const norm = add(
    tf.layers.layerNormalization({ epsilon: 1e-12, name: 'loupe_head_l2_normalize' }),
  );
  let h = norm.apply(flatten.apply(plusMinus.apply(reshape.apply(embedding)))) as tf.SymbolicTensor;

  const hasHidden = head.config.hiddenUnits > 0;
  const firstName = hasHidden ? 'hidden' : 'output';
  const first = tensorOf(head, `${firstName}/kernel`);
  const units = first.shape[1] ?? 0;
  const interleaved = new Float32Array(2 * d * units);
  for (let i = 0; i < d; i++) {
    for (let u = 0; u < units; u++)
      interleaved[2 * i * units + u] = (first.data[i * units + u] ?? 0) * scale;
  }
  const outputActivation = head.kind === 'multi-label' ? 'sigmoid' : 'softmax';
  const firstDense = add(
    tf.layers.dense({
      units,
      activation: hasHidden ? 'relu' : outputActivation,
      name: hasHidden ? 'loupe_head_hidden' : 'loupe_head_output',
    }),
  );
  h = firstDense.apply(h) as tf.SymbolicTensor;
  let lastDense: tf.layers.Layer | null = null;
  if (hasHidden) {
    const out = tensorOf(head, 'output/kernel');
    lastDense = add(
      tf.layers.dense({
        units: out.shape[1] ?? 0,
        activation: outputActivation,
        name: 'loupe_head_output',
      }),
    );
    h = lastDense.apply(h) as tf.SymbolicTensor;
  }
  const model = tf.model({ inputs: embeddingModel.inputs, outputs: h, name: 'loupe_classifier' });
  tf.tidy(() => {
    plusMinus.setWeights([tf.tensor3d([1, -1], [1, 1, 2])]);
    norm.setWeights([tf.ones([2 * d]), tf.zeros([2 * d])]);
    firstDense.setWeights([
      tf.tensor2d(interleaved, [2 * d, units]),
      tf.tensor1d(tensorOf(head, `${firstName}/bias`).data),
    ]);
    if (lastDense) {
      const k = tensorOf(head, 'output/kernel');
      lastDense.setWeights([
        tf.tensor2d(k.data, [k.shape[0] ?? 0, k.shape[1] ?? 0]),
        tf.tensor1d(tensorOf(head, 'output/bias').data),
      ]);
    }
  });
  return { model, headLayers: layers };
}

/** model.json (one weights.bin shard) and its bytes, as `tf.loadLayersModel` reads them. */
export async function saveLayersModel(model: tf.LayersModel): Promise<ExportedFile[]> {
  let files: ExportedFile[] = [];
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weightData = artifacts.weightData;
      const bytes =
        weightData instanceof ArrayBuffer
          ? new Uint8Array(weightData)
          : new Uint8Array(await new Blob(weightData ?? []).arrayBuffer());
      const modelJson = {
        format: 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
      };
      files = [
        { path: 'model.json', bytes: new TextEncoder().encode(JSON.stringify(modelJson)) },
        { path: 'weights.bin', bytes },
      ];
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return files;
}

export interface ClassifierMetadata {
  tfjsVersion: string;
  tmVersion: string;
  packageVersion: string;
  packageName: string;
  timeStamp: string;
  userMetadata: Record<string, unknown>;
  modelName: string;
  labels: string[];
  imageSize: number;
  loupe: {
    formatVersion: number;
    backboneId: string;
    aspectMode: AspectMode;
    inputRange: [number, number];
    preprocessing: string;
    headType: 'dense';
    kind: ProjectKind;
    thresholds?: number[];
    labelIds: string[];
    metrics?: unknown;
  };
}

/** Teachable Machine's metadata fields, plus Loupe's own under `loupe`. */
export function classifierMetadata(input: {
  modelName: string;
  labels: string[];
  labelIds: string[];
  imageSize: number;
  backboneId: string;
  aspectMode: AspectMode;
  inputRange: [number, number];
  preprocessing: string;
  kind: ProjectKind;
  thresholds?: number[];
  metrics?: unknown;
  loupeVersion: string;
}): ClassifierMetadata {
  return {
    tfjsVersion: tf.version.tfjs,
    tmVersion: '2.4.10',
    packageVersion: input.loupeVersion,
    packageName: 'loupe',
    timeStamp: new Date().toISOString(),
    userMetadata: {},
    modelName: input.modelName,
    labels: input.labels,
    imageSize: input.imageSize,
    loupe: {
      formatVersion: TFJS_EXPORT_FORMAT_VERSION,
      backboneId: input.backboneId,
      aspectMode: input.aspectMode,
      inputRange: input.inputRange,
      preprocessing: input.preprocessing,
      headType: 'dense',
      kind: input.kind,
      labelIds: input.labelIds,
      ...(input.thresholds ? { thresholds: input.thresholds } : {}),
      ...(input.metrics ? { metrics: input.metrics } : {}),
    },
  };
}
