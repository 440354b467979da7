/**
 * Zip writing into a Blob, ZIP64 where the archive needs it: already-compressed files (images,
 * thumbnails) are stored, everything else deflated with fflate (checked by inflating it again:
 * an entry that does not come back byte for byte is stored). Each entry is given
 * whole, so it is compressed and checksummed first and its local header carries the real sizes
 * (no data descriptors). Sizes or offsets at or past 4 GiB and counts past 65,534 switch to ZIP64
 * records (extra fields, the ZIP64 end record and locator); the threshold is injectable so tests
 * exercise that path with a few bytes. An entry whose deflate ratio would trip the reader's
 * zip-bomb check is stored instead, so nothing written here is refused on import. Output is folded
 * into intermediate Blobs every few MB, so the browser can move it out of the JS heap while a large
 * export is still being written.
 */
import { Deflate, Inflate, deflateSync } from 'fflate';
import { DEFAULT_ARCHIVE_LIMITS } from './errors';
import { crc32 } from './zipReader';

const FLUSH_BYTES = 8 * 1024 * 1024;
const PUSH_CHUNK = 1024 * 1024;
const DOS_EPOCH_MIN = Date.UTC(1980, 0, 2);
const DOS_EPOCH_MAX = Date.UTC(2099, 11, 30);
const MAX32 = 0xffffffff;
const MAX16 = 0xffff;
const FLAG_UTF8 = 0x800;

export type DeflateLevel = 1 | 6 | 9;

/** Where ZIP64 records start: sizes / offsets >= `bytes`, entry counts >= `entries`. */
export interface Zip64Threshold {
  bytes: number;
  entries: number;
}

/** The zip format's own limits: what fits the classic 32-bit / 16-bit fields. */
export const ZIP64_THRESHOLD: Readonly<Zip64Threshold> = { bytes: MAX32, entries: MAX16 };

export interface ZipWriterOptions {
  /** Tests only: a small threshold writes ZIP64 records for a tiny archive. */
  zip64Threshold?: Zip64Threshold;
  /** Deflated entries of at least `ratioMinBytes` expanding more than this are stored instead. */
  maxCompressionRatio?: number;
  ratioMinBytes?: number;
  /** Entries up to this many bytes are deflated in one call (default 32 MiB), bigger ones streamed. */
  oneCallBytes?: number;
}

interface CentralRecord {
  name: Uint8Array;
  method: 0 | 8;
  crc: number;
  compressedSize: number;
  size: number;
  offset: number;
  zip64Sizes: boolean;
}

/** Little-endian field writer over one fixed-size header. */
class Fields {
  readonly bytes: Uint8Array<ArrayBuffer>;
  private readonly view: DataView;
  private at = 0;
  constructor(length: number) {
    this.bytes = new Uint8Array(length);
    this.view = new DataView(this.bytes.buffer);
  }
  u16(value: number): this {
    this.view.setUint16(this.at, value, true);
    this.at += 2;
    return this;
  }
  u32(value: number): this {
    this.view.setUint32(this.at, value >>> 0, true);
    this.at += 4;
    return this;
  }
  u64(value: number): this {
    this.u32(value % 0x100000000);
    return this.u32(Math.floor(value / 0x100000000));
  }
  raw(bytes: Uint8Array): this {
    this.bytes.set(bytes, this.at);
    this.at += bytes.length;
    return this;
  }
}

