/**
 * Maps dropped folder trees onto labels. A folder dropped on the board becomes labels:
 *  - `root/sub/.../file`: label `sub` (one label per first-level sub-folder, created or reused by name);
 *  - `root/file` where root has no sub-folders: label `root`;
 *  - `root/file` where root has sub-folders, or a loose file: "Unlabelled images".
 * System files (.DS_Store, Thumbs.db, dot-files) get no label (`screenFiles` in screen.ts lists
 * them as rejected before an import).
 */
export interface PathedFile {
  file: File;
  /** "/"-separated path relative to the drop, including the file name (e.g. "flowers/daisy/1.jpg"). */
  path: string;
}

export interface LabelledFile extends PathedFile {
  /** Label name from the folder tree, or null for the inbox. */
  labelName: string | null;
}

const SYSTEM_FILES = new Set(['thumbs.db', 'desktop.ini', '.ds_store']);

export function isSystemFile(path: string): boolean {
  const segments = splitPath(path);
  const name = (segments[segments.length - 1] ?? '').toLowerCase();
  return (
    SYSTEM_FILES.has(name) ||
    segments.some((s) => s.startsWith('.') && s.length > 1) ||
    segments.includes('__MACOSX')
  );
}

export function splitPath(path: string): string[] {
  return path.split(/[\\/]+/).filter((s) => s.length > 0 && s !== '.');
}

export function labelsFromFolders(files: PathedFile[]): LabelledFile[] {
  const visible = files.filter((f) => !isSystemFile(f.path));
  const rootsWithSubfolders = new Set<string>();
  for (const f of visible) {
    const parts = splitPath(f.path);
    if (parts.length >= 3 && parts[0]) rootsWithSubfolders.add(parts[0]);
  }
  return visible.map((f) => {
    const parts = splitPath(f.path);
    let labelName: string | null = null;
    if (parts.length >= 3) labelName = parts[1] ?? null;
    else if (parts.length === 2 && parts[0] && !rootsWithSubfolders.has(parts[0]))
      labelName = parts[0];
    return { ...f, labelName };
  });
}
