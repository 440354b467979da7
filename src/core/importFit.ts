/**
 * Whether an import fits the room the browser gives this site (quota - usage, from
 * `navigator.storage.estimate`), decided before the import starts: files need their bytes plus
 * a thumbnail, an embedding and record overhead each; an archive the uncompressed size its file
 * list declares (`bytes`: what the restore stores, and what the inflater enforces). When the
 * browser does not say, the import goes ahead (IndexedDB still stops it cleanly when the disk is
 * full).
 */
import { formatBytes } from './imageio/validate';
import type { StorageFacts } from './storageStatus';

/** Thumbnail (WebP, <= 256 px, ~20 KB), embedding (1,280 float32 = 5 KB) and records, per image. */
export const PER_IMAGE_OVERHEAD = 32 * 1024;
/** An archive's uncompressed entries take a little more once stored (records, indexes). */
export const ARCHIVE_EXPANSION = 1.1;

export type ImportNeed =
  | { kind: 'files'; files: number; bytes: number }
  | { kind: 'archive'; name: string; bytes: number };

/** Bytes an import will take once stored. */
export function estimateImportBytes(need: ImportNeed): number {
  return need.kind === 'files'
    ? need.bytes + need.files * PER_IMAGE_OVERHEAD
    : Math.ceil(need.bytes * ARCHIVE_EXPANSION);
}

export type ImportFit =
  { fits: true } | { fits: false; needed: number; free: number; message: string };

/** The decision: fits, or a message saying what is needed, what is free and what to do. */
export function importFit(
  need: ImportNeed,
  facts: Pick<StorageFacts, 'usage' | 'quota'>,
): ImportFit {
  if (facts.usage === null || facts.quota === null || facts.quota === 0) return { fits: true };
  const free = Math.max(0, facts.quota - facts.usage);
  const needed = estimateImportBytes(need);
  if (needed <= free) return { fits: true };
  const what =
    need.kind === 'files'
      ? need.files === 1
        ? 'This file needs'
        : `These ${need.files.toLocaleString('en-US')} files need`
      : `The archive ${need.name} needs`;
  const advice =
    need.kind === 'files'
      ? 'Free space (empty the trash, delete projects you have exported) or import fewer files.'
      : 'Free space (empty the trash, delete projects you have exported) and import it again.';
  return {
    fits: false,
    needed,
    free,
    message:
      `${what} about ${formatBytes(needed)} of storage; ${formatBytes(free)} is free. ` +
      `Nothing was imported. ${advice}`,
  };
}