function dosDateTime(ms: number): { time: number; date: number } {
  const d = new Date(ms);
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
    date: ((d.getFullYear() - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

/** Entries up to this size are deflated in one call (`deflateSync`), bigger ones streamed. */
const ONE_CALL_BYTES = 32 * 1024 * 1024;

/**
 * `parts` as one deflate stream, or null when that stream does not inflate back to exactly
 * `parts`. fflate's streaming `Deflate` (0.8.2-0.8.3) can emit a back-reference reaching before
 * the start of the data on some inputs (a single 64-byte float row is enough), which every
 * inflater refuses; `deflateSync` does not, so entries that fit in memory use it, and every
 * result is inflated again and compared before it is written: an entry that does not come back
 * byte for byte is stored instead (null here).
 */
function deflateParts(
  parts: readonly Uint8Array[],
  level: DeflateLevel,
  oneCallBytes: number,
): Uint8Array[] | null {
  const size = total(parts);
  let out: Uint8Array[];
  if (size <= oneCallBytes) {
    const whole = parts.length === 1 ? (parts[0] as Uint8Array) : concat(parts, size);
    out = [deflateSync(whole, { level })];
  } else {
    out = [];
    const deflater = new Deflate({ level }, (chunk) => {
      out.push(chunk);
    });
    const pieces = parts.flatMap((part) => {
      const list: Uint8Array[] = [];
      for (let at = 0; at < part.length; at += PUSH_CHUNK) {
        list.push(part.subarray(at, Math.min(at + PUSH_CHUNK, part.length)));
      }
      return list;
    });
    pieces.forEach((piece, i) => deflater.push(piece, i === pieces.length - 1));
  }
  return inflatesTo(out, parts) ? out : null;
}

function concat(parts: readonly Uint8Array[], size: number): Uint8Array {
  const whole = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    whole.set(part, at);
    at += part.length;
  }
  return whole;
}

/** Whether `deflated` inflates to exactly the bytes of `parts` (streamed, nothing buffered). */
function inflatesTo(deflated: readonly Uint8Array[], parts: readonly Uint8Array[]): boolean {
  let part = 0;
  let at = 0;
  let same = true;
  const inflater = new Inflate((chunk) => {
    let i = 0;
    while (same && i < chunk.length) {
      const current = parts[part];
      if (!current) {
        same = false; // more bytes than the entry has
        break;
      }
      const n = Math.min(chunk.length - i, current.length - at);
      for (let k = 0; k < n; k += 1) {
        if (chunk[i + k] !== current[at + k]) {
          same = false;
          break;
        }
      }
      i += n;
      at += n;
      if (at === current.length) {
        part += 1;
        at = 0;
      }
    }
  });
  try {
    deflated.forEach((chunk, i) => inflater.push(chunk, i === deflated.length - 1));
    if (deflated.length === 0) inflater.push(new Uint8Array(0), true);
  } catch {
    return false;
  }
  while (parts[part]?.length === 0) part += 1;
  return same && part === parts.length && at === 0;
}

const total = (parts: readonly Uint8Array[]): number => parts.reduce((n, p) => n + p.length, 0);

export class BlobZipWriter {
  private readonly parts: Blob[] = [];
  private pending: Uint8Array<ArrayBuffer>[] = [];
  private pendingBytes = 0;
  private offset = 0;
  private readonly central: CentralRecord[] = [];
  private finished = false;
  private readonly time: number;
  private readonly date: number;
  private readonly threshold: Zip64Threshold;
  private readonly maxRatio: number;
  private readonly ratioMinBytes: number;
  private readonly oneCallBytes: number;

  /** `mtime`: the modification time written for every entry (defaults to now). */
  constructor(mtime: number = Date.now(), options: ZipWriterOptions = {}) {
    // Zip (DOS) timestamps cover 1980-2107; keep to 1980-2099 like other writers.
    ({ time: this.time, date: this.date } = dosDateTime(
      Math.min(Math.max(mtime, DOS_EPOCH_MIN), DOS_EPOCH_MAX),
    ));
    this.threshold = options.zip64Threshold ?? ZIP64_THRESHOLD;
    this.maxRatio = options.maxCompressionRatio ?? DEFAULT_ARCHIVE_LIMITS.maxCompressionRatio;
    this.ratioMinBytes = options.ratioMinBytes ?? DEFAULT_ARCHIVE_LIMITS.ratioMinBytes;
    this.oneCallBytes = options.oneCallBytes ?? ONE_CALL_BYTES;
  }

  /** Bytes written so far (the archive's size once finished). */
  get bytesWritten(): number {
    return this.offset;
  }

  private emit(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    // Every chunk here is fflate output or a header built here: never SharedArrayBuffer-backed.
    this.pending.push(bytes as Uint8Array<ArrayBuffer>);
    this.pendingBytes += bytes.length;
    this.offset += bytes.length;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    this.parts.push(new Blob(this.pending));
    this.pending = [];
    this.pendingBytes = 0;
  }

  private addEntry(name: string, method: 0 | 8, raw: readonly Uint8Array[], data: Uint8Array[]) {
    if (this.finished) throw new Error('zip writer: the archive is already finished.');
    const nameBytes = new TextEncoder().encode(name);
    const size = total(raw);
    const compressedSize = total(data);
    const crc = raw.reduce((c, part) => crc32(part, c), 0);
    const zip64Sizes = size >= this.threshold.bytes || compressedSize >= this.threshold.bytes;
    const offset = this.offset;
    const extra = zip64Sizes ? new Fields(20).u16(1).u16(16).u64(size).u64(compressedSize) : null;
    const header = new Fields(30 + nameBytes.length + (extra?.bytes.length ?? 0))
      .u32(0x04034b50)
      .u16(zip64Sizes ? 45 : 20)
      .u16(FLAG_UTF8)
      .u16(method)
      .u16(this.time)
      .u16(this.date)
      .u32(crc)
      .u32(zip64Sizes ? MAX32 : compressedSize)
      .u32(zip64Sizes ? MAX32 : size)
      .u16(nameBytes.length)
      .u16(extra?.bytes.length ?? 0)
      .raw(nameBytes);
    if (extra) header.raw(extra.bytes);
    this.emit(header.bytes);
    for (const chunk of data) this.emit(chunk);
    this.central.push({ name: nameBytes, method, crc, compressedSize, size, offset, zip64Sizes });
  }

  /** Adds `bytes` uncompressed (for JPEG, PNG, WebP: deflate would only cost time). */
  addStored(name: string, bytes: Uint8Array): void {
    this.addEntry(name, 0, [bytes], [bytes]);
  }

  /**
   * Adds `bytes` deflated (stored instead if it would expand past the zip-bomb ratio, or if the
   * deflate stream does not inflate back to `bytes`).
   */
  addDeflated(name: string, bytes: Uint8Array, level: DeflateLevel = 6): void {
    this.addDeflatedParts(name, [bytes], level);
  }

  /** Adds several byte arrays as one deflated entry, without concatenating them first. */
  addDeflatedParts(name: string, parts: readonly Uint8Array[], level: DeflateLevel = 6): void {
    const size = total(parts);
    const deflated = deflateParts(parts, level, this.oneCallBytes);
    const store =
      deflated === null ||
      (size >= this.ratioMinBytes && size / Math.max(total(deflated), 1) > this.maxRatio);
    if (store) this.addEntry(name, 0, parts, [...parts]);
    else this.addEntry(name, 8, parts, deflated);
  }

  private centralHeader(entry: CentralRecord): Uint8Array {
    const zip64Offset = entry.offset >= this.threshold.bytes;
    const extraFields = (entry.zip64Sizes ? 2 : 0) + (zip64Offset ? 1 : 0);
    const extra =
      extraFields > 0 ? new Fields(4 + 8 * extraFields).u16(1).u16(8 * extraFields) : null;
    if (extra && entry.zip64Sizes) extra.u64(entry.size).u64(entry.compressedSize);
    if (extra && zip64Offset) extra.u64(entry.offset);
    const version = extra ? 45 : 20;
    const header = new Fields(46 + entry.name.length + (extra?.bytes.length ?? 0))
      .u32(0x02014b50)
      .u16(version)
      .u16(version)
      .u16(FLAG_UTF8)
      .u16(entry.method)
      .u16(this.time)
      .u16(this.date)
      .u32(entry.crc)
      .u32(entry.zip64Sizes ? MAX32 : entry.compressedSize)
      .u32(entry.zip64Sizes ? MAX32 : entry.size)
      .u16(entry.name.length)
      .u16(extra?.bytes.length ?? 0)
      .u16(0) // comment
      .u16(0) // disk
      .u16(0) // internal attributes
      .u32(0) // external attributes
      .u32(zip64Offset ? MAX32 : entry.offset)
      .raw(entry.name);
    if (extra) header.raw(extra.bytes);
    return header.bytes;
  }

  /** Writes the central directory (and ZIP64 end records when needed) and returns the archive. */
  finish(type = 'application/zip'): Blob {
    if (this.finished) throw new Error('zip writer: the archive is already finished.');
    const cdOffset = this.offset;
    for (const entry of this.central) this.emit(this.centralHeader(entry));
    const cdSize = this.offset - cdOffset;
    const count = this.central.length;
    const zip64 =
      count >= this.threshold.entries ||
      cdSize >= this.threshold.bytes ||
      cdOffset >= this.threshold.bytes;
    if (zip64) {
      const recordOffset = this.offset;
      this.emit(
        new Fields(56)
          .u32(0x06064b50)
          .u64(44)
          .u16(45)
          .u16(45)
          .u32(0)
          .u32(0)
          .u64(count)
          .u64(count)
          .u64(cdSize)
          .u64(cdOffset).bytes,
      );
      this.emit(new Fields(20).u32(0x07064b50).u32(0).u64(recordOffset).u32(1).bytes);
    }
    this.emit(
      new Fields(22)
        .u32(0x06054b50)
        .u16(0)
        .u16(0)
        .u16(zip64 ? MAX16 : count)
        .u16(zip64 ? MAX16 : count)
        .u32(zip64 ? MAX32 : cdSize)
        .u32(zip64 ? MAX32 : cdOffset)
        .u16(0).bytes,
    );
    this.flush();
    this.finished = true;
    return new Blob(this.parts, { type });
  }

  /** Stops writing (after an error or cancel); the writer is unusable afterwards. */
  abort(): void {
    this.finished = true;
    this.pending = [];
    this.parts.length = 0;
    this.central.length = 0;
  }
}
