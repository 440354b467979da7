/**
 * The raw forward pass rate of a backbone (`npm run bench`): the first `n` stored samples of a
 * project preprocessed up front, one warm-up batch, then every batch timed through `embed` alone.
 */
import type * as tf from '@tensorflow/tfjs';
import { preprocess } from '../core/backbone/preprocess';
import type { AspectMode, Backbone } from '../core/backbone/types';
import type { LoupeDatabase } from '../core/storage/db';
import { listSampleMeta } from '../core/storage/samples';

export async function timeForward(
  database: LoupeDatabase,
  backbone: Backbone,
  call: { projectId: string; n: number; aspectMode: AspectMode },
  batchSize: number,
  signal: AbortSignal,
): Promise<{ images: number; imgPerSec: number; batchSize: number }> {
  const metas = (await listSampleMeta(database, call.projectId)).slice(0, call.n);
  const inputs: tf.Tensor4D[] = [];
  try {
    for (let i = 0; i < metas.length; i += batchSize) {
      signal.throwIfAborted();
      const blobs: Blob[] = [];
      for (const m of metas.slice(i, i + batchSize)) {
        const sample = await database.get('samples', m.id);
        if (sample) blobs.push(sample.blob);
      }
      if (blobs.length > 0) inputs.push(await preprocess(blobs, backbone, call.aspectMode));
    }
    const first = inputs[0];
    if (!first) return { images: 0, imgPerSec: 0, batchSize };
    const warm = backbone.embed(first);
    await warm.data();
    warm.dispose();
    const t0 = performance.now();
    let images = 0;
    for (const input of inputs) {
      const out = backbone.embed(input);
      await out.data();
      out.dispose();
      images += input.shape[0];
    }
    return { images, imgPerSec: images / ((performance.now() - t0) / 1000), batchSize };
  } finally {
    inputs.forEach((t) => t.dispose());
  }
}
