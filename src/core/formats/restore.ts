/**
 * The one door for reading `.loupe` project archives. `readProjectArchive` vets the zip (see
 * zipReader.ts), parses every JSON entry defensively, migrates older format versions
 * (migrations.ts), validates every record, reference, checksum and tensor, and returns the whole
 * project in memory: nothing touches IndexedDB until it all checked out. Unknown fields on records
 * and unknown top-level fields of each JSON document are kept. `importProjectArchive` then writes
 * it in ONE transaction under new ids (as a new project, or replacing one), so a failure leaves
 * every existing project untouched. `findNameConflict` lets the UI ask "rename or replace?".
 *
 * Decisions: files the archive does not reference are ignored (never inflated) with a warning, so
 * archives re-zipped by an OS (`__MACOSX/`, `.DS_Store`) still open; label and project names over
 * `maxNameLength` are rejected; `<` and `>` in them are replaced by `‹` and `›` with a warning
 * (names are never markup; this keeps a project whose label was named "<3" importable).
 */
import { newId } from '../ids';
import { isProjectKind } from '../kinds';
import { checkFile, sha256Hex, sniffImage } from '../imageio';
import type { LoupeDatabase } from '../storage/db';
import { cleanName } from '../storage/projects';
import {
  ALL_STORES,
  type EmbeddingRecord,
  type LabelRecord,
  type ModelRecord,
  type ProjectKind,
  type ProjectRecord,
  type ProjectSettings,
  type SampleRecord,
  type SampleSource,
  type ThumbnailRecord,
} from '../storage/schema';
import { collectBinaryPaths, decodeBinaryJson, typedArrayDtype } from './binaryJson';
import { ArchiveError, resolveLimits, throwIfAborted, type ArchiveLimits } from './errors';
import { isJsonObject, own, parseJsonEntry, type JsonObject, type JsonValue } from './json';
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
import { readEntry, readZipIndex, type ZipIndex } from './zipReader';

export interface RestoreProgress {
  /** Archive entries read so far. */
  done: number;
  total: number;
}

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
export interface RestoredProject {
  /** Format version the archive was written in (before migration). */
  formatVersion: number;
  /** Migration steps applied, oldest first. */
  migrations: string[];
  /** `manifest.source`, e.g. "loupe@0.1.0". */
  source: string;
  /** `manifest.createdAt` (ms since epoch). */
  createdAt: number;
  project: ProjectRecord;
  labels: LabelRecord[];
  samples: SampleRecord[];
  thumbnails: ThumbnailRecord[];
  embeddings: EmbeddingRecord[];
  models: ModelRecord[];
  extras: ArchiveExtras;
  /** Things the user may want to know (ignored files, renamed labels, ...). */
  warnings: string[];
}

const MAX_ID_LENGTH = 200;
const MAX_SAMPLE_NAME = 1024;
const MAX_THUMBNAIL_BYTES = 8 * 1024 * 1024;
const MAX_EMBEDDING_DIM = 1 << 20;

type Obj = Record<string, unknown>;

