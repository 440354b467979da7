/**
 * ZIP64 records, read: the ZIP64 end record (found through its locator before the classic end
 * record) and an entry's ZIP64 extra field. Written by zipWriter.ts.
 */
import { ArchiveError } from './errors';
import { corrupt, readBytes, u16, u32, u64, type ZipSource } from './zipBytes';

const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_END = 0x06064b50;
const ZIP64_END_SIZE = 56;
const MAX32 = 0xffffffff;

export interface DirectoryEnd {
  count: number;
  cdSize: number;
  cdOffset: number;
  /** Where the central directory must end: the ZIP64 end record, or the classic one. */
  directoryEnd: number;
  zip64: boolean;
}

/**
 * The central directory's place and size: from the classic end record, or, when a ZIP64 locator
 * precedes it, from the ZIP64 end record it points to.
 */
export async function readDirectoryEnd(
  file: ZipSource,
  tail: Uint8Array,
  at: number,
  endOffset: number,
): Promise<DirectoryEnd> {
  const locator = endOffset >= 20 ? await readBytes(file, endOffset - 20, endOffset) : null;
  if (!locator || u32(locator, 0) !== SIG_ZIP64_LOCATOR) {
    return {
      count: u16(tail, at + 10),
      cdSize: u32(tail, at + 12),
      cdOffset: u32(tail, at + 16),
      directoryEnd: endOffset,
      zip64: false,
    };
  }
  if (u32(locator, 4) !== 0 || u32(locator, 16) > 1) {
    throw new ArchiveError('unsupported-zip', 'Multi-part (split) zip archives are not supported.');
  }
  const recordOffset = u64(locator, 8);
  if (recordOffset + ZIP64_END_SIZE > endOffset - 20) {
    throw corrupt('the ZIP64 end record lies outside the file');
  }
  const record = await readBytes(file, recordOffset, recordOffset + ZIP64_END_SIZE);
  if (u32(record, 0) !== SIG_ZIP64_END) throw corrupt('the ZIP64 end record is missing');
  if (u32(record, 16) !== 0 || u32(record, 20) !== 0) {
    throw new ArchiveError('unsupported-zip', 'Multi-part (split) zip archives are not supported.');
  }
  const count = u64(record, 32);
  if (u64(record, 24) !== count) {
    throw new ArchiveError('unsupported-zip', 'Multi-part (split) zip archives are not supported.');
  }
  return {
    count,
    cdSize: u64(record, 40),
    cdOffset: u64(record, 48),
    directoryEnd: recordOffset,
    zip64: true,
  };
}

/**
 * An entry's sizes and header offset: the 32-bit fields, with those set to 0xffffffff read from
 * its ZIP64 extra field (id 1), in the order the format fixes: size, compressed size, offset.
 */
export function entrySizes(
  cd: Uint8Array,
  p: number,
  extra: Uint8Array,
  name: string,
): { size: number; compressedSize: number; localHeaderOffset: number } {
  let compressedSize = u32(cd, p + 20);
  let size = u32(cd, p + 24);
  let localHeaderOffset = u32(cd, p + 42);
  if (size !== MAX32 && compressedSize !== MAX32 && localHeaderOffset !== MAX32) {
    return { size, compressedSize, localHeaderOffset };
  }
  let q = 0;
  while (q + 4 <= extra.length && u16(extra, q) !== 1) q += 4 + u16(extra, q + 2);
  if (q + 4 > extra.length) throw corrupt(`${name} has no ZIP64 sizes`, name);
  const end = q + 4 + u16(extra, q + 2);
  let r = q + 4;
  const next = (): number => {
    if (r + 8 > end || end > extra.length) throw corrupt(`${name} has short ZIP64 sizes`, name);
    const value = u64(extra, r);
    r += 8;
    return value;
  };
  if (size === MAX32) size = next();
  if (compressedSize === MAX32) compressedSize = next();
  if (localHeaderOffset === MAX32) localHeaderOffset = next();
  return { size, compressedSize, localHeaderOffset };
}
