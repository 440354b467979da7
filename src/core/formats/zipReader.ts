/**
 * Defensive zip reading straight from a Blob: the central directory is parsed and every entry is
 * vetted (names, sizes, compression ratio, overlap, totals) before a single byte is inflated;
 * entries are then read one at a time with Blob.slice, inflated with fflate's streaming `Inflate`
 * under a hard cap (the declared size) and CRC-checked. Stored entries can be handed out as
 * zero-copy Blob slices. Only what the caller asks for is ever read. ZIP64 archives (the ZIP64 end
 * record and locator, ZIP64 extra fields) read like any other; multi-part ones are refused.
 */
import { Inflate } from 'fflate';
import { ArchiveError, type ArchiveLimits } from './errors';
import { assertSafeEntryName } from './paths';
import { entrySizes, readDirectoryEnd } from './zip64';
import { corrupt, readBytes, u16, u32, type ZipSource } from './zipBytes';

export type { ZipSource } from './zipBytes';

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate. */
  compression: 0 | 8;
  compressedSize: number;
  /** Declared uncompressed size. */
  size: number;
  crc: number;
  localHeaderOffset: number;
  /** The name's bytes as stored (UTF-8, or a code page for old zips). */
  rawName: Uint8Array;
  isDirectory: boolean;
}

