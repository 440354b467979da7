import { beforeEach, describe, expect, it } from 'vitest';
import {
  csvField,
  csvRow,
  datasetFileName,
  exportDataset,
  resolveSplits,
  type DatasetProgress,
} from '../../src/core/formats';
import type { LoupeDatabase } from '../../src/core/storage/db';
import { openLoupeDb } from '../../src/core/storage/db';
import * as labelsRepo from '../../src/core/storage/labels';
import * as projectsRepo from '../../src/core/storage/projects';
import { makePng } from '../fixtures/images';
import { addPngSample, readText, seedProject, unzipBlob } from '../fixtures/formats';

let db: LoupeDatabase;

beforeEach(async () => {
  db = await openLoupeDb();
  return () => db.close();
});

/** Multi-label project: awkward label names, duplicate file names, a multi-label image. */
async function seedMultiLabel() {
  const project = await projectsRepo.createProject(db, 'Zoo', 'multi-label');
  const cats = await labelsRepo.addLabel(db, project.id, 'Cats');
  const wolves = await labelsRepo.addLabel(db, project.id, 'Dogs/Wolves');
  const quoted = await labelsRepo.addLabel(db, project.id, 'big, "fluffy"');
  const both = await addPngSample(db, project.id, {
    name: 'pet.png',
    labelIds: [wolves.id, cats.id],
    seed: 1,
    createdAt: 1,
  });
  const cat = await addPngSample(db, project.id, {
    name: 'pet.PNG',
    labelIds: [cats.id],
    seed: 2,
    createdAt: 2,
  });
  const fluffy = await addPngSample(db, project.id, {
    name: 'con.jpg',
    labelIds: [quoted.id],
    seed: 3,
    createdAt: 3,
  });
  const none = await addPngSample(db, project.id, {
    name: 'mystery',
    labelIds: [],
    seed: 4,
    createdAt: 4,
  });
  return { project, both, cat, fluffy, none };
}

describe('exportDataset', () => {
  it('writes a folder per label, copies multi-label images, and labels.csv', async () => {
    const { project, both, cat, fluffy, none } = await seedMultiLabel();
    const progress: DatasetProgress[] = [];
    const blob = await exportDataset(db, project.id, {
      split: { train: [both.id, cat.id], validation: [fluffy.id] },
      onProgress: (p) => progress.push(p),
    });
    expect(progress.at(-1)).toEqual({ done: 4, total: 4 });
    const files = await unzipBlob(blob);
    expect(Object.keys(files).sort()).toEqual([
      'Cats/pet-2.PNG',
      'Cats/pet.png',
      'Dogs_Wolves/pet.png',
      'big, _fluffy_/_con.png',
      'labels.csv',
    ]);
    const bytesOf = async (s: { blob: Blob }) => new Uint8Array(await s.blob.arrayBuffer());
    expect(files['Cats/pet.png']).toEqual(await bytesOf(both));
    expect(files['Dogs_Wolves/pet.png']).toEqual(await bytesOf(both));
    expect(files['Cats/pet-2.PNG']).toEqual(await bytesOf(cat));
    expect(files['big, _fluffy_/_con.png']).toEqual(await bytesOf(fluffy));
    expect(readText(files, 'labels.csv')).toBe(
      'file,labels,split\r\n' +
        'Cats/pet.png,Cats|Dogs/Wolves,train\r\n' +
        'Cats/pet-2.PNG,Cats,train\r\n' +
        '"big, _fluffy_/_con.png","big, ""fluffy""",validation\r\n',
    );
    expect(none.labelIds).toEqual([]);
  });

  it('puts unlabelled images in _unlabelled/ on request, and filters by split', async () => {
    const { project, none, cat } = await seedMultiLabel();
    const files = await unzipBlob(await exportDataset(db, project.id, { includeUnlabelled: true }));
    expect(files['_unlabelled/mystery.png']).toEqual(new Uint8Array(await none.blob.arrayBuffer()));
    expect(readText(files, 'labels.csv')).toContain('\r\n_unlabelled/mystery.png,,\r\n');

    const only = await unzipBlob(
      await exportDataset(db, project.id, { split: { [cat.id]: 'test' }, onlySplit: 'test' }),
    );
    expect(Object.keys(only).sort()).toEqual(['Cats/pet.PNG', 'labels.csv']);
    expect(readText(only, 'labels.csv')).toBe('file,labels,split\r\nCats/pet.PNG,Cats,test\r\n');
  });

  it('takes splits from project settings by default', async () => {
    const { project, samples } = await seedProject(db);
    const files = await unzipBlob(await exportDataset(db, project.id));
    expect(readText(files, 'labels.csv')).toBe(
      'file,labels,split\r\nRoses/rose.png,Roses,train\r\nTulips/tulip.png,Tulips,validation\r\n',
    );
    expect(files['Roses/rose.png']).toEqual(makePng(7, 4, 1));
    expect(samples).toHaveLength(3);
    await expect(exportDataset(db, 'missing')).rejects.toMatchObject({ code: 'not-found' });
  });

  it('quotes CSV per RFC 4180 and resolves both split shapes', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvRow(['a', 'b,c', ''])).toBe('a,"b,c",\r\n');
    expect([...resolveSplits({ train: ['x', 'y'], s1: 'test' })]).toEqual([
      ['x', 'train'],
      ['y', 'train'],
      ['s1', 'test'],
    ]);
    expect(datasetFileName('My/Zoo')).toBe('My_Zoo-dataset.zip');
  });
});
