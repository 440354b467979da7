/**
 * Archives of any size: ZIP64 written and read (forced with a tiny threshold, so a few KB take the
 * path a 4 GiB export takes), a generated multi-GiB archive read without holding it, and the
 * export refusing, before writing, what import would refuse.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { exportProjectArchive, readProjectArchive } from '../../src/core/formats';
import { entryOverLimit } from '../../src/core/formats/archiveFits';
import { ArchiveError, DEFAULT_ARCHIVE_LIMITS } from '../../src/core/formats/errors';
import { crc32, readEntry, readZipIndex, type ZipSource } from '../../src/core/formats/zipReader';
import { BlobZipWriter } from '../../src/core/formats/zipWriter';
import { openLoupeDb, type LoupeDatabase } from '../../src/core/storage/db';
import { writeRestoredProject } from '../../src/core/storage/restoreProject';
import { seedProject, unzipBlob } from '../fixtures/formats';
import { countByProject } from '../fixtures/records';

let db: LoupeDatabase;
beforeEach(async () => {
  db = await openLoupeDb();
  return () => db.close();
});

const enc = new TextEncoder();
const NOW = 1_700_000_000_000;

/** Whether the archive ends with a ZIP64 locator + end record (signature 0x07064b50). */
async function hasZip64End(blob: Blob): Promise<boolean> {
  const tail = new Uint8Array(await blob.slice(blob.size - 42, blob.size - 38).arrayBuffer());
  return tail.every((b, i) => b === [0x50, 0x4b, 0x06, 0x07][i]);
}

describe('ZIP64 archives', () => {
  it('an export written with forced ZIP64 reads back identically', async () => {
    const seeded = await seedProject(db);
    const plain = await exportProjectArchive(db, seeded.project.id, { now: () => NOW });
    const zip64 = await exportProjectArchive(db, seeded.project.id, {
      now: () => NOW,
      zip64Threshold: { bytes: 1, entries: 1 },
    });
    expect(await hasZip64End(plain)).toBe(false);
    expect(await hasZip64End(zip64)).toBe(true);
    expect(zip64.size).toBeGreaterThan(plain.size);

    // fflate (an independent reader) sees the same files in both.
    expect(await unzipBlob(zip64)).toEqual(await unzipBlob(plain));
    // And the app's own reader restores the same project from it.
    const index = await readZipIndex(zip64, DEFAULT_ARCHIVE_LIMITS);
    const files = await unzipBlob(plain);
    expect([...index.entries.keys()].sort()).toEqual(Object.keys(files).sort());
    for (const [name, entry] of index.entries) {
      expect((await readEntry(zip64, index, entry, Infinity)).bytes).toEqual(files[name]);
    }
    const restored = await readProjectArchive(zip64);
    const copy = await writeRestoredProject(db, restored, { mode: 'new', name: 'Copy' });
    expect(await countByProject(db, copy.id)).toEqual(await countByProject(db, seeded.project.id));
  });

  it('switches to ZIP64 only where sizes, offsets or the count pass the threshold', async () => {
    const writer = new BlobZipWriter(NOW, { zip64Threshold: { bytes: 600, entries: 4 } });
    const small = enc.encode('small');
    const big = new Uint8Array(700).map((_, i) => (i * 31) % 251);
    writer.addStored('a.txt', small);
    writer.addStored('big.bin', big); // ZIP64 sizes
    writer.addDeflated('after.txt', small); // ZIP64 offset (past 600 bytes)
    writer.addDeflatedParts('parts.bin', [big.subarray(0, 300), big.subarray(300)]);
    const blob = writer.finish();
    expect(await hasZip64End(blob)).toBe(true); // 4 entries >= threshold
    const index = await readZipIndex(blob, DEFAULT_ARCHIVE_LIMITS);
    const read = async (name: string): Promise<Uint8Array> =>
      (await readEntry(blob, index, index.entries.get(name)!, Infinity)).bytes;
    expect(await read('a.txt')).toEqual(small);
    expect(await read('big.bin')).toEqual(big);
    expect(await read('after.txt')).toEqual(small);
    expect(await read('parts.bin')).toEqual(big);
    expect(index.entries.get('after.txt')!.localHeaderOffset).toBeGreaterThan(600);
  });

  it('stores what would deflate past the zip-bomb ratio, so its own archives always import', async () => {
    const writer = new BlobZipWriter(NOW);
    const zeros = new Uint8Array(2 * 1024 * 1024);
    writer.addDeflated('zeros.bin', zeros);
    writer.addDeflated('text.json', enc.encode('{"a": 1}'));
    const blob = writer.finish();
    const index = await readZipIndex(blob, DEFAULT_ARCHIVE_LIMITS);
    expect(index.entries.get('zeros.bin')?.compression).toBe(0);
    expect(index.entries.get('text.json')?.compression).toBe(8);
  });
});

/** A zip source of `size` bytes: zeros except the given segments; only sliced ranges are built. */
function sparse(size: number, segments: { at: number; bytes: Uint8Array }[]): ZipSource {
  return {
    size,
    slice(start = 0, end = size) {
      const out = new Uint8Array(Math.max(0, Math.min(end, size) - start));
      for (const { at, bytes } of segments) {
        const from = Math.max(at, start);
        const to = Math.min(at + bytes.length, start + out.length);
        if (from < to) out.set(bytes.subarray(from - at, to - at), from - start);
      }
      return new Blob([out]);
    },
  };
}

