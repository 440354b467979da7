// Trash and undo in real Chromium with real photos: Ctrl+Z undoes a move and a delete; a label
// deleted with its images and a deleted project come back from `Trash` with `Restore`, identical
// after a reload.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { launch, type Session } from './browser';
import type { BoardPage } from './pages';
import { photos, ProjectsPage } from './pages';

/** Label names in board order with their image counts, and the thumbnails' names per label. */
async function boardState(page: Page, board: BoardPage, labels: string[]): Promise<unknown> {
  const names = await page
    .getByRole('textbox', { name: 'Label name' })
    .evaluateAll((els) => (els as HTMLInputElement[]).map((e) => e.value));
  const counts: Record<string, number> = {};
  const images: Record<string, string[]> = {};
  for (const label of labels) {
    counts[label] = await board.count(label);
    images[label] = (await board.renderedThumbnails(board.region(label))).sort();
  }
  return { names, counts, images };
}

describe('trash and undo', () => {
  const baseUrl = inject('baseUrl');
  let session: Session;
  beforeAll(async () => {
    session = await launch(baseUrl);
  });
  afterAll(async () => {
    await session?.close();
  });

  it('Ctrl+Z undoes a move and a delete; Trash restores a label and a project', async () => {
    const { page } = session;
    const projects = new ProjectsPage(page);
    await projects.goto(baseUrl);
    const board = await projects.newProject('Bouquet');
    const undo = page.getByRole('button', { name: 'Undo', exact: true });
    expect(await undo.isDisabled()).toBe(true);
    for (const cls of ['daisy', 'tulip']) {
      await board.addLabel(cls);
      await board.pickFiles(cls, photos(cls, 0, 3));
      await board.waitForImportIdle();
      await board.expectCount(cls, 3);
    }
    const before = await boardState(page, board, ['daisy', 'tulip']);

    // Move a daisy to tulip (key 2), then Ctrl+Z.
    const daisy = path.basename(photos('daisy', 0, 1)[0]!);
    await board.region('daisy').getByRole('img', { name: daisy }).click();
    await page.keyboard.press('2');
    await board.expectCount('tulip', 4);
    await board.region('tulip').getByRole('img', { name: daisy }).waitFor();
    await page.keyboard.press('Control+z');
    await board.expectCount('daisy', 3);
    await board.expectCount('tulip', 3);
    await board.region('daisy').getByRole('img', { name: daisy }).waitFor();

    // Delete a tulip, then Ctrl+Z.
    const tulip = path.basename(photos('tulip', 1, 1)[0]!);
    await board.region('tulip').getByRole('img', { name: tulip }).click();
    await page.getByRole('button', { name: 'Delete selected' }).click();
    const deleteImages = page.getByRole('dialog', { name: 'Delete images' });
    await deleteImages.getByRole('button', { name: 'Delete images' }).click();
    await board.expectCount('tulip', 2);
    await deleteImages.waitFor({ state: 'hidden' }); // Ctrl+Z belongs to an open dialog
    await page.keyboard.press('Control+z');
    await board.expectCount('tulip', 3);
    await board.region('tulip').getByRole('img', { name: tulip }).waitFor();
    expect(await boardState(page, board, ['daisy', 'tulip'])).toEqual(before);

    // Delete the tulip label with its images; Trash -> Restore.
    await page.getByRole('button', { name: 'Delete label tulip' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete label' });
    await confirm.getByRole('radio', { name: 'Delete them too' }).check();
    await confirm.getByRole('button', { name: 'Delete label' }).click();
    await board.region('tulip').waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Trash', exact: true }).click();
    const trash = page.getByRole('dialog', { name: 'Trash' });
    await trash.getByText(/Label · 3 images · deleted/).waitFor();
    await trash.getByRole('button', { name: 'Restore tulip' }).click();
    await trash.getByText('Nothing deleted from this project is kept.').waitFor();
    await trash.getByRole('button', { name: 'Close' }).click();
    await board.expectCount('tulip', 3);
    await page.reload();
    await board.region('tulip').waitFor();
    expect(await boardState(page, board, ['daisy', 'tulip'])).toEqual(before);
    expect(await undo.isDisabled()).toBe(true);

    // Delete the project; the project list's Trash -> Restore.
    await page.getByRole('link', { name: '← All projects' }).click();
    await projects.projectLink('Bouquet').waitFor();
    await page.getByRole('button', { name: 'Delete Bouquet' }).click();
    await page
      .getByRole('dialog', { name: 'Delete project' })
      .getByRole('button', { name: 'Delete project' })
      .click();
    await projects.projectLink('Bouquet').waitFor({ state: 'detached' });
    await page
      .getByRole('status', { name: 'Storage' })
      .getByText(/trash holds/)
      .waitFor();
    await page.getByRole('button', { name: 'Trash', exact: true }).click();
    const listTrash = page.getByRole('dialog', { name: 'Trash' });
    await listTrash.getByText(/Project · 6 images · 2 labels · deleted/).waitFor();
    await listTrash.getByRole('button', { name: 'Restore Bouquet' }).click();
    await listTrash.getByText('No deleted project is kept.').waitFor();
    await listTrash.getByRole('button', { name: 'Close' }).click();
    await page.reload();
    await projects.projectLink('Bouquet').click();
    await board.region('tulip').waitFor();
    expect(await boardState(page, board, ['daisy', 'tulip'])).toEqual(before);

    expect(session.pageErrors).toEqual([]);
    expect(session.crossOrigin()).toEqual([]);
  });
});