function isObj(value: unknown): value is Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function ownValue(object: Obj, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Typed field access on one decoded record, with errors that say where. */
class Fields {
  constructor(
    readonly obj: Obj,
    readonly doc: string,
    readonly where: string,
  ) {}

  invalid(message: string): ArchiveError {
    return new ArchiveError('invalid-record', `${this.doc}: ${this.where} ${message}.`, this.doc);
  }

  has(key: string): boolean {
    return Object.hasOwn(this.obj, key);
  }

  string(key: string, max = 4096): string {
    const v = ownValue(this.obj, key);
    if (typeof v !== 'string') throw this.invalid(`needs a text "${key}"`);
    if (v.length > max) throw this.invalid(`has a "${key}" longer than ${max} characters`);
    return v;
  }

  id(key: string): string {
    const v = this.string(key, MAX_ID_LENGTH);
    // eslint-disable-next-line no-control-regex
    if (v.length === 0 || /[\u0000-\u001f\u007f]/.test(v))
      throw this.invalid(`has an invalid "${key}"`);
    return v;
  }

  number(key: string): number {
    const v = ownValue(this.obj, key);
    if (typeof v !== 'number' || !Number.isFinite(v)) throw this.invalid(`needs a number "${key}"`);
    return v;
  }

  count(key: string): number {
    const v = this.number(key);
    if (!Number.isSafeInteger(v) || v < 0) throw this.invalid(`needs a whole number "${key}"`);
    return v;
  }

  array(key: string): unknown[] {
    const v = ownValue(this.obj, key);
    if (!Array.isArray(v)) throw this.invalid(`needs a list "${key}"`);
    return v;
  }

  object(key: string): Obj {
    const v = ownValue(this.obj, key);
    if (!isObj(v)) throw this.invalid(`needs an object "${key}"`);
    return v;
  }

  path(key: string): string {
    const v = this.string(key, 1024);
    assertSafeEntryName(v);
    return v;
  }

  /** Every field except `known`. */
  rest(...known: string[]): Obj {
    const out: Obj = {};
    for (const [key, value] of Object.entries(this.obj)) if (!known.includes(key)) out[key] = value;
    return out;
  }
}

function fieldsOf(value: unknown, doc: string, where: string): Fields {
  if (!isObj(value)) {
    throw new ArchiveError('invalid-record', `${doc}: ${where} must be an object.`, doc);
  }
  return new Fields(value, doc, where);
}

function duplicate(doc: string, what: string, id: string): ArchiveError {
  return new ArchiveError('duplicate-id', `${doc}: two ${what} share the id ${quote(id)}.`, doc);
}

const sameName = (a: string, b: string): boolean =>
  a.localeCompare(b, undefined, { sensitivity: 'accent' }) === 0;

/** Checks a label or project name: too long or empty is an error; markup is neutralised. */
function checkName(
  raw: string,
  what: string,
  limits: ArchiveLimits,
  warnings: string[],
  doc: string,
): string {
  if (raw.length > limits.maxNameLength) {
    throw new ArchiveError(
      'bad-label',
      `${doc}: a ${what} name is ${raw.length} characters long; names are limited to ${limits.maxNameLength}.`,
      doc,
    );
  }
  // eslint-disable-next-line no-control-regex
  let name = raw.replace(/[\u0000-\u001f\u007f]/g, ' ');
  if (/[<>]/.test(name)) {
    name = name.replace(/</g, '‹').replace(/>/g, '›');
    warnings.push(
      `The ${what} name ${quote(raw)} contained "<" or ">"; it was renamed ${quote(name)}.`,
    );
  }
  name = name.replace(/\s+/g, ' ').trim();
  if (name.length === 0) {
    throw new ArchiveError('bad-label', `${doc}: a ${what} has an empty name.`, doc);
  }
  return name;
}

/** Throws 'bad-tensor' when an object's `shape` does not match its typed `data`. */
function checkTensors(value: unknown, doc: string, where: string): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => checkTensors(item, doc, `${where}[${i}]`));
    return;
  }
  if (!isObj(value)) return;
  const shape = ownValue(value, 'shape');
  const data = ownValue(value, 'data');
  if (Array.isArray(shape) && ArrayBuffer.isView(data)) {
    if (!shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
      throw new ArchiveError('bad-tensor', `${doc}: ${where}.shape is not a list of sizes.`, doc);
    }
    const size = shape.reduce((n: number, d) => n * (d as number), 1);
    const length = (data as unknown as { length: number }).length;
    if (size !== length) {
      throw new ArchiveError(
        'bad-tensor',
        `${doc}: ${where} has shape [${shape.join(', ')}] (${size} values) but ${length} values of data.`,
        doc,
      );
    }
  }
  for (const [key, child] of Object.entries(value)) checkTensors(child, doc, `${where}.${key}`);
}

/** Extra checks for Loupe's own head format (heads/types.ts SerializedHeadBase). */
function checkHeadPayload(payload: unknown, doc: string): void {
  if (!isObj(payload) || ownValue(payload, 'format') !== 'loupe-head') return;
  const f = new Fields(payload, doc, 'payload');
  const dim = f.count('dim');
  const labels = f.array('labels');
  if (!labels.every((l) => typeof l === 'string')) throw f.invalid('needs label ids in "labels"');
  f.array('tensors').forEach((t, i) => {
    const tf = fieldsOf(t, doc, `payload.tensors[${i}]`);
    tf.string('name', 500);
    tf.array('shape');
    const data = ownValue(tf.obj, 'data');
    const dtype = typedArrayDtype(data);
    if (dtype !== 'float32') {
      throw new ArchiveError(
        'bad-tensor',
        `${doc}: payload.tensors[${i}] must hold float32 data, not ${dtype ?? typeof data}.`,
        doc,
      );
    }
  });
  if (dim > MAX_EMBEDDING_DIM) throw f.invalid('has an implausible "dim"');
}

