// Switching a multi-label project to single-label is refused, with the count, while images carry
// several labels (their archive would not import back); it goes through once they carry one.
import { beforeEach, describe, expect, it } from 'vitest';
import type { LoupeDatabase } from '../../src/core/storage/db';
import { openLoupeDb } from '../../src/core/storage/db';
import * as labelsRepo from '../../src/core/storage/labels';
import { getProject, updateProject } from '../../src/core/storage/projects';
import { insertSamples } from '../../src/core/storage/samples';
import { countMultiLabelled } from '../../src/state/boardSlice';
import { createLoupeStore, type LoupeStore } from '../../src/state/store';
import { newSample } from '../fixtures/records';

let db: LoupeDatabase;
let store: LoupeStore;
const state = (): ReturnType<LoupeStore['getState']> => store.getState();

beforeEach(async () => {
  db = await openLoupeDb();
  const dbPromise = Promise.resolve(db);
  store = createLoupeStore({
    db: () => dbPromise,
    runImport: () => Promise.reject(new Error('no imports here')),
  });
});

describe('setProjectKind', () => {
  it('refuses multi -> single while images carry several labels, giving the count', async () => {
    const id = await state().createProject('Tags');
    await updateProject(db, id, { kind: 'multi-label' });
    const a = await labelsRepo.addLabel(db, id, 'a');
    const b = await labelsRepo.addLabel(db, id, 'b');
    const both1 = newSample(id, { labelIds: [a.id, b.id] });
    const both2 = newSample(id, { labelIds: [a.id, b.id] });
    await insertSamples(db, [both1, both2, newSample(id, { labelIds: [a.id] })]);
    await state().openProject(id);
    expect(countMultiLabelled(state().samples)).toBe(2);

    expect(await state().setProjectKind('single-label')).toBe(false);
    expect(state().project?.kind).toBe('multi-label');
    expect((await getProject(db, id))?.kind).toBe('multi-label');
    const notice = state().notices.at(-1);
    expect(notice?.kind).toBe('error');
    expect(notice?.message).toMatch(
      /^Cannot switch to single-label: 2 images carry several labels/,
    );

    await state().tagSamples([both1.sample.id], b.id, false);
    expect(await state().setProjectKind('single-label')).toBe(false);
    expect(state().notices.at(-1)?.message).toMatch(/1 image carries several labels/);

    await state().tagSamples([both2.sample.id], a.id, false);
    expect(await state().setProjectKind('single-label')).toBe(true);
    expect((await getProject(db, id))?.kind).toBe('single-label');
    expect(await state().setProjectKind('multi-label')).toBe(true);
  });
});
