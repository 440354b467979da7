/**
 * loupe-runtime.js: runs an image classifier exported by Loupe, with nothing but TensorFlow.js.
 * Loads either export from one folder: the dense "TF.js model" (metadata.json + model.json) or the
 * "KNN model" (knn-manifest.json + knn-examples.bin + backbone/model.json), applies Loupe's
 * preprocessing (aspect mode, high-quality resize, scaling to the backbone's input range) and
 * classifies an <img>, <canvas>, OffscreenCanvas, ImageBitmap, ImageData or a [h, w, 3] tensor of
 * 0..255 values. No imports: pass the `tf` namespace (script-tag global or npm import).
 *
 *   <script src="./tf.min.js"></script>
 *   <script type="module">
 *     import { loadClassifier } from './loupe-runtime.js';
 *     const classifier = await loadClassifier('./', { tf: window.tf });
 *     const img = document.querySelector('img');
 *     await img.decode();
 *     const top3 = await classifier.classify(img, { topK: 3 });
 *     console.log(top3); // [{ label: 'cat', probability: 0.8, predicted: true }, ...]
 *     classifier.dispose();
 *   </script>
 *
 * Results are sorted by probability. `predicted` marks the label(s) the model decides on: the
 * single-label winner, or every multi-label label over its threshold; none when KNN says unknown.
 */

const EPSILON = 1e-12;
/** KNN rows per tensor (keeps every texture within WebGL limits). */
const CHUNK_ROWS = 4096;

/**
 * Where a srcW x srcH image lands in a size x size input; integers, exactly as Loupe's app.
 * @param {number} srcW @param {number} srcH @param {number} size
 * @param {'centre-crop' | 'letterbox' | 'squash'} mode
 */
export function aspectRect(srcW, srcH, size, mode) {
  if (!(srcW > 0 && srcH > 0 && size > 0))
    throw new Error(`Bad image size ${srcW}x${srcH} (not loaded yet?)`);
  if (mode === 'centre-crop') {
    const side = Math.min(srcW, srcH);
    const sx = Math.floor((srcW - side) / 2);
    const sy = Math.floor((srcH - side) / 2);
    return { sx, sy, sw: side, sh: side, dx: 0, dy: 0, dw: size, dh: size };
  }
  if (mode === 'letterbox') {
    const scale = size / Math.max(srcW, srcH);
    const dw = Math.max(1, Math.min(size, Math.round(srcW * scale)));
    const dh = Math.max(1, Math.min(size, Math.round(srcH * scale)));
    const dx = Math.floor((size - dw) / 2);
    const dy = Math.floor((size - dh) / 2);
    return { sx: 0, sy: 0, sw: srcW, sh: srcH, dx, dy, dw, dh };
  }
  if (mode === 'squash')
    return { sx: 0, sy: 0, sw: srcW, sh: srcH, dx: 0, dy: 0, dw: size, dh: size };
  throw new Error(`Unknown aspect mode ${mode}`);
}

/** An OffscreenCanvas where there is one, else a <canvas>. */
function makeCanvas(width, height) {
  if (typeof OffscreenCanvas !== 'undefined') return new OffscreenCanvas(width, height);
  return Object.assign(document.createElement('canvas'), { width, height });
}

function context2d(canvas, readBack) {
  const ctx = canvas.getContext('2d', { willReadFrequently: readBack });
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  return ctx;
}

/**
 * Loupe's drawing: halve (2x2) while >= 2x too big, one draw over black ('high' smoothing when
 * shrinking, plain bilinear 'low' when enlarging); RGBA bytes.
 */
