/**
 * Import safety of archive content: every way a bad archive's files or records can be bad gets a
 * clear ArchiveError, and no writes (zip-level safety: formats-zip; saved models:
 * formats-restoreModels).
 */
import { describe, expect, it } from 'vitest';
import { migrateArchive, readProjectArchive, type ArchiveDocuments } from '../../src/core/formats';
import * as projectsRepo from '../../src/core/storage/projects';
import { makePng } from '../fixtures/images';
import { countByProject } from '../fixtures/records';
import {
  buildZip,
  expectArchiveError,
  manifestBytes,
  readJson,
  readText,
  samplesOf,
  seedProject,
  setProject,
  setSamples,
  sha256,
  unzipBlob,
  writeJson,
  writeText,
  zipFiles,
  seededArchiveSuite,
} from '../fixtures/formats';

const suite = seededArchiveSuite('formats-restore-source');
const edit = suite.edit;

const modelPath = (): string => `models/${suite.seeded.model.id}.json`;
const enc = new TextEncoder();

describe('readProjectArchive accepts', () => {
  it('a re-zipped valid archive (deflated images too)', async () => {
    const restored = await readProjectArchive(await edit(() => undefined));
    expect(restored.samples).toHaveLength(3);
    expect(restored.warnings).toEqual([]);
  });

  it('extra files, ignoring them with a warning', async () => {
    const restored = await readProjectArchive(
      await edit((files) => {
        writeText(files, '__MACOSX/._manifest.json', 'junk');
        writeText(files, 'notes.txt', 'hello');
      }),
    );
    expect(restored.warnings).toEqual([
      'Ignored 2 unexpected files in the archive: __MACOSX/._manifest.json, notes.txt.',
    ]);
  });
});