/** Loads and vets the archive; the returned project is ready for `importProjectArchive`. */
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
  const models = readModels(modelsDoc, documents.modelDocuments, decode, project.id);

  const counts = ownValue(manifest.obj, 'counts');
  if (isObj(counts)) {
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
  const referenced = new Set<string>([MANIFEST_PATH, PROJECT_PATH, SAMPLES_PATH, ...blobPaths]);
  if (documents.embeddings) referenced.add(EMBEDDINGS_INDEX_PATH);
  if (documents.models) referenced.add(MODELS_INDEX_PATH);
  for (const path of documents.modelDocuments.keys()) referenced.add(path);
  for (const s of samples) {
    referenced.add(s.image);
    if (s.thumbnail) referenced.add(s.thumbnail.path);
  }
  for (const e of embeddingSets) referenced.add(e.path);
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

function listedModelPaths(models: JsonValue | null): string[] {
  if (!isJsonObject(models)) return [];
  const list = own(models, 'models');
  if (!Array.isArray(list)) return [];
  const paths: string[] = [];
  for (const item of list) {
    const path = isJsonObject(item) ? own(item, 'path') : undefined;
    if (typeof path !== 'string') continue; // reported by readModels with context
    assertSafeEntryName(path);
    if (!paths.includes(path)) paths.push(path);
  }
  return paths;
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

interface ArchivedThumbnail {
  path: string;
  width: number;
  height: number;
  extra: Obj;
}

interface ArchivedSample {
  /** The record without its blob yet. */
  record: Omit<SampleRecord, 'blob'>;
  image: string;
  thumbnail: ArchivedThumbnail | null;
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

interface EmbeddingSet {
  key: string;
  path: string;
  dim: number;
  records: { sampleId: string; createdAt: number; extra: Obj }[];
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

function readModels(
  index: Fields | null,
  modelDocuments: Map<string, JsonValue>,
  decode: (json: JsonValue, path: string, requireFinite?: boolean) => unknown,
  projectId: string,
): ModelRecord[] {
  if (!index) return [];
  const ids = new Set<string>();
  return index.array('models').map((value, i): ModelRecord => {
    const entry = fieldsOf(value, MODELS_INDEX_PATH, `models[${i}]`);
    const id = entry.id('id');
    const path = entry.path('path');
    if (ids.has(id)) throw duplicate(MODELS_INDEX_PATH, 'models', id);
    ids.add(id);
    const json = modelDocuments.get(path);
    if (json === undefined) {
      throw new ArchiveError(
        'missing-file',
        `The archive is incomplete: ${path} is missing.`,
        path,
      );
    }
    const m = fieldsOf(decode(json, path, true), path, 'the model');
    if (m.id('id') !== id)
      throw m.invalid(`has id ${quote(m.obj.id)}, not ${quote(id)} as models/index.json says`);
    if (!m.has('payload')) throw m.invalid('has no "payload"');
    const payload = ownValue(m.obj, 'payload');
    checkTensors(payload, path, 'payload');
    checkHeadPayload(payload, path);
    return {
      ...m.rest(),
      id,
      projectId,
      createdAt: m.number('createdAt'),
      headType: m.string('headType', 100),
      payload,
    };
  });
}

/** Reads entries of one archive with progress, cancellation and per-kind size limits. */
class EntryReader {
  private done = 0;
  private total = 0;

  constructor(
    private readonly file: Blob,
    private readonly index: ZipIndex,
    private readonly limits: ArchiveLimits,
    private readonly options: ReadArchiveOptions,
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

  private async read(path: string, maxBytes: number, tooLarge?: () => ArchiveError) {
    throwIfAborted(this.options.signal);
    this.require(path);
    const entry = this.index.entries.get(path);
    if (!entry) throw new Error('unreachable');
    const data = await readEntry(this.file, this.index, entry, maxBytes, tooLarge);
    this.step();
    return data;
  }

  /** Parsed JSON of `path`, or undefined when the archive lacks it. */
  async json(path: string): Promise<JsonValue | undefined> {
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
    );
    return parseJsonEntry(bytes, path, max);
  }

  async bytes(path: string, maxBytes: number): Promise<Uint8Array> {
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

  async embeddings(set: EmbeddingSet, projectId: string): Promise<EmbeddingRecord[]> {
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
    return set.records.map((r, k) => ({
      ...r.extra,
      sampleId: r.sampleId,
      projectId,
      embeddingKey: set.key,
      // slice: each record owns exactly its vector (a view would store the whole matrix).
      vector: matrix.slice(k * set.dim, (k + 1) * set.dim),
      createdAt: r.createdAt,
    }));
  }
}

// ---------------------------------------------------------------------------------------------
// Writing a restored project into IndexedDB.

export type ImportMode = 'new' | 'replace';

export interface ImportArchiveOptions {
  /** Name of the imported project; defaults to the archive's. */
  name?: string;
  /** 'new' adds a project; 'replace' swaps `replaceProjectId` for the archive, atomically. */
  mode: ImportMode;
  replaceProjectId?: string;
  now?: () => number;
}

/** Replaces every string (value or key) that is an old id with its new id, deeply. */
function remapIds<T>(value: T, ids: ReadonlyMap<string, string>): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return ids.get(v) ?? v;
    if (Array.isArray(v)) return v.map(walk);
    if (!isObj(v)) return v; // typed arrays, Blobs and primitives stay as they are
    const out: Obj = {};
    for (const [key, item] of Object.entries(v)) out[ids.get(key) ?? key] = walk(item);
    return out;
  };
  return walk(value) as T;
}

const SAMPLE_FIELDS = [
  'id',
  'projectId',
  'labelIds',
  'name',
  'mime',
  'byteSize',
  'width',
  'height',
  'sha256',
  'createdAt',
  'source',
  'relativePath',
  'blob',
] as const satisfies readonly (keyof SampleRecord)[];

function splitKnown<T extends object>(record: T, ...known: (keyof T & string)[]): Obj {
  const out: Obj = {};
  for (const [key, value] of Object.entries(record)) {
    if (!(known as string[]).includes(key)) out[key] = value;
  }
  return out;
}

/**
 * Writes a restored project in one transaction, under new ids (so importing the same archive
 * twice gives two independent projects). Ids inside settings, unknown fields and model payloads
 * (e.g. a head's label ids, a KNN head's sample ids) are rewritten to the new ids. In 'replace'
 * mode the replaced project's id is kept and everything it held is deleted in the same
 * transaction; on any failure nothing changes. Returns the new project record.
 */
export async function importProjectArchive(
  db: LoupeDatabase,
  restored: RestoredProject,
  options: ImportArchiveOptions,
): Promise<ProjectRecord> {
  const now = options.now?.() ?? Date.now();
  if (options.mode === 'replace' && !options.replaceProjectId) {
    throw new Error('importProjectArchive: replace mode needs replaceProjectId.');
  }
  const projectId = options.mode === 'replace' ? (options.replaceProjectId as string) : newId();
  const ids = new Map<string, string>([[restored.project.id, projectId]]);
  for (const l of restored.labels) ids.set(l.id, newId());
  for (const s of restored.samples) ids.set(s.id, newId());
  for (const m of restored.models) ids.set(m.id, newId());
  const mapped = (id: string, what: string): string => {
    const next = ids.get(id);
    if (!next) {
      throw new ArchiveError(
        'unknown-reference',
        `${what} refers to ${quote(id)}, which the archive does not define.`,
      );
    }
    return next;
  };

  const src = restored.project;
  const project: ProjectRecord = {
    ...remapIds(splitKnown(src, 'id', 'name', 'kind', 'createdAt', 'updatedAt', 'settings'), ids),
    id: projectId,
    name: cleanName(options.name ?? src.name, src.name),
    kind: src.kind,
    createdAt: src.createdAt,
    updatedAt: now,
    settings: remapIds(src.settings, ids),
  };
  const labels: LabelRecord[] = restored.labels.map((l) => ({
    ...remapIds(splitKnown(l, 'id', 'projectId', 'name', 'order', 'createdAt'), ids),
    id: mapped(l.id, 'A label'),
    projectId,
    name: l.name,
    order: l.order,
    createdAt: l.createdAt,
  }));
  const samples: SampleRecord[] = restored.samples.map((s) => {
    const sample: SampleRecord = {
      ...remapIds(splitKnown(s, ...SAMPLE_FIELDS), ids),
      id: mapped(s.id, 'An image'),
      projectId,
      labelIds: s.labelIds.map((l) => mapped(l, 'An image')),
      name: s.name,
      mime: s.mime,
      byteSize: s.byteSize,
      width: s.width,
      height: s.height,
      sha256: s.sha256,
      createdAt: s.createdAt,
      source: s.source,
      blob: s.blob,
    };
    if (s.relativePath !== undefined) sample.relativePath = s.relativePath;
    return sample;
  });
  const thumbnails: ThumbnailRecord[] = restored.thumbnails.map((t) => ({
    ...remapIds(splitKnown(t, 'sampleId', 'projectId', 'blob', 'width', 'height'), ids),
    sampleId: mapped(t.sampleId, 'A thumbnail'),
    projectId,
    blob: t.blob,
    width: t.width,
    height: t.height,
  }));
  const embeddings: EmbeddingRecord[] = restored.embeddings.map((e) => ({
    ...remapIds(splitKnown(e, 'sampleId', 'projectId', 'embeddingKey', 'vector', 'createdAt'), ids),
    sampleId: mapped(e.sampleId, 'An embedding'),
    projectId,
    embeddingKey: e.embeddingKey,
    vector: e.vector,
    createdAt: e.createdAt,
  }));
  const models: ModelRecord[] = restored.models.map((m) => ({
    ...remapIds(splitKnown(m, 'id', 'projectId', 'createdAt', 'headType', 'payload'), ids),
    id: mapped(m.id, 'A model'),
    projectId,
    createdAt: m.createdAt,
    headType: m.headType,
    payload: remapIds(m.payload, ids),
  }));

  const tx = db.transaction(ALL_STORES, 'readwrite');
  const writes: Promise<unknown>[] = [];
  try {
    if (options.mode === 'replace') {
      const existing = await tx.objectStore('projects').get(projectId);
      if (!existing) {
        throw new ArchiveError(
          'not-found',
          'The project to replace no longer exists; nothing was imported.',
        );
      }
      const range = IDBKeyRange.bound([projectId, ''], [projectId, '\uffff']);
      const [labelKeys, sampleKeys, thumbKeys, modelKeys, embeddingKeys] = await Promise.all([
        tx.objectStore('labels').index('byProject').getAllKeys(projectId),
        tx.objectStore('samples').index('byProject').getAllKeys(projectId),
        tx.objectStore('thumbnails').index('byProject').getAllKeys(projectId),
        tx.objectStore('models').index('byProject').getAllKeys(projectId),
        tx.objectStore('embeddings').index('byProjectKey').getAllKeys(range),
      ]);
      await Promise.all([
        ...labelKeys.map((k) => tx.objectStore('labels').delete(k)),
        ...sampleKeys.map((k) => tx.objectStore('samples').delete(k)),
        ...thumbKeys.map((k) => tx.objectStore('thumbnails').delete(k)),
        ...modelKeys.map((k) => tx.objectStore('models').delete(k)),
        ...embeddingKeys.map((k) => tx.objectStore('embeddings').delete(k)),
      ]);
      writes.push(tx.objectStore('projects').put(project));
    } else {
      writes.push(tx.objectStore('projects').add(project));
    }
    for (const l of labels) writes.push(tx.objectStore('labels').add(l));
    for (const s of samples) writes.push(tx.objectStore('samples').add(s));
    for (const t of thumbnails) writes.push(tx.objectStore('thumbnails').add(t));
    for (const e of embeddings) writes.push(tx.objectStore('embeddings').add(e));
    for (const m of models) writes.push(tx.objectStore('models').add(m));
    await Promise.all(writes);
    await tx.done;
  } catch (error) {
    // A write that throws synchronously (DataCloneError) does not abort by itself: abort so the
    // whole import rolls back and the replaced project stays as it was.
    tx.done.catch(() => undefined);
    void Promise.allSettled(writes);
    try {
      tx.abort();
    } catch {
      // Already finished or aborted by a failed request.
    }
    throw error;
  }
  return project;
}

/**
 * The existing project whose name equals `name` (case-insensitively, after the same clean-up
 * project names get), if any: the UI then asks "rename or replace?".
 */
export async function findNameConflict(
  db: LoupeDatabase,
  name: string,
): Promise<ProjectRecord | undefined> {
  const clean = cleanName(name, name);
  const projects = await db.getAll('projects');
  return projects.find((p) => sameName(p.name, clean));
}

/** `name`, or "name (2)", "name (3)", ... : the first that no project uses yet. */
export async function suggestProjectName(db: LoupeDatabase, name: string): Promise<string> {
  const clean = cleanName(name, 'Imported project');
  const projects = await db.getAll('projects');
  const taken = (candidate: string): boolean => projects.some((p) => sameName(p.name, candidate));
  if (!taken(clean)) return clean;
  for (let n = 2; ; n++) {
    const candidate = cleanName(`${clean.slice(0, 110)} (${n})`, clean);
    if (!taken(candidate)) return candidate;
  }
}
