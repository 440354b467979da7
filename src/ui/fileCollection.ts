/**
 * Turns drops, pastes and pickers into `PathedFile`s. Folder drops are walked through the File
 * System Entry API; the entries must be taken synchronously inside the drop event, so
 * `entriesFromDrop` runs first and the walk happens afterwards.
 */
import type { PathedFile } from '../core/dataset/folders';

type Source = { entry: FileSystemEntry } | { file: File };

/** Call synchronously in the drop handler: DataTransfer items die when the event returns. */
export function entriesFromDrop(dt: DataTransfer): Source[] {
  const sources: Source[] = [];
  const items = Array.from(dt.items ?? []);
  if (items.length > 0) {
    for (const item of items) {
      if (item.kind !== 'file') continue;
      const entry = typeof item.webkitGetAsEntry === 'function' ? item.webkitGetAsEntry() : null;
      if (entry) sources.push({ entry });
      else {
        const file = item.getAsFile();
        if (file) sources.push({ file });
      }
    }
    return sources;
  }
  return Array.from(dt.files ?? []).map((file) => ({ file }));
}

function readEntries(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

function entryFile(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

async function walk(entry: FileSystemEntry, prefix: string, out: PathedFile[]): Promise<void> {
  const path = prefix ? `${prefix}/${entry.name}` : entry.name;
  if (entry.isFile) {
    out.push({ file: await entryFile(entry as FileSystemFileEntry), path });
    return;
  }
  if (!entry.isDirectory) return;
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  // readEntries returns at most ~100 entries per call: keep reading until it returns none.
  for (;;) {
    const batch = await readEntries(reader);
    if (batch.length === 0) break;
    for (const child of batch) await walk(child, path, out);
  }
}

export async function filesFromSources(sources: Source[]): Promise<PathedFile[]> {
  const out: PathedFile[] = [];
  for (const source of sources) {
    if ('file' in source) out.push({ file: source.file, path: source.file.name });
    else await walk(source.entry, '', out);
  }
  return out;
}

/** Files from an <input type=file>, keeping folder paths of `webkitdirectory` pickers. */
export function filesFromInput(list: FileList | null): PathedFile[] {
  return Array.from(list ?? []).map((file) => ({
    file,
    path: file.webkitRelativePath || file.name,
  }));
}

export function hasFiles(dt: DataTransfer | null): boolean {
  return !!dt && Array.from(dt.types).includes('Files');
}
