/**
 * Screens dropped or picked files before the import: operating-system files (.DS_Store,
 * Thumbs.db, desktop.ini, dot-files, __MACOSX) and archives (.zip, .loupe) are set aside with a
 * reason the user sees in the import notice, rather than skipped silently or decoded and refused
 * as "not an image".
 */
import type { RejectedFile } from './importer';
import { isSystemFile, splitPath, type PathedFile } from './folders';

export const SYSTEM_FILE_REASON = 'system file, not an image (skipped)';

export const ARCHIVE_FILE_REASON =
  'an archive, not an image: a Loupe project (.loupe) is opened with "Import project" in the ' +
  'project list; for a zip of photos, unzip it and drop the folder (its sub-folders become labels)';

const ARCHIVE_EXTENSIONS = ['.zip', '.loupe'];
const ARCHIVE_TYPES = new Set(['application/zip', 'application/x-zip-compressed']);

export function isArchiveFile(file: PathedFile): boolean {
  const name = (splitPath(file.path).pop() ?? file.file.name).toLowerCase();
  return ARCHIVE_EXTENSIONS.some((ext) => name.endsWith(ext)) || ARCHIVE_TYPES.has(file.file.type);
}

export interface ScreenedFiles {
  /** Files that go on to the import (each still checked there). */
  files: PathedFile[];
  rejected: RejectedFile[];
}

export function screenFiles(files: readonly PathedFile[]): ScreenedFiles {
  const out: ScreenedFiles = { files: [], rejected: [] };
  for (const f of files) {
    if (isSystemFile(f.path)) out.rejected.push({ name: f.path, reason: SYSTEM_FILE_REASON });
    else if (isArchiveFile(f)) out.rejected.push({ name: f.path, reason: ARCHIVE_FILE_REASON });
    else out.files.push(f);
  }
  return out;
}
