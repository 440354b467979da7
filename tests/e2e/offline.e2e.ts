// Offline and installable, on a plain static server (no special headers) under a sub-path: after
// one visit the service worker controls the page (cross-origin isolated, threads on, everything
// precached) and the browser finds the app installable; with the network cut the whole loop runs
// (reload, new project, import, embed, train, try, export) and the server sees no request. A new
// sw.js shows `Reload to update`, which reloads into the new version. Where service workers are
// blocked, the status bar says the app runs single-threaded and why.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { launch, type Session } from './browser';
import { photos, ProjectsPage } from './pages';
import { serveUnder, type PlainServer } from './subPathServer';

const DIST = path.resolve(process.env.LOUPE_DIST ?? 'dist');
const PREFIX = '/tools/loupe/';

async function statusText(page: Page, testId: string, text: string): Promise<void> {
  await page.waitForFunction(
    ([id, want]) => document.querySelector(`[data-testid=${id}]`)?.textContent === want,
    [testId, text] as const,
    { timeout: 60_000 },
  );
}

describe('offline: plain static host, sub-path', () => {
  let app: PlainServer;
  let session: Session;
  const extra = new Map<string, string>();
  beforeAll(async () => {
    app = await serveUnder(DIST, PREFIX, extra);
    session = await launch(app.url);
  });
  afterAll(async () => {
    await session?.close();
    await app?.close();
  });

  it('after one visit, runs the whole loop with the network cut', async () => {
    const { page, context } = session;
    const projects = new ProjectsPage(page);
    await projects.goto(app.url);
    // The first visit reloads once when the service worker takes over; then threads are on.
    await statusText(page, 'threads', 'threads on');
    await statusText(page, 'offline', 'works offline');
    expect(await page.evaluate(() => window.crossOriginIsolated)).toBe(true);
    expect(app.requests).toContain(`${PREFIX}models/mobilenet_v1_0.75_224/group1-shard1of1`);

    const cdp = await context.newCDPSession(page);
    const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as {
      installabilityErrors: { errorId: string }[];
    };
    expect(installabilityErrors).toEqual([]);

    const served = app.requests.length;
    await context.setOffline(true);
    await page.reload();
    await page.getByRole('heading', { name: 'Projects' }).waitFor();
    expect(await page.evaluate(() => window.crossOriginIsolated)).toBe(true);
    const board = await projects.newProject('Offline');
    await board.addLabel('daisy');
    await board.addLabel('tulip');
    await board.pickFiles('daisy', photos('daisy', 0, 5));
    await board.expectCount('daisy', 5);
    await board.pickFiles('tulip', photos('tulip', 0, 5));
    await board.expectCount('tulip', 5);
    await page.waitForFunction(
      () => document.querySelector('[data-testid=embedded-count]')?.textContent === '10',
      null,
      { timeout: 120_000 },
    );
    const trainPanel = page.getByRole('region', { name: 'Training' });
    await trainPanel.getByText('Settings', { exact: true }).click();
    await trainPanel.getByLabel('Epochs').fill('5');
    await trainPanel.getByRole('button', { name: 'Train', exact: true }).click();
    await page.getByRole('progressbar', { name: 'Training' }).waitFor();
    await trainPanel
      .getByRole('button', { name: 'Train', exact: true })
      .waitFor({ timeout: 60_000 });
    await board.tryImage(photos('daisy', 50, 1)[0]!);
    const top = await page
      .getByRole('list', { name: 'Predictions' })
      .getByRole('listitem')
      .first()
      .textContent();
    expect(top).toMatch(/^(daisy|tulip)/);

    await page.getByRole('button', { name: 'Export' }).click();
    const dialog = page.getByRole('dialog', { name: 'Export' });
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 60_000 }),
      dialog.getByRole('button', { name: 'TF.js model', exact: true }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/\.zip$/);
    await page.keyboard.press('Escape');

    // Only the browser's own update check of sw.js may reach the server: setOffline does not cover
    // it (really offline it fails and the installed version stays). Nothing the app asked for did.
    expect(app.requests.slice(served).filter((p) => p !== `${PREFIX}sw.js`)).toEqual([]);
    expect(session.crossOrigin()).toEqual([]);
    expect(session.pageErrors).toEqual([]);
    await context.setOffline(false);
  });

  it('offers a new version with `Reload to update` and reloads into it', async () => {
    const { page } = session;
    const update = page.getByRole('button', { name: 'Reload to update' });
    expect(await update.count()).toBe(0);
    // A new build's sw.js (same files, so the install copies them from the current cache).
    extra.set(`${PREFIX}sw.js`, `${readFileSync(path.join(DIST, 'sw.js'), 'utf8')}\n// next\n`);
    await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.getRegistration();
      await registration?.update();
    });
    await update.waitFor({ timeout: 30_000 });
    expect(await update.isEnabled()).toBe(true);
    await Promise.all([page.waitForEvent('load'), update.click()]);
    await page
      .getByRole('heading', { name: 'Projects' })
      .or(page.getByRole('textbox', { name: 'Project name' }))
      .first()
      .waitFor();
    await statusText(page, 'offline', 'works offline');
    expect(await update.count()).toBe(0);
    const script = await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.getRegistration();
      return { waiting: registration?.waiting ?? null, active: registration?.active?.state };
    });
    expect(script).toEqual({ waiting: null, active: 'activated' });
    expect(session.pageErrors).toEqual([]);
  });

  it('without service workers the app runs single-threaded and says why', async () => {
    const blocked = await launch(app.url, { serviceWorkers: 'block' });
    try {
      await new ProjectsPage(blocked.page).goto(app.url);
      await statusText(
        blocked.page,
        'threads',
        'single-threaded: this host sends no isolation headers and service workers are unavailable',
      );
      expect(await blocked.page.getByTestId('offline').count()).toBe(0);
      expect(blocked.pageErrors).toEqual([]);
    } finally {
      await blocked.close();
    }
  });
});
