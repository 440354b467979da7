// Storage quota exhaustion in real Chromium: the origin's quota is lowered through the DevTools
// protocol (Storage.overrideQuotaForOrigin) so IndexedDB itself refuses writes mid-import. The
// import stops with a clear message, the images stored before stay, and after a reload the
// project is intact. An import the browser's estimate says will not fit is refused up front.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launch, type Session } from './browser';
import { photos, ProjectsPage } from './pages';

describe('storage quota', () => {
  const baseUrl = inject('baseUrl');
  let session: Session;
  beforeAll(async () => {
    // Service workers blocked: the app's precache (about 15 MB of Cache Storage) would share this
    // tiny origin quota with IndexedDB, racing the import for it; this test is about IndexedDB.
    session = await launch(baseUrl, { serviceWorkers: 'block' });
  });
  afterAll(async () => {
    await session?.close();
  });

  it('a full quota stops the import with a message and keeps what was stored', async () => {
    const { page } = session;
    // Chromium applies a quota override only to an origin that has not used storage yet, so it is
    // set before the first visit: room for a few dozen of these small photos (original, thumbnail
    // and embedding each); `estimate()` keeps reporting the disk-based quota.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Storage.overrideQuotaForOrigin', {
      origin: new URL(baseUrl).origin,
      quotaSize: 400_000,
    });
    const projects = new ProjectsPage(page);
    await projects.goto(baseUrl);
    const board = await projects.newProject('Quota');
    await board.addLabel('daisy');
    await board.pickFiles('daisy', photos('daisy', 0, 10));
    await board.waitForImportIdle();
    await board.expectCount('daisy', 10);

    await board.pickFiles('daisy', photos('daisy', 10, 120));
    await board.waitForImportIdle();
    const notice = page.getByRole('alert').filter({ hasText: /storage quota is full/ });
    await notice.first().waitFor({ timeout: 30_000 });
    const kept = await board.count('daisy');
    console.log(JSON.stringify({ quotaKept: kept }));
    expect(kept).toBeGreaterThanOrEqual(10);
    expect(kept).toBeLessThan(130);

    await page.reload();
    await board.region('daisy').waitFor();
    await board.expectCount('daisy', kept);
    expect(await board.projectName.inputValue()).toBe('Quota');
    expect(session.pageErrors).toEqual([]);
    expect(session.crossOrigin()).toEqual([]);
  });

  it('an import that will not fit the free storage is refused before it starts', async () => {
    // A fresh profile: the quota above is full by now.
    const own = await launch(baseUrl, { serviceWorkers: 'block' });
    const { page } = own;
    // The browser says 100 KB are free: three photos (plus thumbnails and embeddings) need more.
    await page.addInitScript(() => {
      Object.defineProperty(StorageManager.prototype, 'estimate', {
        value: () => Promise.resolve({ usage: 1e9 - 100_000, quota: 1e9 }),
      });
    });
    const projects = new ProjectsPage(page);
    await projects.goto(baseUrl);
    const board = await projects.newProject('No room');
    await board.addLabel('daisy');
    await board.pickFiles('daisy', photos('daisy', 0, 3));
    await page
      .getByRole('alert')
      .filter({ hasText: /These 3 files need about [\d.]+ KB of storage; 97.7 KB is free\./ })
      .waitFor();
    await board.expectCount('daisy', 0);
    expect(own.pageErrors).toEqual([]);
    await own.close();
  });
});
