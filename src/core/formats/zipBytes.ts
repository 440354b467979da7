/**
 * Little-endian reading helpers shared by the zip reader (zipReader.ts) and its ZIP64 records
 * (zip64.ts): slicing a source, 16/32/64-bit fields, and the "damaged archive" error.
 */
import { ArchiveError } from './errors';

/**
 * What is read from: a Blob, or anything that slices like one (tests read a sparse, generated
 * archive of several GiB through this without holding it).
 */
export type ZipSource = Pick<Blob, 'size' | 'slice'>;

export async function readBytes(
  file: ZipSource,
  start: number,
  end: number,
): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await file.slice(start, end).arrayBuffer());
}

export function u16(b: Uint8Array, i: number): number {
  return (b[i] ?? 0) | ((b[i + 1] ?? 0) << 8);
}

export function u32(b: Uint8Array, i: number): number {
  return (
    ((b[i] ?? 0) | ((b[i + 1] ?? 0) << 8) | ((b[i + 2] ?? 0) << 16) | ((b[i + 3] ?? 0) << 24)) >>> 0
  );
}

export const corrupt = (message: string, path?: string): ArchiveError =>
  new ArchiveError('corrupt', `The archive is damaged: ${message}.`, path);

/** A ZIP64 (8-byte) field; sizes past 2^53 (far beyond any real archive) are refused. */
export function u64(b: Uint8Array, i: number): number {
  const high = u32(b, i + 4);
  if (high >= 0x200000) throw corrupt('a ZIP64 size is out of range');
  return high * 0x100000000 + u32(b, i);
}
