/**
 * The import pipeline: validated, de-duplicated, chunked insertion of user files into a project.
 *
 * For each file: size and header checks (pixel count read from the header, so a decompression bomb
 * never reaches the decoder) -> SHA-256 -> decode + thumbnail -> batched write. Good files in a
 * mixed drop are always kept; each rejected file is reported with its reason. Cancelling stops
 * between chunks: everything already written stays, consistently (samples and thumbnails are
 * written together in one transaction per chunk). A label deleted while the import runs (in another
 * tab) is checked in each chunk's transaction with `dropMissingLabels`: its images are stored
 * without it, and the report says how many.
 */
import { newId } from '../ids';
import { checkDecoded, checkFile, describeDecodeError, sha256Hex } from '../imageio';
import type { LoupeDatabase } from '../storage/db';
import type { SampleMeta, SampleSource } from '../storage/schema';
import { insertSamples, type DroppedLabel, type NewSample } from '../storage/samples';
import type { ImageDecoder, ModelInputTarget } from './decoder';
import type { PreparedInput } from './preparedInput';

export interface ImportItem {
  file: File;
  /** Labels the image gets; empty = "Unlabelled images". */
  labelIds: string[];
  relativePath?: string;
}

export interface ImportProgress {
  done: number;
  total: number;
  added: number;
  duplicates: number;
  rejected: number;
  /** Files per second since the start. */
  rate: number;
  /** Seconds left at the current rate (null until measurable). */
  etaSeconds: number | null;
}

export interface RejectedFile {
  name: string;
  reason: string;
}

export interface ImportReport {
  added: SampleMeta[];
  duplicates: string[];
  rejected: RejectedFile[];
  cancelled: boolean;
  elapsedMs: number;
  /** Set when storage refused a write (e.g. quota): the import stopped there. */
  error?: string;
  /** `dropMissingLabels`: labels that no longer existed when their images were stored. */
  droppedLabels?: DroppedLabel[];
}

export function describeStorageError(error: unknown): string {
  const name = error instanceof Error || error instanceof DOMException ? error.name : '';
  if (name === 'QuotaExceededError') {
    return 'not saved: the browser storage quota is full. Free space by deleting images or projects.';
  }
  const message = error instanceof Error ? error.message : String(error);
  return `not saved: storage error (${message})`;
}

export interface ImportOptions {
  projectId: string;
  source: SampleSource;
  decoder: ImageDecoder;
  signal?: AbortSignal;
  onProgress?: (progress: ImportProgress) => void;
  /** Called after each chunk is committed, with the samples it added. */
  onChunk?: (added: SampleMeta[]) => void;
  /**
   * Also draw each image's model input from the decode that makes its thumbnail, and hand those
   * of the added samples to `onPrepared` (just before `onChunk`), so embedding need not decode
   * them again.
   */
  modelInput?: ModelInputTarget;
  onPrepared?: (inputs: PreparedInput[]) => void;
  chunkSize?: number;
  concurrency?: number;
  /** Multi-label projects: a duplicate dropped on a label gains that label. */
  mergeDuplicateLabels?: boolean;
  /** Store only label ids whose label still exists (see `InsertOptions.dropMissingLabels`). */
  dropMissingLabels?: boolean;
  now?: () => number;
}

const HEAD_BYTES = 256 * 1024;

export type { PreparedInput } from './preparedInput';

type Prepared =
  { ok: true; value: NewSample; modelInput?: ImageData } | { ok: false; rejected: RejectedFile };

async function prepare(
  item: ImportItem,
  options: ImportOptions,
  createdAt: number,
): Promise<Prepared> {
  const { file } = item;
  const reject = (reason: string): Prepared => ({
    ok: false,
    rejected: { name: displayName(item), reason },
  });
  const head = new Uint8Array(await file.slice(0, HEAD_BYTES).arrayBuffer());
  const check = checkFile({ name: file.name, size: file.size, type: file.type, head });
  if (!check.ok) return reject(check.reason);
  const bytes = await file.arrayBuffer();
  const sha256 = await sha256Hex(bytes);
  const blob = new Blob([bytes], { type: check.header.mime });
  let decoded;
  try {
    decoded = await options.decoder.decode(blob, options.onPrepared && options.modelInput);
  } catch (error) {
    return reject(describeDecodeError(error));
  }
  const decodedCheck = checkDecoded(decoded.width, decoded.height);
  if (!decodedCheck.ok) return reject(decodedCheck.reason);
  const id = newId();
  const sample: NewSample['sample'] = {
    id,
    projectId: options.projectId,
    labelIds: [...new Set(item.labelIds)],
    name: file.name,
    mime: check.header.mime,
    byteSize: file.size,
    width: decoded.width,
    height: decoded.height,
    sha256,
    createdAt,
    source: options.source,
    blob,
    ...(item.relativePath ? { relativePath: item.relativePath } : {}),
  };
  return {
    ok: true,
    ...(decoded.modelInput ? { modelInput: decoded.modelInput } : {}),
    value: {
      sample,
      thumbnail: {
        sampleId: id,
        projectId: options.projectId,
        blob: decoded.thumbnail,
        width: decoded.thumbnailWidth,
        height: decoded.thumbnailHeight,
      },
    },
  };
}

/** A plain record of an ImageData's pixels (ImageData itself does not cross every boundary). */
function pixelsOf(image: ImageData): PreparedInput['pixels'] {
  return { data: image.data, width: image.width, height: image.height };
}

function displayName(item: ImportItem): string {
  return item.relativePath ?? item.file.name;
}

/** Runs `fn` over `items` with at most `limit` in flight, preserving order of results. */
async function mapLimited<T, R>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  });
  await Promise.all(workers);
  return results;
}

