/**
 * A faster inference pass for TF.js layers models: the model's graph is walked once into a list of
 * steps, and each convolution (`Conv2D`, `DepthwiseConv2D`) is run as one fused kernel together
 * with its bias and its ReLU / ReLU6, which layers models otherwise run as separate passes over
 * the whole activation (`DepthwiseConv2D` adds its bias in a pass of its own, and Keras
 * MobileNets apply ReLU6 as a layer). Every other layer runs as the model would run it. Each
 * intermediate tensor is disposed as soon as its last consumer has run, so peak memory stays that
 * of `model.predict`.
 *
 * `compileForward` returns null for a model it cannot walk (several inputs or outputs, or a graph
 * it does not understand), and callers keep `model.predict`; `matchesPredict` checks a compiled
 * pass against `predict` on one input before it is trusted.
 */
import * as tf from '@tensorflow/tfjs';

type Activation = 'linear' | 'relu' | 'relu6';

interface ConvStep {
  kind: 'conv' | 'depthwise';
  layer: tf.layers.Layer;
  filter: tf.Tensor;
  bias: tf.Tensor | undefined;
  input: number;
  output: number;
  activation: Activation;
  strides: [number, number];
  pad: 'same' | 'valid';
  dilations: [number, number];
}

interface LayerStep {
  kind: 'layer';
  layer: tf.layers.Layer;
  inputs: number[];
  /** Symbolic tensor id of each output of the call this step stands for. */
  outputs: Map<number, number>;
  callArgs: Record<string, unknown>;
}

type Step = ConvStep | LayerStep;

export interface CompiledForward {
  /** Input batch -> the model's output (a new tensor, the caller's to dispose). */
  run(x: tf.Tensor): tf.Tensor;
  /** Convolutions that run fused with their activation (and bias). */
  readonly fusedConvolutions: number;
  readonly steps: number;
  /** Frees the weights made by folding batch normalisations (the model's own are untouched). */
  dispose(): void;
}

function pair(value: unknown, fallback: number): [number, number] | null {
  if (value === undefined || value === null) return [fallback, fallback];
  if (typeof value === 'number') return [value, value];
  if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number')) {
    return [value[0] as number, value[1] as number];
  }
  return null;
}

/** The fusable activation a layer applies on its own (a `ReLU` or `Activation` layer), if any. */
function activationLayerKind(layer: tf.layers.Layer): Activation | null {
  const config = layer.getConfig();
  const name = layer.getClassName();
  if (name === 'ReLU') {
    if (config['maxValue'] === undefined || config['maxValue'] === null) return 'relu';
    return config['maxValue'] === 6 ? 'relu6' : null;
  }
  if (name === 'Activation') {
    const fn = config['activation'];
    return fn === 'relu' || fn === 'relu6' ? fn : null;
  }
  return null;
}

/** A convolution layer the fused kernels can run, with its parameters; else null. */
function convolution(
  layer: tf.layers.Layer,
): Omit<ConvStep, 'input' | 'output' | 'filter' | 'bias'> | null {
  const name = layer.getClassName();
  if (name !== 'Conv2D' && name !== 'DepthwiseConv2D') return null;
  const config = layer.getConfig();
  const activation = config['activation'];
  const strides = pair(config['strides'], 1);
  const dilations = pair(config['dilationRate'], 1);
  const pad = config['padding'];
  if (config['dataFormat'] !== 'channelsLast' || !strides || !dilations) return null;
  if (pad !== 'same' && pad !== 'valid') return null;
  if (activation !== 'linear' && activation !== 'relu' && activation !== 'relu6') return null;
  if (name === 'Conv2D' && config['groups'] !== undefined && config['groups'] !== 1) return null;
  const weights = layer.getWeights();
  const useBias = config['useBias'] === true;
  if (weights.length !== (useBias ? 2 : 1)) return null;
  return {
    kind: name === 'Conv2D' ? 'conv' : 'depthwise',
    layer,
    activation,
    strides,
    pad,
    dilations,
  };
}

interface NormWeights {
  gamma: tf.Tensor | null;
  beta: tf.Tensor | null;
  mean: tf.Tensor;
  variance: tf.Tensor;
  epsilon: number;
}

/** A `BatchNormalization` over the last axis, as inference runs it; else null. */
function foldableNorm(layer: tf.layers.Layer): NormWeights | null {
  if (layer.getClassName() !== 'BatchNormalization') return null;
  const config = layer.getConfig();
  const axis = config['axis'];
  if (axis !== -1 && axis !== 3) return null;
  const epsilon = config['epsilon'];
  if (typeof epsilon !== 'number') return null;
  const scale = config['scale'] !== false;
  const center = config['center'] !== false;
  const weights = layer.getWeights();
  if (weights.length !== 2 + (scale ? 1 : 0) + (center ? 1 : 0)) return null;
  let i = 0;
  const gamma = scale ? (weights[i++] as tf.Tensor) : null;
  const beta = center ? (weights[i++] as tf.Tensor) : null;
  return {
    gamma,
    beta,
    mean: weights[i] as tf.Tensor,
    variance: weights[i + 1] as tf.Tensor,
    epsilon,
  };
}