export interface ZipIndex {
  /** Entries by name (directory entries excluded). */
  entries: Map<string, ZipEntry>;
  /** Offset of the central directory: every entry's data must end before it. */
  centralDirectoryOffset: number;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_END = 0x06054b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
const INFLATE_CHUNK = 16 * 1024;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** Incremental CRC-32 (zip's checksum): pass the previous result to continue. */
export function crc32(bytes: Uint8Array, previous = 0): number {
  let c = (previous ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    c = (CRC_TABLE[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}

function decodeName(bytes: Uint8Array, utf8: boolean): string {
  if (utf8) {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new ArchiveError(
        'unsafe-path',
        'The archive contains a file name that is not valid UTF-8.',
      );
    }
  }
  // Pre-UTF-8 zips use code page 437; ASCII (all Loupe writes) reads the same. Latin-1 keeps
  // anything else readable enough for a warning.
  return new TextDecoder('latin1').decode(bytes);
}

async function findEnd(
  file: ZipSource,
): Promise<{ tail: Uint8Array; at: number; tailStart: number }> {
  const size = file.size;
  const tailStart = Math.max(0, size - EOCD_SIZE - MAX_COMMENT);
  const tail = await readBytes(file, tailStart, size);
  let loose = -1;
  for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
    if (u32(tail, i) !== SIG_END) continue;
    // Exact fit (comment runs to the end of the file) is the real record; remember a loose one.
    if (i + EOCD_SIZE + u16(tail, i + 20) === tail.length) return { tail, at: i, tailStart };
    if (loose < 0) loose = i;
  }
  if (loose >= 0) return { tail, at: loose, tailStart };
  const head = await readBytes(file, 0, Math.min(4, size));
  if (head.length === 4 && u32(head, 0) === SIG_LOCAL) {
    throw new ArchiveError(
      'truncated',
      'The archive is incomplete: its end is missing (an interrupted download or copy?). Export it again.',
    );
  }
  throw new ArchiveError(
    'not-a-zip',
    'This file is not a Loupe project archive (it is not a zip file).',
  );
}

/** Reads and vets the central directory. Nothing is inflated here. */
export async function readZipIndex(file: ZipSource, limits: ArchiveLimits): Promise<ZipIndex> {
  if (file.size > limits.maxArchiveBytes) {
    throw new ArchiveError(
      'too-large',
      `The archive is ${file.size} bytes; the limit is ${limits.maxArchiveBytes} bytes.`,
    );
  }
  if (file.size < EOCD_SIZE) {
    const head = await readBytes(file, 0, Math.min(4, file.size));
    if (head.length === 4 && u32(head, 0) === SIG_LOCAL) {
      throw new ArchiveError('truncated', 'The archive is incomplete: it ends after a few bytes.');
    }
    throw new ArchiveError(
      'not-a-zip',
      'This file is not a Loupe project archive (it is not a zip file).',
    );
  }
  const { tail, at, tailStart } = await findEnd(file);
  const endOffset = tailStart + at;
  if (u16(tail, at + 4) !== 0 || u16(tail, at + 6) !== 0) {
    throw new ArchiveError('unsupported-zip', 'Multi-part (split) zip archives are not supported.');
  }
  const {
    count: declaredCount,
    cdSize,
    cdOffset,
    directoryEnd,
    zip64,
  } = await readDirectoryEnd(file, tail, at, endOffset);
  if (cdOffset + cdSize > directoryEnd) {
    throw new ArchiveError(
      'truncated',
      'The archive is incomplete or damaged: its file list points past the end of the file.',
    );
  }
  const cd = await readBytes(file, cdOffset, cdOffset + cdSize);
  const entries = new Map<string, ZipEntry>();
  const all: ZipEntry[] = [];
  let total = 0;
  let p = 0;
  while (p < cd.length) {
    if (p + 46 > cd.length || u32(cd, p) !== SIG_CENTRAL) throw corrupt('bad file list entry');
    if (all.length >= limits.maxEntries) {
      throw new ArchiveError(
        'too-large',
        `The archive holds more than ${limits.maxEntries} files; that is over the limit.`,
      );
    }
    const flags = u16(cd, p + 8);
    const method = u16(cd, p + 10);
    const crc = u32(cd, p + 16);
    const nameLength = u16(cd, p + 28);
    const extraLength = u16(cd, p + 30);
    const commentLength = u16(cd, p + 32);
    const next = p + 46 + nameLength + extraLength + commentLength;
    if (next > cd.length) throw corrupt('file list entry runs past its end');
    const rawName = cd.slice(p + 46, p + 46 + nameLength);
    const name = decodeName(rawName, (flags & 0x800) !== 0);
    const { size, compressedSize, localHeaderOffset } = entrySizes(
      cd,
      p,
      cd.subarray(p + 46 + nameLength, p + 46 + nameLength + extraLength),
      name,
    );
    p = next;

    assertSafeEntryName(name);
    if (flags & 0x1) {
      throw new ArchiveError(
        'unsupported-zip',
        `${name} is encrypted; Loupe archives never are.`,
        name,
      );
    }
    if (method !== 0 && method !== 8) {
      throw new ArchiveError(
        'unsupported-zip',
        `${name} uses compression method ${method}; only stored and deflate are supported.`,
        name,
      );
    }
    if (method === 0 && size !== compressedSize) {
      throw corrupt(`${name} is stored but its sizes disagree`, name);
    }
    if (size > limits.maxEntryBytes) {
      throw new ArchiveError(
        'too-large',
        `${name} would be ${size} bytes uncompressed; single files are limited to ${limits.maxEntryBytes} bytes.`,
        name,
      );
    }
    if (
      size >= limits.ratioMinBytes &&
      size / Math.max(compressedSize, 1) > limits.maxCompressionRatio
    ) {
      throw new ArchiveError(
        'zip-bomb',
        `${name} claims to expand ${Math.round(size / Math.max(compressedSize, 1))}x ` +
          `(${compressedSize} -> ${size} bytes); archives over ${limits.maxCompressionRatio}x are refused as zip bombs.`,
        name,
      );
    }
    total += size;
    if (total > limits.maxTotalBytes) {
      throw new ArchiveError(
        'too-large',
        `The archive would expand to more than ${limits.maxTotalBytes} bytes; that is over the limit.`,
        name,
      );
    }
    if (localHeaderOffset + 30 + nameLength + compressedSize > cdOffset) {
      throw corrupt(`${name} lies outside the data area`, name);
    }
    const entry: ZipEntry = {
      name,
      compression: method,
      compressedSize,
      size,
      crc,
      localHeaderOffset,
      rawName,
      isDirectory: name.endsWith('/'),
    };
    all.push(entry);
    if (entry.isDirectory) {
      if (size !== 0) throw corrupt(`directory ${name} has contents`, name);
      continue;
    }
    if (entries.has(name)) {
      throw new ArchiveError(
        'duplicate-entry',
        `The archive contains ${name} twice; it was not made by Loupe.`,
        name,
      );
    }
    entries.set(name, entry);
  }
  if ((zip64 ? all.length : all.length % 0x10000) !== declaredCount) {
    throw corrupt('the file count does not match');
  }
  // Overlapping entries (several names sharing one compressed stream) are a zip bomb technique.
  const sorted = [...all].sort((a, b) => a.localHeaderOffset - b.localHeaderOffset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1] as ZipEntry;
    const cur = sorted[i] as ZipEntry;
    const prevEnd =
      prev.localHeaderOffset +
      30 +
      new TextEncoder().encode(prev.name).length +
      prev.compressedSize;
    if (prevEnd > cur.localHeaderOffset) {
      throw new ArchiveError(
        'zip-bomb',
        `${prev.name} and ${cur.name} overlap inside the archive; refused as a zip bomb.`,
        cur.name,
      );
    }
  }
  return { entries, centralDirectoryOffset: cdOffset };
}

/** Byte range of an entry's (possibly compressed) data, after checking its local header. */
async function dataRange(
  file: ZipSource,
  index: ZipIndex,
  entry: ZipEntry,
): Promise<[number, number]> {
  const nameBytes = entry.rawName;
  const headerEnd = entry.localHeaderOffset + 30 + nameBytes.length;
  if (headerEnd > file.size) {
    throw new ArchiveError(
      'truncated',
      `The archive is incomplete: ${entry.name} is cut off.`,
      entry.name,
    );
  }
  const header = await readBytes(file, entry.localHeaderOffset, headerEnd);
  if (u32(header, 0) !== SIG_LOCAL) throw corrupt(`no file header for ${entry.name}`, entry.name);
  if (u16(header, 8) !== entry.compression) {
    throw corrupt(`${entry.name} has inconsistent headers`, entry.name);
  }
  const localNameLength = u16(header, 26);
  const localExtraLength = u16(header, 28);
  const localName = header.subarray(30, 30 + localNameLength);
  if (
    localNameLength !== nameBytes.length ||
    !localName.every((byte, i) => byte === nameBytes[i])
  ) {
    throw corrupt(`${entry.name} has a different name in its file header`, entry.name);
  }
  const start = headerEnd + localExtraLength;
  const end = start + entry.compressedSize;
  if (end > index.centralDirectoryOffset) {
    throw end > file.size
      ? new ArchiveError(
          'truncated',
          `The archive is incomplete: ${entry.name} is cut off.`,
          entry.name,
        )
      : corrupt(`${entry.name} overlaps the file list`, entry.name);
  }
  return [start, end];
}

/**
 * A window of zeros before the data. fflate's streaming `Deflate` (0.8.2-0.8.3, which wrote the
 * archives of earlier Loupe versions) can emit back-references reaching before the start of the
 * data, into its zero-filled window; inflating with 32 KiB of zeros as the preset dictionary gives
 * the bytes it meant. A stream that fails without it is inflated again with it, and the result is
 * kept only if it has the declared size and checksum.
 */
const ZERO_WINDOW = new Uint8Array(32 * 1024);

function inflateCapped(compressed: Uint8Array, entry: ZipEntry): Uint8Array<ArrayBuffer> {
  try {
    return inflateOnce(compressed, entry);
  } catch (error) {
    if (!(error instanceof ArchiveError) || error.code !== 'corrupt') throw error;
    try {
      const bytes = inflateOnce(compressed, entry, ZERO_WINDOW);
      if (crc32(bytes) === entry.crc) return bytes;
    } catch {
      // The first error says what is wrong with the entry.
    }
    throw error;
  }
}

function inflateOnce(
  compressed: Uint8Array,
  entry: ZipEntry,
  dictionary?: Uint8Array,
): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(entry.size);
  let written = 0;
  let finished = false;
  const inflater = new Inflate(dictionary ? { dictionary } : {}, (chunk, final) => {
    if (written + chunk.length > out.length) {
      throw new ArchiveError(
        'zip-bomb',
        `${entry.name} expands beyond its declared ${entry.size} bytes; refused as a zip bomb.`,
        entry.name,
      );
    }
    out.set(chunk, written);
    written += chunk.length;
    if (final) finished = true;
  });
  try {
    for (let at = 0; at < compressed.length; at += INFLATE_CHUNK) {
      const end = Math.min(at + INFLATE_CHUNK, compressed.length);
      inflater.push(compressed.subarray(at, end), end === compressed.length);
    }
    if (compressed.length === 0) inflater.push(new Uint8Array(0), true);
  } catch (error) {
    if (error instanceof ArchiveError) throw error;
    const detail = error instanceof Error ? error.message : String(error);
    throw corrupt(`${entry.name} cannot be decompressed (${detail})`, entry.name);
  }
  if (!finished || written !== entry.size) {
    throw corrupt(`${entry.name} decompresses to ${written} bytes, not ${entry.size}`, entry.name);
  }
  return out;
}

export interface EntryData {
  /** Uncompressed, CRC-checked bytes. */
  bytes: Uint8Array<ArrayBuffer>;
  /**
   * The entry as a Blob of `type`: a zero-copy slice of the archive for stored entries, a new
   * Blob over `bytes` for deflated ones.
   */
  blob(type: string): Blob;
}

/**
 * Reads one entry: inflated (never past its declared size) and CRC-checked. `maxBytes` is checked
 * against the declared size first; `onTooLarge` builds that error (e.g. 'json-too-large').
 */
export async function readEntry(
  file: ZipSource,
  index: ZipIndex,
  entry: ZipEntry,
  maxBytes: number,
  onTooLarge?: (entry: ZipEntry) => ArchiveError,
): Promise<EntryData> {
  if (entry.size > maxBytes) {
    throw (
      onTooLarge?.(entry) ??
      new ArchiveError(
        'too-large',
        `${entry.name} is ${entry.size} bytes; the limit is ${maxBytes} bytes.`,
        entry.name,
      )
    );
  }
  const [start, end] = await dataRange(file, index, entry);
  const raw = await readBytes(file, start, end);
  const bytes = entry.compression === 0 ? raw : inflateCapped(raw, entry);
  if (crc32(bytes) !== entry.crc) throw corrupt(`${entry.name} fails its checksum`, entry.name);
  return {
    bytes,
    blob: (type) =>
      entry.compression === 0 ? file.slice(start, end, type) : new Blob([bytes], { type }),
  };
}
