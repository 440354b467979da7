/**
 * Reading the entries of one vetted archive zip (see zipReader.ts) with progress, cancellation
 * and per-kind size limits: JSON documents, raw blobs, and the checks that bind an entry to its
 * record (image bytes against size and SHA-256, thumbnails and embedding matrices against their
 * declared shape). Returns records under the archive's ids; touches no storage. `cost` says
 * what reading an entry holds in memory at once (see restoreStream.ts).
 */
import { checkFile, sha256Hex, sniffImage } from '../imageio';
import type { EmbeddingRecord, SampleRecord, ThumbnailRecord } from '../storage/schema';
import { ArchiveError, throwIfAborted, type ArchiveLimits } from './errors';
import type { Obj } from './fields';
import { parseJsonEntry, type JsonValue } from './json';
import { readEntry, type ZipIndex, type ZipSource } from './zipReader';

const MAX_THUMBNAIL_BYTES = 8 * 1024 * 1024;

export interface RestoreProgress {
  /** Archive entries read so far. */
  done: number;
  total: number;
}

export interface EntryReaderOptions {
  onProgress?: (progress: RestoreProgress) => void;
  signal?: AbortSignal;
}

export interface ArchivedThumbnail {
  path: string;
  width: number;
  height: number;
  extra: Obj;
}

export interface ArchivedSample {
  /** The record without its blob yet. */
  record: Omit<SampleRecord, 'blob'>;
  image: string;
  thumbnail: ArchivedThumbnail | null;
}

/** One `embeddings/index.json` entry: the records of one float32 matrix file. */
export interface EmbeddingSet {
  key: string;
  path: string;
  dim: number;
  records: { sampleId: string; createdAt: number; extra: Obj }[];
}

/** Reads entries of one archive with progress, cancellation and per-kind size limits. */
export class EntryReader {
  private done = 0;
  private total = 0;

  constructor(
    private readonly file: ZipSource,
    private readonly index: ZipIndex,
    private readonly limits: ArchiveLimits,
    private readonly options: EntryReaderOptions,
  ) {}

  expect(more: number): void {
    this.total += more;
    this.options.onProgress?.({ done: this.done, total: this.total });
  }

  private step(): void {
    this.done++;
    if (this.done > this.total) this.total = this.done;
    this.options.onProgress?.({ done: this.done, total: this.total });
  }

  require(path: string): void {
    if (!this.index.entries.has(path)) {
      throw new ArchiveError(
        'missing-file',
        `The archive is incomplete: ${path} is missing.`,
        path,
      );
    }
  }

  private async read(
    path: string,
    maxBytes: number,
    tooLarge?: () => ArchiveError,
    counted = true,
  ) {
    throwIfAborted(this.options.signal);
    this.require(path);
    const entry = this.index.entries.get(path);
    if (!entry) throw new Error('unreachable');
    const data = await readEntry(this.file, this.index, entry, maxBytes, tooLarge);
    if (counted) this.step();
    return data;
  }

  /**
   * Parsed JSON of `path`, or undefined when the archive lacks it. `counted` false: a look ahead
   * at a document read again later, left out of the progress.
   */
  async json(path: string, counted = true): Promise<JsonValue | undefined> {
    if (!this.index.entries.has(path)) return undefined;
    const max = this.limits.maxJsonBytes;
    const { bytes } = await this.read(
      path,
      max,
      () =>
        new ArchiveError(
          'json-too-large',
          `${path} is over ${max} bytes; JSON entries are limited to that.`,
          path,
        ),
      counted,
    );
    return parseJsonEntry(bytes, path, max);
  }

  async bytes(path: string, maxBytes: number): Promise<Uint8Array<ArrayBuffer>> {
    return (await this.read(path, maxBytes)).bytes;
  }

