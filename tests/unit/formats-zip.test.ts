/** Zip-level import safety: bombs, truncation, unsafe names, overlaps, damage, each a clear ArchiveError. */
import { describe, expect, it } from 'vitest';
import { makePng } from '../fixtures/images';
import {
  buildZip,
  expectArchiveError,
  manifestBytes,
  setSamples,
  unzipBlob,
  seededArchiveSuite,
} from '../fixtures/formats';

const suite = seededArchiveSuite('formats-zip-source');
const edit = suite.edit;
const enc = new TextEncoder();

describe('zip-level safety', () => {
  it('rejects a file that is not a zip', async () => {
    await expectArchiveError(
      new Blob(['hello, this is text, not a zip file at all']),
      'not-a-zip',
      /not a zip/,
    );
    await expectArchiveError(new Blob([]), 'not-a-zip');
    await expectArchiveError(new Blob([makePng(4, 4)]), 'not-a-zip');
  });

  it('rejects a truncated zip', async () => {
    await expectArchiveError(
      suite.good.slice(0, Math.floor(suite.good.size / 2)),
      'truncated',
      /incomplete/,
    );
    await expectArchiveError(suite.good.slice(0, suite.good.size - 10), 'truncated');
    await expectArchiveError(suite.good.slice(0, 10), 'truncated');
  });

  it('rejects an entry with a zip-bomb compression ratio before inflating it', async () => {
    const bomb = buildZip([
      { name: 'manifest.json', data: manifestBytes() },
      { name: 'images/huge.png', data: new Uint8Array(20 * 1024 * 1024), method: 8, crc: 0 },
    ]);
    await expectArchiveError(bomb, 'zip-bomb', /zip bomb/);
  });

  it('stops inflating an entry that expands past its declared size', async () => {
    const json = enc.encode(
      JSON.stringify({ type: 'loupe-project', version: 1, pad: ' '.repeat(5000) }),
    );
    const liar = buildZip([{ name: 'manifest.json', data: json, method: 8, declaredSize: 100 }]);
    await expectArchiveError(liar, 'zip-bomb', /beyond its declared/);
  });

  it('rejects archives whose total uncompressed size is over the cap', async () => {
    await expectArchiveError(suite.good, 'too-large', /expand to more than/, {
      maxTotalBytes: 1000,
    });
    await expectArchiveError(suite.good, 'too-large', /limit/, { maxArchiveBytes: 100 });
  });

  it('rejects overlapping entries', async () => {
    const overlap = buildZip([
      { name: 'manifest.json', data: manifestBytes() },
      { name: 'project.json', data: manifestBytes(), sameOffsetAs: 0 },
    ]);
    await expectArchiveError(overlap, 'zip-bomb', /overlap/);
  });

  it.each([
    ['../evil.txt'],
    ['images/../../evil.txt'],
    ['/etc/passwd'],
    ['C:/Windows/evil.dll'],
    ['images\\evil.png'],
    ['images/./x.png'],
    ['a//b.png'],
    ['bad\u0000name'],
  ])('rejects the unsafe entry name %j', async (name) => {
    const zip = buildZip([
      { name: 'manifest.json', data: manifestBytes() },
      { name, data: enc.encode('x') },
    ]);
    await expectArchiveError(zip, 'unsafe-path', /unsafe file name/);
  });

  it('rejects unsafe paths referenced from JSON', async () => {
    await expectArchiveError(
      edit((files) =>
        setSamples(files, (s) => ((s[0] as Record<string, unknown>).image = '../x.png')),
      ),
      'unsafe-path',
    );
  });

  it('rejects duplicate entry names', async () => {
    const zip = buildZip([
      { name: 'manifest.json', data: manifestBytes() },
      { name: 'manifest.json', data: manifestBytes() },
    ]);
    await expectArchiveError(zip, 'duplicate-entry', /twice/);
  });

  it('rejects damaged data (checksum) and unsupported zips', async () => {
    const bytes = new Uint8Array(await suite.good.arrayBuffer());
    const files = await unzipBlob(suite.good);
    const image = files[`images/${suite.seeded.samples[0].id}.png`] as Uint8Array;
    // Find the stored image in the raw archive and flip one byte of its pixel data.
    const at = Buffer.from(bytes).indexOf(Buffer.from(image.subarray(0, 64)));
    expect(at).toBeGreaterThan(0);
    bytes[at + image.length - 20] = (bytes[at + image.length - 20] ?? 0) ^ 0xff;
    await expectArchiveError(new Blob([bytes]), 'corrupt', /checksum/);

    const encrypted = buildZip([{ name: 'manifest.json', data: manifestBytes(), flags: 1 }]);
    await expectArchiveError(encrypted, 'unsupported-zip', /encrypted/);
  });
});
