/**
 * The `.loupe` project archive layout: entry names, the format version and type, and the app
 * version written into `manifest.json` as `source`. Shared by the writer (archive.ts) and the one
 * reader (restore.ts); README-level documentation of every field lives in archive.ts.
 */
import { version as packageVersion } from '../../../package.json';
import { sanitizeSegment, UniqueNames } from './paths';

export const ARCHIVE_TYPE = 'loupe-project';
/** Written into every new archive; readers migrate anything older up to it. */
export const ARCHIVE_VERSION = 1;
export const ARCHIVE_MIME = 'application/zip';
export const ARCHIVE_EXTENSION = '.loupe';
export const LOUPE_VERSION: string = packageVersion;

export const MANIFEST_PATH = 'manifest.json';
export const PROJECT_PATH = 'project.json';
export const SAMPLES_PATH = 'samples.json';
export const EMBEDDINGS_INDEX_PATH = 'embeddings/index.json';
export const MODELS_INDEX_PATH = 'models/index.json';

/** Prefixes of binaryJson blobs that project.json / samples.json may carry (rare: typed arrays in settings). */
export const PROJECT_BLOB_PREFIX = 'project/';
export const SAMPLES_BLOB_PREFIX = 'samples/';
export const EMBEDDINGS_BLOB_PREFIX = 'embeddings/data/';

/** Allocates portable, unique entry names under one folder ("images/", "models/", ...). */
export class EntryNames {
  private readonly names = new UniqueNames();
  constructor(private readonly folder: string) {}

  /** Keeps `name` (e.g. "index.json") from ever being handed out. */
  reserve(name: string): void {
    this.names.claim(name);
  }

  /** `<folder><sanitised stem>.<ext>` (or `<folder><stem>` when `ext` is empty), unique. */
  claim(stem: string, ext: string): string {
    const base = sanitizeSegment(stem, 'file', 80);
    return `${this.folder}${this.names.claim(ext ? `${base}.${ext}` : base)}`;
  }
}

/** Suggested download name for a project archive: "<project name>.loupe". */
export function archiveFileName(projectName: string): string {
  return `${sanitizeSegment(projectName, 'project', 100)}${ARCHIVE_EXTENSION}`;
}
