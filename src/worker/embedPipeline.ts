/**
 * The embedding pipeline of the engine worker: for one project and one embedding key, find the
 * samples without a cached embedding, have the next batches prepared (read, decoded, resized —
 * in the preprocessing worker, on another core) while the current one runs through the model, and
 * write each batch's vectors to IndexedDB in one transaction while the next batch runs. Resumable
 * by construction: it only ever computes what is missing, so a reload or a cancel loses at most the
 * batch in flight. While an import is still storing samples, the job asks for them as its queue
 * runs low (`more`) and keeps going.
 */
import * as tf from '@tensorflow/tfjs';
import { pixelsToTensor } from '../core/backbone/preprocess';
import { ORIGINAL_VIEW, type AugmentView } from '../core/backbone/augment';
import { decodeBatch, type Decoded } from './decodeBatch';
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

export interface EmbedJob {
  db: LoupeDatabase;
  projectId: string;
  sampleIds: string[];
  backbone: Backbone;
  embeddingKey: string;
  aspectMode: AspectMode;
  /** Embed an augmentation view (mirror, crop) instead of the image; cached under its own key. */
  view?: AugmentView;
  /**
   * Prepares a batch (read + decode + preprocess). Defaults to this thread; the engine passes a
   * preprocessing worker so the next batches are prepared on another core while this one runs.
   */
  prepare?: (ids: string[], size: number, mode: AspectMode, view: AugmentView) => Promise<Decoded>;
  /**
   * Samples stored since the job started (an import still running): asked when the queue runs
   * low, so the job follows the import instead of ending and starting again. Resolves [] when
   * there are none; the job then ends once its queue is empty.
   */
  more?: (() => Promise<string[]>) | undefined;
  /** Batches prepared ahead of inference (default 2). */
  prefetch?: number;
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
  let total = job.sampleIds.length;
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
  const prepare =
    job.prepare ?? ((ids, size, mode, view) => decodeBatch(job.db, ids, size, mode, view));
  const ahead: Promise<Decoded>[] = [];
  const prefetch = Math.max(1, job.prefetch ?? 2);
  let queued = 0;
  // Samples stored meanwhile: asked for as soon as the last known batch is queued, and queued as
  // soon as they are known, so the model never waits for the list.
  let asking: Promise<boolean> | null = null;
  const ask = (): Promise<boolean> => {
    const more = job.more;
    if (!more || job.signal.aborted) return Promise.resolve(false);
    asking ??= more()
      .then((ids) => {
        const fresh = ids.filter((id) => !have.has(id));
        if (fresh.length === 0 || job.signal.aborted) return false;
        total += fresh.length;
        todo.push(...fresh);
        for (let i = 0; i < fresh.length; i += job.batchSize)
          batches.push(fresh.slice(i, i + job.batchSize));
        fill();
        return true;
      })
      .catch(() => false)
      .finally(() => (asking = null));
    return asking;
  };
  const fill = (): void => {
    while (ahead.length < prefetch && queued < batches.length) {
      const ids = batches[queued++] as string[];
      const p = prepare(ids, inputSize, job.aspectMode, job.view ?? ORIGINAL_VIEW);
      p.catch(() => undefined); // awaited below; avoid an unhandled rejection meanwhile
      ahead.push(p);
    }
    if (queued === batches.length) void ask();
  };
  fill();
  let writing: Promise<void> = Promise.resolve();
  for (;;) {
    // The queue ran dry: wait for the answer in flight, then ask once more, else stop.
    while (ahead.length === 0 && asking) await asking;
    if (ahead.length === 0 && !(await ask()) && ahead.length === 0) break;
    if (ahead.length === 0) continue;
    const current: Decoded = await (ahead.shift() as Promise<Decoded>);
    if (job.signal.aborted) {
      report.cancelled = true;
      break;
    }
    fill();
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
  await Promise.allSettled(ahead);
  report.total = total;
  report.elapsedMs = performance.now() - started;
  return report;
}
