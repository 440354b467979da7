/**
 * A restore holds one entry and one batch at once, whatever the archive's total size: a generated
 * archive (never on disk, never whole in memory) of 384 MiB of images and a float32 embedding
 * matrix streams through with the bytes held at any time under a bound of one batch and two
 * entries (a restore that keeps every record until one write, as before, holds all of them).
 */
import { describe, expect, it } from 'vitest';
import { openProjectArchive } from '../../src/core/formats/restore';
import { DEFAULT_BATCH_BYTES, streamArchiveContents } from '../../src/core/formats/restoreStream';
import { crc32, type ZipSource } from '../../src/core/formats/zipReader';
import { makeWebpHeader, sha256 } from '../fixtures/formats';

const enc = new TextEncoder();
const MiB = 1024 * 1024;
const IMAGE_BYTES = 24 * MiB;
const IMAGES = 16;
const DIM = 1024;

interface Segment {
  at: number;
  bytes: Uint8Array;
}

/** Little-endian header bytes. */
function le(values: [number, 2 | 4][]): number[] {
  const out: number[] = [];
  for (const [v, n] of values)
    for (let i = 0; i < n; i++) out.push(Math.floor(v / 256 ** i) & 0xff);
  return out;
}

/**
 * A stored-only zip laid out from `entries`, as a source that builds each sliced range on demand
 * (entries sharing one buffer cost nothing until read).
 */
function generatedZip(entries: { name: string; bytes: Uint8Array; crc: number }[]): {
  source: ZipSource;
} {
  const segments: Segment[] = [];
  const central: number[] = [];
  let at = 0;
  for (const e of entries) {
    const name = enc.encode(e.name);
    const fields = le([
      [0x04034b50, 4],
      [20, 2],
      [0x800, 2],
      [0, 2],
      [0, 4],
      [e.crc, 4],
      [e.bytes.length, 4],
      [e.bytes.length, 4],
      [name.length, 2],
      [0, 2],
    ]);
    const header = Uint8Array.from([...fields, ...name]);
    segments.push({ at, bytes: header }, { at: at + header.length, bytes: e.bytes });
    central.push(
      ...le([
        [0x02014b50, 4],
        [20, 2],
        [20, 2],
        [0x800, 2],
        [0, 2],
        [0, 4],
        [e.crc, 4],
        [e.bytes.length, 4],
        [e.bytes.length, 4],
        [name.length, 2],
        [0, 2],
        [0, 2],
        [0, 2],
        [0, 2],
        [0, 4],
        [at, 4],
      ]),
      ...name,
    );
    at += header.length + e.bytes.length;
  }
  const end = le([
    [0x06054b50, 4],
    [0, 2],
    [0, 2],
    [entries.length, 2],
    [entries.length, 2],
    [central.length, 4],
    [at, 4],
    [0, 2],
  ]);
  segments.push({ at, bytes: Uint8Array.from(central) });
  segments.push({ at: at + central.length, bytes: Uint8Array.from(end) });
  const size = at + central.length + end.length;
  const source: ZipSource = {
    size,
    slice(start = 0, stop = size) {
      const out = new Uint8Array(Math.max(0, Math.min(stop, size) - start));
      for (const s of segments) {
        const from = Math.max(s.at, start);
        const to = Math.min(s.at + s.bytes.length, start + out.length);
        if (from < to) out.set(s.bytes.subarray(from - s.at, to - s.at), from - start);
      }
      return new Blob([out]);
    },
  };
  return { source };
}

function json(name: string, value: unknown): { name: string; bytes: Uint8Array; crc: number } {
  const bytes = enc.encode(JSON.stringify(value));
  return { name, bytes, crc: crc32(bytes) };
}

/** A project of IMAGES identical 24 MiB "images" (WebP header + padding) and one embedding set. */
function bigArchive(): ReturnType<typeof generatedZip> & { total: number } {
  const image = new Uint8Array(IMAGE_BYTES);
  image.set(makeWebpHeader(4000, 3000));
  const imageCrc = crc32(image);
  const imageSha = sha256(image);
  const matrix = new Uint8Array(new Float32Array(IMAGES * DIM).fill(0.5).buffer);
  const ids = Array.from({ length: IMAGES }, (_, i) => `sample-${i}`);
  const entries = [
    json('manifest.json', { type: 'loupe-project', version: 1, source: 'test', createdAt: 1 }),
    json('project.json', {
      project: {
        id: 'project-1',
        name: 'Big',
        kind: 'single-label',
        createdAt: 1,
        updatedAt: 1,
        settings: { aspectMode: 'centre-crop', backboneId: 'mobilenet_v1_0.75_224' },
      },
      labels: [{ id: 'label-1', name: 'Big things', order: 0, createdAt: 1 }],
    }),
    json('samples.json', {
      samples: ids.map((id, i) => ({
        id,
        labelIds: ['label-1'],
        name: `big-${i}.webp`,
        mime: 'image/webp',
        byteSize: IMAGE_BYTES,
        width: 4000,
        height: 3000,
        sha256: imageSha,
        createdAt: i,
        source: 'drop',
        image: `images/${id}.webp`,
        thumbnail: null,
      })),
    }),
    json('embeddings/index.json', {
      embeddings: [
        {
          key: 'k',
          path: 'embeddings/k.f32',
          dtype: 'float32',
          dim: DIM,
          count: IMAGES,
          records: ids.map((sampleId) => ({ sampleId, createdAt: 1 })),
        },
      ],
    }),
    { name: 'embeddings/k.f32', bytes: matrix, crc: crc32(matrix) },
    ...ids.map((id) => ({ name: `images/${id}.webp`, bytes: image, crc: imageCrc })),
  ];
  const total = entries.reduce((n, e) => n + e.bytes.length, 0);
  return { ...generatedZip(entries), total };
}

describe('streamed restore', () => {
  it('holds one entry and one batch at a time, not the archive', async () => {
    const { source, total } = bigArchive();
    expect(total).toBeGreaterThan(IMAGES * IMAGE_BYTES);
    const opened = await openProjectArchive(source);
    let held = 0;
    let peak = 0;
    let written = 0;
    let batches = 0;
    const { models } = await streamArchiveContents(
      opened,
      async (batch) => {
        // A sink that writes and lets go (as the staging writer does).
        written += batch.samples.reduce((n, s) => n + s.blob.size, 0);
        written += batch.embeddings.reduce((n, e) => n + e.vector.byteLength, 0);
        batches++;
        await Promise.resolve();
      },
      opened.warnings,
      {
        onHeld: (bytes) => {
          held = bytes;
          peak = Math.max(peak, bytes);
        },
      },
    );
    expect(models).toBe(0);
    expect(held).toBe(0);
    expect(written).toBe(IMAGES * IMAGE_BYTES + IMAGES * DIM * 4);
    expect(batches).toBeGreaterThanOrEqual(IMAGES);
    // At most: the batch under its budget, plus the record that tips it over, plus the entry read.
    const bound = DEFAULT_BATCH_BYTES + 2 * IMAGE_BYTES;
    expect(peak).toBeLessThanOrEqual(bound);
    expect(peak).toBeLessThan(total / 10);
    console.info(
      `streamed restore: ${total} bytes of entries, at most ${peak} held at once (bound ${bound})`,
    );
  }, 120_000);
});