function drawToRgba(source, size, mode) {
  if (typeof ImageData !== 'undefined' && source instanceof ImageData) {
    const canvas = makeCanvas(source.width, source.height);
    context2d(canvas, false).putImageData(source, 0, 0);
    source = canvas;
  }
  const w = source.naturalWidth || source.videoWidth || source.width;
  const h = source.naturalHeight || source.videoHeight || source.height;
  const r = aspectRect(w, h, size, mode);
  let { sx, sy, sw, sh } = r;
  while (sw >= 2 * r.dw && sh >= 2 * r.dh) {
    const half = makeCanvas(Math.ceil(sw / 2), Math.ceil(sh / 2));
    context2d(half, false).drawImage(source, sx, sy, sw, sh, 0, 0, half.width, half.height);
    [source, sx, sy, sw, sh] = [half, 0, 0, half.width, half.height];
  }
  const ctx = context2d(makeCanvas(size, size), true);
  ctx.fillStyle = '#000000';
  ctx.fillRect(0, 0, size, size);
  if (r.dw > sw || r.dh > sh) ctx.imageSmoothingQuality = 'low';
  ctx.drawImage(source, sx, sy, sw, sh, r.dx, r.dy, r.dw, r.dh);
  return ctx.getImageData(0, 0, size, size).data;
}

/** The k nearest rows vote, exactly like Loupe's KNN head (src/core/heads/knn.ts knnVote). */
function knnVote(neighbours, numLabels, kind, cfg) {
  let weights = neighbours.map((n) => (cfg.weighted ? Math.max(n.similarity, 0) : 1));
  let total = weights.reduce((a, b) => a + b, 0);
  if (!(total > 0)) [weights, total] = [neighbours.map(() => 1), neighbours.length];
  const raw = new Array(numLabels).fill(0);
  const firstRank = new Array(numLabels).fill(Infinity);
  neighbours.forEach((n, rank) => {
    for (const l of kind === 'single-label' ? n.labels.slice(0, 1) : [...new Set(n.labels)]) {
      if (!(l >= 0 && l < numLabels)) continue;
      raw[l] += weights[rank];
      firstRank[l] = Math.min(firstRank[l], rank);
    }
  });
  const probabilities = raw.map((v) => v / total);
  let top = -1;
  for (let l = 0; l < numLabels; l++) {
    const best = top < 0 ? -Infinity : raw[top];
    const tie = 1e-9 * total;
    if (
      raw[l] > 0 &&
      (raw[l] > best + tie || (Math.abs(raw[l] - best) <= tie && firstRank[l] < firstRank[top]))
    )
      top = l;
  }
  let predicted = probabilities.map((_, l) => l === top);
  if (kind === 'multi-label')
    predicted = probabilities.map((p) => p > 0 && p >= cfg.multiLabelThreshold);
  const nearest = neighbours[0] ? neighbours[0].similarity : -Infinity;
  if (cfg.unknownSimilarity !== null && nearest < cfg.unknownSimilarity)
    predicted = predicted.map(() => false);
  return { probabilities, predicted, top: kind === 'single-label' ? top : -1 };
}

/** knn-examples.bin -> unit rows (float32 | float16 | int8 with a leading float32 scale block). */
function decodeRows(buffer, count, dim, dtype) {
  const view = new DataView(buffer);
  const width = { float32: 4, float16: 2, int8: 1 }[dtype];
  if (typeof width !== 'number') throw new Error(`Unsupported KNN dtype ${dtype}`);
  const bytes = width * count * dim + (dtype === 'int8' ? 4 * count : 0);
  if (buffer.byteLength !== bytes)
    throw new Error(`knn-examples.bin: ${buffer.byteLength} bytes, expected ${bytes}`);
  const half = (b) => {
    const [s, e, m] = [b & 0x8000 ? -1 : 1, (b >>> 10) & 0x1f, b & 0x3ff];
    if (e === 0) return s * m * 2 ** -24;
    return e === 0x1f ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
  };
  const out = new Float32Array(count * dim);
  for (let i = 0; i < out.length; i++) {
    if (dtype === 'float32') out[i] = view.getFloat32(4 * i, true);
    else if (dtype === 'float16') out[i] = half(view.getUint16(2 * i, true));
    else out[i] = view.getInt8(4 * count + i) * view.getFloat32(4 * Math.floor(i / dim), true);
    if (!Number.isFinite(out[i])) throw new Error('knn-examples.bin holds NaN or Infinity');
  }
  for (let r = 0; r < count; r++) {
    const row = out.subarray(r * dim, (r + 1) * dim);
    const norm = Math.max(Math.sqrt(row.reduce((a, v) => a + v * v, 0)), EPSILON);
    for (let j = 0; j < dim; j++) row[j] /= norm;
  }
  return out;
}

