import { beforeEach, describe, expect, it } from 'vitest';
import type { PathedFile } from '../../src/core/dataset/folders';
import type { ImportReport } from '../../src/core/dataset/importer';
import { importFiles } from '../../src/core/dataset/importer';
import { ARCHIVE_FILE_REASON, SYSTEM_FILE_REASON } from '../../src/core/dataset/screen';
import type { LoupeDatabase } from '../../src/core/storage/db';
import { openLoupeDb } from '../../src/core/storage/db';
import type { LoupeStore } from '../../src/state/store';
import { createLoupeStore } from '../../src/state/store';
import type { ImportCall } from '../../src/worker/api';
import { createFakeDecoder, pngFile, textFile } from '../fixtures/images';

let db: LoupeDatabase;
let store: LoupeStore;

/**
 * Like the data worker bridge: progress reaches the page on its own message port, so a progress
 * event can land after the import's result (here: always one macrotask later).
 */
function importWithLateProgress(call: ImportCall): Promise<ImportReport> {
  return importFiles(db, call.items, {
    projectId: call.projectId,
    source: call.source,
    decoder: createFakeDecoder(),
    signal: call.signal,
    onProgress: (p) => setTimeout(() => call.onProgress(p), 0),
    onChunk: call.onChunk,
  });
}

beforeEach(async () => {
  db = await openLoupeDb();
  const dbPromise = Promise.resolve(db);
  store = createLoupeStore({ db: () => dbPromise, runImport: importWithLateProgress });
  const id = await store.getState().createProject('Trust');
  await store.getState().openProject(id);
});

const state = (): ReturnType<LoupeStore['getState']> => store.getState();
const file = (path: string, f: File): PathedFile => ({ file: f, path });
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

describe('import slice: trust', () => {
  it('clears the progress bar after single rejected files imported in a row', async () => {
    for (let i = 0; i < 3; i++) {
      await state().addFiles(
        [file(`notes${i}.txt`, textFile(`notes${i}.txt`, 'hi'))],
        {
          kind: 'inbox',
        },
        'drop',
      );
    }
    await settle();
    expect(state().importProgress).toBeNull();
    expect(state().importQueueLength).toBe(0);
    expect(state().notices).toHaveLength(3);
    expect(state().notices.every((n) => n.kind === 'error')).toBe(true);
  });

  it('lists system files and archives in a dropped folder as rejected, with reasons', async () => {
    await state().addFiles(
      [
        file('photos/cats/1.png', pngFile('1.png', 4, 3, 1)),
        file('photos/cats/.DS_Store', textFile('.DS_Store', 'x')),
        file('photos/dogs/Thumbs.db', textFile('Thumbs.db', 'x')),
        file('photos/dogs/desktop.ini', textFile('desktop.ini', 'x')),
        file('photos/dogs/2.png', pngFile('2.png', 4, 3, 2)),
        file('holiday.zip', new File([new Uint8Array([0x50, 0x4b, 3, 4])], 'holiday.zip')),
      ],
      { kind: 'board' },
      'drop',
    );
    expect(
      state()
        .samples.map((s) => s.name)
        .sort(),
    ).toEqual(['1.png', '2.png']);
    expect(
      state()
        .labels.map((l) => l.name)
        .sort(),
    ).toEqual(['cats', 'dogs']);
    const notice = state().notices.at(-1);
    expect(notice?.kind).toBe('error'); // the archive is an error; system files alone are not
    expect(notice?.rejected).toEqual([
      { name: 'photos/cats/.DS_Store', reason: SYSTEM_FILE_REASON },
      { name: 'photos/dogs/Thumbs.db', reason: SYSTEM_FILE_REASON },
      { name: 'photos/dogs/desktop.ini', reason: SYSTEM_FILE_REASON },
      { name: 'holiday.zip', reason: ARCHIVE_FILE_REASON },
    ]);
    expect(ARCHIVE_FILE_REASON).toMatch(/Import project/);
    expect(ARCHIVE_FILE_REASON).toMatch(/unzip it and drop the folder/);
  });

  it('lists a .DS_Store dropped on a label as rejected too', async () => {
    const label = await state().addLabel('A');
    await state().addFiles(
      [file('.DS_Store', textFile('.DS_Store', 'x'))],
      { kind: 'label', labelId: label.id },
      'drop',
    );
    expect(state().notices.at(-1)).toMatchObject({
      kind: 'info',
      rejected: [{ name: '.DS_Store', reason: SYSTEM_FILE_REASON }],
    });
    await settle();
    expect(state().importProgress).toBeNull();
  });
});
