/**
 * Saved models of a project archive: `models/index.json` and one binaryJson document per model
 * (see archive.ts), read into typed `ModelRecord`s under the archive's ids. Every tensor must
 * match its shape and hold finite values. A dense model (the only head type Loupe writes) must
 * have the payload the heads service writes: a summary whose model, label and sample ids are ids,
 * and a Loupe head of float32 weights whose label ids are ids. A model of a head type (or head
 * format version) this Loupe does not know, e.g. from a newer Loupe, is skipped with a warning;
 * the rest of the project is restored. Documents are read one at a time (restoreStream.ts).
 * Touches no storage.
 */
import type { DenseModelPayload, DenseModelSummary, HeadEvaluation } from '../heads/savedModel';
import {
  SERIALIZED_HEAD_FORMAT,
  SERIALIZED_HEAD_VERSION,
  type SerializedTensor,
} from '../heads/types';
import { isProjectKind } from '../kinds';
import { isPlainObject } from '../objects';
import type { DenseModelRecord, ModelRecord } from '../storage/schema';
import { typedArrayDtype } from './binaryJson';
import { ArchiveError } from './errors';
import {
  duplicate,
  fieldsOf,
  isId,
  MAX_EMBEDDING_DIM,
  ownValue,
  quote,
  type Fields,
} from './fields';
import { isJsonObject, own, type JsonValue } from './json';
import { MODELS_INDEX_PATH } from './layout';
import { assertSafeEntryName } from './paths';

type SerializedDenseHead = DenseModelPayload['head'];

/** Decodes one JSON document's binary references (binaryJson); see restore.ts. */
export type DecodeDocument = (json: JsonValue, path: string, requireFinite?: boolean) => unknown;

/** The model document paths `models/index.json` lists, each once, before any validation. */
export function listedModelPaths(models: JsonValue | null): string[] {
  if (!isJsonObject(models)) return [];
  const list = own(models, 'models');
  if (!Array.isArray(list)) return [];
  const paths: string[] = [];
  for (const item of list) {
    const path = isJsonObject(item) ? own(item, 'path') : undefined;
    if (typeof path !== 'string') continue; // reported by readModelIndex with context
    assertSafeEntryName(path);
    if (!paths.includes(path)) paths.push(path);
  }
  return paths;
}

/** One `models/index.json` entry: a model's id and the path of its document. */
export interface ModelIndexEntry {
  id: string;
  path: string;
}

/** The entries of `models/index.json` (ids unique, paths safe), in index order. */
export function readModelIndex(index: Fields | null): ModelIndexEntry[] {
  if (!index) return [];
  const ids = new Set<string>();
  return index.array('models').map((value, i) => {
    const entry = fieldsOf(value, MODELS_INDEX_PATH, `models[${i}]`);
    const id = entry.id('id');
    const path = entry.path('path');
    if (ids.has(id)) throw duplicate(MODELS_INDEX_PATH, 'models', id);
    ids.add(id);
    return { id, path };
  });
}

/**
 * One model document (already migrated), read into a record under the archive's ids; null when
 * its head type or head format version is one this Loupe does not know (skipped with a warning).
 * `decode` resolves the document's binary references.
 */
export function readModelDocument(
  entry: ModelIndexEntry,
  json: JsonValue,
  decode: DecodeDocument,
  projectId: string,
  warnings: string[],
): ModelRecord | null {
  const { id, path } = entry;
  // The head type decides how the rest is read; an unknown one is not decoded at all.
  const raw = fieldsOf(json, path, 'the model');
  if (raw.id('id') !== id)
    throw raw.invalid(`has id ${quote(raw.obj.id)}, not ${quote(id)} as models/index.json says`);
  const headType = raw.string('headType', 100);
  if (headType !== 'dense') {
    warnings.push(
      `Skipped the saved model ${quote(id)}: its head type ${quote(headType)} is not one this ` +
        'Loupe knows (it may come from a newer Loupe).',
    );
    return null;
  }
  // A newer head format may be shaped differently: skipped before any of it is checked.
  const version = headVersion(raw);
  if (version > SERIALIZED_HEAD_VERSION) {
    warnings.push(
      `Skipped the saved model ${quote(id)}: its head format version ${version} is newer ` +
        'than this Loupe reads.',
    );
    return null;
  }
  const m = fieldsOf(decode(json, path, true), path, 'the model');
  return readDenseModel(m, id, projectId, path);
}

