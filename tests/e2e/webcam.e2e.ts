// Webcam capture with Chromium's fake camera: holding `Hold to record` stores a burst into a label,
// the frames are embedded, and they are still there after a reload; the try panel's webcam still
// predicts from live frames.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launch, type Session } from './browser';
import { photos, ProjectsPage } from './pages';

const FAKE_CAMERA = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

describe('webcam capture', () => {
  const baseUrl = inject('baseUrl');
  let session: Session;
  beforeAll(async () => {
    session = await launch(baseUrl, { extraArgs: FAKE_CAMERA });
  });
  afterAll(async () => {
    await session?.close();
  });

  it('stores a held burst into a label, embeds it, and keeps it across a reload', async () => {
    const { page } = session;
    const projects = new ProjectsPage(page);
    await projects.goto(baseUrl);
    const board = await projects.newProject('Webcam');
    await board.addLabel('daisy');
    await board.dropPaths(board.region('daisy'), photos('daisy', 0, 3));
    await board.expectCount('daisy', 3);
    await board.addLabel('me');

    await board.region('me').getByRole('button', { name: 'Capture from webcam' }).click();
    const dialog = page.getByRole('dialog', { name: 'Capture into me' });
    const hold = dialog.getByRole('button', { name: 'Hold to record' });
    await expect.poll(() => hold.isEnabled(), { timeout: 30_000 }).toBe(true);
    expect(await dialog.getByLabel('Camera').locator('option').count()).toBeGreaterThan(1);

    const box = await hold.boundingBox();
    if (!box) throw new Error('Hold to record has no box');
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.waitForTimeout(1500);
    await page.mouse.up();
    // One notice for the whole burst, once every frame is stored.
    const notice = page.getByText(/^Captured \d+ images\./);
    await notice.waitFor({ timeout: 30_000 });
    const captured = Number((await notice.textContent())?.match(/^Captured (\d+)/)?.[1]);
    const status = dialog.getByRole('status', { name: 'Captured frames' });
    expect(await status.textContent()).toBe(`${captured} captured`);
    // 4 frames per second for 1.5 s, the first at once: 6 or 7, fewer on a loaded machine.
    expect(captured).toBeGreaterThanOrEqual(3);
    expect(captured).toBeLessThanOrEqual(8);
    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'hidden' });

    await board.expectCount('me', captured);
    const total = String(3 + captured);
    await page.waitForFunction(
      (n) => document.querySelector('[data-testid=embedded-count]')?.textContent === n,
      total,
      { timeout: 120_000 },
    );

    await page.reload();
    await board.region('me').waitFor();
    await board.expectCount('me', captured);
    await page.waitForFunction(
      (n) => document.querySelector('[data-testid=embedded-count]')?.textContent === n,
      total,
      { timeout: 60_000 },
    );

    const tryPanel = page.getByRole('region', { name: 'Try the classifier' });
    await tryPanel.getByRole('button', { name: 'Webcam' }).click();
    await tryPanel
      .getByRole('list', { name: 'Predictions' })
      .getByRole('listitem')
      .first()
      .waitFor({ timeout: 60_000 });
    await tryPanel.getByRole('button', { name: 'Stop webcam' }).click();
    expect(session.pageErrors).toEqual([]);
    expect(session.crossOrigin()).toEqual([]);
  });
});
