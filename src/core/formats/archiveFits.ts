/**
 * The import limits, applied on the export side: a project archive is refused before it is
 * written (with the size and what to do instead) when the reader would refuse it, so every
 * archive Loupe writes imports back. Archive and total sizes have no such check: archives are
 * ZIP64 when they need to be and the reader's limits there are far past any browser's storage.
 * What remains are per-entry caps (one JSON document, one binary file) and the entry count.
 */
import { formatBytes } from '../imageio/validate';
import { ArchiveError, type ArchiveLimits } from './errors';
import { BlobZipWriter, type DeflateLevel, type ZipWriterOptions } from './zipWriter';

export interface ArchiveEntryPlan {
  path: string;
  /** Uncompressed size. */
  bytes: number;
  /** JSON documents have their own (smaller) cap. */
  json: boolean;
}

const INSTEAD =
  'Export the dataset instead (images in label folders), or move some images to another project.';

/** The error for one entry over its cap, or null when it fits. */
export function entryOverLimit(
  entry: ArchiveEntryPlan,
  limits: Pick<ArchiveLimits, 'maxJsonBytes' | 'maxEntryBytes'>,
): ArchiveError | null {
  const cap = entry.json ? limits.maxJsonBytes : limits.maxEntryBytes;
  if (entry.bytes <= cap) return null;
  return new ArchiveError(
    'too-large',
    `This project is too large for one archive: its ${entry.path} would be ` +
      `${formatBytes(entry.bytes)}, and archives can hold at most ${formatBytes(cap)} in one ` +
      `file. Nothing was exported. ${INSTEAD}`,
    entry.path,
  );
}

/** The error for more entries than an archive may hold, or null when they fit. */
export function countOverLimit(
  entries: number,
  limits: Pick<ArchiveLimits, 'maxEntries'>,
): ArchiveError | null {
  if (entries <= limits.maxEntries) return null;
  return new ArchiveError(
    'too-large',
    `This project is too large for one archive: it needs ${entries.toLocaleString('en-US')} ` +
      `files and archives hold at most ${limits.maxEntries.toLocaleString('en-US')}. ` +
      `Nothing was exported. ${INSTEAD}`,
  );
}

/** Throws the first limit the planned archive breaks (see `entryOverLimit`, `countOverLimit`). */
export function assertArchiveFits(
  plan: { entries: number; largest: readonly ArchiveEntryPlan[] },
  limits: ArchiveLimits,
): void {
  const error =
    countOverLimit(plan.entries, limits) ??
    plan.largest.map((entry) => entryOverLimit(entry, limits)).find((e) => e !== null);
  if (error) throw error;
}

/**
 * A zip writer that refuses, before adding it, an entry the reader would refuse (too large for
 * its kind, or one entry too many). Paths ending in ".json" are JSON documents.
 */
export class CheckedZipWriter extends BlobZipWriter {
  private entries = 0;
  constructor(
    mtime: number,
    private readonly limits: ArchiveLimits,
    options: ZipWriterOptions = {},
  ) {
    super(mtime, {
      maxCompressionRatio: limits.maxCompressionRatio,
      ratioMinBytes: limits.ratioMinBytes,
      ...options,
    });
  }

  private check(path: string, bytes: number): void {
    const error =
      entryOverLimit({ path, bytes, json: path.endsWith('.json') }, this.limits) ??
      countOverLimit(this.entries + 1, this.limits);
    if (error) throw error;
    this.entries++;
  }

  override addStored(name: string, bytes: Uint8Array): void {
    this.check(name, bytes.length);
    super.addStored(name, bytes);
  }

  override addDeflatedParts(
    name: string,
    parts: readonly Uint8Array[],
    level?: DeflateLevel,
  ): void {
    this.check(
      name,
      parts.reduce((n, p) => n + p.length, 0),
    );
    super.addDeflatedParts(name, parts, level);
  }
}
