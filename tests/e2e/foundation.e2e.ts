// Foundation workflow in real Chromium with real photos: projects, labels, picker and drop imports,
// rejected files, folder drops, persistence across reloads, and zero cross-origin requests.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launch, type Session } from './browser';
import { photos, ProjectsPage } from './pages';

describe('foundation: projects, labels, imports, persistence', () => {
  const baseUrl = inject('baseUrl');
  let session: Session;
  let tmp: string;

  beforeAll(async () => {
    session = await launch(baseUrl);
    tmp = mkdtempSync(path.join(tmpdir(), 'loupe-fixtures-'));
  });
  afterAll(async () => {
    await session?.close();
  });

  it('labels 40 real photos, survives a reload, rejects bad files, maps folders to labels', async () => {
    const { page } = session;
    const projects = new ProjectsPage(page);
    await projects.goto(baseUrl);
    await expect(page.getByText('Create a project, add a label')).toBeTruthy();

    const board = await projects.newProject('Flowers');
    await board.addLabel('daisy');
    await board.addLabel('tulip');

    await board.pickFiles('daisy', photos('daisy', 0, 20));
    await board.waitForImportIdle();
    await board.dropPaths(board.region('tulip'), photos('tulip', 0, 20));
    await board.waitForImportIdle();
    await page.waitForFunction(() => document.querySelectorAll('[data-sample-id]').length >= 40);
    expect(await board.count('daisy')).toBe(20);
    expect(await board.count('tulip')).toBe(20);

    const daisyBefore = await board.renderedThumbnails(board.region('daisy'));
    const tulipBefore = await board.renderedThumbnails(board.region('tulip'));
    expect(daisyBefore.length).toBeGreaterThan(0);

    await page.reload();
    await board.region('tulip').waitFor();
    expect(await board.projectName.inputValue()).toBe('Flowers');
    expect(await board.count('daisy')).toBe(20);
    expect(await board.count('tulip')).toBe(20);
    expect(await board.renderedThumbnails(board.region('daisy'))).toEqual(daisyBefore);
    expect(await board.renderedThumbnails(board.region('tulip'))).toEqual(tulipBefore);

    // A text file and a truncated JPEG: each listed with its reason, nothing else changes.
    const textFile = path.join(tmp, 'notes.txt');
    writeFileSync(textFile, 'these are not pixels\n');
    const truncated = path.join(tmp, 'truncated.jpg');
    const full = readFileSync(photos('daisy', 30, 1)[0]!);
    writeFileSync(truncated, full.subarray(0, Math.floor(full.length / 3)));
    await board.dropFilesAsDataTransfer(board.region('daisy'), [textFile, truncated]);
    await board.waitForImportIdle();
    const alert = page.getByRole('alert').filter({ hasText: 'rejected' }).last();
    await alert.waitFor();
    const rejected = await alert
      .getByRole('list', { name: 'Rejected files' })
      .getByRole('listitem')
      .allTextContents();
    expect(rejected).toHaveLength(2);
    expect(rejected.find((r) => r.startsWith('notes.txt'))).toMatch(/not an image/i);
    expect(rejected.find((r) => r.startsWith('truncated.jpg'))).toMatch(
      /corrupt|truncated|decode/i,
    );
    expect(await board.count('daisy')).toBe(20);
    expect(await board.count('tulip')).toBe(20);

    // The same photos again are skipped as duplicates.
    await board.pickFiles('daisy', photos('daisy', 0, 3));
    await board.waitForImportIdle();
    await page.getByText('3 duplicates skipped').waitFor();
    expect(await board.count('daisy')).toBe(20);

    // A folder with sub-folders dropped on the board: one label per sub-folder, reused by name.
    const garden = path.join(tmp, 'garden');
    for (const [cls, from, n] of [
      ['rose', 0, 3],
      ['sunflower', 0, 4],
      ['daisy', 40, 2],
    ] as const) {
      mkdirSync(path.join(garden, cls), { recursive: true });
      for (const f of photos(cls, from, n))
        copyFileSync(f, path.join(garden, cls, path.basename(f)));
    }
    await board.dropPaths(page.getByRole('toolbar', { name: 'Board actions' }), [garden]);
    await board.waitForImportIdle();
    await board.region('sunflower').waitFor();
    await board.expectCount('rose', 3);
    await board.expectCount('sunflower', 4);
    await board.expectCount('daisy', 22);
    expect(await page.getByRole('textbox', { name: 'Label name' }).count()).toBe(4);

    // A paste (a copied image has no file name) lands on the label last clicked.
    await board.region('tulip').click({ position: { x: 4, y: 4 } });
    const pasted = readFileSync(photos('tulip', 50, 1)[0]!).toString('base64');
    await page.evaluate((b64) => {
      const bin = atob(b64);
      const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], '', { type: 'image/jpeg' }));
      document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true }));
    }, pasted);
    await board.expectCount('tulip', 21);

    expect(session.pageErrors).toEqual([]);
    expect(session.crossOrigin()).toEqual([]);
  });
});
