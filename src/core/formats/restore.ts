/**
 * The one door for reading `.loupe` project archives, in two steps. `openProjectArchive` vets the
 * zip (see zipReader.ts), parses the JSON documents defensively, migrates older format versions
 * (migrations.ts), validates every record (fields.ts, restoreRecords.ts), reference and the
 * project's model files, and keeps only that metadata; `streamArchiveContents`
 * (restoreStream.ts) then reads the bulk (saved models, images, thumbnails, embeddings) one entry
 * at a time into a sink, so a restore holds one entry and one batch at once, whatever the
 * archive's size (the data worker stages batches in IndexedDB: core/storage/stagedRestore.ts).
 * `readProjectArchive` does both and returns the whole project in memory under the archive's
 * ids, for `writeRestoredProject` (core/storage/restoreProject.ts, one transaction). Reading
 * only: it never opens a database. Unknown fields on records and unknown top-level fields of each
 * JSON document are kept.
 *
 * Decisions: files the archive does not reference are ignored (never inflated) with a warning, so
 * archives re-zipped by an OS (`__MACOSX/`, `.DS_Store`) still open; label and project names over
 * `maxNameLength` are rejected; `<` and `>` in them are replaced by `‹` and `›` with a warning
 * (names are never markup; this keeps a project whose label was named "<3" importable).
 */
import { isPlainObject } from '../objects';
import type { ProjectContents } from '../storage/restoreProject';
import type { BackboneFilesRecord, LabelRecord, ProjectRecord } from '../storage/schema';
import { readModelFiles } from './archiveModelFiles';
import { EntryReader, type RestoreProgress } from './entryReader';
import { ArchiveError, resolveLimits, throwIfAborted, type ArchiveLimits } from './errors';
import { type Fields, fieldsOf, ownValue, quote, type Obj } from './fields';
import { isJsonObject, own, type JsonObject, type JsonValue } from './json';
import {
  ARCHIVE_TYPE,
  EMBEDDINGS_INDEX_PATH,
  MANIFEST_PATH,
  MODELS_INDEX_PATH,
  PROJECT_PATH,
  SAMPLES_PATH,
} from './layout';
import { assertNotNewer, migrateArchive, type ArchiveDocuments } from './migrations';
import { listedModelPaths, readModelIndex, type ModelIndexEntry } from './restoreModels';
import { readEmbeddingIndex, readProject, readSamples } from './restoreRecords';
import {
  binaryPathsOf,
  decodeWithBinaries,
  migrateModelDocument,
  streamArchiveContents,
  type ArchiveBody,
  type ContentBatch,
} from './restoreStream';
import { readZipIndex, type ZipSource } from './zipReader';

export type { RestoreProgress };

export interface ReadArchiveOptions {
  limits?: Partial<ArchiveLimits>;
  onProgress?: (progress: RestoreProgress) => void;
  signal?: AbortSignal;
}

/** Unknown top-level fields of each JSON document, kept as they were (typed arrays decoded). */
export interface ArchiveExtras {
  manifest: JsonObject;
  project: Record<string, unknown>;
  samples: Record<string, unknown>;
  embeddings: Record<string, unknown>;
  models: Record<string, unknown>;
}

/**
 * A validated archive, in memory. Records keep the archive's ids (child records point at
 * `project.id`) and any fields this version does not know.
 */
export interface RestoredProject extends ProjectContents {
  /** Format version the archive was written in (before migration). */
  formatVersion: number;
  /** Migration steps applied, oldest first. */
  migrations: string[];
  /** `manifest.source`, e.g. "loupe@0.1.0". */
  source: string;
  /** `manifest.createdAt` (ms since epoch). */
  createdAt: number;
  extras: ArchiveExtras;
  /** Things the user may want to know (ignored files, renamed labels, ...). */
  warnings: string[];
}

/** An archive vetted up to its bulk: metadata in memory, entries read on demand. */
export interface OpenedArchive extends ArchiveBody {
  /** Format version the archive was written in (before migration). */
  formatVersion: number;
  migrations: string[];
  source: string;
  createdAt: number;
  project: ProjectRecord;
  labels: LabelRecord[];
  /** Models listed in models/index.json (skipped ones included). */
  models: ModelIndexEntry[];
  /** Model files of the project's own backbone (weights as Blobs). */
  backboneFiles: BackboneFilesRecord[];
  extras: ArchiveExtras;
  warnings: string[];
}

