/**
 * Every deflated entry the zip writer writes inflates back byte for byte. fflate's streaming
 * `Deflate` (0.8.2-0.8.3) emits, for some inputs, a back-reference to before the data's start that
 * inflaters refuse ("invalid distance"); embedding rows of float32 (many zeros, a few repeated
 * values) hit it often, e.g. a single 16-float row. The writer deflates entries in one call where
 * they fit, and checks every result by inflating it again, storing what does not come back. The
 * reader restores such entries from archives written before (a zero window as the dictionary).
 */
import { Zip, ZipDeflate } from 'fflate';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ARCHIVE_LIMITS } from '../../src/core/formats/errors';
import { readEntry, readZipIndex } from '../../src/core/formats/zipReader';
import { BlobZipWriter } from '../../src/core/formats/zipWriter';
import { unzipBlob } from '../fixtures/formats';

/** xorshift32 in [0, 1). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

/** Rows of pooled-ReLU6-like floats: a third zeros, some on a coarse grid, the rest spread. */
function embeddingRows(seed: number, rows: number, dim: number): Uint8Array {
  const r = random(seed);
  const values = new Float32Array(rows * dim);
  for (let i = 0; i < values.length; i += 1) {
    const u = r();
    values[i] = u < 0.3 ? 0 : u < 0.5 ? Math.round(r() * 48) / 8 : r() * r() * 6;
  }
  return new Uint8Array(values.buffer);
}

async function readBack(blob: Blob): Promise<Map<string, { method: number; bytes: Uint8Array }>> {
  const index = await readZipIndex(blob, DEFAULT_ARCHIVE_LIMITS);
  const out = new Map<string, { method: number; bytes: Uint8Array }>();
  for (const [name, entry] of index.entries) {
    out.set(name, {
      method: entry.compression,
      bytes: (await readEntry(blob, index, entry, Infinity)).bytes,
    });
  }
  return out;
}

describe('deflated zip entries', () => {
  it('a single 16-float embedding row is deflated and reads back identically', async () => {
    const row = embeddingRows(1, 1, 16);
    const writer = new BlobZipWriter(0);
    writer.addDeflated('embeddings/one.f32', row);
    const blob = writer.finish();
    const entry = (await readBack(blob)).get('embeddings/one.f32');
    expect(entry?.method).toBe(8);
    expect(entry?.bytes).toEqual(row);
    // An independent reader agrees.
    expect((await unzipBlob(blob))['embeddings/one.f32']).toEqual(row);
  });

  it('entries of many shapes read back identically, in one call and streamed', async () => {
    for (const oneCallBytes of [Infinity, 0]) {
      const writer = new BlobZipWriter(0, { oneCallBytes });
      const written = new Map<string, Uint8Array>();
      for (let seed = 1; seed <= 24; seed += 1) {
        const rows = 1 + (seed % 5);
        const dim = [16, 64, 1024, 1280][seed % 4] as number;
        const bytes = embeddingRows(seed, rows, dim);
        const name = `e/${seed}.f32`;
        written.set(name, bytes);
        // Half of them as several parts, cut at an odd offset.
        if (seed % 2 === 0)
          writer.addDeflatedParts(name, [bytes.subarray(0, 37), bytes.subarray(37)]);
        else writer.addDeflated(name, bytes);
      }
      const back = await readBack(writer.finish());
      for (const [name, bytes] of written) expect(back.get(name)?.bytes).toEqual(bytes);
      // In one call every entry is deflated; streamed, whatever fflate got wrong is stored.
      if (oneCallBytes === Infinity) {
        expect([...back.values()].every((e) => e.method === 8)).toBe(true);
      }
    }
  });
});

/** A zip written by fflate's streaming `Zip` + `ZipDeflate`, as archives of earlier versions were. */
function streamedZip(files: Record<string, Uint8Array>): Promise<Blob> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array<ArrayBuffer>[] = [];
    const zip = new Zip((error, chunk, final) => {
      if (error) return reject(error);
      chunks.push(chunk as Uint8Array<ArrayBuffer>);
      if (final) resolve(new Blob(chunks));
    });
    for (const [name, bytes] of Object.entries(files)) {
      const entry = new ZipDeflate(name, { level: 6 });
      zip.add(entry);
      entry.push(bytes, true);
    }
    zip.end();
  });
}

describe('reading archives whose deflate streams reach before the data', () => {
  it('restores every entry byte for byte', async () => {
    const files: Record<string, Uint8Array> = {};
    for (let seed = 1; seed <= 12; seed += 1) {
      files[`embeddings/${seed}.f32`] = embeddingRows(seed, 1 + (seed % 3), seed % 2 ? 16 : 1280);
    }
    files['project.json'] = new TextEncoder().encode(JSON.stringify({ name: 'P', n: [0, 0, 0] }));
    const back = await readBack(await streamedZip(files));
    for (const [name, bytes] of Object.entries(files)) expect(back.get(name)?.bytes).toEqual(bytes);
  });

  it('still refuses a stream that is really damaged', async () => {
    const bytes = embeddingRows(3, 2, 64);
    const writer = new BlobZipWriter(0);
    writer.addDeflated('e.f32', bytes);
    const blob = writer.finish();
    const raw = new Uint8Array(await blob.arrayBuffer());
    // Flip bits in the middle of the deflated data (after the 30-byte header and the name).
    for (let i = 40; i < 60; i += 1) raw[i] = (raw[i] ?? 0) ^ 0x5a;
    await expect(readBack(new Blob([raw]))).rejects.toThrow(/damaged/);
  });
});
