/**
 * Errors and limits of archive import: one `ArchiveError` class whose `code` says what is wrong
 * (for the UI and tests) and whose message says it in a sentence a user can act on, plus the
 * default safety limits every reader applies before and while it inflates anything.
 */

export type ArchiveErrorCode =
  /** The bytes are not a zip file at all. */
  | 'not-a-zip'
  /** A zip whose end (central directory) or entry data is cut off. */
  | 'truncated'
  /** A zip whose structure or checksums are inconsistent. */
  | 'corrupt'
  /** Encrypted, multi-disk or non-deflate entries. */
  | 'unsupported-zip'
  /** Suspicious compression ratio, overlapping entries, or an entry inflating past its size. */
  | 'zip-bomb'
  /** The archive or its total uncompressed size is over the limit. */
  | 'too-large'
  /** `../`, absolute, backslash or otherwise unsafe entry names. */
  | 'unsafe-path'
  /** Two zip entries with the same name. */
  | 'duplicate-entry'
  /** A required or referenced file is not in the archive. */
  | 'missing-file'
  /** The manifest is not a Loupe project manifest. */
  | 'wrong-type'
  /** The archive was written by a newer Loupe. */
  | 'newer-version'
  /** The archive's format version is not one this app can read or migrate. */
  | 'unsupported-version'
  /** A JSON entry is not valid UTF-8 JSON, or nests too deeply. */
  | 'bad-json'
  /** A JSON entry is over the per-entry size limit. */
  | 'json-too-large'
  /** `__proto__`, `constructor` or `prototype` as a key in JSON. */
  | 'forbidden-key'
  /** Wrong dtype, byte length or shape of an embedding or model tensor. */
  | 'bad-tensor'
  /** NaN or Infinity in embeddings or model weights. */
  | 'non-finite'
  /** A label (or project) name that is too long or otherwise unusable. */
  | 'bad-label'
  /** Two records share an id (or two labels share a name). */
  | 'duplicate-id'
  /** A record refers to a label or sample id the archive does not define. */
  | 'unknown-reference'
  /** A record is missing fields or has fields of the wrong type. */
  | 'invalid-record'
  /** An image's bytes do not match its recorded SHA-256 or size. */
  | 'checksum-mismatch'
  /** An image or thumbnail entry is not an image the app accepts. */
  | 'bad-image'
  /** The project to export or replace does not exist. */
  | 'not-found';

export class ArchiveError extends Error {
  readonly code: ArchiveErrorCode;
  /** The zip entry (or JSON path) the problem was found in, when there is one. */
  readonly path: string | undefined;

  constructor(code: ArchiveErrorCode, message: string, path?: string) {
    super(message);
    this.name = 'ArchiveError';
    this.code = code;
    this.path = path;
  }
}

export interface ArchiveLimits {
  /** Largest archive file accepted, in bytes. */
  maxArchiveBytes: number;
  /** Largest sum of declared uncompressed sizes over all entries. */
  maxTotalBytes: number;
  /** Largest number of zip entries. */
  maxEntries: number;
  /** Largest uncompressed JSON entry. */
  maxJsonBytes: number;
  /** Largest uncompressed size of any single entry. */
  maxEntryBytes: number;
  /** Highest accepted uncompressed / compressed ratio for entries over `ratioMinBytes`. */
  maxCompressionRatio: number;
  /** Entries smaller than this are exempt from the ratio check (tiny files compress wildly). */
  ratioMinBytes: number;
  /** Longest label or project name accepted. */
  maxNameLength: number;
}

const MiB = 1024 * 1024;
const TiB = 1024 * 1024 * MiB;

/**
 * The archive and total limits are far past what a browser's storage holds (archives are ZIP64 when
 * they need it), so every project the app can store exports to an archive it reads back; the
 * zip-bomb guards are the per-entry cap, the compression ratio and inflating under the declared
 * size. The entry, JSON and per-entry limits are checked by export too, before anything is written.
 */
export const DEFAULT_ARCHIVE_LIMITS: Readonly<ArchiveLimits> = {
  maxArchiveBytes: TiB,
  maxTotalBytes: TiB,
  maxEntries: 2_000_000,
  maxJsonBytes: 50 * MiB,
  maxEntryBytes: 512 * MiB,
  maxCompressionRatio: 100,
  ratioMinBytes: MiB,
  maxNameLength: 200,
};

export function resolveLimits(partial?: Partial<ArchiveLimits>): ArchiveLimits {
  return { ...DEFAULT_ARCHIVE_LIMITS, ...partial };
}

/** Throws the signal's reason (an AbortError unless the caller gave another) once aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  signal?.throwIfAborted();
}
