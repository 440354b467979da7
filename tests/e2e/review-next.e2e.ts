// Review's sections on unlabelled images in real Chromium with real photos and the real backbone:
// eight unlabelled photos of two classes are grouped in `Clusters`, `Make label from cluster`
// creates a label holding one cluster's images, and in `Label next` a number key labels the
// focused image with the label in that board position.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import path from 'node:path';
import { launch, type Session } from './browser';
import { photos, ProjectsPage } from './pages';

describe('review: label next and clusters', () => {
  const baseUrl = inject('baseUrl');
  let session: Session;
  beforeAll(async () => {
    session = await launch(baseUrl);
  });
  afterAll(async () => {
    await session?.close();
  });

  it(
    'Make label from cluster labels a cluster; a number key labels the focused Label next image',
    { timeout: 180_000 },
    async () => {
      const { page } = session;
      const projects = new ProjectsPage(page);
      await projects.goto(baseUrl);
      const board = await projects.newProject('Label next');
      for (const cls of ['daisy', 'sunflower']) {
        await board.addLabel(cls);
        await board.dropPaths(board.region(cls), photos(cls, 0, 5));
        await board.expectCount(cls, 5);
      }
      const unlabelled = [...photos('daisy', 20, 4), ...photos('sunflower', 20, 4)];
      await board.dropPaths(board.inbox, unlabelled);
      await page.waitForFunction(
        () => document.querySelector('[data-testid=embedded-count]')?.textContent === '18',
        undefined,
        { timeout: 120_000 },
      );
      const names = new Set(unlabelled.map((f) => path.basename(f)));

      await page.getByRole('button', { name: 'Review', exact: true }).click();
      const clusters = page.getByRole('region', { name: 'Clusters' });
      const first = clusters.getByRole('group', { name: 'Cluster 1' });
      await first.waitFor({ timeout: 60_000 });
      await page.waitForSelector('[aria-labelledby=review-clusters][aria-busy=false]');
      const members = await first
        .getByRole('listitem')
        .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
      expect(members.length).toBeGreaterThan(0);
      for (const name of members) expect(names.has(name), name).toBe(true);
      for (const label of ['daisy', 'sunflower'])
        await first.getByRole('button', { name: `Add cluster to ${label}` }).waitFor();
      await first.getByRole('button', { name: 'Make label from cluster' }).click();
      const dialog = page.getByRole('dialog', { name: 'Make label from cluster' });
      await dialog.getByRole('textbox').fill('from cluster');
      await dialog.getByRole('button', { name: 'Create label' }).click();
      await board.expectCount('from cluster', members.length);
      for (const name of members)
        await board.region('from cluster').getByRole('img', { name }).waitFor();

      const next = page.getByRole('region', { name: 'Label next' });
      const items = next.getByRole('listitem');
      await items.first().waitFor({ timeout: 60_000 });
      const listed = await items.evaluateAll((els) =>
        els.map((e) => (e.getAttribute('aria-label') ?? '').split(':')[0] ?? ''),
      );
      expect(listed.length).toBe(unlabelled.length - members.length);
      for (const name of listed) expect(names.has(name), name).toBe(true);
      await items
        .first()
        .getByRole('button', { name: /^Accept / })
        .waitFor();

      const sunflowers = await board.count('sunflower');
      await items.first().focus();
      await page.keyboard.press('2'); // daisy, sunflower, from cluster: 2 = sunflower
      await board.expectCount('sunflower', sunflowers + 1);
      // Focus moved on to the next image of the list.
      if (listed.length > 1)
        await page.waitForFunction(() =>
          document.activeElement?.closest('[aria-labelledby=review-label-next]'),
        );
      expect(session.crossOrigin()).toEqual([]);
    },
  );
});
