// Small things that erode trust, in real Chromium: the Storage status on the project list, system
// files in a dropped folder listed as rejected (not skipped silently), the import bar gone once
// the import is over, and dense-training settings that survive a reload.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launch, type Session } from './browser';
import { photos, ProjectsPage } from './pages';

describe('trust: storage status, rejected system files, settings that stay', () => {
  const baseUrl = inject('baseUrl');
  let session: Session;
  let tmp: string;

  beforeAll(async () => {
    session = await launch(baseUrl);
    tmp = mkdtempSync(path.join(tmpdir(), 'loupe-trust-'));
  });
  afterAll(async () => {
    await session?.close();
  });

  it('lists .DS_Store and Thumbs.db as rejected and keeps dense settings over a reload', async () => {
    const { page } = session;
    const projects = new ProjectsPage(page);
    await projects.goto(baseUrl);
    const storage = page.getByRole('status', { name: 'Storage' });
    await storage.waitFor();
    expect(await storage.textContent()).toMatch(/used/);

    const board = await projects.newProject('Trust');
    const garden = path.join(tmp, 'garden');
    mkdirSync(path.join(garden, 'rose'), { recursive: true });
    for (const f of photos('rose', 0, 2))
      copyFileSync(f, path.join(garden, 'rose', path.basename(f)));
    writeFileSync(path.join(garden, 'rose', '.DS_Store'), 'Bud1');
    writeFileSync(path.join(garden, 'Thumbs.db'), 'thumbs');
    await board.dropPaths(page.getByRole('toolbar', { name: 'Board actions' }), [garden]);
    await board.waitForImportIdle();
    // Listed in an info notice (system files are no error): read at once, since it fades.
    const alert = page.getByRole('status').filter({ hasText: 'rejected' }).last();
    await alert.waitFor();
    const rejected = await alert
      .getByRole('list', { name: 'Rejected files' })
      .getByRole('listitem')
      .allTextContents();
    expect(rejected.sort()).toEqual([
      'garden/Thumbs.db: system file, not an image (skipped)',
      'garden/rose/.DS_Store: system file, not an image (skipped)',
    ]);
    expect(await page.getByRole('progressbar', { name: 'Importing images' }).count()).toBe(0);
    await board.expectCount('rose', 2);

    const trainPanel = page.getByRole('region', { name: 'Training' });
    await trainPanel.getByText('Settings', { exact: true }).click();
    await trainPanel.getByLabel('Epochs').fill('7');
    await trainPanel.getByLabel('Augment with flipped copies').check();
    // Stored in IndexedDB a moment later: wait until a reload would read it.
    await page.waitForTimeout(500);
    await page.reload();
    await trainPanel.getByText('Settings', { exact: true }).click();
    expect(await trainPanel.getByLabel('Epochs').inputValue()).toBe('7');
    expect(await trainPanel.getByLabel('Augment with flipped copies').isChecked()).toBe(true);

    expect(session.pageErrors).toEqual([]);
    expect(session.crossOrigin()).toEqual([]);
  });
});