/**
 * Vets the archive and reads its metadata (everything but the bulk `streamArchiveContents`
 * reads); throws ArchiveError on the first problem.
 */
export async function openProjectArchive(
  file: ZipSource,
  options: ReadArchiveOptions = {},
): Promise<OpenedArchive> {
  const limits = resolveLimits(options.limits);
  const { signal } = options;
  throwIfAborted(signal);
  const index = await readZipIndex(file, limits);
  const reader = new EntryReader(file, index, limits, options);

  // 1. Manifest: type and version decide everything else.
  const manifestValue = await reader.json(MANIFEST_PATH);
  if (manifestValue === undefined) {
    throw new ArchiveError(
      'missing-file',
      'This zip is not a Loupe project archive: it has no manifest.json.',
      MANIFEST_PATH,
    );
  }
  if (!isJsonObject(manifestValue) || own(manifestValue, 'type') !== ARCHIVE_TYPE) {
    const type = isJsonObject(manifestValue) ? own(manifestValue, 'type') : undefined;
    throw new ArchiveError(
      'wrong-type',
      `This zip is not a Loupe project archive (its manifest says type ${quote(type ?? null)}, ` +
        `not "${ARCHIVE_TYPE}").`,
      MANIFEST_PATH,
    );
  }
  const version = own(manifestValue, 'version');
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) {
    throw new ArchiveError(
      'invalid-record',
      `manifest.json: version ${quote(version ?? null)} is not a format version.`,
      MANIFEST_PATH,
    );
  }
  // Checked before reading anything else: a newer layout would only produce confusing errors.
  assertNotNewer(version);

  // 2. The JSON documents, then migration to the current version. Model documents are read
  // here only for the entries they reference; restoreStream.ts reads them again, one at a time.
  const required = async (path: string): Promise<JsonValue> => {
    const value = await reader.json(path);
    if (value === undefined) {
      throw new ArchiveError(
        'missing-file',
        `The archive is incomplete: ${path} is missing.`,
        path,
      );
    }
    return value;
  };
  const raw: ArchiveDocuments = {
    manifest: manifestValue,
    project: await required(PROJECT_PATH),
    samples: await required(SAMPLES_PATH),
    embeddings: (await reader.json(EMBEDDINGS_INDEX_PATH)) ?? null,
    models: (await reader.json(MODELS_INDEX_PATH)) ?? null,
    modelDocuments: new Map(),
  };
  const { documents, applied } = migrateArchive(raw, version);
  const modelBinaryPaths: string[] = [];
  const modelPaths = listedModelPaths(raw.models);
  for (const path of modelPaths) {
    const read = await reader.json(path, false);
    if (read === undefined) {
      throw new ArchiveError(
        'missing-file',
        `The archive is incomplete: ${path} is missing.`,
        path,
      );
    }
    const doc = migrateModelDocument(path, read, version);
    modelBinaryPaths.push(...binaryPathsOf(doc, reader, limits.maxEntryBytes, path));
  }

  // 3. Binary blobs of the metadata documents (metadata: at most a JSON document's size in all).
  const metadata: JsonValue[] = [documents.project, documents.samples];
  if (documents.embeddings) metadata.push(documents.embeddings);
  const metadataPaths = binaryPathsOf(metadata, reader, limits.maxJsonBytes, SAMPLES_PATH);
  const decode = await decodeWithBinaries(reader, metadataPaths, limits.maxEntryBytes);

  const warnings: string[] = [];
  const manifest = fieldsOf(documents.manifest, MANIFEST_PATH, 'the manifest');
  const source =
    typeof ownValue(manifest.obj, 'source') === 'string' ? manifest.string('source', 200) : '';
  const createdAt = manifest.has('createdAt') ? manifest.number('createdAt') : 0;

  // 4. Records.
  const projectDoc = fieldsOf(
    decode(documents.project, PROJECT_PATH),
    PROJECT_PATH,
    'the document',
  );
  const { project, labels } = readProject(projectDoc, limits, warnings);
  const labelIds = new Set(labels.map((l) => l.id));
  const samplesDoc = fieldsOf(
    decode(documents.samples, SAMPLES_PATH),
    SAMPLES_PATH,
    'the document',
  );
  const samples = readSamples(samplesDoc, project, labelIds);
  const sampleIds = new Set(samples.map((s) => s.record.id));
  const embeddingsDoc = documents.embeddings
    ? fieldsOf(
        decode(documents.embeddings, EMBEDDINGS_INDEX_PATH),
        EMBEDDINGS_INDEX_PATH,
        'the document',
      )
    : null;
  const embeddingSets = embeddingsDoc ? readEmbeddingIndex(embeddingsDoc, sampleIds) : [];
  const modelsDoc = documents.models
    ? fieldsOf(documents.models, MODELS_INDEX_PATH, 'the document')
    : null;
  const models = readModelIndex(modelsDoc);

  const modelFiles = await readModelFiles(reader, project, limits, warnings);

  const counts = ownValue(manifest.obj, 'counts');
  if (isPlainObject(counts)) {
    const actual: Record<string, number> = {
      labels: labels.length,
      samples: samples.length,
      thumbnails: samples.filter((s) => s.thumbnail).length,
      embeddings: embeddingSets.reduce((n, e) => n + e.records.length, 0),
      models: models.length,
    };
    for (const [key, n] of Object.entries(actual)) {
      const declared = ownValue(counts, key);
      if (typeof declared === 'number' && declared !== n) {
        throw new ArchiveError(
          'invalid-record',
          `manifest.json lists ${declared} ${key} but the archive holds ${n}; it is incomplete or was edited.`,
          MANIFEST_PATH,
        );
      }
    }
  }

  // 5. Every referenced file must exist; anything else is ignored with a warning.
  const referenced = new Set<string>([
    MANIFEST_PATH,
    PROJECT_PATH,
    SAMPLES_PATH,
    ...metadataPaths,
    ...modelPaths,
    ...modelBinaryPaths,
  ]);
  if (documents.embeddings) referenced.add(EMBEDDINGS_INDEX_PATH);
  if (documents.models) referenced.add(MODELS_INDEX_PATH);
  for (const s of samples) {
    referenced.add(s.image);
    if (s.thumbnail) referenced.add(s.thumbnail.path);
  }
  for (const e of embeddingSets) referenced.add(e.path);
  for (const path of modelFiles.paths) referenced.add(path);
  for (const path of referenced) reader.require(path);
  const extra = [...index.entries.keys()].filter((name) => !referenced.has(name));
  if (extra.length > 0) {
    const shown = extra.slice(0, 5).join(', ');
    warnings.push(
      `Ignored ${extra.length} unexpected file${extra.length === 1 ? '' : 's'} in the archive: ` +
        `${shown}${extra.length > 5 ? ', ...' : ''}.`,
    );
  }

  const restExtras = (doc: Fields | null, ...known: string[]): Obj =>
    doc ? doc.rest(...known) : {};
  return {
    reader,
    limits,
    formatVersion: version,
    migrations: applied,
    source,
    createdAt,
    projectId: project.id,
    project,
    labels,
    samples,
    embeddingSets,
    models,
    modelBinaryEntries: new Set(modelBinaryPaths).size,
    backboneFiles: modelFiles.records,
    extras: {
      manifest: Object.fromEntries(
        Object.entries(documents.manifest).filter(
          ([key]) => !['type', 'version', 'source', 'createdAt', 'counts'].includes(key),
        ),
      ),
      project: projectDoc.rest('project', 'labels'),
      samples: samplesDoc.rest('samples'),
      embeddings: restExtras(embeddingsDoc, 'embeddings'),
      models: restExtras(modelsDoc, 'models'),
    },
    warnings,
  };
}

/** Loads and vets the whole archive; the returned project is ready for `writeRestoredProject`. */
export async function readProjectArchive(
  file: Blob,
  options: ReadArchiveOptions = {},
): Promise<RestoredProject> {
  const opened = await openProjectArchive(file, options);
  const contents: ContentBatch = { models: [], samples: [], thumbnails: [], embeddings: [] };
  const signal = options.signal ? { signal: options.signal } : {};
  await streamArchiveContents(
    opened,
    (batch) => {
      contents.models.push(...batch.models);
      contents.samples.push(...batch.samples);
      contents.thumbnails.push(...batch.thumbnails);
      contents.embeddings.push(...batch.embeddings);
      return Promise.resolve();
    },
    opened.warnings,
    signal,
  );
  return {
    formatVersion: opened.formatVersion,
    migrations: opened.migrations,
    source: opened.source,
    createdAt: opened.createdAt,
    project: opened.project,
    labels: opened.labels,
    ...contents,
    ...(opened.backboneFiles.length > 0 ? { backboneFiles: opened.backboneFiles } : {}),
    extras: opened.extras,
    warnings: opened.warnings,
  };
}
