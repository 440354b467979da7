/**
 * The bulk of a project archive, streamed: saved models (one document and its tensors at a time),
 * images with their thumbnails, then embedding matrices, each read and checked (entryReader.ts,
 * restoreModels.ts) and handed to a sink in batches of bounded size. What a restore holds at once
 * is the entry being read plus one batch, whatever the archive's total size; `onHeld` reports
 * that figure whenever it changes. Records keep the archive's ids; touches no storage.
 */
import type {
  EmbeddingRecord,
  ModelRecord,
  SampleRecord,
  ThumbnailRecord,
} from '../storage/schema';
import { collectBinaryPaths, decodeBinaryJson } from './binaryJson';
import {
  embeddingRecords,
  type ArchivedSample,
  type EmbeddingSet,
  type EntryReader,
} from './entryReader';
import { ArchiveError, throwIfAborted, type ArchiveLimits } from './errors';
import type { JsonValue } from './json';
import { migrateArchive } from './migrations';
import { assertSafeEntryName } from './paths';
import { readModelDocument, type ModelIndexEntry } from './restoreModels';

/** Records read from the archive, ready for a sink. */
export interface ContentBatch {
  models: ModelRecord[];
  samples: SampleRecord[];
  thumbnails: ThumbnailRecord[];
  embeddings: EmbeddingRecord[];
}

/** Takes one batch (e.g. writes it); the batch is let go once this resolves. */
export type ContentSink = (batch: ContentBatch) => Promise<void>;

export interface StreamOptions {
  signal?: AbortSignal;
  /** Bytes of records gathered before the sink is called (default 16 MiB). */
  batchBytes?: number;
  /** The bytes the restore holds (the entry being read plus the batch), on every change. */
  onHeld?: (bytes: number) => void;
}

/** What streaming needs of an opened archive (see `openProjectArchive` in restore.ts). */
export interface ArchiveBody {
  reader: EntryReader;
  limits: ArchiveLimits;
  formatVersion: number;
  projectId: string;
  models: readonly ModelIndexEntry[];
  /** Binary entries the model documents reference (for the progress total). */
  modelBinaryEntries: number;
  samples: readonly ArchivedSample[];
  embeddingSets: readonly EmbeddingSet[];
}

export const DEFAULT_BATCH_BYTES = 16 * 1024 * 1024;
/** Records per batch at most (many tiny records still make one reasonable transaction). */
const BATCH_RECORDS = 4096;

const emptyBatch = (): ContentBatch => ({
  models: [],
  samples: [],
  thumbnails: [],
  embeddings: [],
});

/** Gathers records into batches under a byte budget and accounts for what is held. */
class Batcher {
  private batch = emptyBatch();
  private records = 0;
  private batchBytes = 0;
  private entryBytes = 0;

  constructor(
    private readonly sink: ContentSink,
    private readonly limit: number,
    private readonly onHeld: ((bytes: number) => void) | undefined,
  ) {}

  private report(): void {
    this.onHeld?.(this.batchBytes + this.entryBytes);
  }

  /** The entry now being read holds `bytes` (0 once its records are in the batch). */
  reading(bytes: number): void {
    this.entryBytes = bytes;
    this.report();
  }

  async add<K extends keyof ContentBatch>(
    kind: K,
    record: ContentBatch[K][number],
    bytes: number,
  ): Promise<void> {
    (this.batch[kind] as ContentBatch[K][number][]).push(record);
    this.records++;
    this.batchBytes += bytes;
    this.report();
    if (this.batchBytes >= this.limit || this.records >= BATCH_RECORDS) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.records === 0) return;
    await this.sink(this.batch);
    this.batch = emptyBatch();
    this.records = 0;
    this.batchBytes = 0;
    this.report();
  }
}

/**
 * One model document brought to the current format version on its own (the migration table's
 * steps read each document by itself; the other documents are left out here).
 */
export function migrateModelDocument(path: string, json: JsonValue, version: number): JsonValue {
  const { documents } = migrateArchive(
    {
      manifest: {},
      project: null,
      samples: null,
      embeddings: null,
      models: null,
      modelDocuments: new Map([[path, json]]),
    },
    version,
  );
  return documents.modelDocuments.get(path) ?? json;
}