/** `payload.head.version` of a model document as written, or 0 when it has none. */
function headVersion(model: Fields): number {
  const payload = ownValue(model.obj, 'payload');
  const head = isPlainObject(payload) ? ownValue(payload, 'head') : undefined;
  const version = isPlainObject(head) ? ownValue(head, 'version') : undefined;
  return typeof version === 'number' ? version : 0;
}

function readDenseModel(m: Fields, id: string, projectId: string, path: string): DenseModelRecord {
  if (!m.has('payload')) throw m.invalid('has no "payload"');
  const payload = m.fields('payload');
  checkTensors(payload.obj, path, 'payload');
  const pinned = ownValue(m.obj, 'pinned');
  if (pinned !== undefined && typeof pinned !== 'boolean')
    throw m.invalid('has a "pinned" that is not true or false');
  const createdAt = m.number('createdAt');
  // A version made current again stays current only until the next training: a time in the
  // future (a wrong clock, a crafted archive) is capped at the import, one before training ignored.
  const activatedAt = m.has('activatedAt')
    ? Math.min(m.number('activatedAt'), Date.now())
    : undefined;
  return {
    ...m.rest('pinned', 'activatedAt'),
    id,
    projectId,
    createdAt,
    ...(pinned === true ? { pinned } : {}),
    ...(activatedAt !== undefined && activatedAt > createdAt ? { activatedAt } : {}),
    headType: 'dense',
    payload: {
      ...payload.rest('summary', 'head'),
      summary: readDenseSummary(payload.fields('summary')),
      head: readDenseHead(payload.fields('head')),
    },
  };
}

/**
 * The summary's ids are checked (model id, label ids, snapshot sample and label ids). Its other
 * fields are checked for their JSON kind only and kept as written: the UI shows them, and nothing
 * in them names a record.
 */
function readDenseSummary(s: Fields): DenseModelSummary {
  const kind = s.string('kind', 50);
  if (!isProjectKind(kind)) throw s.invalid(`has kind ${quote(kind)}`);
  const snapshot: Record<string, string[]> = {};
  for (const [sampleId, labelIds] of Object.entries(s.object('snapshot'))) {
    if (!isId(sampleId))
      throw s.invalid(`has the invalid sample id ${quote(sampleId)} in "snapshot"`);
    if (!Array.isArray(labelIds) || !labelIds.every(isId)) {
      throw s.invalid(`needs a list of label ids for each image in "snapshot"`);
    }
    snapshot[sampleId] = labelIds;
  }
  const evaluations = s.array('evaluations').map((value, i): HeadEvaluation => {
    const e = fieldsOf(value, s.doc, `${s.where}.evaluations[${i}]`);
    const head = e.string('head', 50);
    if (head !== 'knn' && head !== 'dense') throw e.invalid(`has head ${quote(head)}`);
    const cells = e.has('cells') ? ownValue(e.obj, 'cells') : undefined;
    const isCells = (v: unknown): v is string[][][] =>
      Array.isArray(v) &&
      v.every((row) => Array.isArray(row) && row.every((c) => Array.isArray(c) && c.every(isId)));
    if (cells !== undefined && !isCells(cells))
      throw e.invalid('needs lists of sample ids per confusion cell in "cells"');
    return {
      ...e.rest(),
      ...(cells !== undefined ? { cells } : {}),
      head,
      metrics: e.object('metrics') as unknown as HeadEvaluation['metrics'],
      labels: e.ids('labels'),
      validationSize: e.count('validationSize'),
      trainSize: e.count('trainSize'),
    };
  });
  const summary: DenseModelSummary = {
    ...s.rest(),
    id: s.id('id'),
    createdAt: s.number('createdAt'),
    labels: s.ids('labels'),
    config: s.object('config') as unknown as DenseModelSummary['config'],
    history: s.array('history') as DenseModelSummary['history'],
    bestEpoch: s.number('bestEpoch'),
    evaluations,
    snapshot,
    embeddingKey: s.string('embeddingKey', 500),
    backboneId: s.string('backboneId', 500),
    kind,
  };
  if (s.has('augmentation')) {
    const a = s.fields('augmentation');
    const flips = ownValue(a.obj, 'flips');
    if (typeof flips !== 'boolean') throw a.invalid('needs a true or false "flips"');
    summary.augmentation = { ...a.obj, flips, crops: a.count('crops') };
  }
  if (s.has('refit')) {
    const r = s.fields('refit');
    summary.refit = { ...r.obj, epochs: r.count('epochs'), images: r.count('images') };
  }
  return summary;
}

