/**
 * The dense head: a trained tfjs-layers network (see denseModel.ts; trained by `trainDenseHead` in
 * denseTrain.ts) on L2-normalised embeddings. Owns prediction (softmax or sigmoid probabilities,
 * single-label top class, multi-label per-label thresholds, the optional unknown threshold) and
 * topology-free (de)serialisation of its weights. It is also the dense head's public module: the
 * configuration and epoch log types are re-exported here.
 */
import * as tf from '@tensorflow/tfjs';
import { applyThresholds, argmax } from '../eval/metrics';
import type { ProjectKind } from '../kinds';
import {
  buildDenseModel,
  checkDenseConfig,
  DENSE_DEFAULTS,
  inputScaleOf,
  type DenseConfig,
} from './denseModel';
import type { EpochLog } from './denseTrain';
import { unitRowsTensor } from './tensors';
import { SERIALIZED_HEAD_FORMAT, SERIALIZED_HEAD_VERSION } from './types';
import type {
  EmbeddingBatch,
  Head,
  Prediction,
  SerializedHeadBase,
  SerializedTensor,
} from './types';

export { DENSE_DEFAULTS, type DenseConfig } from './denseModel';
export type { EpochLog } from './denseTrain';

interface DenseState {
  /** Multi-label per-label thresholds (single-label: unused, 0.5). */
  thresholds: number[];
  bestEpoch: number;
  history: EpochLog[];
}

export type SerializedDenseHead = SerializedHeadBase<'dense', DenseConfig, DenseState>;

interface DenseHeadInit {
  kind: ProjectKind;
  labels: readonly string[];
  dim: number;
  config: DenseConfig;
  model: tf.Sequential;
  state: DenseState;
}

export class DenseHead implements Head {
  readonly type = 'dense' as const;
  readonly kind: ProjectKind;
  readonly dim: number;
  private readonly labelList: string[];
  private cfg: DenseConfig;
  private model: tf.Sequential | null;
  private state: DenseState;

  /** Use `trainDenseHead` or `DenseHead.deserialize`; the head takes ownership of `model`. */
  constructor(init: DenseHeadInit) {
    this.kind = init.kind;
    this.labelList = init.labels.slice();
    this.dim = init.dim;
    this.cfg = { ...init.config };
    this.model = init.model;
    this.state = { ...init.state, thresholds: init.state.thresholds.slice() };
  }

  get labels(): readonly string[] {
    return this.labelList;
  }

  get config(): Readonly<DenseConfig> {
    return this.cfg;
  }

  /** Multi-label decision thresholds, one per label (tuned on validation for F1). */
  get thresholds(): readonly number[] {
    return this.state.thresholds;
  }

  get history(): readonly EpochLog[] {
    return this.state.history;
  }

  get bestEpoch(): number {
    return this.state.bestEpoch;
  }

  setUnknownThreshold(threshold: number | null): void {
    this.cfg = { ...this.cfg, unknownThreshold: threshold };
  }

  setThresholds(thresholds: readonly number[]): void {
    if (thresholds.length !== this.labelList.length)
      throw new Error('dense: one threshold per label');
    this.state = { ...this.state, thresholds: thresholds.slice() };
  }

  /** Per-label probabilities ([n, C] row-major): softmax or sigmoid of the logits. */
  async probabilities(embeddings: EmbeddingBatch): Promise<Float32Array> {
    const model = this.alive();
    const x = unitRowsTensor(embeddings, this.dim);
    const scale = inputScaleOf(this.cfg, this.dim);
    const probs = tf.tidy(() => {
      const logits = model.predict(scale === 1 ? x : tf.mul(x, scale)) as tf.Tensor2D;
      return this.kind === 'single-label' ? tf.softmax(logits) : tf.sigmoid(logits);
    });
    x.dispose();
    try {
      return (await probs.data()) as Float32Array;
    } finally {
      probs.dispose();
    }
  }

  /**
   * Logits for raw embeddings, as a tensor the caller disposes: the same unit rows and scale as
   * `probabilities`, built from differentiable ops so a gradient can flow back (Grad-CAM).
   */
  logits(embeddings: tf.Tensor2D): tf.Tensor2D {
    const model = this.alive();
    const scale = inputScaleOf(this.cfg, this.dim);
    return tf.tidy(() => {
      const x = unitRowsTensor(embeddings, this.dim);
      return model.apply(scale === 1 ? x : tf.mul(x, scale), { training: false }) as tf.Tensor2D;
    });
  }