/**
 * The binary entries a document references, checked to exist and to stay under `max` bytes
 * together (what decoding the document holds at once).
 */
export function binaryPathsOf(
  json: JsonValue,
  reader: EntryReader,
  max: number,
  documentPath: string,
): string[] {
  const paths = [...new Set(collectBinaryPaths(json))];
  let total = 0;
  for (const path of paths) {
    assertSafeEntryName(path);
    reader.require(path);
    total += reader.size(path);
  }
  if (total > max) {
    throw new ArchiveError(
      'too-large',
      `${documentPath} references ${total} bytes of binary data; one document may reference at most ${max}.`,
      documentPath,
    );
  }
  return paths;
}

/** Decodes `json` with the binary entries it references (read now, let go after). */
export async function decodeWithBinaries(
  reader: EntryReader,
  paths: readonly string[],
  maxEntryBytes: number,
): Promise<(json: JsonValue, path: string, requireFinite?: boolean) => unknown> {
  const binaries = new Map<string, Uint8Array>();
  for (const path of paths) binaries.set(path, await reader.bytes(path, maxEntryBytes));
  return (json, path, requireFinite = false) =>
    decodeBinaryJson(json, (p) => binaries.get(p), { documentPath: path, requireFinite });
}

/**
 * Reads models, then images and thumbnails, then embeddings, one entry at a time, and hands them
 * to `sink` in batches; `warnings` collects what the user may want to know (skipped models,
 * image types that differ from samples.json). Resolves with the number of models kept.
 */
export async function streamArchiveContents(
  body: ArchiveBody,
  sink: ContentSink,
  warnings: string[],
  options: StreamOptions = {},
): Promise<{ models: number }> {
  const { reader, limits, projectId, signal } = { ...body, ...options };
  const batches = new Batcher(sink, options.batchBytes ?? DEFAULT_BATCH_BYTES, options.onHeld);
  reader.expect(
    body.models.length +
      body.modelBinaryEntries +
      body.samples.length +
      body.samples.filter((s) => s.thumbnail).length +
      body.embeddingSets.length,
  );

  let models = 0;
  for (const entry of body.models) {
    throwIfAborted(signal);
    batches.reading(reader.cost(entry.path));
    const read = await reader.json(entry.path);
    if (read === undefined) {
      throw new ArchiveError(
        'missing-file',
        `The archive is incomplete: ${entry.path} is missing.`,
        entry.path,
      );
    }
    const json = migrateModelDocument(entry.path, read, body.formatVersion);
    const paths = binaryPathsOf(json, reader, limits.maxEntryBytes, entry.path);
    const binaryBytes = paths.reduce((n, p) => n + reader.cost(p), 0);
    batches.reading(reader.cost(entry.path) + binaryBytes);
    const decode = await decodeWithBinaries(reader, paths, limits.maxEntryBytes);
    const model = readModelDocument(entry, json, decode, projectId, warnings);
    batches.reading(0);
    if (model) {
      models++;
      await batches.add('models', model, reader.size(entry.path) + binaryBytes);
    }
  }

  for (const s of body.samples) {
    throwIfAborted(signal);
    batches.reading(reader.cost(s.image));
    const sample = await reader.image(s, warnings);
    batches.reading(0);
    await batches.add('samples', sample, sample.blob.size);
    if (s.thumbnail) {
      batches.reading(reader.cost(s.thumbnail.path));
      const thumbnail = await reader.thumbnail(s.record.id, projectId, s.thumbnail);
      batches.reading(0);
      await batches.add('thumbnails', thumbnail, thumbnail.blob.size);
    }
  }

  for (const set of body.embeddingSets) {
    throwIfAborted(signal);
    batches.reading(reader.cost(set.path));
    const matrix = await reader.matrix(set);
    for (let k = 0; k < set.records.length; k++) {
      const [record] = embeddingRecords(set, matrix, projectId, k, k + 1);
      if (record) await batches.add('embeddings', record, record.vector.byteLength);
    }
    batches.reading(0);
  }
  await batches.flush();
  return { models };
}
