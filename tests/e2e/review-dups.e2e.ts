// Near-duplicates and stored predictions in real Chromium with real photos: a resized, re-encoded
// copy of a photo (made in the page) joins its original in `Near-duplicates`; the `Similarity
// threshold` control changes the groups; `Keep one` deletes the copy after a confirmation; and the
// sample detail shows a labelled image's own out-of-fold prediction.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { launch, type Session } from './browser';
import { photos, ProjectsPage } from './pages';

describe('review near-duplicates', () => {
  const baseUrl = inject('baseUrl');
  let session: Session;
  beforeAll(async () => {
    session = await launch(baseUrl);
  });
  afterAll(async () => {
    await session?.close();
  });

  it('a resized copy groups with its original; threshold, Keep one, own prediction', async () => {
    const { page } = session;
    const projects = new ProjectsPage(page);
    await projects.goto(baseUrl);
    const board = await projects.newProject('Duplicates');
    for (const cls of ['daisy', 'sunflower']) {
      await board.addLabel(cls);
      await board.dropPaths(board.region(cls), photos(cls, 0, 4));
      await board.expectCount(cls, 4);
    }
    const original = photos('daisy', 0, 1)[0]!;
    await board.region('daisy').evaluate(async (el, data) => {
      const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
      const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/jpeg' }));
      const w = Math.round(bitmap.width * 0.6);
      const h = Math.round(bitmap.height * 0.6);
      const canvas = new OffscreenCanvas(w, h);
      canvas.getContext('2d')?.drawImage(bitmap, 0, 0, w, h);
      const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.85 });
      const dt = new DataTransfer();
      dt.items.add(new File([blob], 'resized-copy.jpg', { type: 'image/jpeg' }));
      for (const type of ['dragenter', 'dragover', 'drop'])
        el.dispatchEvent(
          new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }),
        );
    }, readFileSync(original).toString('base64'));
    await board.expectCount('daisy', 5);
    await page.waitForFunction(
      () => document.querySelector('[data-testid=embedded-count]')?.textContent === '9',
      undefined,
      { timeout: 120_000 },
    );

    await page.getByRole('button', { name: 'Review', exact: true }).click();
    const region = page.getByRole('region', { name: 'Near-duplicates' });
    const group = region.locator('.review-group').filter({ hasText: 'resized-copy.jpg' });
    await group.waitFor({ timeout: 60_000 });
    await group.getByRole('listitem', { name: path.basename(original) }).waitFor();

    // Only identical embeddings pass a threshold of 1; the default brings the group back.
    const threshold = region.getByRole('slider', { name: 'Similarity threshold' });
    const initial = await threshold.inputValue();
    await threshold.fill('1');
    await region.getByText('No near-duplicates.').waitFor({ timeout: 30_000 });
    await threshold.fill(initial);
    await group.waitFor({ timeout: 30_000 });

    // The image's own out-of-fold prediction, from the predictions Review computed and stored.
    const name = path.basename(photos('sunflower', 1, 1)[0]!);
    await board.region('sunflower').getByRole('img', { name }).click();
    const details = page.getByRole('region', { name: 'Image details' });
    await details
      .getByText(/^Labelled sunflower, predicted (sunflower|daisy) \d+%$/)
      .waitFor({ timeout: 30_000 });

    await group.getByRole('button', { name: 'Keep one' }).click();
    const dialog = page.getByRole('dialog', { name: 'Keep one image' });
    await dialog.getByText(/delete the other 1 image of this group/).waitFor();
    await dialog.getByRole('button', { name: 'Delete 1 image' }).click();
    await board.expectCount('daisy', 4);
    await expect.poll(() => group.count(), { timeout: 30_000 }).toBe(0);
    expect(session.crossOrigin()).toEqual([]);
  }, 120_000);
});
