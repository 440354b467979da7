// Inserting samples into labels that no longer exist (deleted or trashed in another tab): with
// `dropMissingLabels` the insert keeps only the label ids that have a label in the sample's project,
// reads them in its own transaction, merges no dead id into a duplicate, and reports what it
// dropped; the import carries that across its chunks into its summary.
import { beforeEach, describe, expect, it } from 'vitest';
import type { ImageDecoder } from '../../src/core/dataset/decoder';
import { importFiles, summariseImport } from '../../src/core/dataset/importer';
import { openLoupeDb, type LoupeDatabase } from '../../src/core/storage/db';
import * as labelsRepo from '../../src/core/storage/labels';
import * as projectsRepo from '../../src/core/storage/projects';
import * as samplesRepo from '../../src/core/storage/samples';
import { trashLabel } from '../../src/core/storage/trash';
import { createFakeDecoder, pngFile } from '../fixtures/images';
import { newSample } from '../fixtures/records';

let db: LoupeDatabase;
let projectId: string;

beforeEach(async () => {
  db = await openLoupeDb();
  projectId = (await projectsRepo.createProject(db, 'Flowers')).id;
  return () => db.close();
});

const labelsOf = async (sampleId: string): Promise<string[] | undefined> =>
  (await samplesRepo.getSample(db, sampleId))?.labelIds;

describe('insertSamples with dropMissingLabels', () => {
  it('keeps live labels, stores a sample left with none unlabelled, and reports the rest', async () => {
    const roses = await labelsRepo.addLabel(db, projectId, 'roses');
    const tulips = await labelsRepo.addLabel(db, projectId, 'tulips');
    const elsewhere = await labelsRepo.addLabel(
      db,
      (await projectsRepo.createProject(db, 'Other')).id,
      'roses',
    );
    await labelsRepo.deleteLabel(db, roses.id, 'move-to-inbox');
    const both = newSample(projectId, { labelIds: [roses.id, tulips.id] });
    const gone = newSample(projectId, { labelIds: [roses.id] });
    const foreign = newSample(projectId, { labelIds: [elsewhere.id] });
    const fine = newSample(projectId, { labelIds: [tulips.id] });

    const result = await samplesRepo.insertSamples(db, [both, gone, foreign, fine], {
      dropMissingLabels: true,
    });
    expect(result.inserted.map((s) => s.labelIds)).toEqual([[tulips.id], [], [], [tulips.id]]);
    expect(result.droppedLabels).toEqual([
      { labelId: roses.id, count: 2, unlabelled: 1 },
      { labelId: elsewhere.id, count: 1, unlabelled: 1 },
    ]);
    expect(await labelsOf(both.sample.id)).toEqual([tulips.id]);
    expect(await labelsOf(gone.sample.id)).toEqual([]);
    expect(await labelsOf(foreign.sample.id)).toEqual([]);

    // Without the option the ids are stored as given (fixtures use made-up label ids).
    const asGiven = newSample(projectId, { labelIds: ['made-up'] });
    const plain = await samplesRepo.insertSamples(db, [asGiven]);
    expect(plain.droppedLabels).toEqual([]);
    expect(await labelsOf(asGiven.sample.id)).toEqual(['made-up']);
  });

  it('merges no dead label into a duplicate (multi-label), and counts only stored samples', async () => {
    const a = await labelsRepo.addLabel(db, projectId, 'a');
    const b = await labelsRepo.addLabel(db, projectId, 'b');
    const c = await labelsRepo.addLabel(db, projectId, 'c');
    const stored = newSample(projectId, { content: 'same', labelIds: [a.id] });
    await samplesRepo.insertSamples(db, [stored]);
    await trashLabel(db, b.id, 'move-to-inbox');

    const again = newSample(projectId, { content: 'same', labelIds: [b.id, c.id] });
    const result = await samplesRepo.insertSamples(db, [again], {
      mergeDuplicateLabels: true,
      dropMissingLabels: true,
    });
    expect(result.inserted).toEqual([]);
    expect(result.duplicates).toEqual([{ name: again.sample.name, existingId: stored.sample.id }]);
    expect(result.relabelled.map((s) => s.labelIds)).toEqual([[a.id, c.id]]);
    expect(result.droppedLabels).toEqual([]);
    expect(await labelsOf(stored.sample.id)).toEqual([a.id, c.id]);

    // Only dead labels: the duplicate gains nothing and is not relabelled.
    const onlyDead = newSample(projectId, { content: 'same', labelIds: [b.id] });
    const none = await samplesRepo.insertSamples(db, [onlyDead], {
      mergeDuplicateLabels: true,
      dropMissingLabels: true,
    });
    expect(none.relabelled).toEqual([]);
    expect(await labelsOf(stored.sample.id)).toEqual([a.id, c.id]);
  });
});

describe('an import into a label deleted between two of its chunks', () => {
  it('stores the later chunks unlabelled, with nothing dangling, and says so', async () => {
    const roses = await labelsRepo.addLabel(db, projectId, 'roses');
    const fake = createFakeDecoder();
    // The deletion starts when the first chunk is committed; the second chunk decodes after it.
    let deletion: Promise<void> | undefined;
    const decoder: ImageDecoder = {
      async decode(blob, target) {
        await deletion;
        return fake.decode(blob, target);
      },
    };
    const items = [1, 2, 3, 4, 5].map((n) => ({
      file: pngFile(`rose-${n}.png`, 4, 3, n),
      labelIds: [roses.id],
    }));
    const report = await importFiles(db, items, {
      projectId,
      source: 'drop',
      decoder,
      chunkSize: 2,
      dropMissingLabels: true,
      onChunk: () => {
        deletion ??= labelsRepo.deleteLabel(db, roses.id, 'move-to-inbox');
      },
    });
    expect(report.added.map((s) => s.labelIds)).toEqual([[roses.id], [roses.id], [], [], []]);
    expect(report.droppedLabels).toEqual([{ labelId: roses.id, count: 3, unlabelled: 3 }]);
    const stored = await samplesRepo.listSampleMeta(db, projectId);
    expect(stored).toHaveLength(5);
    // The first chunk lost the label with the deletion; no sample names a label without record.
    expect(stored.every((s) => s.labelIds.length === 0)).toBe(true);
    expect(summariseImport(report, (id) => (id === roses.id ? 'roses' : undefined))).toBe(
      'Added 5 images. “roses” was deleted during the import: 3 images were added as unlabelled.',
    );
    expect(summariseImport(report)).toBe(
      'Added 5 images. A label was deleted during the import: 3 images were added as unlabelled.',
    );
  });
});
