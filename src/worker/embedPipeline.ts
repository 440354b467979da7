/**
 * The embedding pipeline of the engine worker: for one project and one embedding key, find the
 * samples without a cached embedding, decode them (createImageBitmap, off-thread in the browser)
 * one batch ahead of inference, embed batch by batch, and write each batch's vectors to IndexedDB
 * in one transaction while the next batch runs. Resumable by construction: it only ever computes
 * what is missing, so a reload or a cancel loses at most the batch in flight.
 */
import * as tf from '@tensorflow/tfjs';
import {
  decodeImage,
  drawToPixels,
  pixelsToTensor,
  type Pixels,
} from '../core/backbone/preprocess';
import type { AspectMode, Backbone } from '../core/backbone/types';
import type { LoupeDatabase } from '../core/storage/db';
import { embeddedSampleIds, putEmbeddings } from '../core/storage/embeddings';
import type { EmbeddingRecord } from '../core/storage/schema';

export interface EmbedProgress {
  done: number;
  total: number;
  computed: number;
  rate: number;
  etaSeconds: number | null;
}

export interface EmbedReport {
  embeddingKey: string;
  total: number;
  computed: number;
  alreadyCached: number;
  failed: { sampleId: string; reason: string }[];
  cancelled: boolean;
  elapsedMs: number;
  /** Milliseconds spent inside the model's forward pass (for the raw-vs-pipeline ratio). */
  forwardMs: number;
}

interface Decoded {
  ids: string[];
  labelIds: string[][];
  pixels: Pixels[];
  failed: { sampleId: string; reason: string }[];
}

/** Mirrors RGBA pixels left-right in place (the horizontal-flip augmentation). */
export function flipHorizontally(image: ImageData): ImageData {
  const { data, width, height } = image;
  const row = new Uint32Array(data.buffer, data.byteOffset, (data.byteLength / 4) | 0);
  for (let y = 0; y < height; y++) row.subarray(y * width, (y + 1) * width).reverse();
  return image;
}

async function decodeBatch(
  db: LoupeDatabase,
  ids: string[],
  size: number,
  mode: AspectMode,
  flip: boolean,
): Promise<Decoded> {
  const out: Decoded = { ids: [], labelIds: [], pixels: [], failed: [] };
  const bitmaps = await Promise.all(
    ids.map(async (id) => {
      try {
        const sample = await db.get('samples', id);
        if (!sample) return null; // deleted meanwhile
        return { id, labelIds: sample.labelIds, bitmap: await decodeImage(sample.blob) };
      } catch (error) {
        out.failed.push({
          sampleId: id,
          reason: error instanceof Error ? error.message : String(error),
        });
        return null;
      }
    }),
  );
  for (const b of bitmaps) {
    if (!b) continue;
    try {
      const pixels = drawToPixels(b.bitmap, size, mode);
      out.pixels.push(flip ? flipHorizontally(pixels) : pixels);
      out.ids.push(b.id);
      out.labelIds.push(b.labelIds);
    } finally {
      b.bitmap.close();
    }
  }
  return out;
}

export interface EmbedJob {
  db: LoupeDatabase;
  projectId: string;
  sampleIds: string[];
  backbone: Backbone;
  embeddingKey: string;
  aspectMode: AspectMode;
  /** Embed the horizontally mirrored image (augmentation set, cached under its own key). */
  flip?: boolean;
  batchSize: number;
  signal: AbortSignal;
  onProgress: (p: EmbedProgress) => void;
  /** After each batch is committed: its vectors, with the labels the samples had when read. */
  onBatch?: (batch: { sampleId: string; vector: Float32Array; labelIds: string[] }[]) => void;
}

export async function embedMissing(job: EmbedJob): Promise<EmbedReport> {
  const started = performance.now();
  const have = await embeddedSampleIds(job.db, job.projectId, job.embeddingKey);
  const todo = job.sampleIds.filter((id) => !have.has(id));
  const total = job.sampleIds.length;
  const report: EmbedReport = {
    embeddingKey: job.embeddingKey,
    total,
    computed: 0,
    alreadyCached: total - todo.length,
    failed: [],
    cancelled: false,
    elapsedMs: 0,
    forwardMs: 0,
  };
  const emit = (): void => {
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? report.computed / seconds : 0;
    const left = todo.length - report.computed - report.failed.length;
    job.onProgress({
      done: report.alreadyCached + report.computed + report.failed.length,
      total,
      computed: report.computed,
      rate,
      etaSeconds: rate > 0 ? left / rate : null,
    });
  };
  emit();
  const batches: string[][] = [];
  for (let i = 0; i < todo.length; i += job.batchSize)
    batches.push(todo.slice(i, i + job.batchSize));
  const { inputSize, inputRange } = job.backbone;
  let next: Promise<Decoded> | null = batches[0]
    ? decodeBatch(job.db, batches[0], inputSize, job.aspectMode, job.flip ?? false)
    : null;
  let writing: Promise<void> = Promise.resolve();
  for (let i = 0; next; i++) {
    const current: Decoded = await next;
    if (job.signal.aborted) {
      report.cancelled = true;
      break;
    }
    const following = batches[i + 1];
    next = following
      ? decodeBatch(job.db, following, inputSize, job.aspectMode, job.flip ?? false)
      : null;
    report.failed.push(...current.failed);
    if (current.ids.length === 0) continue;
    const t0 = performance.now();
    const embeddings = tf.tidy(() =>
      job.backbone.embed(pixelsToTensor(current.pixels, inputRange)),
    );
    let flat: Float32Array;
    try {
      flat = (await embeddings.data()) as Float32Array;
    } finally {
      embeddings.dispose();
    }
    report.forwardMs += performance.now() - t0;
    const dim = flat.length / current.ids.length;
    const now = Date.now();
    const records: EmbeddingRecord[] = current.ids.map((sampleId, k) => ({
      sampleId,
      projectId: job.projectId,
      embeddingKey: job.embeddingKey,
      vector: flat.slice(k * dim, (k + 1) * dim),
      createdAt: now,
    }));
    await writing; // at most one write in flight: bounded memory, ordered commits
    const batch = records.map((r, k) => ({
      sampleId: r.sampleId,
      vector: r.vector,
      labelIds: current.labelIds[k] ?? [],
    }));
    writing = putEmbeddings(job.db, records).then(() => job.onBatch?.(batch));
    report.computed += records.length;
    emit();
  }
  await writing;
  await next?.catch(() => undefined);
  report.elapsedMs = performance.now() - started;
  return report;
}