  async image(s: ArchivedSample, warnings: string[]): Promise<SampleRecord> {
    const { record } = s;
    const data = await this.read(s.image, this.limits.maxEntryBytes);
    const { bytes } = data;
    if (bytes.length !== record.byteSize) {
      throw new ArchiveError(
        'checksum-mismatch',
        `${s.image} is ${bytes.length} bytes but samples.json says ${record.byteSize}: the image was altered or damaged.`,
        s.image,
      );
    }
    if ((await sha256Hex(bytes)) !== record.sha256) {
      throw new ArchiveError(
        'checksum-mismatch',
        `${s.image} does not match its SHA-256 in samples.json: the image was altered or damaged.`,
        s.image,
      );
    }
    const check = checkFile({
      name: record.name,
      size: bytes.length,
      type: record.mime,
      head: bytes,
    });
    if (!check.ok) {
      throw new ArchiveError('bad-image', `${s.image} (${record.name}): ${check.reason}.`, s.image);
    }
    // The Blob's type comes from the bytes, never from JSON (no text/html "images").
    const mime = check.header.mime;
    if (mime !== record.mime) {
      warnings.push(`${record.name} is ${mime}, not ${record.mime} as recorded; using ${mime}.`);
    }
    return { ...record, mime, blob: data.blob(mime) };
  }

  async thumbnail(
    sampleId: string,
    projectId: string,
    t: ArchivedThumbnail,
  ): Promise<ThumbnailRecord> {
    const data = await this.read(t.path, MAX_THUMBNAIL_BYTES);
    const header = sniffImage(data.bytes);
    if (!header) {
      throw new ArchiveError('bad-image', `${t.path} is not an image.`, t.path);
    }
    return {
      ...t.extra,
      sampleId,
      projectId,
      blob: data.blob(header.mime),
      width: t.width,
      height: t.height,
    };
  }

  /**
   * The checked float32 matrix of one embedding set (`records.length` x `dim`, every value
   * finite); `embeddingRecords` cuts it into records.
   */
  async matrix(set: EmbeddingSet): Promise<Float32Array> {
    this.require(set.path);
    const entry = this.index.entries.get(set.path);
    const rowBytes = set.dim * 4;
    const size = entry?.size ?? 0;
    if (size % rowBytes !== 0) {
      throw new ArchiveError(
        'bad-tensor',
        `${set.path} holds ${size} bytes, not a whole number of ${set.dim}-value float32 vectors.`,
        set.path,
      );
    }
    if (size / rowBytes !== set.records.length) {
      throw new ArchiveError(
        'bad-tensor',
        `${set.path} holds ${size / rowBytes} vectors but the index lists ${set.records.length}.`,
        set.path,
      );
    }
    const { bytes } = await this.read(set.path, this.limits.maxEntryBytes);
    const matrix = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    for (let i = 0; i < matrix.length; i++) {
      if (!Number.isFinite(matrix[i])) {
        throw new ArchiveError(
          'non-finite',
          `${set.path} contains ${String(matrix[i])} in vector ${Math.floor(i / set.dim)}; embeddings must be finite.`,
          set.path,
        );
      }
    }
    return matrix;
  }

  /** Declared size of `path` (0 when absent). */
  size(path: string): number {
    return this.index.entries.get(path)?.size ?? 0;
  }

  /** Bytes reading `path` holds at once: its inflated size, plus its compressed bytes if deflated. */
  cost(path: string): number {
    const entry = this.index.entries.get(path);
    if (!entry) return 0;
    return entry.size + (entry.compression === 0 ? 0 : entry.compressedSize);
  }
}

/** Records `from` (inclusive) to `to` (exclusive) of an embedding set, cut from its matrix. */
export function embeddingRecords(
  set: EmbeddingSet,
  matrix: Float32Array,
  projectId: string,
  from: number,
  to: number,
): EmbeddingRecord[] {
  return set.records.slice(from, to).map((r, i) => {
    const k = from + i;
    return {
      ...r.extra,
      sampleId: r.sampleId,
      projectId,
      embeddingKey: set.key,
      // slice: each record owns exactly its vector (a view would store the whole matrix).
      vector: matrix.slice(k * set.dim, (k + 1) * set.dim),
      createdAt: r.createdAt,
    };
  });
}
