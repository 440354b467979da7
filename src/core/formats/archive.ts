/**
 * Project archive export: one project -> one `.loupe` zip, streamed with fflate and lossless
 * (every image byte, label assignment, thumbnail, cached embedding and model weight). Reading
 * archives back is restore.ts's job alone.
 *
 * Layout (format version 1; every JSON file is a binaryJson document, see binaryJson.ts):
 *   manifest.json          {type: "loupe-project", version: 1, source: "loupe@<app version>",
 *                           createdAt (ms), counts: {labels, samples, thumbnails, embeddings, models}}
 *   project.json           {project: {id, name, kind, createdAt, updatedAt, settings, ...},
 *                           labels: [{id, name, order, createdAt, ...}]}   (splits live in settings)
 *   samples.json           {samples: [{id, labelIds, name, mime, byteSize, width, height, sha256,
 *                           createdAt, source, relativePath?, ..., image: "images/<id>.<ext>",
 *                           thumbnail: {path, mime, width, height} | null}]}
 *   images/<id>.<ext>      original bytes, stored (not re-compressed)
 *   thumbnails/<id>.<ext>  thumbnail bytes (WebP or JPEG), stored
 *   embeddings/index.json  {embeddings: [{key, path, dtype: "float32", dim, count,
 *                           records: [{sampleId, createdAt, ...}]}]}
 *   embeddings/<key>.f32   count x dim little-endian float32, rows in `records` order (which is
 *                           samples.json order), deflated
 *   models/index.json      {models: [{id, path}]}
 *   models/<id>.json       the model record {id, createdAt, headType, payload, ...}; typed arrays
 *                           replaced by {"$binary": "models/<id>/<n>.bin", dtype, length}
 *   models/<id>/<n>.bin    those arrays' bytes, deflated
 *   model-files/...        the project's own backbone picked as files, when it has one
 *                           (archiveModelFiles.ts)
 * Fields a record carries beyond these are written as they are (forward compatibility); the
 * `projectId` of child records is implied and left out.
 */
import type { LoupeDatabase } from '../storage/db';
import { referencedFileKeys } from '../storage/backboneFiles';
import { planModelFiles, writeModelFiles } from './archiveModelFiles';
import type {
  BackboneFilesRecord,
  LabelRecord,
  ModelRecord,
  ProjectRecord,
  SampleRecord,
  ThumbnailRecord,
} from '../storage/schema';
import { encodeBinaryJson, type BinaryBlob } from './binaryJson';
import { assertArchiveFits, CheckedZipWriter, type ArchiveEntryPlan } from './archiveFits';
import { ArchiveError, resolveLimits, throwIfAborted, type ArchiveLimits } from './errors';
import { jsonBytes, type JsonObject, type JsonValue } from './json';
import {
  ARCHIVE_MIME,
  ARCHIVE_TYPE,
  ARCHIVE_VERSION,
  EMBEDDINGS_BLOB_PREFIX,
  EMBEDDINGS_INDEX_PATH,
  EntryNames,
  LOUPE_VERSION,
  MANIFEST_PATH,
  MODELS_INDEX_PATH,
  PROJECT_BLOB_PREFIX,
  PROJECT_PATH,
  SAMPLES_BLOB_PREFIX,
  SAMPLES_PATH,
} from './layout';
import { extensionForMime, splitExtension } from './paths';
import type { BlobZipWriter, Zip64Threshold } from './zipWriter';

export interface ArchiveProgress {
  /** Entries written so far. */
  done: number;
  /** Entries to write in all. */
  total: number;
}

export interface ExportArchiveOptions {
  onProgress?: (progress: ArchiveProgress) => void;
  signal?: AbortSignal;
  /** `manifest.source`; defaults to "loupe@<package version>". */
  source?: string;
  /** Clock for `manifest.createdAt` and zip entry times (tests). */
  now?: () => number;
  /** The import limits the archive must meet (defaults: the reader's). */
  limits?: Partial<ArchiveLimits>;
  /** Tests only: write ZIP64 records past this size / count instead of 4 GiB / 65,535. */
  zip64Threshold?: Zip64Threshold;
}

