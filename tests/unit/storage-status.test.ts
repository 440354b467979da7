import { describe, expect, it } from 'vitest';
import {
  describePersistence,
  describeUsage,
  readStorageFacts,
  requestPersistence,
  type StorageApi,
} from '../../src/core/storageStatus';

describe('storage status', () => {
  it('reads usage, quota and persistence, or null where the browser cannot say', async () => {
    const api: StorageApi = {
      estimate: () => Promise.resolve({ usage: 5 * 1024 * 1024, quota: 2 * 1024 ** 3 }),
      persisted: () => Promise.resolve(false),
    };
    const facts = await readStorageFacts(api);
    expect(facts).toEqual({ usage: 5 * 1024 * 1024, quota: 2 * 1024 ** 3, persisted: false });
    expect(describeUsage(facts)).toBe('5 MB of 2 GB used (0 %)');
    expect(describePersistence(facts.persisted)).toMatch(/may delete this data/);
    expect(describePersistence(true)).toMatch(/^Persistent/);

    const failing: StorageApi = {
      estimate: () => Promise.reject(new Error('no')),
      persisted: () => Promise.reject(new Error('no')),
    };
    expect(await readStorageFacts(failing)).toEqual({ usage: null, quota: null, persisted: null });
    expect(await readStorageFacts(undefined)).toEqual({
      usage: null,
      quota: null,
      persisted: null,
    });
    expect(describeUsage({ usage: null, quota: null, persisted: null })).toBe('usage unknown');
    expect(describePersistence(null)).toMatch(/does not say/);
  });

  it('asks for persistence again', async () => {
    let asked = 0;
    const api: StorageApi = {
      persist: () => {
        asked++;
        return Promise.resolve(true);
      },
    };
    expect(await requestPersistence(api)).toBe(true);
    expect(asked).toBe(1);
    expect(await requestPersistence({})).toBe(false);
  });
});
