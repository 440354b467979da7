/**
 * Dataset export: a folder-per-label zip, the layout Keras `image_dataset_from_directory`,
 * torchvision `ImageFolder` and most trainers read, plus `labels.csv`.
 *
 *   <label>/<file>      original image bytes (stored). A multi-label image is copied into each of
 *                       its labels' folders under the same file name.
 *   _unlabelled/<file>  unlabelled images, only with `includeUnlabelled: true` (default: skipped,
 *                       since a trainer would read the folder as one more class).
 *   labels.csv          header `file,labels,split`, one row per image (RFC 4180: CRLF line ends,
 *                       fields with `,` `"` CR or LF quoted, quotes doubled): `file` is the path of
 *                       its first copy (labels in project order), `labels` its label names joined
 *                       with `|`, `split` its split name or empty.
 *
 * Folder names are label names made portable (no `/ \ : * ? " < > |`, control characters,
 * leading/trailing dots or spaces, or Windows device names); file names are the original names
 * made portable, with the extension the bytes call for, unique across the whole export
 * (case-insensitively: "cat.jpg", "cat-2.jpg", ...).
 */
import { isPlainObject } from '../objects';
import type { LoupeDatabase } from '../storage/db';
import type { LabelRecord, SampleRecord, SplitSpec } from '../storage/schema';
import { ArchiveError, throwIfAborted } from './errors';
import { extensionForMime, sanitizeSegment, splitExtension, UniqueNames } from './paths';
import { BlobZipWriter } from './zipWriter';

/**
 * Which split each image is in. Either `{sampleId: splitName}`, or `{splitName: sampleIds[]}` (so
 * a hold-out `Fold` from core/eval/split, `{train: [...], validation: [...]}`, works as it is).
 */
export type { SplitSpec } from '../storage/schema';

export interface DatasetProgress {
  done: number;
  total: number;
}

export interface ExportDatasetOptions {
  /** Split per image for the csv's `split` column; defaults to `project.settings.splits` when that has this shape. */
  split?: SplitSpec;
  /** Only export images in this split. */
  onlySplit?: string;
  /** Put unlabelled images in `_unlabelled/` (default false: skip them). */
  includeUnlabelled?: boolean;
  onProgress?: (progress: DatasetProgress) => void;
  signal?: AbortSignal;
}

export const UNLABELLED_FOLDER = '_unlabelled';
export const LABELS_CSV = 'labels.csv';

/** sampleId -> split name from either SplitSpec shape. */
export function resolveSplits(spec: SplitSpec | undefined): Map<string, string> {
  const splits = new Map<string, string>();
  if (!spec) return splits;
  for (const [key, value] of Object.entries(spec)) {
    if (typeof value === 'string') splits.set(key, value);
    else for (const id of value) splits.set(id, key);
  }
  return splits;
}

function isSplitSpec(value: unknown): value is SplitSpec {
  if (!isPlainObject(value)) return false;
  return Object.values(value).every(
    (v) => typeof v === 'string' || (Array.isArray(v) && v.every((id) => typeof id === 'string')),
  );
}

/** One CSV field per RFC 4180. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function csvRow(fields: readonly string[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}

function imageFileName(sample: SampleRecord): string {
  const [stem, ext] = splitExtension(sample.name);
  const current = ext.slice(1).toLowerCase();
  const wanted = extensionForMime(sample.mime, '');
  let extension: string;
  if (!wanted) extension = ext ? ext.slice(1) : 'bin';
  // Keep the original extension when it already fits the bytes (any case, jpeg for jpg).
  else if (current === wanted || (wanted === 'jpg' && current === 'jpeg')) extension = ext.slice(1);
  else extension = wanted;
  return `${sanitizeSegment(stem, 'image', 100)}.${sanitizeSegment(extension, 'bin', 10)}`;
}

/**
 * Exports the project's images as a folder-per-label zip with `labels.csv` (see the module
 * comment for the layout). Throws ArchiveError('not-found') when the project is gone.
 */
export async function exportDataset(
  db: LoupeDatabase,
  projectId: string,
  options: ExportDatasetOptions = {},
): Promise<Blob> {
  const { signal, onProgress } = options;
  throwIfAborted(signal);
  const tx = db.transaction(['projects', 'labels', 'samples'], 'readonly');
  const [project, labelList, sampleList] = await Promise.all([
    tx.objectStore('projects').get(projectId),
    tx.objectStore('labels').index('byProject').getAll(projectId),
    tx.objectStore('samples').index('byProject').getAll(projectId),
  ]);
  await tx.done;
  if (!project)
    throw new ArchiveError('not-found', 'That project no longer exists; nothing was exported.');

  const labels = labelList.sort((a, b) => a.order - b.order || a.createdAt - b.createdAt);
  const labelOrder = new Map(labels.map((l, i) => [l.id, i]));
  const settingsSplits: unknown = project.settings.splits;
  const splits = resolveSplits(
    options.split ?? (isSplitSpec(settingsSplits) ? settingsSplits : undefined),
  );

  const folderNames = new UniqueNames();
  folderNames.claim(UNLABELLED_FOLDER);
  const folders = new Map<string, string>(
    labels.map((l: LabelRecord) => [
      l.id,
      folderNames.claim(sanitizeSegment(l.name, 'label', 100)),
    ]),
  );
  const labelNames = new Map(labels.map((l) => [l.id, l.name]));

  const samples = sampleList
    .sort((a, b) => a.createdAt - b.createdAt || a.name.localeCompare(b.name))
    .filter((s) => options.onlySplit === undefined || splits.get(s.id) === options.onlySplit)
    .map((s) => ({
      sample: s,
      labelIds: s.labelIds
        .filter((id) => labelOrder.has(id))
        .sort((a, b) => (labelOrder.get(a) ?? 0) - (labelOrder.get(b) ?? 0)),
    }))
    .filter((s) => s.labelIds.length > 0 || options.includeUnlabelled);

  const fileNames = new UniqueNames();
  const writer = new BlobZipWriter();
  let csv = csvRow(['file', 'labels', 'split']);
  const total = samples.length + 1;
  let done = 0;
  onProgress?.({ done, total });
  try {
    for (const { sample, labelIds } of samples) {
      throwIfAborted(signal);
      const fileName = fileNames.claim(imageFileName(sample));
      const bytes = new Uint8Array(await sample.blob.arrayBuffer());
      const targets =
        labelIds.length > 0 ? labelIds.map((id) => folders.get(id) as string) : [UNLABELLED_FOLDER];
      for (const folder of targets) writer.addStored(`${folder}/${fileName}`, bytes);
      csv += csvRow([
        `${targets[0] as string}/${fileName}`,
        labelIds.map((id) => labelNames.get(id) ?? '').join('|'),
        splits.get(sample.id) ?? '',
      ]);
      onProgress?.({ done: ++done, total });
    }
    writer.addDeflated(LABELS_CSV, new TextEncoder().encode(csv));
    const blob = writer.finish('application/zip');
    onProgress?.({ done: ++done, total });
    return blob;
  } catch (error) {
    writer.abort();
    throw error;
  }
}

/** Suggested download name: "<project name>-dataset.zip". */
export function datasetFileName(projectName: string): string {
  return `${sanitizeSegment(projectName, 'project', 100)}-dataset.zip`;
}