describe('archive content safety', () => {
  it('rejects a zip without a manifest, and missing samples.json', async () => {
    await expectArchiveError(
      buildZip([{ name: 'photo.png', data: makePng(2, 2) }]),
      'missing-file',
      /not a Loupe project archive: it has no manifest\.json/,
    );
    await expectArchiveError(
      edit((files) => delete files['samples.json']),
      'missing-file',
      /samples\.json is missing/,
    );
    await expectArchiveError(
      edit((files) => delete files['project.json']),
      'missing-file',
      /project\.json/,
    );
  });

  it('rejects a missing referenced image, thumbnail, embedding file or model blob', async () => {
    const [s1, s2] = suite.seeded.samples;
    await expectArchiveError(
      edit((files) => delete files[`images/${s1.id}.png`]),
      'missing-file',
      new RegExp(`images/${s1.id}\\.png is missing`),
    );
    await expectArchiveError(
      edit((files) => delete files[`thumbnails/${s2.id}.webp`]),
      'missing-file',
    );
    await expectArchiveError(
      edit((files) => delete files['embeddings/mobilenet_v1_0.75_224@centre-crop#1.f32']),
      'missing-file',
    );
    await expectArchiveError(
      edit((files) => delete files[`models/${suite.seeded.model.id}/0.bin`]),
      'missing-file',
    );
    await expectArchiveError(
      edit((files) => delete files[modelPath()]),
      'missing-file',
    );
  });

  it('rejects a manifest from a newer Loupe', async () => {
    const error = await expectArchiveError(
      edit((files) =>
        writeJson(files, 'manifest.json', { ...readJson(files, 'manifest.json'), version: 2 }),
      ),
      'newer-version',
    );
    expect(error.message).toBe(
      'This archive was made by a newer Loupe (format version 2; this app reads up to 1). Update Loupe to open it.',
    );
    // Even when the newer layout has none of the files this version knows.
    await expectArchiveError(
      buildZip([{ name: 'manifest.json', data: manifestBytes({ version: 7 }) }]),
      'newer-version',
    );
  });

  it('rejects a manifest of another type, or a malformed version', async () => {
    await expectArchiveError(
      edit((files) => writeJson(files, 'manifest.json', { type: 'tm-project', version: 1 })),
      'wrong-type',
      /not a Loupe project archive \(its manifest says type "tm-project"/,
    );
    await expectArchiveError(
      edit((files) => writeText(files, 'manifest.json', '[1, 2]')),
      'wrong-type',
    );
    await expectArchiveError(
      edit((files) => writeJson(files, 'manifest.json', { type: 'loupe-project', version: '1' })),
      'invalid-record',
    );
  });

  it('rejects invalid JSON and JSON that is not UTF-8', async () => {
    await expectArchiveError(
      edit((files) => writeText(files, 'samples.json', '{"samples": [')),
      'bad-json',
      /samples\.json is not valid JSON/,
    );
    await expectArchiveError(
      edit((files) => (files['project.json'] = Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d]))),
      'bad-json',
      /UTF-8/,
    );
    const deep = `${'['.repeat(100)}${']'.repeat(100)}`;
    await expectArchiveError(
      edit((files) => writeText(files, 'project.json', deep)),
      'bad-json',
      /nests deeper/,
    );
  });

  it('rejects oversized JSON entries', async () => {
    await expectArchiveError(
      suite.good,
      'json-too-large',
      /samples\.json|project\.json|manifest\.json/,
      {
        maxJsonBytes: 100,
      },
    );
    // The default cap (50 MB), on a stored entry whose ratio is fine.
    const big = new Uint8Array(51 * 1024 * 1024).fill(0x20);
    const zip = buildZip([
      { name: 'manifest.json', data: manifestBytes() },
      { name: 'project.json', data: big, crc: 0 },
      { name: 'samples.json', data: enc.encode('{"samples": []}') },
    ]);
    await expectArchiveError(zip, 'json-too-large', /project\.json is over 52428800 bytes/);
  });

  it.each([
    ['project.json', '"project":{', '"project":{"__proto__": {"polluted": true}, '],
    ['samples.json', '"samples":[{', '"samples":[{"constructor": {"prototype": 1}, '],
    ['manifest.json', '"type":', '"prototype": {}, "type":'],
  ])('rejects forbidden keys in %s', async (path, find, replace) => {
    const archive = edit((files) => {
      const text = readText(files, path);
      expect(text).toContain(find);
      writeText(files, path, text.replace(find, replace));
    });
    await expectArchiveError(
      archive,
      'forbidden-key',
      /contains the key "(__proto__|constructor|prototype)"/,
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('rejects embeddings of the wrong dtype or shape, and non-finite values', async () => {
    const matrix = 'embeddings/mobilenet_v1_0.75_224@centre-crop#1.f32';
    const setIndex = (mutate: (set: Record<string, unknown>) => void) =>
      edit((files) => {
        const doc = readJson(files, 'embeddings/index.json');
        const sets = doc.embeddings as Record<string, unknown>[];
        mutate(sets.find((e) => e.path === matrix) as Record<string, unknown>);
        writeJson(files, 'embeddings/index.json', doc);
      });
    await expectArchiveError(
      setIndex((set) => (set.dtype = 'float16')),
      'bad-tensor',
      /only float32/,
    );
    await expectArchiveError(
      setIndex((set) => (set.dim = 5)),
      'bad-tensor',
      /not a whole number of 5-value/,
    );
    await expectArchiveError(
      setIndex((set) => (set.dim = 0)),
      'bad-tensor',
      /dimension/,
    );
    await expectArchiveError(
      setIndex((set) => (set.count = 2)),
      'bad-tensor',
      /declare 2 vectors but list 3/,
    );
    await expectArchiveError(
      edit((files) => {
        const bytes = files[matrix] as Uint8Array;
        const extra = new Uint8Array(bytes.length + 16);
        extra.set(bytes);
        files[matrix] = extra;
      }),
      'bad-tensor',
      /holds 4 vectors but the index lists 3/,
    );
    await expectArchiveError(
      edit((files) => {
        const values = new Float32Array((files[matrix] as Uint8Array).slice().buffer);
        values[5] = Number.POSITIVE_INFINITY;
        files[matrix] = new Uint8Array(values.buffer);
      }),
      'non-finite',
      /Infinity in vector 1/,
    );
  });

  it('rejects label names that are huge, and neutralises markup with a warning', async () => {
    await expectArchiveError(
      edit((files) =>
        setProject(files, (p) => ((p.labels[0] as Record<string, unknown>).name = 'x'.repeat(201))),
      ),
      'bad-label',
      /201 characters long; names are limited to 200/,
    );
    await expectArchiveError(
      edit((files) => setProject(files, (p) => (p.project.name = 'y'.repeat(5000)))),
      'bad-label',
    );
    await expectArchiveError(
      edit((files) =>
        setProject(files, (p) => ((p.labels[0] as Record<string, unknown>).name = '   ')),
      ),
      'bad-label',
      /empty name/,
    );
    await expectArchiveError(
      edit((files) =>
        setProject(files, (p) => ((p.labels[1] as Record<string, unknown>).name = 'roses')),
      ),
      'bad-label',
      /two labels are both named "roses"/,
    );
    const restored = await readProjectArchive(
      await edit((files) =>
        setProject(files, (p) => {
          (p.labels[0] as Record<string, unknown>).name = '<img src=x onerror=alert(1)>';
        }),
      ),
    );
    expect(restored.labels[0]?.name).toBe('‹img src=x onerror=alert(1)›');
    expect(restored.warnings).toEqual([
      'The label name "<img src=x onerror=alert(1)>" contained "<" or ">"; it was renamed "‹img src=x onerror=alert(1)›".',
    ]);
  });

  it('rejects duplicate ids', async () => {
    await expectArchiveError(
      edit((files) =>
        setProject(files, (p) => ((p.labels[1] as Record<string, unknown>).id = p.labels[0]?.id)),
      ),
      'duplicate-id',
      /two labels share the id/,
    );
    await expectArchiveError(
      edit((files) => setSamples(files, (s) => ((s[1] as Record<string, unknown>).id = s[0]?.id))),
      'duplicate-id',
      /two samples share the id/,
    );
    await expectArchiveError(
      edit((files) => {
        const doc = readJson(files, 'models/index.json') as { models: unknown[] };
        doc.models.push(doc.models[0]);
        writeJson(files, 'models/index.json', doc);
      }),
      'duplicate-id',
      /two models/,
    );
  });

  it('rejects labelIds and embeddings that point nowhere', async () => {
    await expectArchiveError(
      edit((files) =>
        setSamples(files, (s) => ((s[0] as Record<string, unknown>).labelIds = ['no-such-label'])),
      ),
      'unknown-reference',
      /label "no-such-label", which project\.json does not define/,
    );
    await expectArchiveError(
      edit((files) => {
        const doc = readJson(files, 'embeddings/index.json') as {
          embeddings: { records: Record<string, unknown>[] }[];
        };
        (doc.embeddings[0]?.records[0] as Record<string, unknown>).sampleId = 'ghost';
        writeJson(files, 'embeddings/index.json', doc);
      }),
      'unknown-reference',
      /image "ghost"/,
    );
  });

  it('rejects malformed records and several labels in a single-label project', async () => {
    await expectArchiveError(
      edit((files) => setSamples(files, (s) => ((s[0] as Record<string, unknown>).sha256 = 'abc'))),
      'invalid-record',
      /malformed "sha256"/,
    );
    await expectArchiveError(
      edit((files) => setSamples(files, (s) => delete (s[0] as Record<string, unknown>).width)),
      'invalid-record',
      /samples\[0\] needs a number "width"/,
    );
    await expectArchiveError(
      edit((files) =>
        setSamples(files, (s) => {
          const labels = readJson(files, 'project.json').labels as { id: string }[];
          (s[0] as Record<string, unknown>).labelIds = labels.map((l) => l.id);
        }),
      ),
      'invalid-record',
      /several labels in a single-label project/,
    );
    await expectArchiveError(
      edit((files) =>
        writeJson(files, 'manifest.json', {
          ...readJson(files, 'manifest.json'),
          counts: { samples: 4 },
        }),
      ),
      'invalid-record',
      /lists 4 samples but the archive holds 3/,
    );
  });

  it('re-checks image bytes against their SHA-256 and size, and refuses non-images', async () => {
    const path = `images/${suite.seeded.samples[0].id}.png`;
    await expectArchiveError(
      edit((files) => (files[path] = makePng(7, 4, 9))),
      'checksum-mismatch',
      /bytes but samples\.json says|does not match its SHA-256/,
    );
    await expectArchiveError(
      edit((files) => {
        const original = files[path] as Uint8Array;
        const same = makePng(7, 4, 98);
        expect(same.length).toBe(original.length);
        files[path] = same;
      }),
      'checksum-mismatch',
      /does not match its SHA-256/,
    );
    const html = enc.encode('<html><script>alert(1)</script></html>');
    await expectArchiveError(
      edit((files) => {
        files[path] = html;
        setSamples(files, (s) => {
          const sample = s[0] as Record<string, unknown>;
          sample.byteSize = html.length;
          sample.sha256 = sha256(html);
        });
      }),
      'bad-image',
      /not an image/,
    );
    await expectArchiveError(
      edit((files) => (files[`thumbnails/${suite.seeded.samples[0].id}.webp`] = html)),
      'bad-image',
      /is not an image/,
    );
  });

  it('leaves every existing project untouched when an archive is rejected', async () => {
    const mine = await seedProject(suite.db, 'Mine');
    const before = await countByProject(suite.db, mine.project.id);
    await expectArchiveError(
      edit((files) => delete files['samples.json']),
      'missing-file',
    );
    expect(await countByProject(suite.db, mine.project.id)).toEqual(before);
    expect((await projectsRepo.listProjects(suite.db)).map((p) => p.name)).toEqual(['Mine']);
  });
});

describe('migrations', () => {
  it('migrates a version 0 archive (one labelId per sample) on restore', async () => {
    const v0 = await edit((files) => {
      writeJson(files, 'manifest.json', { ...readJson(files, 'manifest.json'), version: 0 });
      setSamples(files, (samples) =>
        samples.forEach((s) => {
          const [labelId] = s.labelIds as string[];
          delete s.labelIds;
          s.labelId = labelId ?? null;
        }),
      );
    });
    const restored = await readProjectArchive(v0);
    expect(restored.formatVersion).toBe(0);
    expect(restored.migrations).toEqual(['v0 -> v1: samples: one labelId -> labelIds[]']);
    expect(restored.samples.map((s) => s.labelIds)).toEqual(
      suite.seeded.samples.map((s) => s.labelIds),
    );
    expect(restored.samples.some((s) => 'labelId' in s)).toBe(false);
  });

  it('walks the table step by step and refuses versions it has no step for', () => {
    const docs: ArchiveDocuments = {
      manifest: { type: 'loupe-project', version: 0 },
      project: null,
      samples: { samples: [] },
      embeddings: null,
      models: null,
      modelDocuments: new Map(),
    };
    const table = [
      {
        from: 0,
        to: 1,
        description: 'a',
        migrate: (d: ArchiveDocuments) => ({ ...d, project: 'a' }),
      },
      {
        from: 1,
        to: 2,
        description: 'b',
        migrate: (d: ArchiveDocuments) => ({ ...d, project: `${String(d.project)}b` }),
      },
    ];
    const result = migrateArchive(docs, 0, table, 2);
    expect(result.documents.project).toBe('ab');
    expect(result.applied).toEqual(['v0 -> v1: a', 'v1 -> v2: b']);
    expect(migrateArchive(docs, 2, table, 2).applied).toEqual([]);
    expect(() => migrateArchive(docs, 3, table, 2)).toThrow(/newer Loupe/);
    expect(() => migrateArchive(docs, 0, table.slice(1), 2)).toThrow(
      expect.objectContaining({ code: 'unsupported-version' }),
    );
  });

  it('rejects the version-0 shape declared as version 1 (validation runs after migration)', async () => {
    await expectArchiveError(
      edit((files) =>
        setSamples(files, (samples) =>
          samples.forEach((s) => {
            delete s.labelIds;
            s.labelId = null;
          }),
        ),
      ),
      'invalid-record',
      /needs a list "labelIds"/,
    );
    expect(samplesOf(await unzipBlob(suite.good))).toHaveLength(3);
  });
});

describe('zipFiles fixture sanity', () => {
  it('round-trips entries', async () => {
    const files = await unzipBlob(zipFiles({ 'a.txt': enc.encode('a') }));
    expect(readText(files, 'a.txt')).toBe('a');
  });
});