/** A dense TF.js export: the model's output already is the probabilities. */
async function loadDense(tf, metadata, loadModel) {
  // A Teachable Machine model (no `loupe` field) gets TM's centre-crop and [-1, 1].
  const loupe = metadata.loupe || {};
  const model = await loadModel('model.json');
  const kind = loupe.kind || 'single-label';
  const [size, mode] = [metadata.imageSize || model.inputs[0].shape[1], loupe.aspectMode];
  const input = { size, mode: mode || 'centre-crop', range: loupe.inputRange || [-1, 1] };
  const score = async (x) => {
    const out = model.predict(x);
    const probabilities = Array.from(await out.data().finally(() => out.dispose()));
    const top = probabilities.indexOf(Math.max(...probabilities));
    // Optional unknown: nothing is predicted when the top probability is below the threshold.
    const known = !(probabilities[top] < loupe.unknownThreshold);
    const predicted = probabilities.map((p, i) =>
      kind === 'multi-label'
        ? known && p >= ((loupe.thresholds || [])[i] ?? 0.5)
        : known && i === top,
    );
    return { probabilities, predicted, top };
  };
  return { model, kind, labels: metadata.labels.map(String), input, score, rows: [] };
}

/** A KNN export: backbone embedding -> cosine similarity with every row -> top-k vote. */
async function loadKnn(tf, m, get, loadModel) {
  if (m.format !== 'loupe-knn' || !(m.version <= 1)) {
    throw new Error('knn-manifest.json is not a Loupe KNN export this runtime can read');
  }
  const examples = await (await get(String(m.examples))).arrayBuffer();
  const data = decodeRows(examples, m.count, m.dim, m.dtype);
  const model = await loadModel(m.backbone.model);
  const rows = [];
  for (let r = 0; r < m.count; r += CHUNK_ROWS) {
    const n = Math.min(CHUNK_ROWS, m.count - r);
    rows.push(tf.tensor2d(data.subarray(r * m.dim, (r + n) * m.dim), [n, m.dim]));
  }
  const k = Math.max(1, Math.min(Math.floor(m.k), m.count));
  const score = async (x) => {
    const { values, indices } = tf.tidy(() => {
      let e = model.predict(x);
      if (e.rank === 4) e = tf.mean(e, [1, 2]);
      e = tf.reshape(e, [1, -1]);
      const q = tf.div(e, tf.maximum(tf.norm(e, 'euclidean', 1, true), EPSILON));
      const parts = rows.map((chunk) => tf.matMul(q, chunk, false, true));
      return tf.topk(tf.concat(parts, 1), k, true);
    });
    const [sims, found] = await Promise.all([values.data(), indices.data()]).finally(() =>
      tf.dispose([values, indices]),
    );
    const neighbours = Array.from(found, (row, i) => ({ row, similarity: sims[i] }))
      .sort((a, b) => b.similarity - a.similarity || a.row - b.row)
      .map((n) => ({ similarity: n.similarity, labels: m.rowLabels[n.row] }));
    return knnVote(neighbours, m.labels.length, m.kind, m);
  };
  const { inputSize: size, inputRange: range } = m.backbone;
  const input = { size, mode: m.preprocessing.aspectMode, range };
  return { model, kind: m.kind, labels: m.labels.map((l) => String(l.name)), input, score, rows };
}

/**
 * The model input for one image: [1, size, size, 3] float32 in the input range.
 * Elements are drawn like the app; tensors get the same integer rectangles with an exact slice
 * for the crop, bilinear (half-pixel centres) halvings and resize, and 0-padding for the bars.
 */