  async predict(embeddings: EmbeddingBatch): Promise<Prediction[]> {
    const numLabels = this.labelList.length;
    const n = embeddings instanceof tf.Tensor ? (embeddings.shape[0] ?? 0) : embeddings.length;
    if (n === 0) return [];
    const flat = await this.probabilities(embeddings);
    const unknownBelow = this.cfg.unknownThreshold;
    const out: Prediction[] = [];
    for (let i = 0; i < n; i++) {
      const row = flat.subarray(i * numLabels, (i + 1) * numLabels);
      const probabilities = Array.from(row);
      const best = argmax(row);
      const topProbability = row[best] ?? 0;
      let picked =
        this.kind === 'single-label'
          ? [best]
          : applyThresholds(row, this.state.thresholds).sort(
              (a, b) => (row[b] ?? 0) - (row[a] ?? 0) || a - b,
            );
      if (unknownBelow !== null && topProbability < unknownBelow) picked = [];
      const top = picked[0];
      out.push({
        probabilities,
        top: top === undefined ? null : (this.labelList[top] ?? null),
        topProbability,
        labels: picked.map((l) => this.labelList[l] ?? ''),
      });
    }
    return out;
  }

  serialize(): SerializedDenseHead {
    const model = this.alive();
    const tensors: SerializedTensor[] = [];
    for (const layer of model.layers) {
      const [kernel, bias] = layer.getWeights();
      if (kernel)
        tensors.push({
          name: `${layer.name}/kernel`,
          shape: kernel.shape.slice(),
          data: kernel.dataSync().slice() as Float32Array,
        });
      if (bias)
        tensors.push({
          name: `${layer.name}/bias`,
          shape: bias.shape.slice(),
          data: bias.dataSync().slice() as Float32Array,
        });
    }
    return {
      format: SERIALIZED_HEAD_FORMAT,
      version: SERIALIZED_HEAD_VERSION,
      type: 'dense',
      kind: this.kind,
      labels: this.labelList.slice(),
      dim: this.dim,
      config: { ...this.cfg },
      state: {
        thresholds: this.state.thresholds.slice(),
        bestEpoch: this.state.bestEpoch,
        history: this.state.history.map((h) => ({ ...h })),
      },
      tensors,
    };
  }

  static deserialize(serialized: SerializedDenseHead): DenseHead {
    if (serialized.format !== SERIALIZED_HEAD_FORMAT || serialized.type !== 'dense') {
      throw new Error('dense: not a serialized dense head');
    }
    if (serialized.version > SERIALIZED_HEAD_VERSION) {
      throw new Error(`dense: format version ${serialized.version} is newer than this app`);
    }
    const config = checkDenseConfig({ ...DENSE_DEFAULTS, ...serialized.config });
    const model = buildDenseModel(serialized.dim, serialized.labels.length, config);
    try {
      for (const layer of model.layers) {
        const weights = ['kernel', 'bias'].map((part) => {
          const t = serialized.tensors.find((s) => s.name === `${layer.name}/${part}`);
          if (!t) throw new Error(`dense: serialized head lacks ${layer.name}/${part}`);
          return t;
        });
        const values = weights.map((w) => tf.tensor(w.data, w.shape, 'float32'));
        try {
          layer.setWeights(values);
        } finally {
          tf.dispose(values);
        }
      }
    } catch (error) {
      model.dispose();
      throw error;
    }
    return new DenseHead({
      kind: serialized.kind,
      labels: serialized.labels,
      dim: serialized.dim,
      config,
      model,
      state: {
        thresholds: serialized.state.thresholds.slice(),
        bestEpoch: serialized.state.bestEpoch,
        history: serialized.state.history.map((h) => ({ ...h })),
      },
    });
  }

  dispose(): void {
    this.model?.dispose();
    this.model = null;
  }

  private alive(): tf.Sequential {
    if (!this.model) throw new Error('dense: head used after dispose()');
    return this.model;
  }
}
