/**
 * Node-side model loading for unit tests (tfjs-node is not available): reads a TF.js model folder
 * (model.json + weight shards) from disk into an `tf.io.IOHandler`, and locates `../shared`
 * relative to the repository root.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';

/** The repository root (this file lives in tests/unit/helpers). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * `../shared` beside the checkout; it is absent on a fresh clone, so tests must skip without it.
 * LOUPE_SHARED_DIR overrides it (e.g. a missing folder, to check that those tests skip).
 */
export const SHARED_DIR = process.env.LOUPE_SHARED_DIR ?? path.resolve(REPO_ROOT, '..', 'shared');

export function sharedPath(...parts: string[]): string {
  return path.join(SHARED_DIR, ...parts);
}

export function hasShared(...parts: string[]): boolean {
  return existsSync(sharedPath(...parts));
}

function toArrayBuffer(buf: Buffer): ArrayBuffer {
  const out = new ArrayBuffer(buf.byteLength);
  new Uint8Array(out).set(buf);
  return out;
}

/** An IOHandler that loads `<dir>/model.json` and the shards its manifest names. */
export function nodeModelHandler(dir: string, modelFile = 'model.json'): tf.io.IOHandler {
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      const json = JSON.parse(await readFile(path.join(dir, modelFile), 'utf8')) as tf.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const buffers: ArrayBuffer[] = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const shard of group.paths) {
            buffers.push(toArrayBuffer(await readFile(path.join(dir, shard))));
          }
        }
        return [specs, tf.io.concatenateArrayBuffers(buffers)];
      });
    },
  };
}

/** ImageNet class names from a model folder's `metadata.json` (`{ labels: string[] }`). */
export function readLabels(dir: string, file = 'metadata.json'): string[] {
  const parsed = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as unknown;
  if (Array.isArray(parsed)) return parsed.map(String);
  const labels = (parsed as { labels?: unknown }).labels;
  if (!Array.isArray(labels)) throw new Error(`${file} in ${dir} has no labels array`);
  return labels.map(String);
}
