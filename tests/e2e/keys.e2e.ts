// Keyboard labelling in real Chromium with real photos: Tab enters a thumbnail grid once and
// leaves it with the next Tab, arrows/Home/End move focus inside it, number keys move the focused
// image (or the selection) to the label with that number and focus goes on to the next image, and
// `?` opens the `Keyboard shortcuts` dialog, Escape closing it with focus back where it was.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launch, type Session } from './browser';
import { photos, ProjectsPage } from './pages';

/** The focused element: the grid it sits in and its image's name (null when not a thumbnail). */
async function focused(page: Page): Promise<{ grid: string | null; image: string | null }> {
  return page.evaluate(() => {
    const el = document.activeElement;
    return {
      grid: el?.closest('[role=listbox]')?.getAttribute('aria-label') ?? null,
      image: el?.getAttribute('role') === 'option' ? (el.querySelector('img')?.alt ?? null) : null,
    };
  });
}

describe('keyboard', () => {
  const baseUrl = inject('baseUrl');
  let session: Session;
  beforeAll(async () => {
    session = await launch(baseUrl);
  });
  afterAll(async () => {
    await session?.close();
  });

  it(
    'one tab stop per grid, arrows move focus, 1-9 label, ? lists the shortcuts',
    { timeout: 90_000 },
    async () => {
      const { page } = session;
      const projects = new ProjectsPage(page);
      await projects.goto(baseUrl);
      const board = await projects.newProject('Keyboard flowers');
      for (const cls of ['daisy', 'tulip']) await board.addLabel(cls);
      // Number badges on the label headers; the region names stay as they were.
      await expect(board.region('daisy').locator('.label-key').textContent()).resolves.toBe('1');
      await expect(board.region('tulip').locator('.label-key').textContent()).resolves.toBe('2');
      await board.pickFiles('Unlabelled', [...photos('daisy', 0, 2), ...photos('tulip', 0, 2)]);
      await board.expectCount('Unlabelled', 4);
      await board.renderedThumbnails(board.inbox);
      const grid = 'Unlabelled thumbnails';
      const names = await board.inbox
        .getByRole('option')
        .evaluateAll((els) => els.map((el) => el.querySelector('img')?.alt ?? ''));
      expect(names).toHaveLength(4);
      expect(await board.inbox.locator('[role=option][tabindex="0"]').count()).toBe(1);

      // Tab enters the grid on its first image and the next Tab leaves it.
      await board.inbox.getByRole('button', { name: 'Select all in Unlabelled' }).focus();
      await page.keyboard.press('Tab');
      expect(await focused(page)).toEqual({ grid, image: names[0] });
      await page.keyboard.press('Tab');
      expect((await focused(page)).grid).not.toBe(grid);
      await page.keyboard.press('Shift+Tab');
      expect(await focused(page)).toEqual({ grid, image: names[0] });

      // Arrows, End and Home move focus; the tab stop follows it.
      await page.keyboard.press('ArrowRight');
      expect((await focused(page)).image).toBe(names[1]);
      await page.keyboard.press('End');
      expect((await focused(page)).image).toBe(names[3]);
      await page.keyboard.press('ArrowLeft');
      expect((await focused(page)).image).toBe(names[2]);
      await page.keyboard.press('Home');
      expect((await focused(page)).image).toBe(names[0]);
      await page.keyboard.press('ArrowRight');
      const tabStop = board.inbox.locator('[role=option][tabindex="0"]');
      await expect(tabStop.locator('img').getAttribute('alt')).resolves.toBe(names[1]);

      // `?` opens the shortcuts; Escape closes them and focus is back on the image.
      await page.keyboard.press('?');
      const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
      await help.waitFor();
      await help.getByText('1 – 9', { exact: true }).waitFor();
      await page.keyboard.press('Escape');
      await help.waitFor({ state: 'hidden' });
      expect(await focused(page)).toEqual({ grid, image: names[1] });

      // 2 moves the focused image to tulip; focus goes on to the next image of the inbox.
      await page.keyboard.press('2');
      await board.expectCount('tulip', 1);
      await board.expectCount('Unlabelled', 3);
      await board.region('tulip').getByRole('img', { name: names[1] }).waitFor();
      expect(await focused(page)).toEqual({ grid, image: names[2] });
      await page.keyboard.press('1');
      await board.expectCount('daisy', 1);
      await board.expectCount('Unlabelled', 2);
      expect(await focused(page)).toEqual({ grid, image: names[3] });

      // With the focused image selected, a number key moves the whole selection.
      await page.keyboard.press('Space');
      await page.keyboard.press('ArrowLeft');
      expect((await focused(page)).image).toBe(names[0]);
      await page.keyboard.press('Space');
      await page.getByText('2 selected', { exact: true }).waitFor();
      await page.keyboard.press('2');
      await board.expectCount('tulip', 3);
      await board.expectCount('Unlabelled', 0);
      await board.expectCount('daisy', 1);

      // The toolbar button opens the same dialog.
      await page.getByRole('button', { name: 'Keyboard shortcuts' }).click();
      await help.waitFor();
      await help.getByRole('button', { name: 'Close' }).click();
      await help.waitFor({ state: 'hidden' });

      expect(session.pageErrors).toEqual([]);
      expect(session.crossOrigin()).toEqual([]);
    },
  );

  it(
    'focus survives the virtualised grid: End, scrolling away, ArrowDown',
    { timeout: 90_000 },
    async () => {
      const { page } = session;
      const projects = new ProjectsPage(page);
      await projects.goto(baseUrl);
      const board = await projects.newProject('Many flowers');
      await board.addLabel('daisy');
      // The largest thumbnails: a few columns, so 40 images make more rows than are rendered.
      await page.getByRole('slider', { name: 'Thumbnail size' }).focus();
      await page.keyboard.press('End');
      await board.pickFiles('daisy', photos('daisy', 0, 40));
      await board.expectCount('daisy', 40);
      const options = board.region('daisy').getByRole('option');
      await options.first().locator('img').waitFor();
      const grid = 'daisy thumbnails';
      const rendered = await options.count();
      expect(rendered).toBeLessThan(40); // virtualised: not every thumbnail is in the DOM
      const before = await options.evaluateAll((els) =>
        els.map((el) => el.getAttribute('data-sample-id')),
      );

      await options.first().focus();
      const first = await focused(page);
      expect(first.grid).toBe(grid);
      await page.keyboard.press('End');
      const last = await page.evaluate(() =>
        document.activeElement?.getAttribute('data-sample-id'),
      );
      // The label's last image was not in the DOM before End; now it is, and it has focus.
      expect(last).toBeTruthy();
      expect(before).not.toContain(last);
      await page.keyboard.press('Home');
      expect(await focused(page)).toEqual(first);

      // Scrolling the grid far away keeps the focused thumbnail in the DOM and focused.
      await board
        .region('daisy')
        .locator('.thumb-scroll')
        .evaluate((el) => {
          el.scrollTop = el.scrollHeight;
        });
      await page.waitForTimeout(200);
      expect(await focused(page)).toEqual(first);
      await page.keyboard.press('ArrowDown');
      const below = await focused(page);
      expect(below.grid).toBe(grid);
      expect(below.image).not.toBe(first.image);
      expect(await board.region('daisy').locator('[role=option][tabindex="0"]').count()).toBe(1);
      expect(session.pageErrors).toEqual([]);
      expect(session.crossOrigin()).toEqual([]);
    },
  );
});
