import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ImageDecoder } from '../../src/core/dataset/decoder';
import type {
  ImportItem,
  ImportOptions,
  ImportProgress,
  ImportReport,
  PreparedInput,
} from '../../src/core/dataset/importer';
import {
  describeStorageError,
  importFiles,
  summariseImport,
} from '../../src/core/dataset/importer';
import { MAX_FILE_BYTES, checkFile } from '../../src/core/imageio';
import type { LoupeDatabase } from '../../src/core/storage/db';
import { openLoupeDb } from '../../src/core/storage/db';
import * as labelsRepo from '../../src/core/storage/labels';
import * as projectsRepo from '../../src/core/storage/projects';
import * as samplesRepo from '../../src/core/storage/samples';
import type { SampleMeta } from '../../src/core/storage/schema';
import {
  THUMB_MIME,
  corruptPng,
  createFakeDecoder,
  hugePngFile,
  makePng,
  pngFile,
  textFile,
} from '../fixtures/images';

let db: LoupeDatabase;
let projectId: string;
let decoder: ReturnType<typeof createFakeDecoder>;

beforeEach(async () => {
  db = await openLoupeDb();
  projectId = (await projectsRepo.createProject(db, 'Import')).id;
  decoder = createFakeDecoder();
  return () => db.close();
});

function run(
  items: ImportItem[],
  options: Partial<ImportOptions> = {},
  target: LoupeDatabase = db,
): Promise<ImportReport> {
  return importFiles(target, items, { projectId, source: 'drop', decoder, ...options });
}

const item = (file: File, labelIds: string[] = [], relativePath?: string): ImportItem =>
  relativePath ? { file, labelIds, relativePath } : { file, labelIds };

const pngs = (count: number, prefix = 'img'): ImportItem[] =>
  Array.from({ length: count }, (_, i) => item(pngFile(`${prefix}-${i}.png`, 3, 2, 100 + i)));

/** Every stored sample of the project has a thumbnail, and no thumbnail lacks a sample. */
async function expectConsistent(): Promise<SampleMeta[]> {
  const samples = await samplesRepo.listSampleMeta(db, projectId);
  const thumbs = await db.getAllFromIndex('thumbnails', 'byProject', projectId);
  expect(thumbs.map((t) => t.sampleId).sort()).toEqual(samples.map((s) => s.id).sort());
  return samples;
}