export async function importFiles(
  db: LoupeDatabase,
  items: ImportItem[],
  options: ImportOptions,
): Promise<ImportReport> {
  const now = options.now ?? (() => performance.now());
  const started = now();
  const chunkSize = options.chunkSize ?? 24;
  // A smaller first chunk reaches the board and the embedding pipeline sooner.
  const firstChunkSize = options.chunkSize ?? 8;
  const report: ImportReport = {
    added: [],
    duplicates: [],
    rejected: [],
    cancelled: false,
    elapsedMs: 0,
  };
  let done = 0;
  const emit = (): void => {
    const seconds = (now() - started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    options.onProgress?.({
      done,
      total: items.length,
      added: report.added.length,
      duplicates: report.duplicates.length,
      rejected: report.rejected.length,
      rate,
      etaSeconds: rate > 0 && done > 0 ? (items.length - done) / rate : null,
    });
  };
  emit();
  for (let start = 0; start < items.length;) {
    if (options.signal?.aborted) {
      report.cancelled = true;
      break;
    }
    const chunk = items.slice(start, start + (start === 0 ? firstChunkSize : chunkSize));
    start += chunk.length;
    // One timestamp per chunk, not per file: files decoded in parallel finish in any order, and
    // the board (sorted by createdAt, then name) must not depend on which decode won.
    const createdAt = options.now?.() ?? Date.now();
    const prepared = await mapLimited(chunk, options.concurrency ?? 4, async (item) => {
      try {
        return await prepare(item, options, createdAt);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        return {
          ok: false,
          rejected: { name: displayName(item), reason: `could not be read (${message})` },
        } as Prepared;
      }
    });
    const batch: NewSample[] = [];
    const inputs = new Map<string, ImageData>();
    for (const p of prepared) {
      if (!p.ok) report.rejected.push(p.rejected);
      else {
        batch.push(p.value);
        if (p.modelInput) inputs.set(p.value.sample.id, p.modelInput);
      }
    }
    let result;
    try {
      result = await insertSamples(db, batch, {
        mergeDuplicateLabels: options.mergeDuplicateLabels ?? false,
        dropMissingLabels: options.dropMissingLabels ?? false,
      });
    } catch (error) {
      // The chunk's transaction rolled back as a whole: nothing half-written, earlier chunks kept.
      report.error = describeStorageError(error);
      report.rejected.push(
        ...batch.map(({ sample }) => ({ name: sample.name, reason: report.error ?? '' })),
      );
      report.cancelled = true;
      break;
    }
    report.added.push(...result.inserted);
    report.duplicates.push(...result.duplicates.map((d) => d.name));
    if (result.droppedLabels.length > 0)
      report.droppedLabels = addDropped(report.droppedLabels ?? [], result.droppedLabels);
    done += chunk.length;
    const target = options.modelInput;
    if (target && options.onPrepared && inputs.size > 0) {
      // Only the samples this chunk stored: a duplicate's input is dropped with it.
      const handed: PreparedInput[] = [];
      for (const { id } of result.inserted) {
        const input = inputs.get(id);
        if (input) handed.push({ sampleId: id, ...target, pixels: pixelsOf(input) });
      }
      if (handed.length > 0) options.onPrepared(handed);
    }
    const changed = [...result.inserted, ...result.relabelled];
    if (changed.length > 0) options.onChunk?.(changed);
    emit();
  }
  report.elapsedMs = now() - started;
  return report;
}

/** Dropped-label counts of one more chunk added to those of the chunks before. */
function addDropped(total: DroppedLabel[], more: readonly DroppedLabel[]): DroppedLabel[] {
  const byId = new Map(total.map((d) => [d.labelId, { ...d }]));
  for (const d of more) {
    const entry = byId.get(d.labelId) ?? { labelId: d.labelId, count: 0, unlabelled: 0 };
    entry.count += d.count;
    entry.unlabelled += d.unlabelled;
    byId.set(d.labelId, entry);
  }
  return [...byId.values()];
}

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

/**
 * One sentence per label deleted while images were being stored into it, e.g. "“roses” was
 * deleted during the import: 12 images were added as unlabelled." (`nameOf` knows the names the
 * page showed; the label record itself is gone).
 */
export function describeDroppedLabels(
  dropped: readonly DroppedLabel[],
  nameOf: (labelId: string) => string | undefined,
  during: 'import' | 'capture',
): string[] {
  return dropped.map((d) => {
    const name = nameOf(d.labelId);
    const label = name === undefined ? 'A label' : `“${name}”`;
    const how = d.unlabelled === d.count ? 'as unlabelled' : 'without it';
    const verb = d.count === 1 ? 'was' : 'were';
    return `${label} was deleted during the ${during}: ${plural(d.count, 'image', 'images')} ${verb} added ${how}.`;
  });
}

/** One sentence per outcome, e.g. "Added 40 images. 3 duplicates skipped. 2 files rejected." */
export function summariseImport(
  report: ImportReport,
  nameOf: (labelId: string) => string | undefined = () => undefined,
): string {
  const parts: string[] = [];
  parts.push(`Added ${plural(report.added.length, 'image', 'images')}.`);
  if (report.duplicates.length > 0) {
    parts.push(`${plural(report.duplicates.length, 'duplicate', 'duplicates')} skipped.`);
  }
  if (report.rejected.length > 0) {
    parts.push(`${plural(report.rejected.length, 'file', 'files')} rejected.`);
  }
  parts.push(...describeDroppedLabels(report.droppedLabels ?? [], nameOf, 'import'));
  if (report.error) parts.push(`Import stopped: ${report.error}`);
  else if (report.cancelled)
    parts.push('Import cancelled; everything added before stopping was kept.');
  return parts.join(' ');
}
