/**
 * Writing a whole project that was read elsewhere (a validated `.loupe` archive, see
 * core/formats/restore.ts) into IndexedDB: `writeRestoredProject`, in ONE transaction, under new
 * ids, as a new project or over an existing one, so any failure leaves every project untouched.
 *
 * Ids are rewritten field by field, never by matching strings: records' own ids and references
 * (`labelIds`, `sampleId`), the project setting that names images (`settings.splits`), and the
 * id fields of each saved model's payload by head type. A label name, a setting or an unknown
 * field that happens to equal an id is written as it is. The data worker writes archives without
 * holding them whole through stagedRestore.ts, which shares this id mapping.
 */
import { newId } from '../ids';
import { isPlainObject } from '../objects';
import type { DenseModelPayload } from '../heads/savedModel';
import { abortTransaction, type LoupeDatabase } from './db';
import { cleanName, deleteProjectContents, type AllStoresTx } from './projects';
import {
  ALL_STORES,
  type EmbeddingRecord,
  type LabelRecord,
  type BackboneFilesRecord,
  type ModelRecord,
  type ProjectRecord,
  type ProjectSettings,
  type SampleRecord,
  type ThumbnailRecord,
} from './schema';

/** Every record of one project; child records point at `project.id`. */
export interface ProjectContents {
  project: ProjectRecord;
  labels: LabelRecord[];
  samples: SampleRecord[];
  thumbnails: ThumbnailRecord[];
  embeddings: EmbeddingRecord[];
  models: ModelRecord[];
  /** Model files of the project's own backbone (shared by key; written if absent). */
  backboneFiles?: BackboneFilesRecord[];
}

export type RestoreOptions = {
  /** Name of the written project; defaults to the contents' own. */
  name?: string;
  now?: () => number;
} & (
  | { mode: 'new' }
  /** Swaps the project `replaceProjectId` (its id is kept) for the contents, atomically. */
  | { mode: 'replace'; replaceProjectId: string }
);

export type RestoreMode = RestoreOptions['mode'];

export class RestoreError extends Error {
  constructor(
    readonly code: 'not-found' | 'unknown-reference',
    message: string,
  ) {
    super(message);
    this.name = 'RestoreError';
  }
}

/** Old id -> new id for one write. */
export class IdMap {
  private readonly ids = new Map<string, string>();

  constructor(entries: Iterable<[string, string]>) {
    for (const [from, to] of entries) this.ids.set(from, to);
  }

  /** The new id of a record the contents define; anything else is a broken reference. */
  record(id: string, what: string): string {
    const next = this.ids.get(id);
    if (next === undefined) {
      throw new RestoreError(
        'unknown-reference',
        `${what} refers to ${JSON.stringify(id)}, which the project being restored does not define.`,
      );
    }
    return next;
  }

  /** Gives `id` a new id of its own (kept if it has one already); returns it. */
  define(id: string): string {
    let next = this.ids.get(id);
    if (next === undefined) this.ids.set(id, (next = newId()));
    return next;
  }

  /**
   * The new id for an id inside a setting or a model payload. Such an id may name a record the
   * contents no longer hold (a label or image deleted after a model was trained): it gets a
   * fresh id of its own, the same one each time, so it still names nothing.
   */
  loose(id: string): string {
    let next = this.ids.get(id);
    if (next === undefined) this.ids.set(id, (next = newId()));
    return next;
  }
}

/**
 * `settings.splits` names images, in either shape of a split spec (core/formats/dataset.ts):
 * `{splitName: sampleIds[]}` or `{sampleId: splitName}`. No other setting holds a record id
 * (`backboneId` names a backbone).
 */
export function remapSettings(settings: ProjectSettings, ids: IdMap): ProjectSettings {
  const splits: unknown = settings.splits;
  if (!isPlainObject(splits)) return { ...settings };
  const remapped: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(splits)) {
    if (typeof value === 'string') remapped[ids.loose(key)] = value;
    else if (Array.isArray(value))
      remapped[key] = value.map((id: unknown) => (typeof id === 'string' ? ids.loose(id) : id));
    else remapped[key] = value;
  }
  // Entries of another shape are kept as they were; readers check the shape (dataset export).
  return { ...settings, splits: remapped as ProjectSettings['splits'] };
}