/** Loupe's serialized dense head (heads/types.ts SerializedHeadBase): float32 weights only. */
function readDenseHead(h: Fields): SerializedDenseHead {
  if (ownValue(h.obj, 'format') !== SERIALIZED_HEAD_FORMAT || ownValue(h.obj, 'type') !== 'dense') {
    throw h.invalid(`is not a serialized dense head`);
  }
  const kind = h.string('kind', 50);
  if (!isProjectKind(kind)) throw h.invalid(`has kind ${quote(kind)}`);
  const dim = h.count('dim');
  const labels = h.ids('labels');
  const tensors = h.array('tensors').map((t, i): SerializedTensor => {
    const tf = fieldsOf(t, h.doc, `${h.where}.tensors[${i}]`);
    const name = tf.string('name', 500);
    const shape = tf.array('shape');
    const data = ownValue(tf.obj, 'data');
    if (!(data instanceof Float32Array)) {
      throw new ArchiveError(
        'bad-tensor',
        `${h.doc}: ${tf.where} must hold float32 data, not ${typedArrayDtype(data) ?? typeof data}.`,
        h.doc,
      );
    }
    if (!shape.every(isSize)) throw tf.invalid('needs sizes in "shape"');
    return { ...tf.rest(), name, shape, data };
  });
  if (dim > MAX_EMBEDDING_DIM) throw h.invalid('has an implausible "dim"');
  // What loading the head reads unchecked (DenseHead.deserialize checks the config itself).
  const state = h.fields('state');
  const thresholds = state.array('thresholds');
  if (!thresholds.every((t) => typeof t === 'number'))
    throw state.invalid('needs numbers in "thresholds"');
  return {
    ...h.rest(),
    format: SERIALIZED_HEAD_FORMAT,
    version: h.count('version'),
    type: 'dense',
    kind,
    labels,
    dim,
    config: h.object('config') as unknown as SerializedDenseHead['config'],
    state: {
      ...state.rest(),
      thresholds,
      bestEpoch: state.number('bestEpoch'),
      history: state.array('history') as SerializedDenseHead['state']['history'],
    },
    tensors,
  };
}

/** Throws 'bad-tensor' when an object's `shape` does not match its typed `data`. */
function checkTensors(value: unknown, doc: string, where: string): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => checkTensors(item, doc, `${where}[${i}]`));
    return;
  }
  if (!isPlainObject(value)) return;
  const shape = ownValue(value, 'shape');
  const data = ownValue(value, 'data');
  if (Array.isArray(shape) && ArrayBuffer.isView(data)) {
    if (!shape.every(isSize)) {
      throw new ArchiveError('bad-tensor', `${doc}: ${where}.shape is not a list of sizes.`, doc);
    }
    const size = shape.reduce((n, d) => n * d, 1);
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

function isSize(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