function preprocess(tf, input, spec) {
  const { size, mode, range } = spec;
  const [lo, hi] = range;
  const scale = (hi - lo) / 255;
  if (!(input instanceof tf.Tensor)) {
    if (input && input.data && typeof OffscreenCanvas === 'undefined' && !globalThis.document) {
      // ImageData-like pixels where there is no canvas (Node): through the tensor path.
      const shape = [input.height, input.width, 4];
      return tf.tidy(() => preprocess(tf, tf.tensor3d(Int32Array.from(input.data), shape), spec));
    }
    const rgba = drawToRgba(input, size, mode);
    const out = new Float32Array(size * size * 3);
    for (let i = 0, o = 0; i < rgba.length; i += 4) {
      out[o++] = rgba[i] * scale + lo;
      out[o++] = rgba[i + 1] * scale + lo;
      out[o++] = rgba[i + 2] * scale + lo;
    }
    return tf.tensor4d(out, [1, size, size, 3], 'float32');
  }
  return tf.tidy(() => {
    let x = input.rank === 4 ? tf.squeeze(input, [0]) : input;
    const [h, w, c] = x.shape;
    if (x.rank !== 3 || c < 3) throw new Error(`Expected a [h, w, 3] tensor, got [${x.shape}]`);
    const r = aspectRect(w, h, size, mode);
    x = tf.slice(tf.cast(x, 'float32'), [r.sy, r.sx, 0], [r.sh, r.sw, 3]);
    let [sw, sh] = [r.sw, r.sh];
    while (sw >= 2 * r.dw && sh >= 2 * r.dh) {
      [sw, sh] = [Math.ceil(sw / 2), Math.ceil(sh / 2)];
      x = tf.image.resizeBilinear(x, [sh, sw], false, true);
    }
    x = tf.image.resizeBilinear(x, [r.dh, r.dw], false, true);
    x = tf.pad(x, [
      [r.dy, size - r.dh - r.dy],
      [r.dx, size - r.dw - r.dx],
      [0, 0],
    ]);
    return tf.expandDims(tf.add(tf.mul(x, scale), lo), 0);
  });
}

/**
 * Loads the export in the folder `baseUrl`: metadata.json (dense TF.js model) if there is one,
 * else knn-manifest.json (KNN model).
 * @param {string} baseUrl folder URL, e.g. './' or '/models/flowers/'
 * @param {{ tf: typeof import('@tensorflow/tfjs'), fetch?: typeof globalThis.fetch }} options
 */
export async function loadClassifier(baseUrl, { tf, fetch = globalThis.fetch } = {}) {
  if (!tf || !tf.loadLayersModel) throw new Error('loadClassifier: pass { tf } (@tensorflow/tfjs)');
  const base = String(baseUrl).replace(/([^/])$/, '$1/');
  const get = async (name) => {
    const res = await fetch(base + name);
    if (!res.ok) throw new Error(`${base + name}: HTTP ${res.status}`);
    return res;
  };
  // Fetches model.json and its shards (each checked, so a missing file names itself).
  const loadModel = async (name) => {
    const json = await (await get(name)).json();
    const dir = name.slice(0, name.lastIndexOf('/') + 1);
    const artifacts = await tf.io.getModelArtifactsForJSON(json, async (manifest) => {
      const paths = manifest.flatMap((group) => group.paths);
      const buffers = await Promise.all(paths.map(async (p) => (await get(dir + p)).arrayBuffer()));
      return [manifest.flatMap((g) => g.weights), tf.io.concatenateArrayBuffers(buffers)];
    });
    return tf.loadLayersModel(tf.io.fromMemory(artifacts));
  };
  const found = await fetch(base + 'metadata.json').catch(() => null);
  const metadata = found && found.ok ? await found.json() : null;
  const loaded = metadata
    ? await loadDense(tf, metadata, loadModel)
    : await loadKnn(tf, await (await get('knn-manifest.json')).json(), get, loadModel);
  const { labels, kind, input, score } = loaded;

  return {
    type: metadata ? 'dense' : 'knn',
    labels,
    kind,
    preprocess: (image) => preprocess(tf, image, input),
    /** @returns {Promise<{ label: string, probability: number, predicted: boolean }[]>} */
    async classify(image, { topK = labels.length } = {}) {
      const x = preprocess(tf, image, input);
      const { probabilities, predicted, top } = await score(x).finally(() => x.dispose());
      return labels
        .map((label, i) => ({ i, label, probability: probabilities[i], predicted: predicted[i] }))
        .sort((a, b) => b.probability - a.probability || (b.i === top) - (a.i === top) || a.i - b.i)
        .slice(0, Math.max(0, topK))
        .map(({ label, probability, predicted }) => ({ label, probability, predicted }));
    },
    dispose() {
      tf.dispose(loaded.rows.splice(0));
      if (loaded.model) loaded.model.dispose();
      loaded.model = null;
    },
  };
}
