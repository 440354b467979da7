// The TF.js export stacks backbone + pooling + dense head into one layers model: it must give the
// same probabilities as the app's head (the L2 normalisation rebuilt from basic layers), survive a
// save/load round trip, and leave no tensor behind.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { trainDenseHead, type LabelledEmbedding } from '../../src/core/heads';
import { buildClassifierModel, saveLayersModel } from '../../src/core/formats/tfjsExport';

function tinyEmbeddingModel(): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 3] });
  const conv = tf.layers
    .conv2d({
      filters: 6,
      kernelSize: 3,
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
      name: 'c1',
    })
    .apply(input) as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(conv) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: pooled });
}

describe('TF.js classifier export', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  for (const hiddenUnits of [0, 12]) {
    for (const inputScale of ['sqrt-dim', 'unit'] as const) {
      it(`matches the app's head (hidden ${hiddenUnits}, ${inputScale}) and round-trips`, async () => {
        const base = tf.memory().numTensors;
        const embedder = tinyEmbeddingModel();
        const images = tf.randomUniform([24, 8, 8, 3], -1, 1, 'float32', 7) as tf.Tensor4D;
        const embeddings = embedder.predict(images) as tf.Tensor2D;
        const rows = await embeddings.array();
        const items: LabelledEmbedding[] = rows.map((r, i) => ({
          id: `s${i}`,
          embedding: Float32Array.from(r),
          labelIds: [i % 3 === 0 ? 'a' : i % 3 === 1 ? 'b' : 'c'],
        }));
        const trained = await trainDenseHead(items, {
          kind: 'single-label',
          config: { hiddenUnits, inputScale, epochs: 5, patience: 0, validationFraction: 0 },
        });
        if (trained.status === 'aborted') throw new Error('aborted');
        const head = trained.head;
        const expected = (await head.predict(items.map((i) => i.embedding))).map(
          (p) => p.probabilities,
        );

        const { model, headLayers } = buildClassifierModel(embedder, head.serialize());
        const predictArray = async (m: tf.LayersModel): Promise<number[][]> => {
          const out = m.predict(images) as tf.Tensor;
          const values = (await out.array()) as number[][];
          out.dispose();
          return values;
        };
        const direct = await predictArray(model);
        const maxDiff = (a: number[][]): number =>
          Math.max(
            ...a.flatMap((row, i) => row.map((v, j) => Math.abs(v - (expected[i]?.[j] ?? NaN)))),
          );
        expect(maxDiff(direct)).toBeLessThan(1e-5);

        const files = await saveLayersModel(model);
        const modelJson = JSON.parse(new TextDecoder().decode(files[0]!.bytes)) as {
          modelTopology: object;
          weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[];
        };
        const weights = files[1]!.bytes;
        const loaded = await tf.loadLayersModel(
          tf.io.fromMemory({
            modelTopology: modelJson.modelTopology,
            weightSpecs: modelJson.weightsManifest[0]!.weights,
            weightData: weights.buffer.slice(
              weights.byteOffset,
              weights.byteOffset + weights.byteLength,
            ) as ArrayBuffer,
          }),
        );
        const reloaded = await predictArray(loaded);
        expect(maxDiff(reloaded)).toBeLessThan(1e-5);
        // Only layer classes that tfjs 1.3.1 (Teachable Machine's loader) knows.
        const topology = modelJson.modelTopology as {
          config: { layers: { class_name: string }[] };
        };
        const allowed = [
          'InputLayer',
          'Conv2D',
          'GlobalAveragePooling2D',
          'Reshape',
          'Conv1D',
          'Flatten',
          'LayerNormalization',
          'Dense',
        ];
        for (const layer of topology.config.layers) expect(allowed).toContain(layer.class_name);

        loaded.dispose();
        headLayers.forEach((l) => l.dispose());
        embedder.dispose();
        head.dispose();
        tf.dispose([images, embeddings]);
        expect(tf.memory().numTensors).toBe(base);
      });
    }
  }
});