describe('importFiles', () => {
  it('stores good files with hash, mime, size, dimensions, labels and thumbnail', async () => {
    const label = await labelsRepo.addLabel(db, projectId, 'Cats');
    const bytes = makePng(7, 5, 1);
    const file = new File([bytes], 'cat.png', { type: 'image/png' });
    const other = pngFile('loose.png', 300, 150, 2);
    const report = await run([item(file, [label.id, label.id], 'pets/cats/cat.png'), item(other)]);

    expect(report.rejected).toEqual([]);
    expect(report.duplicates).toEqual([]);
    expect(report.cancelled).toBe(false);
    expect(report.error).toBeUndefined();
    expect(report.elapsedMs).toBeGreaterThanOrEqual(0);
    expect(report.added).toHaveLength(2);
    const [cat, loose] = report.added;
    expect(cat).toMatchObject({
      projectId,
      name: 'cat.png',
      mime: 'image/png',
      byteSize: bytes.length,
      width: 7,
      height: 5,
      labelIds: [label.id],
      source: 'drop',
      relativePath: 'pets/cats/cat.png',
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
    expect(cat).not.toHaveProperty('blob');
    expect(loose).toMatchObject({ name: 'loose.png', width: 300, height: 150, labelIds: [] });
    expect(loose).not.toHaveProperty('relativePath');

    const stored = await samplesRepo.getSample(db, cat!.id);
    expect(stored?.blob.type).toBe('image/png');
    expect(new Uint8Array(await stored!.blob.arrayBuffer())).toEqual(bytes);
    const thumb = await samplesRepo.getThumbnail(db, loose!.id);
    expect(thumb).toMatchObject({ projectId, width: 256, height: 128 });
    expect(thumb?.blob.type).toBe(THUMB_MIME);
    expect(await thumb?.blob.text()).toBe('thumb 300x150');
    expect(await labelsRepo.countByLabel(db, label.id)).toBe(1);
    expect(await expectConsistent()).toHaveLength(2);
  });

  it('keeps every good file of a mixed drop and lists each bad one with its reason', async () => {
    class UnreadableFile extends File {
      override arrayBuffer(): Promise<ArrayBuffer> {
        return Promise.reject(new Error('permission lost'));
      }
    }
    const items = [
      item(pngFile('good-1.png', 4, 4, 1)),
      item(textFile('notes.txt', 'hello')),
      item(new File([], 'empty.png', { type: 'image/png' })),
      item(new File([corruptPng(8, 8)], 'broken.png', { type: 'image/png' }), [], 'dir/broken.png'),
      item(hugePngFile('huge.png', 41)),
      item(new File(['not really a jpeg'], 'fake.jpg', { type: 'image/jpeg' })),
      item(new UnreadableFile([makePng(2, 2, 9)], 'gone.png', { type: 'image/png' })),
      item(pngFile('good-2.png', 4, 4, 2)),
    ];
    const report = await run(items, { chunkSize: 3 });

    expect(report.added.map((s) => s.name)).toEqual(['good-1.png', 'good-2.png']);
    expect(report.rejected).toEqual([
      { name: 'notes.txt', reason: 'not an image (text/plain)' },
      { name: 'empty.png', reason: 'empty file (0 bytes)' },
      { name: 'dir/broken.png', reason: 'could not decode image (corrupt or truncated)' },
      { name: 'huge.png', reason: 'file is 41 MB; the limit is 40 MB' },
      { name: 'fake.jpg', reason: 'not an image (contents do not match image/jpeg)' },
      { name: 'gone.png', reason: 'could not be read (permission lost)' },
    ]);
    expect(report.cancelled).toBe(false);
    expect(report.error).toBeUndefined();
    // Only files that passed the header checks reach the decoder.
    expect(decoder.calls).toBe(3);
    expect((await expectConsistent()).map((s) => s.name)).toEqual(['good-1.png', 'good-2.png']);
    expect(summariseImport(report)).toBe('Added 2 images. 6 files rejected.');
  });

  it('rejects files over the size limit before reading them (checkFile)', () => {
    const head = makePng(4, 4);
    const big = checkFile({ name: 'big.png', size: MAX_FILE_BYTES + 1, type: 'image/png', head });
    expect(big).toMatchObject({ ok: false, code: 'too-large' });
    const limit = checkFile({ name: 'ok.png', size: MAX_FILE_BYTES, type: 'image/png', head });
    expect(limit.ok).toBe(true);
  });

  it('rejects images whose decoded size is unusable', async () => {
    const zeroSized: ImageDecoder = {
      async decode(blob) {
        const decoded = await decoder.decode(blob);
        return { ...decoded, width: 0 };
      },
    };
    const report = await run([item(pngFile('zero.png', 2, 2))], { decoder: zeroSized });
    expect(report.added).toEqual([]);
    expect(report.rejected).toEqual([
      { name: 'zero.png', reason: 'could not decode image (corrupt or truncated)' },
    ]);
    expect(await expectConsistent()).toEqual([]);
  });

  it('counts duplicates within one drop and against earlier imports', async () => {
    const bytes = makePng(5, 5, 42);
    const same = (name: string): ImportItem => item(new File([bytes], name, { type: 'image/png' }));
    const first = await run([same('a.png'), same('b.png'), item(pngFile('c.png', 5, 5, 43))], {
      chunkSize: 2,
    });
    expect(first.added.map((s) => s.name)).toEqual(['a.png', 'c.png']);
    expect(first.duplicates).toEqual(['b.png']);
    expect(summariseImport(first)).toBe('Added 2 images. 1 duplicate skipped.');

    const second = await run([
      same('d.png'),
      item(pngFile('c-again.png', 5, 5, 43)),
      same('e.png'),
    ]);
    expect(second.added).toEqual([]);
    expect(second.duplicates).toEqual(['d.png', 'c-again.png', 'e.png']);
    expect(summariseImport(second)).toBe('Added 0 images. 3 duplicates skipped.');
    expect(await expectConsistent()).toHaveLength(2);
  });

  it('commits chunk by chunk, calling onChunk per chunk and reporting progress to the total', async () => {
    const chunks: SampleMeta[][] = [];
    const progress: ImportProgress[] = [];
    const items = pngs(7);
    const report = await run(items, {
      chunkSize: 3,
      onChunk: (added) => chunks.push(added),
      onProgress: (p) => progress.push(p),
    });
    expect(chunks.map((c) => c.map((s) => s.name))).toEqual([
      ['img-0.png', 'img-1.png', 'img-2.png'],
      ['img-3.png', 'img-4.png', 'img-5.png'],
      ['img-6.png'],
    ]);
    expect(progress.map((p) => p.done)).toEqual([0, 3, 6, 7]);
    expect(progress.every((p) => p.total === 7)).toBe(true);
    const last = progress[progress.length - 1];
    expect(last).toMatchObject({ done: 7, total: 7, added: 7, duplicates: 0, rejected: 0 });
    expect(progress[0]).toMatchObject({ done: 0, added: 0, etaSeconds: null });
    expect(report.added).toHaveLength(7);
    expect(await expectConsistent()).toHaveLength(7);
  });

  it('hands the model inputs of the stored samples, one decode per file, before each onChunk', async () => {
    const bytes = makePng(6, 4, 7);
    const events: string[] = [];
    const handed: PreparedInput[] = [];
    const report = await run(
      [
        item(new File([bytes], 'a.png', { type: 'image/png' })),
        item(new File([bytes], 'a-copy.png', { type: 'image/png' })),
        item(textFile('notes.txt', 'x')),
        ...pngs(3),
      ],
      {
        chunkSize: 4,
        modelInput: { size: 8, mode: 'squash' },
        onPrepared: (inputs) => {
          events.push(`prepared ${inputs.length}`);
          handed.push(...inputs);
        },
        onChunk: (added) => events.push(`chunk ${added.length}`),
      },
    );
    // Chunk 1: a.png stored, its copy a duplicate, the text rejected; chunk 2: the 2 remaining.
    expect(events).toEqual(['prepared 2', 'chunk 2', 'prepared 2', 'chunk 2']);
    expect(decoder.calls).toBe(5); // every image once; the text file never reaches the decoder
    expect(handed.map((i) => i.sampleId).sort()).toEqual(report.added.map((s) => s.id).sort());
    for (const input of handed) {
      expect(input).toMatchObject({ size: 8, mode: 'squash' });
      expect(input.pixels).toMatchObject({ width: 8, height: 8 });
      expect(input.pixels.data.byteLength).toBe(8 * 8 * 4);
    }
    const first = handed.find((i) => i.sampleId === report.added[0]?.id);
    expect(first?.pixels.data[0]).toBe(6); // drawn from a.png itself (the fake fills its width)
  });

  it('asks the decoder for no model input without onPrepared', async () => {
    const targets: unknown[] = [];
    const watching: ImageDecoder = {
      decode: (blob, target) => {
        targets.push(target);
        return decoder.decode(blob, target);
      },
    };
    const report = await run(pngs(2), {
      decoder: watching,
      modelInput: { size: 8, mode: 'squash' },
    });
    expect(report.added).toHaveLength(2);
    expect(targets).toEqual([undefined, undefined]);
  });

  it('does not call onChunk for a chunk that added nothing', async () => {
    const chunks: SampleMeta[][] = [];
    const report = await run(
      [item(textFile('a.txt', 'a')), item(textFile('b.txt', 'b')), ...pngs(1)],
      { chunkSize: 2, onChunk: (added) => chunks.push(added) },
    );
    expect(chunks.map((c) => c.length)).toEqual([1]);
    expect(report.rejected.map((r) => r.name)).toEqual(['a.txt', 'b.txt']);
  });

  it('stops between chunks when aborted, keeping exactly the committed chunk', async () => {
    const controller = new AbortController();
    const chunks: SampleMeta[][] = [];
    const report = await run(pngs(10), {
      chunkSize: 4,
      signal: controller.signal,
      onChunk: (added) => {
        chunks.push(added);
        controller.abort();
      },
    });
    expect(report.cancelled).toBe(true);
    expect(report.error).toBeUndefined();
    expect(chunks).toHaveLength(1);
    expect(report.added.map((s) => s.name)).toEqual([
      'img-0.png',
      'img-1.png',
      'img-2.png',
      'img-3.png',
    ]);
    const stored = await expectConsistent();
    expect(stored.map((s) => s.id).sort()).toEqual(report.added.map((s) => s.id).sort());
    // Files after the abort were never decoded.
    expect(decoder.calls).toBe(4);
    expect(summariseImport(report)).toBe(
      'Added 4 images. Import cancelled; everything added before stopping was kept.',
    );
  });

  it('adds nothing when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const report = await run(pngs(3), { signal: controller.signal });
    expect(report.cancelled).toBe(true);
    expect(report.added).toEqual([]);
    expect(decoder.calls).toBe(0);
    expect(await expectConsistent()).toEqual([]);
  });

  it('stops with report.error on a storage failure, keeping earlier chunks', async () => {
    // A database whose second sample write fails the way a full quota does.
    let writes = 0;
    const failing = new Proxy(db, {
      get(target, prop) {
        const value: unknown = Reflect.get(target, prop, target);
        if (prop !== 'transaction' || typeof value !== 'function') {
          return typeof value === 'function' ? value.bind(target) : value;
        }
        return (stores: unknown, mode?: IDBTransactionMode): unknown => {
          if (Array.isArray(stores) && stores.includes('thumbnails') && mode === 'readwrite') {
            writes++;
            if (writes === 2) throw new DOMException('Quota exceeded', 'QuotaExceededError');
          }
          return Reflect.apply(value, target, [stores, mode]);
        };
      },
    });
    const chunks: SampleMeta[][] = [];
    const report = await run(pngs(7), { chunkSize: 3, onChunk: (a) => chunks.push(a) }, failing);

    expect(report.error).toBe(
      'not saved: the browser storage quota is full. Free space by deleting images or projects.',
    );
    expect(report.cancelled).toBe(true);
    expect(report.added.map((s) => s.name)).toEqual(['img-0.png', 'img-1.png', 'img-2.png']);
    expect(report.rejected).toEqual(
      ['img-3.png', 'img-4.png', 'img-5.png'].map((name) => ({ name, reason: report.error })),
    );
    expect(chunks).toHaveLength(1);
    expect(writes).toBe(2);
    expect((await expectConsistent()).map((s) => s.name)).toEqual([
      'img-0.png',
      'img-1.png',
      'img-2.png',
    ]);
    expect(summariseImport(report)).toBe(
      'Added 3 images. 3 files rejected. Import stopped: not saved: the browser storage quota is full. Free space by deleting images or projects.',
    );
  });

  it('rolls back the whole chunk when the browser refuses a write mid-chunk', async () => {
    // Browsers that cannot store Blobs (old private modes) throw DataCloneError synchronously
    // from put(): the chunk must not be left half-written (a sample without its thumbnail).
    const refusing: ImageDecoder = {
      async decode(blob) {
        const decoded = await decoder.decode(blob);
        if (decoded.width !== 9) return decoded;
        const unstorable = { toString: () => 'thumbnail' } as unknown as Blob;
        Object.assign(unstorable, { method() {} });
        return { ...decoded, thumbnail: unstorable };
      },
    };
    const items = [...pngs(3), ...pngs(2, 'late'), item(pngFile('refused.png', 9, 9, 7))];
    const report = await run(items, { chunkSize: 3, decoder: refusing });
    expect(report.error).toMatch(/^not saved: storage error/);
    expect(report.cancelled).toBe(true);
    expect(report.added.map((s) => s.name)).toEqual(['img-0.png', 'img-1.png', 'img-2.png']);
    expect(report.rejected.map((r) => r.name)).toEqual(['late-0.png', 'late-1.png', 'refused.png']);
    const stored = await expectConsistent();
    expect(stored.map((s) => s.name)).toEqual(['img-0.png', 'img-1.png', 'img-2.png']);
  });
});

describe('describeStorageError', () => {
  it('explains quota errors and passes other messages through', () => {
    expect(describeStorageError(new DOMException('x', 'QuotaExceededError'))).toMatch(
      /quota is full/,
    );
    expect(describeStorageError(new Error('disk on fire'))).toBe(
      'not saved: storage error (disk on fire)',
    );
    expect(describeStorageError('weird')).toBe('not saved: storage error (weird)');
  });
});

describe('summariseImport', () => {
  const report = (patch: Partial<ImportReport>): ImportReport => ({
    added: [],
    duplicates: [],
    rejected: [],
    cancelled: false,
    elapsedMs: 0,
    ...patch,
  });
  const metas = (n: number): SampleMeta[] =>
    Array.from({ length: n }, (_, i) => ({
      id: `s${i}`,
      projectId: 'p',
      labelIds: [],
      name: `${i}.png`,
      mime: 'image/png',
      byteSize: 1,
      width: 1,
      height: 1,
      sha256: String(i),
      createdAt: i,
      source: 'drop' as const,
    }));

  it('writes one sentence per outcome with singular and plural forms', () => {
    expect(summariseImport(report({ added: metas(1) }))).toBe('Added 1 image.');
    expect(
      summariseImport(
        report({
          added: metas(40),
          duplicates: ['a', 'b', 'c'],
          rejected: [
            { name: 'x', reason: 'r' },
            { name: 'y', reason: 'r' },
          ],
        }),
      ),
    ).toBe('Added 40 images. 3 duplicates skipped. 2 files rejected.');
    expect(summariseImport(report({ rejected: [{ name: 'x', reason: 'r' }] }))).toBe(
      'Added 0 images. 1 file rejected.',
    );
    expect(summariseImport(report({ cancelled: true, error: 'boom' }))).toBe(
      'Added 0 images. Import stopped: boom',
    );
  });
});
