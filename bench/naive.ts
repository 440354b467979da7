/**
 * Naive baseline for `npm run bench`: backbone embeddings the way a first attempt would
 * compute them: on the main thread, tfjs's default backend (whatever `tf.ready()` picks), one image
 * at a time (fetch -> createImageBitmap -> fromPixels -> resize -> [-1, 1] -> predict -> data),
 * no worker, no batching. Same model and embedding as the app: global average pooling over
 * `?layer=` (default `out_relu`) of `models/<?model=>/model.json` (default MobileNet v2 1.0).
 * `?n=32` images from photos.json; the result lands in `window.__naive`. `?backend=wasm` runs on
 * the wasm backend, single-threaded (multithreading reported absent).
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

interface NaiveResult {
  backend: string;
  images: number;
  imgPerSec: number;
  loadMs: number;
  firstPredictMs: number;
  loopMs: number;
}

async function loadEmbeddingModel(): Promise<tf.LayersModel> {
  const params = new URLSearchParams(location.search);
  const folder = params.get('model') ?? 'mobilenet_v2_1.0_224';
  const full = await tf.loadLayersModel(`/models/${folder}/model.json`);
  const features = full.getLayer(params.get('layer') ?? 'out_relu').output as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling2d({}).apply(features) as tf.SymbolicTensor;
  return tf.model({ inputs: full.inputs, outputs: pooled });
}

async function embed(model: tf.LayersModel, url: string): Promise<Float32Array> {
  const blob = await (await fetch(url)).blob();
  const bitmap = await createImageBitmap(blob);
  const output = tf.tidy(() => {
    const resized = tf.image.resizeBilinear(tf.browser.fromPixels(bitmap), [224, 224]);
    return model.predict(resized.div(127.5).sub(1).expandDims(0)) as tf.Tensor;
  });
  bitmap.close();
  try {
    return (await output.data()) as Float32Array;
  } finally {
    output.dispose();
  }
}

async function run(): Promise<NaiveResult> {
  const n = Number(new URLSearchParams(location.search).get('n') ?? 32);
  if (new URLSearchParams(location.search).get('backend') === 'wasm') {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    // tfjs wants every binary named; with multithreading reported absent it never loads the
    // threaded one.
    setWasmPaths({
      'tfjs-backend-wasm.wasm': wasmPlain,
      'tfjs-backend-wasm-simd.wasm': wasmSimd,
      'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
    });
    if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not start');
  }
  await tf.ready();
  const photos = ((await (await fetch('/photos.json')).json()) as string[]).slice(0, n);
  const t0 = performance.now();
  const model = await loadEmbeddingModel();
  const loadMs = performance.now() - t0;
  // One warm-up image (weights upload, first kernels) so the loop below measures steady state.
  const t1 = performance.now();
  await embed(model, photos[0]!);
  const firstPredictMs = performance.now() - t1;
  const t2 = performance.now();
  for (const url of photos) await embed(model, url);
  const loopMs = performance.now() - t2;
  return {
    backend: tf.getBackend(),
    images: photos.length,
    imgPerSec: photos.length / (loopMs / 1000),
    loadMs,
    firstPredictMs,
    loopMs,
  };
}

const out = window as unknown as { __naive?: NaiveResult | { error: string } };
run()
  .then(
    (result) => (out.__naive = result),
    (error: unknown) => (out.__naive = { error: String(error) }),
  )
  .finally(() => {
    document.getElementById('result')!.textContent = JSON.stringify(out.__naive, null, 2);
  });