class Bytes {
  private readonly parts: number[] = [];
  u16(v: number): this {
    this.parts.push(v & 0xff, (v >>> 8) & 0xff);
    return this;
  }
  u32(v: number): this {
    return this.u16(v & 0xffff).u16(Math.floor(v / 0x10000) & 0xffff);
  }
  u64(v: number): this {
    return this.u32(v % 0x100000000).u32(Math.floor(v / 0x100000000));
  }
  raw(b: Uint8Array): this {
    this.parts.push(...b);
    return this;
  }
  get bytes(): Uint8Array {
    return new Uint8Array(this.parts);
  }
}

describe('a multi-GiB ZIP64 archive, generated, never on disk', () => {
  it('indexes 5 GB of entries and reads the file that lies past 4 GiB', async () => {
    // Ten 500 MB stored entries (zeros) and then manifest.json at about 5 GB: over the former
    // limits (2 GiB uncompressed, 4 GiB archive, no ZIP64), under every limit now.
    const BIG = 500_000_000;
    const names = Array.from({ length: 10 }, (_, i) => enc.encode(`images/${i}.bin`));
    const offsets: number[] = [];
    let at = 0;
    for (const name of names) {
      offsets.push(at);
      at += 30 + name.length + BIG;
    }
    const manifest = enc.encode('{"type":"loupe-project","version":1}');
    const manifestName = enc.encode('manifest.json');
    const manifestAt = at;
    const local = new Bytes()
      .u32(0x04034b50)
      .u16(45)
      .u16(0x800)
      .u16(0)
      .u32(0)
      .u32(crc32(manifest))
      .u32(manifest.length)
      .u32(manifest.length)
      .u16(manifestName.length)
      .u16(0)
      .raw(manifestName)
      .raw(manifest).bytes;
    const cdAt = manifestAt + local.length;
    const central = new Bytes();
    const centralEntry = (name: Uint8Array, size: number, crc: number, offset: number): void => {
      const zip64Offset = offset >= 0xffffffff;
      central
        .u32(0x02014b50)
        .u16(45)
        .u16(45)
        .u16(0x800)
        .u16(0)
        .u32(0)
        .u32(crc)
        .u32(size)
        .u32(size)
        .u16(name.length)
        .u16(zip64Offset ? 12 : 0)
        .u16(0)
        .u16(0)
        .u16(0)
        .u32(0)
        .u32(zip64Offset ? 0xffffffff : offset)
        .raw(name);
      if (zip64Offset) central.u16(1).u16(8).u64(offset);
    };
    names.forEach((name, i) => centralEntry(name, BIG, 0, offsets[i]!));
    centralEntry(manifestName, manifest.length, crc32(manifest), manifestAt);
    const cd = central.bytes;
    const endAt = cdAt + cd.length;
    const end = new Bytes()
      .u32(0x06064b50)
      .u64(44)
      .u16(45)
      .u16(45)
      .u32(0)
      .u32(0)
      .u64(11)
      .u64(11)
      .u64(cd.length)
      .u64(cdAt)
      .u32(0x07064b50)
      .u32(0)
      .u64(endAt)
      .u32(1)
      .u32(0x06054b50)
      .u16(0)
      .u16(0)
      .u16(0xffff)
      .u16(0xffff)
      .u32(0xffffffff)
      .u32(0xffffffff)
      .u16(0).bytes;
    const size = endAt + end.length;
    expect(size).toBeGreaterThan(5e9);
    const source = sparse(size, [
      { at: manifestAt, bytes: local },
      { at: cdAt, bytes: cd },
      { at: endAt, bytes: end },
    ]);

    const index = await readZipIndex(source, DEFAULT_ARCHIVE_LIMITS);
    expect(index.entries.size).toBe(11);
    const entry = index.entries.get('manifest.json')!;
    expect(entry.localHeaderOffset).toBe(manifestAt);
    expect((await readEntry(source, index, entry, 1000)).bytes).toEqual(manifest);

    // The zip-bomb guards still apply at this size: under the old limits this is refused.
    await expect(
      readZipIndex(source, { ...DEFAULT_ARCHIVE_LIMITS, maxTotalBytes: 2 * 1024 ** 3 }),
    ).rejects.toMatchObject({ code: 'too-large' });
  });
});

describe('export refuses what import would refuse, before writing', () => {
  it('names the size, the limit and what to do', async () => {
    const seeded = await seedProject(db);
    const refuse = async (limits: Parameters<typeof exportProjectArchive>[2]): Promise<Error> =>
      exportProjectArchive(db, seeded.project.id, limits).then(
        () => new Error('exported'),
        (e: unknown) => e as Error,
      );
    const tooMany = await refuse({ limits: { maxEntries: 5 } });
    expect(tooMany).toBeInstanceOf(ArchiveError);
    expect(tooMany.message).toMatch(/needs \d+ files and archives hold at most 5/);
    expect(tooMany.message).toMatch(/Export the dataset instead/);

    const bigImage = await refuse({ limits: { maxEntryBytes: 50 } });
    expect(bigImage.message).toMatch(/too large for one archive: its images\/.* would be/);

    const bigJson = await refuse({ limits: { maxJsonBytes: 300 } });
    expect(bigJson.message).toMatch(/(project|samples)\.json would be .* at most 300 bytes/);
  });

  it('checks one entry against the cap for its kind', () => {
    const limits = { maxJsonBytes: 100, maxEntryBytes: 1000 };
    expect(entryOverLimit({ path: 'a.json', bytes: 100, json: true }, limits)).toBeNull();
    expect(entryOverLimit({ path: 'a.json', bytes: 101, json: true }, limits)?.code).toBe(
      'too-large',
    );
    expect(entryOverLimit({ path: 'a.bin', bytes: 1000, json: false }, limits)).toBeNull();
    expect(entryOverLimit({ path: 'a.bin', bytes: 2048, json: false }, limits)?.message).toMatch(
      /a\.bin would be 2 KB, and archives can hold at most 1000 bytes in one file/,
    );
  });
});
