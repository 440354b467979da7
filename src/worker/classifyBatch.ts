/**
 * Batch classification in the engine worker: files the user picked or dropped (never stored) go
 * through the same preprocessing (`imageToPixels` + `pixelsToTensor`) and backbone as embedding,
 * batch by batch, and the open project's chosen head (KNN or dense, with its "unknown" threshold)
 * predicts each batch. The next batch is decoded while the current one runs through the model;
 * only one decoded batch waits at a time, so memory stays flat however many files there are. A
 * file that cannot be read or decoded is reported with its reason and the run goes on. With the
 * project's test-time flip, each image's embedding is the mean of its own and its mirror's, as for
 * the try image.
 */
import * as tf from '@tensorflow/tfjs';
import { flipHorizontally, imageToPixels, pixelsToTensor } from '../core/backbone/preprocess';
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
  decode?: (file: Blob, size: number, mode: AspectMode) => Promise<Pixels>;
}

interface DecodedFiles {
  paths: string[];
  pixels: Pixels[];
  failed: { path: string; reason: string }[];
}

async function decodeFiles(
  files: readonly BatchFile[],
  size: number,
  mode: AspectMode,
  decode: NonNullable<ClassifyJob['decode']>,
): Promise<DecodedFiles> {
  const out: DecodedFiles = { paths: [], pixels: [], failed: [] };
  const decoded = await Promise.all(
    files.map(async (f) => {
      try {
        return { path: f.path, pixels: await decode(f.file, size, mode) };
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        out.failed.push({ path: f.path, reason: reason || 'not a readable image' });
        return null;
      }
    }),
  );
  for (const d of decoded) {
    if (!d) continue;
    out.paths.push(d.path);
    out.pixels.push(d.pixels);
  }
  return out;
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
  const decode = (start: number): Promise<DecodedFiles> | null => {
    if (start >= total) return null;
    const files = job.files.slice(start, start + job.batchSize);
    const p = decodeFiles(files, inputSize, job.aspectMode, job.decode ?? imageToPixels);
    p.catch(() => undefined); // awaited below; avoid an unhandled rejection meanwhile
    return p;
  };
  let next = decode(0);
  for (let start = 0; next; start += job.batchSize) {
    const current = await next;
    if (job.signal.aborted) {
      report.cancelled = true;
      break;
    }
    next = decode(start + job.batchSize);
    const rows: BatchRow[] = [];
    if (current.pixels.length > 0) {
      const vectors = await embedPixels(job.backbone, current.pixels, flip);
      const predicted = await job.heads.predictWith(job.head, vectors);
      if (!predicted) {
        throw new Error(
          job.head === 'dense'
            ? 'Train the dense head first: it classifies the images.'
            : 'Label some images first: the KNN head is made of them.',
        );
      }
      for (const [i, path] of current.paths.entries()) {
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
    report.failed += current.failed.length;
    job.onChunk({ rows, failed: current.failed });
    emit();
  }
  if (next) await next.catch(() => undefined);
  report.elapsedMs = performance.now() - started;
  return report;
}
