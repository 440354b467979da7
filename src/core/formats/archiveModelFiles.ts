/**
 * A project's own backbone picked as files (the `backboneFiles` records its settings name) inside
 * its project archive, so the restored project embeds new images on any device:
 *   model-files/index.json           {modelFiles: [{key, name, byteSize, createdAt,
 *                                    modelJson: "model-files/<key>/model.json",
 *                                    weights: [{path (as picked), entry: "model-files/<key>/<n>.bin"}]}]}
 *   model-files/<key>/model.json     the model.json text, deflated
 *   model-files/<key>/<n>.bin        each weight file's bytes, in manifest order, deflated
 * Reading checks every set it keeps: a key that is a SHA-256, entry names of exactly that layout,
 * a model.json that parses as a layers model, and the SHA-256 of model.json and weights together
 * equal to the key (what was stored). Sets the project does not name are left unread.
 */
import {
  MODEL_FILES_LIMITS,
  ModelFilesError,
  modelFilesKey,
  parseModelJson,
} from '../backbone/modelFiles';
import { referencedFileKeys } from '../storage/backboneFiles';
import type { BackboneFilesRecord, ProjectRecord } from '../storage/schema';
import type { ArchiveEntryPlan } from './archiveFits';
import type { EntryReader } from './entryReader';
import { ArchiveError, type ArchiveLimits } from './errors';
import { isJsonObject, jsonBytes, own, type JsonValue } from './json';
import type { BlobZipWriter } from './zipWriter';

export const MODEL_FILES_INDEX_PATH = 'model-files/index.json';

const KEY = /^[0-9a-f]{64}$/;
const MAX_NAME = 1024;

const dirOf = (key: string): string => `model-files/${key}/`;

/** Entries and sizes the sets add to an archive (for the export's limit check). */
export function planModelFiles(records: readonly BackboneFilesRecord[]): {
  entries: number;
  largest: ArchiveEntryPlan[];
} {
  if (records.length === 0) return { entries: 0, largest: [] };
  const largest: ArchiveEntryPlan[] = [];
  let entries = 1;
  for (const r of records) {
    entries += 1 + r.weights.length;
    largest.push({
      path: `${dirOf(r.key)}model.json`,
      bytes: new TextEncoder().encode(r.modelJson).byteLength,
      json: true,
    });
    for (const w of r.weights) largest.push({ path: w.path, bytes: w.blob.size, json: false });
  }
  return { entries, largest };
}

/** Writes the sets and their index; nothing when there are none. Calls `step` per entry. */
export async function writeModelFiles(
  writer: BlobZipWriter,
  records: readonly BackboneFilesRecord[],
  step: () => void,
): Promise<void> {
  if (records.length === 0) return;
  const index: JsonValue[] = [];
  for (const r of records) {
    const dir = dirOf(r.key);
    writer.addDeflated(`${dir}model.json`, new TextEncoder().encode(r.modelJson));
    step();
    const weights: JsonValue[] = [];
    for (const [n, w] of r.weights.entries()) {
      const entry = `${dir}${n}.bin`;
      writer.addDeflated(entry, new Uint8Array(await w.blob.arrayBuffer()), 1);
      weights.push({ path: w.path, entry });
      step();
    }
    index.push({
      key: r.key,
      name: r.name,
      byteSize: r.byteSize,
      createdAt: r.createdAt,
      modelJson: `${dir}model.json`,
      weights,
    });
  }
  writer.addDeflated(MODEL_FILES_INDEX_PATH, jsonBytes({ modelFiles: index }));
  step();
}

function invalid(message: string, path = MODEL_FILES_INDEX_PATH): ArchiveError {
  return new ArchiveError('invalid-record', `${path}: ${message}`, path);
}

function text(value: JsonValue | undefined, what: string, max = MAX_NAME): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw invalid(`${what} is not a name of 1-${max} characters.`);
  }
  return value;
}

/**
 * The model-file sets the restored `project` names, read and checked, with the entries they
 * reference (so they are not reported as unexpected). A named set the archive lacks becomes a
 * warning: the project restores, and asks for its files when it next embeds.
 */
