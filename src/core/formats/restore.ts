/**
 * The one door for reading `.loupe` project archives. `readProjectArchive` vets the zip (see
 * zipReader.ts), reads its entries (entryReader.ts), parses every JSON entry defensively,
 * migrates older format versions (migrations.ts), validates every record (fields.ts), reference,
 * checksum, tensor and saved model (restoreModels.ts), and returns the whole project in memory
 * under the archive's ids. Reading only: it never opens a database. Writing the result is
 * storage's job (`writeRestoredProject` in core/storage/restoreProject.ts, under new ids and in
 * one transaction). Unknown fields on records and unknown top-level fields of each JSON document
 * are kept.
 *
 * Decisions: files the archive does not reference are ignored (never inflated) with a warning, so
 * archives re-zipped by an OS (`__MACOSX/`, `.DS_Store`) still open; label and project names over
 * `maxNameLength` are rejected; `<` and `>` in them are replaced by `‹` and `›` with a warning
 * (names are never markup; this keeps a project whose label was named "<3" importable).
 */
import { isProjectKind } from '../kinds';
import { isPlainObject } from '../objects';
import { sameName } from '../storage/projects';
import type { ProjectContents } from '../storage/restoreProject';
import type {
  EmbeddingRecord,
  LabelRecord,
  ProjectKind,
  ProjectRecord,
  ProjectSettings,
  SampleRecord,
  SampleSource,
  ThumbnailRecord,
} from '../storage/schema';
import { collectBinaryPaths, decodeBinaryJson } from './binaryJson';
import {
  EntryReader,
  type ArchivedSample,
  type ArchivedThumbnail,
  type EmbeddingSet,
  type RestoreProgress,
} from './entryReader';
import { ArchiveError, resolveLimits, throwIfAborted, type ArchiveLimits } from './errors';
import {
  checkName,
  duplicate,
  type Fields,
  fieldsOf,
  MAX_EMBEDDING_DIM,
  ownValue,
  quote,
  type Obj,
} from './fields';
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
import { assertSafeEntryName } from './paths';
import { listedModelPaths, readModels } from './restoreModels';
import { readZipIndex } from './zipReader';
import { readModelFiles } from './archiveModelFiles';

export type { RestoreProgress };

const MAX_SAMPLE_NAME = 1024;

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