/** A dense model's ids: the summary's model id, label ids and snapshot, the head's label ids. */
function remapDensePayload(
  payload: DenseModelPayload,
  modelId: string,
  ids: IdMap,
): DenseModelPayload {
  const labels = (list: readonly string[]): string[] => list.map((id) => ids.loose(id));
  const { summary, head } = payload;
  return {
    ...payload,
    summary: {
      ...summary,
      id: modelId,
      labels: labels(summary.labels),
      evaluations: summary.evaluations.map((e) => ({
        ...e,
        labels: labels(e.labels),
        ...(e.cells ? { cells: e.cells.map((row) => row.map(labels)) } : {}),
      })),
      snapshot: Object.fromEntries(
        Object.entries(summary.snapshot).map(([sampleId, labelIds]) => [
          ids.loose(sampleId),
          labels(labelIds),
        ]),
      ),
    },
    head: { ...head, labels: labels(head.labels) },
  };
}

export function remapModel(model: ModelRecord, projectId: string, ids: IdMap): ModelRecord {
  const id = ids.record(model.id, 'A model');
  switch (model.headType) {
    case 'dense':
      return { ...model, id, projectId, payload: remapDensePayload(model.payload, id, ids) };
  }
}

/**
 * Writes `contents` in one transaction under new ids (so restoring the same archive twice gives
 * two independent projects). In 'replace' mode the replaced project's id is kept and everything
 * it held is deleted in the same transaction (`deleteProjectContents`); on any failure nothing
 * changes. Returns the new project record.
 */
/**
 * In a restore's transaction: the project a 'replace' restore overwrites must still exist (another
 * tab may have deleted it); its contents are deleted, its record is left for the caller to put.
 */
export async function emptyProjectToReplace(tx: AllStoresTx, projectId: string): Promise<void> {
  if (!(await tx.objectStore('projects').getKey(projectId))) {
    throw new RestoreError(
      'not-found',
      'The project to replace no longer exists; nothing was imported.',
    );
  }
  await deleteProjectContents(tx, projectId);
}

export async function writeRestoredProject(
  db: LoupeDatabase,
  contents: ProjectContents,
  options: RestoreOptions,
): Promise<ProjectRecord> {
  const now = options.now?.() ?? Date.now();
  const projectId = options.mode === 'replace' ? options.replaceProjectId : newId();
  const ids = new IdMap([
    [contents.project.id, projectId],
    ...contents.labels.map((l): [string, string] => [l.id, newId()]),
    ...contents.samples.map((s): [string, string] => [s.id, newId()]),
    ...contents.models.map((m): [string, string] => [m.id, newId()]),
  ]);

  const src = contents.project;
  const project: ProjectRecord = {
    ...src,
    id: projectId,
    name: cleanName(options.name ?? src.name, src.name),
    updatedAt: now,
    settings: remapSettings(src.settings, ids),
  };
  const labels = contents.labels.map((l): LabelRecord => ({
    ...l,
    id: ids.record(l.id, 'A label'),
    projectId,
  }));
  const samples = contents.samples.map((s): SampleRecord => ({
    ...s,
    id: ids.record(s.id, 'An image'),
    projectId,
    labelIds: s.labelIds.map((l) => ids.record(l, 'An image')),
  }));
  const thumbnails = contents.thumbnails.map((t): ThumbnailRecord => ({
    ...t,
    sampleId: ids.record(t.sampleId, 'A thumbnail'),
    projectId,
  }));
  const embeddings = contents.embeddings.map((e): EmbeddingRecord => ({
    ...e,
    sampleId: ids.record(e.sampleId, 'An embedding'),
    projectId,
  }));
  const models = contents.models.map((m) => remapModel(m, projectId, ids));

  const tx = db.transaction(ALL_STORES, 'readwrite');
  const writes: Promise<unknown>[] = [];
  try {
    if (options.mode === 'replace') {
      await emptyProjectToReplace(tx, projectId);
      writes.push(tx.objectStore('projects').put(project));
    } else {
      writes.push(tx.objectStore('projects').add(project));
    }
    for (const l of labels) writes.push(tx.objectStore('labels').add(l));
    for (const s of samples) writes.push(tx.objectStore('samples').add(s));
    for (const t of thumbnails) writes.push(tx.objectStore('thumbnails').add(t));
    for (const e of embeddings) writes.push(tx.objectStore('embeddings').add(e));
    for (const m of models) writes.push(tx.objectStore('models').add(m));
    for (const f of contents.backboneFiles ?? [])
      writes.push(tx.objectStore('backboneFiles').put(f));
    await Promise.all(writes);
    await tx.done;
  } catch (error) {
    // The whole write rolls back: the replaced project stays as it was.
    abortTransaction(tx, writes);
    throw error;
  }
  return project;
}