export interface ArchiveCounts {
  labels: number;
  samples: number;
  thumbnails: number;
  embeddings: number;
  models: number;
}

interface Snapshot {
  project: ProjectRecord;
  labels: LabelRecord[];
  samples: SampleRecord[];
  thumbnails: Map<string, ThumbnailRecord>;
  models: ModelRecord[];
  /** Embedding keys with the sample ids that have a vector under each. */
  embeddingKeys: Map<string, Set<string>>;
  /** The model files of the project's own backbone (picked as files), if any. */
  modelFiles: BackboneFilesRecord[];
}

/** Reads everything but embedding vectors in one read-only transaction: a consistent snapshot. */
async function readSnapshot(db: LoupeDatabase, projectId: string): Promise<Snapshot> {
  const tx = db.transaction(
    ['projects', 'labels', 'samples', 'thumbnails', 'models', 'embeddings', 'backboneFiles'],
    'readonly',
  );
  const [project, labels, samples, thumbnails, models, embeddingKeys] = await Promise.all([
    tx.objectStore('projects').get(projectId),
    tx.objectStore('labels').index('byProject').getAll(projectId),
    tx.objectStore('samples').index('byProject').getAll(projectId),
    tx.objectStore('thumbnails').index('byProject').getAll(projectId),
    tx.objectStore('models').index('byProject').getAll(projectId),
    tx
      .objectStore('embeddings')
      .index('byProjectKey')
      .getAllKeys(IDBKeyRange.bound([projectId, ''], [projectId, '\uffff'])),
  ]);
  const modelFiles = project
    ? await Promise.all(
        referencedFileKeys(project).map((key) => tx.objectStore('backboneFiles').get(key)),
      )
    : [];
  await tx.done;
  if (!project) {
    throw new ArchiveError('not-found', 'That project no longer exists; nothing was exported.');
  }
  const keys = new Map<string, Set<string>>();
  for (const [sampleId, key] of embeddingKeys) {
    let set = keys.get(key);
    if (!set) keys.set(key, (set = new Set()));
    set.add(sampleId);
  }
  return {
    project,
    labels: labels.sort((a, b) => a.order - b.order || a.createdAt - b.createdAt),
    samples: samples.sort((a, b) => a.createdAt - b.createdAt || a.name.localeCompare(b.name)),
    thumbnails: new Map(thumbnails.map((t) => [t.sampleId, t])),
    models: models.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id)),
    embeddingKeys: new Map([...keys].sort(([a], [b]) => a.localeCompare(b))),
    modelFiles: modelFiles.filter((r): r is BackboneFilesRecord => r !== undefined),
  };
}

/**
 * What can be known of the archive before writing it: its entry count (model weights aside) and
 * its largest binary entries (images, embedding matrices), so an archive the reader would refuse
 * is refused before any of it is written. JSON documents are checked as they are written.
 */
async function planArchive(
  db: LoupeDatabase,
  s: Snapshot,
): Promise<{ entries: number; largest: ArchiveEntryPlan[] }> {
  const thumbnails = s.samples.filter((x) => s.thumbnails.has(x.id)).length;
  const largest: ArchiveEntryPlan[] = [];
  const biggestImage = s.samples.reduce<SampleRecord | null>(
    (best, x) => (best && best.blob.size >= x.blob.size ? best : x),
    null,
  );
  if (biggestImage) {
    largest.push({
      path: `images/${biggestImage.name}`,
      bytes: biggestImage.blob.size,
      json: false,
    });
  }
  for (const [key, sampleIds] of s.embeddingKeys) {
    const first = await db.getFromIndex('embeddings', 'byProjectKey', [s.project.id, key]);
    const dim = first?.vector.length ?? 0;
    largest.push({ path: `embeddings (${key})`, bytes: sampleIds.size * dim * 4, json: false });
  }
  const files = planModelFiles(s.modelFiles);
  largest.push(...files.largest);
  const entries =
    3 +
    s.samples.length +
    thumbnails +
    s.embeddingKeys.size +
    2 * s.models.length +
    2 +
    files.entries;
  return { entries, largest };
}

