/**
 * Streaming zip writing into a Blob with fflate's `Zip`: already-compressed files (images,
 * thumbnails) go in with `ZipPassThrough` (stored), everything else with `ZipDeflate`. Output
 * chunks are folded into intermediate Blobs every few MB, so the browser can move them out of the
 * JS heap while a large export is still being written.
 */
import { Zip, ZipDeflate, ZipPassThrough } from 'fflate';

const FLUSH_BYTES = 8 * 1024 * 1024;
const PUSH_CHUNK = 1024 * 1024;
const DOS_EPOCH_MIN = Date.UTC(1980, 0, 2);
const DOS_EPOCH_MAX = Date.UTC(2099, 11, 30);

export type DeflateLevel = 1 | 6 | 9;

export class BlobZipWriter {
  private readonly zip: Zip;
  private readonly parts: Blob[] = [];
  private pending: Uint8Array<ArrayBuffer>[] = [];
  private pendingBytes = 0;
  private failure: Error | null = null;
  private finished = false;
  private readonly mtime: number;

  /** `mtime`: the modification time written for every entry (defaults to now). */
  constructor(mtime: number = Date.now()) {
    // Zip (DOS) timestamps cover 1980-2107; fflate throws outside 1980-2099.
    this.mtime = Math.min(Math.max(mtime, DOS_EPOCH_MIN), DOS_EPOCH_MAX);
    this.zip = new Zip((error, chunk, final) => {
      if (error) {
        this.failure = error;
        return;
      }
      // fflate never hands out SharedArrayBuffer-backed chunks.
      this.pending.push(chunk as Uint8Array<ArrayBuffer>);
      this.pendingBytes += chunk.length;
      if (this.pendingBytes >= FLUSH_BYTES || final) this.flush();
      if (final) this.finished = true;
    });
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    this.parts.push(new Blob(this.pending));
    this.pending = [];
    this.pendingBytes = 0;
  }

  private check(): void {
    if (this.failure) throw this.failure;
  }

  /** Adds `bytes` uncompressed (for JPEG, PNG, WebP: deflate would only cost time). */
  addStored(name: string, bytes: Uint8Array): void {
    const file = new ZipPassThrough(name);
    file.mtime = this.mtime;
    this.zip.add(file);
    file.push(bytes, true);
    this.check();
  }

  /** Adds `bytes` deflated, pushed in 1 MB pieces. */
  addDeflated(name: string, bytes: Uint8Array, level: DeflateLevel = 6): void {
    const file = new ZipDeflate(name, { level });
    file.mtime = this.mtime;
    this.zip.add(file);
    if (bytes.length === 0) file.push(bytes, true);
    for (let at = 0; at < bytes.length; at += PUSH_CHUNK) {
      const end = Math.min(at + PUSH_CHUNK, bytes.length);
      file.push(bytes.subarray(at, end), end === bytes.length);
    }
    this.check();
  }

  /** Adds several byte arrays as one deflated entry, without concatenating them first. */
  addDeflatedParts(name: string, parts: readonly Uint8Array[], level: DeflateLevel = 6): void {
    const file = new ZipDeflate(name, { level });
    file.mtime = this.mtime;
    this.zip.add(file);
    const nonEmpty = parts.filter((p) => p.length > 0);
    if (nonEmpty.length === 0) file.push(new Uint8Array(0), true);
    nonEmpty.forEach((part, i) => file.push(part, i === nonEmpty.length - 1));
    this.check();
  }

  /** Writes the central directory and returns the archive. */
  finish(type = 'application/zip'): Blob {
    this.zip.end();
    this.check();
    if (!this.finished) throw new Error('zip writer: the archive did not finish.');
    return new Blob(this.parts, { type });
  }

  /** Stops writing (after an error or cancel); the writer is unusable afterwards. */
  abort(): void {
    this.zip.terminate();
    this.pending = [];
    this.parts.length = 0;
  }
}
