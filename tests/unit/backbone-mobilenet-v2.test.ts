// MobileNet v2 through @tensorflow-models/mobilenet, on a tiny generated graph-model fixture that
// carries the package's node names (scripts/make-mobilenet-v2-fixture.mjs), loaded through the
// same backbone code as the real model.
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BackboneWeightsMissingError,
  createBackbone,
  mobileNetV2HubSpec,
  type MobileNetV2Spec,
} from '../../src/core/backbone';
import { REPO_ROOT, nodeModelHandler } from './helpers/nodeModel';

let dir = '';
const spec: MobileNetV2Spec = { ...mobileNetV2HubSpec(), id: 'v2-fixture', embeddingSize: 8 };

beforeAll(async () => {
  await tf.setBackend('wasm');
  dir = mkdtempSync(path.join(tmpdir(), 'loupe-v2-fixture-'));
  execFileSync(process.execPath, [
    path.join(REPO_ROOT, 'scripts/make-mobilenet-v2-fixture.mjs'),
    dir,
  ]);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** What the fixture computes for an input in [0, 1]: mean over pixels of relu6((k+1)/10 * sum rgb). */
function expectedEmbedding(batch: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => {
    const s = tf.sum(batch, 3, true); // [n, h, w, 1]
    const k = tf.range(1, 9).div(10).reshape([1, 1, 1, 8]);
    return tf.mean(tf.relu6(tf.mul(s, k)), [1, 2]) as tf.Tensor2D;
  });
}

describe('MobileNet v2 backbone (graph-model fixture)', () => {
  it('embeds through infer(x, true) with the input range respected', async () => {
    const baseline = tf.memory().numTensors;
    const b = createBackbone(spec, { source: nodeModelHandler(dir) });
    await b.load();
    expect(b.embeddingSize).toBe(8);

    const batch = tf.randomUniform([3, 224, 224, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
    const got = b.embed(batch);
    const want = expectedEmbedding(batch);
    expect(got.shape).toEqual([3, 8]);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(got, want))).dataSync()[0] ?? Infinity);
    expect(diff).toBeLessThan(1e-4);

    const constant = tf.fill([1, 224, 224, 3], 0.5) as tf.Tensor4D;
    const e = b.embed(constant);
    const values = Array.from(e.dataSync());
    values.forEach((v, k) => expect(v).toBeCloseTo(0.15 * (k + 1), 3));

    tf.dispose([batch, got, want, constant, e]);
    b.dispose();
    expect(tf.memory().numTensors).toBe(baseline);
  });

  it('classifies with the package head (background logit dropped)', async () => {
    const baseline = tf.memory().numTensors;
    const b = createBackbone(spec, { source: nodeModelHandler(dir) });
    await b.load();
    const batch = tf.zeros([2, 224, 224, 3]) as tf.Tensor4D;
    const rows = await b.classify?.(batch, 2);
    expect(rows).toHaveLength(2);
    expect(rows?.[0]?.[0]?.className).toBe('espresso');
    expect(rows?.[1]?.[0]?.probability).toBeGreaterThan(0.5);
    batch.dispose();
    b.dispose();
    expect(tf.memory().numTensors).toBe(baseline);
  });

  it('rejects a wrongly sized batch with a readable error', async () => {
    const b = createBackbone(spec, { source: nodeModelHandler(dir) });
    await b.load();
    const wrong = tf.zeros([1, 100, 100, 3]) as tf.Tensor4D;
    expect(() => b.embed(wrong)).toThrow(/\[n, 224, 224, 3\]/);
    wrong.dispose();
    b.dispose();
  });

  it('says which command fixes missing weights', async () => {
    const b = createBackbone({ ...spec, url: 'http://127.0.0.1:9/models/nope/model.json' });
    const err: unknown = await b.load().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackboneWeightsMissingError);
    expect((err as Error).message).toMatch(/weights not found at .*: run `npm run models/);
  });

  it('refuses a model whose embedding size differs from the spec, frees it, and can retry', async () => {
    const before = tf.memory().numTensors;
    const wrong = createBackbone({ ...spec, embeddingSize: 16 }, { source: nodeModelHandler(dir) });
    await expect(wrong.load()).rejects.toThrow(/gives 8-d embeddings, the spec says 16/);
    // A failed load is not cached: the next call tries again (and fails the same way).
    await expect(wrong.load()).rejects.toThrow(/the spec says 16/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('drops a model whose load finishes after dispose, and refuses to load again', async () => {
    const before = tf.memory().numTensors;
    const b = createBackbone(spec, { source: nodeModelHandler(dir) });
    const loading = b.load();
    b.dispose();
    await expect(loading).rejects.toThrow(/disposed while loading/);
    await expect(b.load()).rejects.toThrow(/was disposed/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
