/**
 * Batch classification in the engine worker: files the user picked or dropped (never stored) go
 * through the same preprocessing (`imageToPixels` + `pixelsToTensor`) and backbone as embedding,
 * batch by batch, and the open project's chosen head (KNN or dense, with its "unknown" threshold)
 * predicts each batch. As in the embedding pipeline, the next batches are decoded while the
 * current one runs through the model (in the preprocessing worker when the engine passes
 * `prepare`, so on another core); at most `prefetch` decoded batches wait, so memory stays flat
 * however many files there are. A file that cannot be read or decoded is reported with its
 * reason and the run goes on. With the project's test-time flip, each image's embedding is the
 * mean of its own and its mirror's, as for the try image.
 */
import * as tf from '@tensorflow/tfjs';
import { flipHorizontally, pixelsToTensor } from '../core/backbone/preprocess';
import type { Pixels } from '../core/backbone/draw';
import type { AspectMode, Backbone } from '../core/backbone/types';
import type {
  BatchChunk,
  BatchFile,
  BatchProgress,
  BatchReport,
  BatchRow,
  EmbeddingTarget,
} from './api';
import { decodeFiles, type DecodedFiles, type DecodeFile } from './decodeFiles';
import type { ProjectHeads } from './headsService';

/** What the page sends to the engine's `classifyImages`, less the signal and the callbacks. */
export type ClassifyCall = EmbeddingTarget & { files: BatchFile[]; head: 'knn' | 'dense' };

export interface ClassifyJob {
  files: readonly BatchFile[];
  backbone: Backbone;
  aspectMode: AspectMode;
  heads: ProjectHeads;
  head: 'knn' | 'dense';
  batchSize: number;
  signal: AbortSignal;
  onChunk: (chunk: BatchChunk) => void;
  onProgress: (p: BatchProgress) => void;
  /** Decodes one file to input pixels; `imageToPixels` (tests pass a fake: Node cannot decode). */
  decode?: DecodeFile;
  /**
   * Prepares a batch of files (decode + preprocess). Defaults to `decodeFiles` in this thread;
   * the engine passes the preprocessing worker's, so batches are prepared on another core.
   */
  prepare?: (files: BatchFile[], size: number, mode: AspectMode) => Promise<DecodedFiles>;
  /** Batches prepared ahead of inference (default 2, as the embedding pipeline). */
  prefetch?: number;
}

/** One embedding per image; with `flip`, the mean of the image's and its mirror's. */
async function embedPixels(
  backbone: Backbone,
  pixels: Pixels[],
  flip: boolean,
): Promise<Float32Array[]> {
  const n = pixels.length;
  const views = flip
    ? [
        ...pixels,
        ...pixels.map((p) =>
          flipHorizontally({ data: p.data.slice(), width: p.width, height: p.height }),
        ),
      ]
    : pixels;
  const out = tf.tidy(() => {
    const embedded = backbone.embed(pixelsToTensor(views, backbone.inputRange));
    if (!flip) return embedded;
    const [plain, mirrored] = tf.split(embedded, [n, n], 0) as [tf.Tensor2D, tf.Tensor2D];
    return tf.div(tf.add(plain, mirrored), 2);
  });
  let flat: Float32Array;
  try {
    flat = (await out.data()) as Float32Array;
  } finally {
    out.dispose();
  }
  const dim = flat.length / n;
  return Array.from({ length: n }, (_, i) => flat.slice(i * dim, (i + 1) * dim));
}

export async function classifyFiles(job: ClassifyJob): Promise<BatchReport> {
  const started = performance.now();
  const total = job.files.length;
  const report: BatchReport = {
    total,
    classified: 0,
    failed: 0,
    cancelled: false,
    elapsedMs: 0,
  };
  const emit = (): void => {
    const seconds = (performance.now() - started) / 1000;
    const done = report.classified + report.failed;
    const rate = seconds > 0 ? done / seconds : 0;
    job.onProgress({
      done,
      total,
      rate,
      etaSeconds: rate > 0 ? (total - done) / rate : null,
    });
  };
  emit();
  const flip = job.heads.settings.flipTta;
  const { inputSize } = job.backbone;
  const prepare =
    job.prepare ??
    ((files: BatchFile[], size: number, mode: AspectMode) =>
      decodeFiles(files, size, mode, job.decode));
  const ahead: Promise<DecodedFiles>[] = [];
  const prefetch = Math.max(1, job.prefetch ?? 2);
  let queued = 0;
  const fill = (): void => {
    while (ahead.length < prefetch && queued < total) {
      const files = job.files.slice(queued, queued + job.batchSize);
      queued += files.length;
      const p = prepare(files, inputSize, job.aspectMode);
      p.catch(() => undefined); // awaited below; avoid an unhandled rejection meanwhile
      ahead.push(p);
    }
  };
  fill();
  for (let current = ahead.shift(); current; current = ahead.shift()) {
    const batch = await current;
    if (job.signal.aborted) {
      report.cancelled = true;
      break;
    }
    fill();
    const rows: BatchRow[] = [];
    if (batch.pixels.length > 0) {
      const vectors = await embedPixels(job.backbone, batch.pixels, flip);
      const predicted = await job.heads.predictWith(job.head, vectors);
      if (!predicted) {
        throw new Error(
          job.head === 'dense'
            ? 'Train the dense head first: it classifies the images.'
            : 'Label some images first: the KNN head is made of them.',
        );
      }
      for (const [i, path] of batch.paths.entries()) {
        const p = predicted.predictions[i];
        if (!p) continue;
        rows.push({
          path,
          predicted: [...p.labels],
          confidence: p.topProbability,
          probabilities: Object.fromEntries(
            predicted.labels.map((id, j) => [id, p.probabilities[j] ?? 0]),
          ),
        });
      }
    }
    report.classified += rows.length;
    report.failed += batch.failed.length;
    job.onChunk({ rows, failed: batch.failed });
    emit();
  }
  await Promise.allSettled(ahead);
  report.elapsedMs = performance.now() - started;
  return report;
}
