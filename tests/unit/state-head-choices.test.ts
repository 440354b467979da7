// The classifier choice and the dense-training settings are stored in the project's settings
// (not in localStorage) and come back when the project is opened again, e.g. after a reload.
import { beforeEach, describe, expect, it } from 'vitest';
import {
  projectAugmentation,
  projectClassifier,
  projectDenseConfig,
} from '../../src/core/projectSettings';
import type { LoupeDatabase } from '../../src/core/storage/db';
import { openLoupeDb } from '../../src/core/storage/db';
import { getProject } from '../../src/core/storage/projects';
import type { ProjectRecord, ProjectSettings } from '../../src/core/storage/schema';
import { createLoupeStore, type LoupeStore } from '../../src/state/store';

let db: LoupeDatabase;
const newStore = (): LoupeStore => {
  const dbPromise = Promise.resolve(db);
  return createLoupeStore({
    db: () => dbPromise,
    runImport: () => Promise.reject(new Error('no imports here')),
  });
};

beforeEach(async () => {
  db = await openLoupeDb();
});

const withSettings = (settings: Record<string, unknown>): ProjectRecord => ({
  id: 'p',
  name: 'p',
  kind: 'single-label',
  createdAt: 0,
  updatedAt: 0,
  settings: { aspectMode: 'centre-crop', backboneId: 'b', ...settings } as ProjectSettings,
});

describe('head choices per project', () => {
  it('survive a reload of the store, and stay per project', async () => {
    let store = newStore();
    const first = await store.getState().createProject('First');
    const second = await store.getState().createProject('Second');
    await store.getState().openProject(first);
    store.getState().setClassifier('dense');
    store.getState().setDenseConfig({ epochs: 7 });
    store.getState().setDenseConfig({ dropout: 0.3 });
    store.getState().setAugmentation({ flips: true });
    await new Promise((r) => setTimeout(r, 20));
    const stored = await getProject(db, first);
    expect(stored?.settings).toMatchObject({
      classifier: 'dense',
      denseConfig: { epochs: 7, dropout: 0.3 },
      augmentation: { flips: true, crops: 0 },
    });

    store = newStore(); // a reload
    await store.getState().openProject(first);
    expect(store.getState().denseConfig).toEqual({ epochs: 7, dropout: 0.3 });
    expect(store.getState().augmentation).toEqual({ flips: true, crops: 0 });
    expect(projectClassifier(store.getState().project!)).toBe('dense');

    await store.getState().openProject(second);
    expect(store.getState().denseConfig).toEqual({});
    expect(store.getState().augmentation).toEqual({ flips: false, crops: 0 });
    expect(projectClassifier(store.getState().project!)).toBe('knn');
  });

  it('read back valid whatever was stored', () => {
    const bad = withSettings({
      classifier: 'svm',
      denseConfig: { epochs: 0, dropout: 0.5, batchSize: 2.5, learningRate: '1', seed: 4 },
      augmentation: { flips: 'yes', crops: 99 },
    });
    expect(projectClassifier(bad)).toBe('knn');
    expect(projectDenseConfig(bad)).toEqual({ dropout: 0.5 });
    expect(projectAugmentation(bad)).toEqual({ flips: false, crops: 0 });
    const none = withSettings({ denseConfig: null, augmentation: 3 });
    expect(projectDenseConfig(none)).toEqual({});
    expect(projectAugmentation(none)).toEqual({ flips: false, crops: 0 });
    const good = withSettings({
      classifier: 'dense',
      denseConfig: { hiddenUnits: 0, epochs: 500, batchSize: 16, learningRate: 0.01 },
      augmentation: { flips: true, crops: 2 },
    });
    expect(projectClassifier(good)).toBe('dense');
    expect(projectDenseConfig(good)).toEqual({
      hiddenUnits: 0,
      epochs: 500,
      batchSize: 16,
      learningRate: 0.01,
    });
    expect(projectAugmentation(good)).toEqual({ flips: true, crops: 2 });
  });
});