/**
 * Convolution weights with a following batch normalisation folded in: per output channel c,
 * kernel * s[c] and (bias - mean[c]) * s[c] + beta[c], where s = gamma / sqrt(variance + eps).
 */
function foldNorm(
  kind: 'conv' | 'depthwise',
  weights: tf.Tensor[],
  norm: NormWeights,
): tf.Tensor[] {
  return tf.tidy(() => {
    const [kernel, bias] = weights as [tf.Tensor, tf.Tensor | undefined];
    let s = tf.rsqrt(tf.add(norm.variance, norm.epsilon));
    if (norm.gamma) s = tf.mul(s, norm.gamma);
    // Depthwise kernels are [h, w, in, multiplier]: output channel in * multiplier + m.
    const scaleShape = kind === 'conv' ? [-1] : [kernel.shape[2] ?? -1, kernel.shape[3] ?? 1];
    const foldedKernel = tf.mul(kernel, tf.reshape(s, scaleShape));
    let foldedBias = tf.mul(tf.sub(bias ?? tf.zerosLike(norm.mean), norm.mean), s);
    if (norm.beta) foldedBias = tf.add(foldedBias, norm.beta);
    return [foldedKernel, foldedBias];
  });
}

/** Walks `model` from its output back to its input; null when it cannot. */
export function compileForward(model: tf.LayersModel): CompiledForward | null {
  const input = model.inputs.length === 1 ? model.inputs[0] : undefined;
  const output = model.outputs.length === 1 ? model.outputs[0] : undefined;
  if (!input || !output) return null;
  // Calls in dependency order: one per (layer, node), keyed so that a multi-output call runs once.
  const calls: { layer: tf.layers.Layer; symbolic: tf.SymbolicTensor[] }[] = [];
  const callOf = new Map<string, (typeof calls)[number]>();
  const visited = new Set<number>();
  const stack: { t: tf.SymbolicTensor; expanded: boolean }[] = [{ t: output, expanded: false }];
  while (stack.length > 0) {
    const top = stack.pop() as { t: tf.SymbolicTensor; expanded: boolean };
    const { t } = top;
    if (t.id === input.id) continue;
    const key = `${t.sourceLayer.name}#${t.nodeIndex}`;
    if (top.expanded) {
      const call = callOf.get(key);
      if (call) call.symbolic.push(t);
      else {
        const created = { layer: t.sourceLayer, symbolic: [t] };
        callOf.set(key, created);
        calls.push(created);
      }
      continue;
    }
    if (visited.has(t.id)) continue;
    visited.add(t.id);
    if (t.sourceLayer.getClassName() === 'InputLayer') return null; // a second input
    if (t.inputs.length === 0) return null;
    stack.push({ t, expanded: true });
    for (const source of t.inputs)
      if (!visited.has(source.id)) stack.push({ t: source, expanded: false });
  }
  if (calls.length > 5000) return null;

  // How many calls read each tensor (and the output counts as one reader).
  const readers = new Map<number, number>([[output.id, 1]]);
  for (const call of calls) {
    const first = call.symbolic[0] as tf.SymbolicTensor;
    for (const source of first.inputs) readers.set(source.id, (readers.get(source.id) ?? 0) + 1);
  }
  type Call = (typeof calls)[number];
  const absorbed = new Set<Call>();
  /** The one call that reads tensor `id`, when it is single-input, single-output and not absorbed. */
  const soleReader = (id: number): { call: Call; out: tf.SymbolicTensor } | null => {
    if (readers.get(id) !== 1 || id === output.id) return null;
    const call = calls.find(
      (c) => !absorbed.has(c) && (c.symbolic[0] as tf.SymbolicTensor).inputs[0]?.id === id,
    );
    const out = call?.symbolic[0];
    if (!call || !out || out.inputs.length !== 1 || call.symbolic.length !== 1) return null;
    return { call, out };
  };
  const steps: Step[] = [];
  const folded: tf.Tensor[] = [];
  let fusedConvolutions = 0;
  for (const call of calls) {
    if (absorbed.has(call)) continue;
    const first = call.symbolic[0] as tf.SymbolicTensor;
    const conv =
      first.inputs.length === 1 && call.symbolic.length === 1 ? convolution(call.layer) : null;
    if (conv) {
      const source = first.inputs[0] as tf.SymbolicTensor;
      let out = first.id;
      let activation = conv.activation;
      let weights: tf.Tensor[] = call.layer.getWeights();
      // A linear convolution read only by a batch normalisation takes it into its weights ...
      const norm = activation === 'linear' ? soleReader(out) : null;
      const normWeights = norm ? foldableNorm(norm.call.layer) : null;
      if (norm && normWeights) {
        weights = foldNorm(conv.kind, weights, normWeights);
        folded.push(...weights);
        absorbed.add(norm.call);
        out = norm.out.id;
      }
      // ... and a linear convolution read only by a ReLU / ReLU6 layer takes that activation in.
      const act = activation === 'linear' ? soleReader(out) : null;
      const kind = act ? activationLayerKind(act.call.layer) : null;
      if (act && kind) {
        absorbed.add(act.call);
        out = act.out.id;
        activation = kind;
      }
      if (activation !== 'linear' || conv.kind === 'depthwise' || normWeights) {
        fusedConvolutions += 1;
      }
      const [filter, bias] = weights;
      if (!filter) return null;
      steps.push({ ...conv, filter, bias, activation, input: source.id, output: out });
      continue;
    }
    const outputs = new Map<number, number>();
    for (const s of call.symbolic) outputs.set(s.id, s.outputTensorIndex ?? s.tensorIndex ?? 0);
    steps.push({
      kind: 'layer',
      layer: call.layer,
      inputs: first.inputs.map((s) => s.id),
      outputs,
      callArgs: { ...first.callArgs },
    });
  }

  // Readers again, over steps (absorbed activations read nothing now).
  const uses = new Map<number, number>([[output.id, 1]]);
  for (const step of steps) {
    const ins = step.kind === 'layer' ? step.inputs : [step.input];
    for (const id of ins) uses.set(id, (uses.get(id) ?? 0) + 1);
  }

  const run = (x: tf.Tensor): tf.Tensor => {
    const values = new Map<number, tf.Tensor>([[input.id, x]]);
    const left = new Map(uses);
    const release = (id: number): void => {
      const n = (left.get(id) ?? 0) - 1;
      left.set(id, n);
      const value = values.get(id);
      if (n <= 0 && id !== input.id && value) {
        value.dispose();
        values.delete(id);
      }
    };
    try {
      for (const step of steps) {
        if (step.kind === 'layer') {
          const ins = step.inputs.map((id) => {
            const v = values.get(id);
            if (!v) throw new Error(`compiled forward: tensor ${id} missing`);
            return v;
          });
          // Concrete inputs give concrete outputs (`apply` is typed for symbolic ones too).
          const result = tf.tidy(
            () =>
              step.layer.apply(ins.length === 1 ? (ins[0] as tf.Tensor) : ins, step.callArgs) as
                tf.Tensor | tf.Tensor[],
          );
          const list = Array.isArray(result) ? result : [result];
          const kept = new Set<tf.Tensor>();
          for (const [id, index] of step.outputs) {
            const t = list[index];
            if (!t) throw new Error(`compiled forward: ${step.layer.name} gave no output ${index}`);
            values.set(id, t);
            kept.add(t);
          }
          for (const t of list) if (!kept.has(t)) t.dispose();
          step.inputs.forEach(release);
        } else {
          const x4 = values.get(step.input);
          if (!x4) throw new Error(`compiled forward: tensor ${step.input} missing`);
          const { filter, bias } = step;
          const args = {
            x: x4 as tf.Tensor4D,
            strides: step.strides,
            pad: step.pad,
            dataFormat: 'NHWC' as const,
            dilations: step.dilations,
            activation: step.activation,
            ...(bias ? { bias } : {}),
          };
          const y =
            step.kind === 'conv'
              ? tf.fused.conv2d({ ...args, filter: filter as tf.Tensor4D })
              : tf.fused.depthwiseConv2d({ ...args, filter: filter as tf.Tensor4D });
          values.set(step.output, y);
          release(step.input);
        }
      }
      const y = values.get(output.id);
      if (!y) throw new Error('compiled forward: no output');
      values.delete(output.id);
      return y;
    } finally {
      for (const [id, t] of values) if (id !== input.id) t.dispose();
    }
  };
  return {
    run,
    fusedConvolutions,
    steps: steps.length,
    dispose: () => tf.dispose(folded),
  };
}

/**
 * True when `forward` gives `model.predict`'s output on `x`, within `tolerance` of the largest
 * output magnitude (fused kernels add bias and clamp in another order: ~1e-6 apart).
 */
export async function matchesPredict(
  model: tf.LayersModel,
  forward: CompiledForward,
  x: tf.Tensor,
  tolerance = 1e-3,
): Promise<boolean> {
  const [gap, scale] = tf.tidy(() => {
    const a = model.predict(x) as tf.Tensor;
    const b = forward.run(x);
    return [tf.max(tf.abs(tf.sub(a, b))), tf.max(tf.abs(a))];
  });
  try {
    const [d, s] = await Promise.all([gap.data(), scale.data()]);
    const diff = d[0] ?? Infinity;
    return Number.isFinite(diff) && diff <= tolerance * Math.max(1, s[0] ?? 0);
  } finally {
    gap.dispose();
    scale.dispose();
  }
}
