/**
 * A project whose backbone was picked as files carries those files in its archive: they come back
 * byte for byte on another device (a fresh database), a tampered set is refused by its checksum,
 * and an archive without them restores with a warning that says what to do.
 */
import { describe, expect, it } from 'vitest';
import { exportProjectArchive, readProjectArchive } from '../../src/core/formats';
import { MODEL_FILES_INDEX_PATH } from '../../src/core/formats/archiveModelFiles';
import { sha256Hex } from '../../src/core/imageio/hash';
import { getBackboneFiles, putBackboneFiles } from '../../src/core/storage/backboneFiles';
import { openLoupeDb, type LoupeDatabase } from '../../src/core/storage/db';
import * as projectsRepo from '../../src/core/storage/projects';
import { writeRestoredProject } from '../../src/core/storage/restoreProject';
import type { BackboneFilesRecord } from '../../src/core/storage/schema';
import { expectArchiveError, readJson, unzipBlob, zipFiles } from '../fixtures/formats';

const MODEL_JSON = JSON.stringify({
  format: 'layers-model',
  modelTopology: { class_name: 'Sequential', config: { layers: [] } },
  weightsManifest: [
    { paths: ['w1.bin', 'w2.bin'], weights: [{ name: 'k', shape: [3], dtype: 'float32' }] },
  ],
});

async function modelFiles(): Promise<BackboneFilesRecord> {
  const json = new TextEncoder().encode(MODEL_JSON);
  const w1 = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
  const w2 = new Uint8Array([9, 10, 11, 12]);
  const all = new Uint8Array([...json, ...w1, ...w2]);
  return {
    key: await sha256Hex(all),
    name: 'my-model',
    modelJson: MODEL_JSON,
    weights: [
      { path: 'w1.bin', blob: new Blob([w1]) },
      { path: 'w2.bin', blob: new Blob([w2]) },
    ],
    byteSize: all.byteLength,
    createdAt: 5,
  };
}

/** A project whose custom backbone names `files` (stored in `db` unless `store` is false). */
async function projectWithFiles(
  db: LoupeDatabase,
  files: BackboneFilesRecord,
  store = true,
): Promise<string> {
  if (store) await putBackboneFiles(db, files);
  const project = await projectsRepo.createProject(db, 'Own model');
  const spec = {
    kind: 'custom' as const,
    id: `custom:files:${files.key}`,
    label: 'my-model (features)',
    url: '',
    files: files.key,
    embeddingLayer: 'features',
    inputSize: 8,
    inputRange: [0, 1] as [number, number],
  };
  await projectsRepo.updateProject(db, project.id, {
    settings: { ...project.settings, backboneId: spec.id, customBackbone: spec },
  });
  return project.id;
}

const bytesOf = async (r: BackboneFilesRecord): Promise<number[][]> =>
  Promise.all(r.weights.map(async (w) => [...new Uint8Array(await w.blob.arrayBuffer())]));

describe('model files in project archives', () => {
  it('travel with the project and are stored again on another device', async () => {
    const files = await modelFiles();
    const source = await openLoupeDb({ name: 'model-files-source' });
    const archive = await exportProjectArchive(source, await projectWithFiles(source, files));
    source.close();
    const entries = await unzipBlob(archive);
    expect(
      Object.keys(entries)
        .filter((n) => n.startsWith('model-files/'))
        .sort(),
    ).toEqual([
      `model-files/${files.key}/0.bin`,
      `model-files/${files.key}/1.bin`,
      `model-files/${files.key}/model.json`,
      MODEL_FILES_INDEX_PATH,
    ]);

    const restored = await readProjectArchive(archive);
    expect(restored.warnings).toEqual([]);
    expect(restored.backboneFiles?.map((r) => r.key)).toEqual([files.key]);
    const target = await openLoupeDb({ name: 'model-files-target' });
    await writeRestoredProject(target, restored, { mode: 'new' });
    const stored = await getBackboneFiles(target, files.key);
    expect(stored).toMatchObject({
      name: 'my-model',
      modelJson: MODEL_JSON,
      byteSize: files.byteSize,
    });
    expect(stored?.weights.map((w) => w.path)).toEqual(['w1.bin', 'w2.bin']);
    expect(await bytesOf(stored as BackboneFilesRecord)).toEqual(await bytesOf(files));
    target.close();
  });

  it('refuses a set whose bytes do not match its key, and misnamed entries', async () => {
    const files = await modelFiles();
    const db = await openLoupeDb({ name: 'model-files-tamper' });
    const good = await unzipBlob(await exportProjectArchive(db, await projectWithFiles(db, files)));
    db.close();
    const tampered = { ...good, [`model-files/${files.key}/1.bin`]: new Uint8Array([9, 9, 9, 9]) };
    await expectArchiveError(zipFiles(tampered), 'invalid-record', /do not match their checksum/);
    const index = readJson(good, MODEL_FILES_INDEX_PATH) as {
      modelFiles: { weights: { entry: string }[] }[];
    };
    const set = index.modelFiles[0];
    if (set?.weights[0]) set.weights[0].entry = '../../etc/passwd';
    const misnamed = {
      ...good,
      [MODEL_FILES_INDEX_PATH]: new TextEncoder().encode(JSON.stringify(index)),
    };
    await expectArchiveError(zipFiles(misnamed), 'invalid-record', /weight 0 of .* is misnamed/);
  });

  it('restores a project whose files the archive lacks, with a warning', async () => {
    const files = await modelFiles();
    const db = await openLoupeDb({ name: 'model-files-missing' });
    const archive = await exportProjectArchive(db, await projectWithFiles(db, files, false));
    db.close();
    expect(Object.keys(await unzipBlob(archive)).some((n) => n.startsWith('model-files/'))).toBe(
      false,
    );
    const restored = await readProjectArchive(archive);
    expect(restored.backboneFiles).toBeUndefined();
    expect(restored.warnings).toEqual([
      expect.stringMatching(
        /own model files are not in this archive.*pick the model’s files again/,
      ),
    ]);
  });
});