function imageExtension(sample: SampleRecord): string {
  const fromMime = extensionForMime(sample.mime, '');
  if (fromMime) return fromMime;
  const [, ext] = splitExtension(sample.name);
  return /^\.[A-Za-z0-9]{1,8}$/.test(ext) ? ext.slice(1).toLowerCase() : 'bin';
}

/** Encodes a record into JSON; any typed arrays become blobs under `prefix`. */
function encodeDocument(value: unknown, prefix: string): { json: JsonValue; blobs: BinaryBlob[] } {
  return encodeBinaryJson(value, { pathPrefix: prefix });
}

function withoutKeys<T extends object>(record: T, ...keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) if (!keys.includes(key)) out[key] = value;
  return out;
}

/**
 * Writes the project as a `.loupe` archive (a zip) and returns it as a Blob. Throws
 * ArchiveError('not-found') when the project is gone; rejects with the signal's reason when
 * cancelled. Progress counts zip entries.
 */
export async function exportProjectArchive(
  db: LoupeDatabase,
  projectId: string,
  options: ExportArchiveOptions = {},
): Promise<Blob> {
  throwIfAborted(options.signal);
  const snapshot = await readSnapshot(db, projectId);
  const limits = resolveLimits(options.limits);
  assertArchiveFits(await planArchive(db, snapshot), limits);
  const createdAt = options.now?.() ?? Date.now();
  const writer = new CheckedZipWriter(
    createdAt,
    limits,
    options.zip64Threshold ? { zip64Threshold: options.zip64Threshold } : {},
  );
  try {
    return await writeArchive(db, snapshot, writer, createdAt, options);
  } catch (error) {
    writer.abort();
    throw error;
  }
}