/** Loads and vets the archive; the returned project is ready for `writeRestoredProject`. */
export async function readProjectArchive(
  file: Blob,
  options: ReadArchiveOptions = {},
): Promise<RestoredProject> {
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

  // 2. The JSON documents, then migration to the current version.
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
  for (const path of listedModelPaths(raw.models))
    raw.modelDocuments.set(path, await required(path));
  const { documents, applied } = migrateArchive(raw, version);

  // 3. Binary blobs of every document, then decoding.
  const blobPaths = [
    ...collectBinaryPaths(documents.project),
    ...collectBinaryPaths(documents.samples),
    ...(documents.embeddings ? collectBinaryPaths(documents.embeddings) : []),
    ...[...documents.modelDocuments.values()].flatMap((doc) => collectBinaryPaths(doc)),
  ];
  const binaries = new Map<string, Uint8Array>();
  for (const path of blobPaths) {
    assertSafeEntryName(path);
    if (!binaries.has(path)) binaries.set(path, await reader.bytes(path, limits.maxEntryBytes));
  }
  const resolve = (path: string): Uint8Array | undefined => binaries.get(path);
  const decode = (json: JsonValue, path: string, requireFinite = false): unknown =>
    decodeBinaryJson(json, resolve, { documentPath: path, requireFinite });

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
  const { models, listed: modelCount } = readModels(
    modelsDoc,
    documents.modelDocuments,
    decode,
    project.id,
    warnings,
  );

  const modelFiles = await readModelFiles(reader, project, limits, warnings);

  const counts = ownValue(manifest.obj, 'counts');
  if (isPlainObject(counts)) {
    const actual: Record<string, number> = {
      labels: labels.length,
      samples: samples.length,
      thumbnails: samples.filter((s) => s.thumbnail).length,
      embeddings: embeddingSets.reduce((n, e) => n + e.records.length, 0),
      models: modelCount,
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
  const referenced = new Set<string>([MANIFEST_PATH, PROJECT_PATH, SAMPLES_PATH, ...blobPaths]);
  if (documents.embeddings) referenced.add(EMBEDDINGS_INDEX_PATH);
  if (documents.models) referenced.add(MODELS_INDEX_PATH);
  for (const path of documents.modelDocuments.keys()) referenced.add(path);
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

  // 6. Images (checksums), thumbnails, embedding matrices.
  reader.expect(samples.length + samples.filter((s) => s.thumbnail).length + embeddingSets.length);
  const sampleRecords: SampleRecord[] = [];
  const thumbnails: ThumbnailRecord[] = [];
  for (const s of samples) {
    throwIfAborted(signal);
    sampleRecords.push(await reader.image(s, warnings));
    if (s.thumbnail) thumbnails.push(await reader.thumbnail(s.record.id, project.id, s.thumbnail));
  }
  const embeddings: EmbeddingRecord[] = [];
  for (const set of embeddingSets) {
    throwIfAborted(signal);
    embeddings.push(...(await reader.embeddings(set, project.id)));
  }

  const restExtras = (doc: Fields | null, ...known: string[]): Obj =>
    doc ? doc.rest(...known) : {};
  return {
    formatVersion: version,
    migrations: applied,
    source,
    createdAt,
    project,
    labels,
    samples: sampleRecords,
    thumbnails,
    embeddings,
    models,
    ...(modelFiles.records.length > 0 ? { backboneFiles: modelFiles.records } : {}),
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

function readProject(
  doc: Fields,
  limits: ArchiveLimits,
  warnings: string[],
): { project: ProjectRecord; labels: LabelRecord[] } {
  const p = fieldsOf(doc.object('project'), PROJECT_PATH, 'project');
  const kind = p.string('kind', 50);
  if (!isProjectKind(kind)) {
    throw p.invalid(`has kind ${quote(kind)}, which this Loupe does not know`);
  }
  const settingsFields = fieldsOf(p.object('settings'), PROJECT_PATH, 'project.settings');
  const settings: ProjectSettings = {
    ...settingsFields.obj,
    aspectMode: settingsFields.string('aspectMode', 50) as ProjectSettings['aspectMode'],
    backboneId: settingsFields.string('backboneId', 500),
  };
  const project: ProjectRecord = {
    ...p.rest(),
    id: p.id('id'),
    name: checkName(
      p.string('name', Number.MAX_SAFE_INTEGER),
      'project',
      limits,
      warnings,
      PROJECT_PATH,
    ),
    kind: kind as ProjectKind,
    createdAt: p.number('createdAt'),
    updatedAt: p.number('updatedAt'),
    settings,
  };
  const labels: LabelRecord[] = [];
  const ids = new Set<string>();
  doc.array('labels').forEach((value, i) => {
    const l = fieldsOf(value, PROJECT_PATH, `labels[${i}]`);
    const id = l.id('id');
    if (ids.has(id)) throw duplicate(PROJECT_PATH, 'labels', id);
    ids.add(id);
    const name = checkName(
      l.string('name', Number.MAX_SAFE_INTEGER),
      'label',
      limits,
      warnings,
      PROJECT_PATH,
    );
    const clash = labels.find((other) => sameName(other.name, name));
    if (clash) {
      throw new ArchiveError(
        'bad-label',
        `${PROJECT_PATH}: two labels are both named ${quote(name)}.`,
        PROJECT_PATH,
      );
    }
    labels.push({
      ...l.rest(),
      id,
      projectId: project.id,
      name,
      order: l.number('order'),
      createdAt: l.number('createdAt'),
    });
  });
  return { project, labels };
}

function readSamples(doc: Fields, project: ProjectRecord, labelIds: Set<string>): ArchivedSample[] {
  const ids = new Set<string>();
  return doc.array('samples').map((value, i): ArchivedSample => {
    const s = fieldsOf(value, SAMPLES_PATH, `samples[${i}]`);
    const id = s.id('id');
    if (ids.has(id)) throw duplicate(SAMPLES_PATH, 'samples', id);
    ids.add(id);
    const labels = s.array('labelIds').map((l) => {
      if (typeof l !== 'string') throw s.invalid('has a label id that is not text');
      if (!labelIds.has(l)) {
        throw new ArchiveError(
          'unknown-reference',
          `${SAMPLES_PATH}: image ${quote(id)} has label ${quote(l)}, which project.json does not define.`,
          SAMPLES_PATH,
        );
      }
      return l;
    });
    const unique = [...new Set(labels)];
    if (project.kind === 'single-label' && unique.length > 1) {
      throw s.invalid('has several labels in a single-label project');
    }
    const sha256 = s.string('sha256', 64);
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw s.invalid('has a malformed "sha256"');
    const record: Omit<SampleRecord, 'blob'> = {
      ...s.rest('image', 'thumbnail'),
      id,
      projectId: project.id,
      labelIds: unique,
      name: s.string('name', MAX_SAMPLE_NAME),
      mime: s.string('mime', 100),
      byteSize: s.count('byteSize'),
      width: s.count('width'),
      height: s.count('height'),
      sha256,
      createdAt: s.number('createdAt'),
      source: s.string('source', 50) as SampleSource,
    };
    if (s.has('relativePath')) record.relativePath = s.string('relativePath');
    const thumbValue = ownValue(s.obj, 'thumbnail');
    let thumbnail: ArchivedThumbnail | null = null;
    if (thumbValue !== undefined && thumbValue !== null) {
      const t = fieldsOf(thumbValue, SAMPLES_PATH, `samples[${i}].thumbnail`);
      thumbnail = {
        path: t.path('path'),
        width: t.count('width'),
        height: t.count('height'),
        extra: t.rest('path', 'mime', 'width', 'height'),
      };
    }
    return { record, image: s.path('image'), thumbnail };
  });
}

function readEmbeddingIndex(doc: Fields, sampleIds: Set<string>): EmbeddingSet[] {
  const keys = new Set<string>();
  const paths = new Set<string>();
  return doc.array('embeddings').map((value, i): EmbeddingSet => {
    const e = fieldsOf(value, EMBEDDINGS_INDEX_PATH, `embeddings[${i}]`);
    const key = e.string('key', 500);
    if (keys.has(key)) throw duplicate(EMBEDDINGS_INDEX_PATH, 'embedding sets', key);
    keys.add(key);
    const path = e.path('path');
    if (paths.has(path)) throw e.invalid(`shares its file ${path} with another set`);
    paths.add(path);
    const dtype = ownValue(e.obj, 'dtype');
    if (dtype !== 'float32') {
      throw new ArchiveError(
        'bad-tensor',
        `${EMBEDDINGS_INDEX_PATH}: embeddings ${quote(key)} have dtype ${quote(dtype ?? null)}; only float32 is accepted.`,
        EMBEDDINGS_INDEX_PATH,
      );
    }
    const dim = ownValue(e.obj, 'dim');
    if (
      typeof dim !== 'number' ||
      !Number.isSafeInteger(dim) ||
      dim < 1 ||
      dim > MAX_EMBEDDING_DIM
    ) {
      throw new ArchiveError(
        'bad-tensor',
        `${EMBEDDINGS_INDEX_PATH}: embeddings ${quote(key)} have dimension ${quote(dim ?? null)}.`,
        EMBEDDINGS_INDEX_PATH,
      );
    }
    const count = e.count('count');
    const list = e.array('records');
    if (list.length !== count) {
      throw new ArchiveError(
        'bad-tensor',
        `${EMBEDDINGS_INDEX_PATH}: embeddings ${quote(key)} declare ${count} vectors but list ${list.length}.`,
        EMBEDDINGS_INDEX_PATH,
      );
    }
    const seen = new Set<string>();
    const records = list.map((item, k) => {
      const r = fieldsOf(item, EMBEDDINGS_INDEX_PATH, `embeddings[${i}].records[${k}]`);
      const sampleId = r.id('sampleId');
      if (!sampleIds.has(sampleId)) {
        throw new ArchiveError(
          'unknown-reference',
          `${EMBEDDINGS_INDEX_PATH}: an embedding belongs to image ${quote(sampleId)}, which samples.json does not list.`,
          EMBEDDINGS_INDEX_PATH,
        );
      }
      if (seen.has(sampleId))
        throw duplicate(EMBEDDINGS_INDEX_PATH, `embeddings under ${quote(key)}`, sampleId);
      seen.add(sampleId);
      return { sampleId, createdAt: r.number('createdAt'), extra: r.rest('sampleId', 'createdAt') };
    });
    return { key, path, dim, records };
  });
}
