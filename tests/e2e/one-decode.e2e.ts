// One decode per image, in real Chromium with the real weights: a drop's images are embedded from
// the model inputs the import drew from its own decode (the engine counts them), and those
// embeddings equal the ones the pipeline computes when it reads and decodes the stored images.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { launch, type Session } from './browser';
import { photos, ProjectsPage, SHARED } from './pages';
import type { LoupeStore } from '../../src/state/store';
import type { Services } from '../../src/state/services';

declare global {
  interface Window {
    /** The `?debug=1` handle (src/app/main.tsx). */
    __loupe: {
      store: LoupeStore;
      services: Services & { engine: NonNullable<Services['engine']> };
    };
  }
}

/** Every stored embedding of the open project, by sample id. */
function readEmbeddings(page: Page): Promise<Record<string, number[]>> {
  return page.evaluate(async () => {
    const projectId = window.__loupe.store.getState().project?.id;
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('loupe');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const rows = await new Promise<{ sampleId: string; projectId: string; vector: Float32Array }[]>(
      (resolve, reject) => {
        const request = db.transaction('embeddings').objectStore('embeddings').getAll();
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      },
    );
    db.close();
    return Object.fromEntries(
      rows.filter((r) => r.projectId === projectId).map((r) => [r.sampleId, [...r.vector]]),
    );
  });
}

function preparedStats(page: Page): Promise<{ reused: number; decoded: number }> {
  return page.evaluate(async () => (await window.__loupe.services.engine.stats()).prepared);
}

function waitEmbedded(page: Page, n: number): Promise<unknown> {
  return page.waitForFunction(
    (n) => {
      const s = window.__loupe.store.getState();
      return s.embeddedCount === n && s.embedProgress === null;
    },
    n,
    { timeout: 180_000, polling: 250 },
  );
}

describe('one decode per image', () => {
  const baseUrl = inject('baseUrl');
  let session: Session;
  beforeAll(async () => {
    session = await launch(baseUrl);
  });
  afterAll(async () => {
    await session?.close();
  });

  it('embeds a drop from the import’s decode, equal to decoding the stored images', async () => {
    const { page } = session;
    const projects = new ProjectsPage(page);
    await projects.goto(baseUrl, { debug: true });
    const board = await projects.newProject('One decode');
    await board.addLabel('mixed');
    // Small photos (their own thumbnails) and larger images (a real resize and thumbnail).
    const files = [
      ...photos('rose', 0, 6),
      path.join(SHARED, 'images/chelsea.png'),
      path.join(SHARED, 'images/dog.jpg'),
    ];
    // As a user who opened the project a moment ago: the engine is up and its backbone loaded.
    await page.evaluate(() => window.__loupe.store.getState().warmBackbone());
    await board.dropPaths(board.region('mixed'), files);
    await board.expectCount('mixed', files.length);
    await waitEmbedded(page, files.length);
    expect(await preparedStats(page)).toMatchObject({ reused: files.length, decoded: 0 });
    const fromImport = await readEmbeddings(page);
    expect(Object.keys(fromImport)).toHaveLength(files.length);

    // Drop the stored embeddings; the next job reads and decodes every stored image itself.
    await page.evaluate(async () => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const open = indexedDB.open('loupe');
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      await new Promise<void>((resolve, reject) => {
        const tx = db.transaction('embeddings', 'readwrite');
        tx.objectStore('embeddings').clear();
        tx.oncomplete = () => resolve();
        tx.onerror = () => reject(tx.error);
      });
      db.close();
      const { store } = window.__loupe;
      store.setState({ embeddedCount: 0 });
      await store.getState().scheduleEmbedding();
    });
    await waitEmbedded(page, files.length);
    expect(await preparedStats(page)).toMatchObject({
      reused: files.length,
      decoded: files.length,
    });
    const fromStored = await readEmbeddings(page);
    let maxDiff = 0;
    for (const [id, vector] of Object.entries(fromImport)) {
      const again = fromStored[id];
      expect(again).toHaveLength(vector.length);
      vector.forEach((v, k) => (maxDiff = Math.max(maxDiff, Math.abs(v - (again?.[k] ?? NaN)))));
    }
    console.log(JSON.stringify({ images: files.length, maxAbsDiff: maxDiff }));
    expect(maxDiff).toBeLessThan(1e-4);
    expect(session.pageErrors).toEqual([]);
    expect(session.crossOrigin()).toEqual([]);
  });
});