async function writeArchive(
  db: LoupeDatabase,
  s: Snapshot,
  writer: BlobZipWriter,
  createdAt: number,
  options: ExportArchiveOptions,
): Promise<Blob> {
  const { signal, onProgress } = options;
  const thumbnailCount = s.samples.filter((x) => s.thumbnails.has(x.id)).length;
  const total =
    2 +
    s.samples.length +
    thumbnailCount +
    s.embeddingKeys.size +
    s.models.length +
    3 +
    planModelFiles(s.modelFiles).entries;
  let done = 0;
  const step = (): void => {
    done++;
    onProgress?.({ done, total });
  };
  const writeDocument = (path: string, value: unknown, blobPrefix: string): void => {
    const { json, blobs } = encodeDocument(value, blobPrefix);
    for (const blob of blobs) writer.addDeflated(blob.path, blob.bytes, 1);
    writer.addDeflated(path, jsonBytes(json));
  };
  onProgress?.({ done, total });

  writeDocument(
    PROJECT_PATH,
    { project: s.project, labels: s.labels.map((l) => withoutKeys(l, 'projectId')) },
    PROJECT_BLOB_PREFIX,
  );
  step();

  // samples.json, naming each image's and thumbnail's entry.
  const images = new EntryNames('images/');
  const thumbs = new EntryNames('thumbnails/');
  const imagePaths = new Map<string, string>();
  const thumbPaths = new Map<string, string>();
  const sampleDocs = s.samples.map((sample) => {
    const image = images.claim(sample.id, imageExtension(sample));
    imagePaths.set(sample.id, image);
    const thumb = s.thumbnails.get(sample.id);
    let thumbnail: Record<string, unknown> | null = null;
    if (thumb) {
      const mime = thumb.blob.type || 'image/webp';
      const path = thumbs.claim(sample.id, extensionForMime(mime, 'webp'));
      thumbPaths.set(sample.id, path);
      thumbnail = { ...withoutKeys(thumb, 'sampleId', 'projectId', 'blob'), path, mime };
    }
    return { ...withoutKeys(sample, 'projectId', 'blob'), image, thumbnail };
  });
  writeDocument(SAMPLES_PATH, { samples: sampleDocs }, SAMPLES_BLOB_PREFIX);
  step();

  // Original image bytes and thumbnails, one file in memory at a time.
  for (const sample of s.samples) {
    throwIfAborted(signal);
    const imagePath = imagePaths.get(sample.id) as string;
    writer.addStored(imagePath, new Uint8Array(await sample.blob.arrayBuffer()));
    step();
    const thumb = s.thumbnails.get(sample.id);
    const thumbPath = thumbPaths.get(sample.id);
    if (thumb && thumbPath) {
      writer.addStored(thumbPath, new Uint8Array(await thumb.blob.arrayBuffer()));
      step();
    }
  }

  // Embeddings: one float32 matrix per key, rows in samples.json order.
  const order = new Map(s.samples.map((sample, i) => [sample.id, i]));
  const embeddingFiles = new EntryNames('embeddings/');
  embeddingFiles.reserve('index.json');
  const embeddingIndex: Record<string, unknown>[] = [];
  let embeddingCount = 0;
  for (const [key, sampleIds] of s.embeddingKeys) {
    throwIfAborted(signal);
    const records = (await db.getAllFromIndex('embeddings', 'byProjectKey', [s.project.id, key]))
      .filter((r) => sampleIds.has(r.sampleId) && order.has(r.sampleId))
      .sort((a, b) => (order.get(a.sampleId) ?? 0) - (order.get(b.sampleId) ?? 0));
    step();
    const first = records[0];
    if (!first) continue;
    const dim = first.vector.length;
    const mismatch = records.find((r) => r.vector.length !== dim);
    if (mismatch) {
      throw new Error(
        `Embeddings under "${key}" have different lengths (${dim} and ${mismatch.vector.length}); ` +
          'recompute them before exporting.',
      );
    }
    const path = embeddingFiles.claim(key, 'f32');
    writer.addDeflatedParts(
      path,
      records.map((r) => new Uint8Array(r.vector.buffer, r.vector.byteOffset, r.vector.byteLength)),
      1,
    );
    embeddingIndex.push({
      key,
      path,
      dtype: 'float32',
      dim,
      count: records.length,
      records: records.map((r) => withoutKeys(r, 'projectId', 'embeddingKey', 'vector')),
    });
    embeddingCount += records.length;
  }
  writeDocument(EMBEDDINGS_INDEX_PATH, { embeddings: embeddingIndex }, EMBEDDINGS_BLOB_PREFIX);
  step();

  // Models: binaryJson documents with their weights as separate blobs.
  const modelNames = new EntryNames('models/');
  modelNames.reserve('index.json');
  const modelIndex: JsonObject[] = [];
  for (const model of s.models) {
    throwIfAborted(signal);
    const path = modelNames.claim(model.id, 'json');
    writeDocument(path, withoutKeys(model, 'projectId'), `${path.slice(0, -'.json'.length)}/`);
    modelIndex.push({ id: model.id, path });
    step();
  }
  writer.addDeflated(MODELS_INDEX_PATH, jsonBytes({ models: modelIndex }));
  step();

  throwIfAborted(signal);
  await writeModelFiles(writer, s.modelFiles, step);

  const counts: ArchiveCounts = {
    labels: s.labels.length,
    samples: s.samples.length,
    thumbnails: thumbnailCount,
    embeddings: embeddingCount,
    models: s.models.length,
  };
  const manifest: JsonObject = {
    type: ARCHIVE_TYPE,
    version: ARCHIVE_VERSION,
    source: options.source ?? `loupe@${LOUPE_VERSION}`,
    createdAt,
    counts: { ...counts },
  };
  writer.addDeflated(MANIFEST_PATH, jsonBytes(manifest));
  const blob = writer.finish(ARCHIVE_MIME);
  step();
  return blob;
}