export async function readModelFiles(
  reader: EntryReader,
  project: ProjectRecord,
  limits: ArchiveLimits,
  warnings: string[],
): Promise<{ records: BackboneFilesRecord[]; paths: string[] }> {
  const wanted = new Set(referencedFileKeys(project));
  const value = await reader.json(MODEL_FILES_INDEX_PATH);
  const listed = value === undefined ? undefined : own(asObject(value), 'modelFiles');
  if (listed !== undefined && !Array.isArray(listed)) throw invalid('"modelFiles" is not a list.');
  const records: BackboneFilesRecord[] = [];
  const paths: string[] = value === undefined ? [] : [MODEL_FILES_INDEX_PATH];
  for (const item of listed ?? []) {
    const set = asObject(item);
    const key = text(own(set, 'key'), 'a key', 64);
    if (!KEY.test(key)) throw invalid(`key ${JSON.stringify(key)} is not a SHA-256.`);
    const dir = dirOf(key);
    const modelJsonPath = own(set, 'modelJson');
    if (modelJsonPath !== `${dir}model.json`)
      throw invalid(`the model.json of ${key} is misnamed.`);
    const weightItems = own(set, 'weights');
    if (!Array.isArray(weightItems) || weightItems.length > MODEL_FILES_LIMITS.weightFiles)
      throw invalid(
        `the weights of ${key} are not a list of at most ${MODEL_FILES_LIMITS.weightFiles}.`,
      );
    const weights = weightItems.map((w, n) => {
      const entry = asObject(w);
      if (own(entry, 'entry') !== `${dir}${n}.bin`)
        throw invalid(`weight ${n} of ${key} is misnamed.`);
      return { path: text(own(entry, 'path'), `weight ${n}'s path`), entry: `${dir}${n}.bin` };
    });
    paths.push(modelJsonPath, ...weights.map((w) => w.entry));
    if (!wanted.has(key) || records.some((r) => r.key === key)) continue;

    const jsonData = await reader.bytes(
      modelJsonPath,
      Math.min(limits.maxJsonBytes, MODEL_FILES_LIMITS.modelJsonBytes),
    );
    let modelJson: string;
    try {
      modelJson = new TextDecoder('utf-8', { fatal: true }).decode(jsonData);
      parseModelJson(modelJson);
    } catch (error) {
      const why = error instanceof ModelFilesError ? error.message : 'it is not UTF-8 text.';
      throw invalid(why, modelJsonPath);
    }
    const parts: Uint8Array<ArrayBuffer>[] = [];
    let byteSize = jsonData.byteLength;
    for (const w of weights) {
      const bytes = await reader.bytes(w.entry, limits.maxEntryBytes);
      byteSize += bytes.byteLength;
      if (byteSize > MODEL_FILES_LIMITS.weightBytes + MODEL_FILES_LIMITS.modelJsonBytes)
        throw invalid(`the model files of ${key} are larger than a model may be.`, w.entry);
      parts.push(bytes);
    }
    if ((await modelFilesKey(modelJson, parts)) !== key) {
      throw invalid(
        `the model files of ${key} do not match their checksum; the archive is damaged or was edited.`,
        modelJsonPath,
      );
    }
    const createdAt = own(set, 'createdAt');
    records.push({
      key,
      name: text(own(set, 'name'), 'the model name'),
      modelJson,
      weights: weights.map((w, n) => ({
        path: w.path,
        blob: new Blob([parts[n] as Uint8Array<ArrayBuffer>]),
      })),
      byteSize,
      createdAt: typeof createdAt === 'number' && Number.isFinite(createdAt) ? createdAt : 0,
    });
  }
  const missing = [...wanted].filter((key) => !records.some((r) => r.key === key));
  if (missing.length > 0) {
    warnings.push(
      'The project’s own model files are not in this archive: its images and embeddings are ' +
        'restored; to embed new images, pick the model’s files again in Project settings.',
    );
  }
  return { records, paths };
}

function asObject(value: JsonValue | undefined): { [key: string]: JsonValue } {
  if (!isJsonObject(value)) throw invalid('an entry is not an object.');
  return value;
}
