// Backups that restore, in real Chromium with real photos: a multi-label project whose image
// carries two labels cannot switch to single-label until that image is resolved, and then its
// archive imports back identical (kind, labels, memberships); a project with a trained dense
// model and its own KNN settings imports back with the model (same top label in the try panel)
// and the same settings.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { launch, type Session } from './browser';
import { photos, ProjectsPage, type BoardPage } from './pages';

interface Snapshot {
  kind: string;
  labels: string[];
  /** File name -> its label names, sorted. */
  members: Record<string, string[]>;
}

/** The open project as the store holds it, by names (ids differ after an import). */
async function snapshot(page: Page): Promise<Snapshot> {
  return page.evaluate(() => {
    type State = {
      project: { kind: string } | null;
      labels: { id: string; name: string }[];
      samples: { name: string; labelIds: string[] }[];
    };
    const w = window as unknown as { __loupe: { store: { getState(): State } } };
    const s = w.__loupe.store.getState();
    const names = new Map(s.labels.map((l) => [l.id, l.name]));
    const members: Record<string, string[]> = {};
    for (const sample of s.samples) {
      members[sample.name] = sample.labelIds.map((id) => names.get(id) ?? '?').sort();
    }
    return { kind: s.project?.kind ?? '', labels: s.labels.map((l) => l.name), members };
  });
}

/** Exports the open project's archive, then imports it under a new name from the project list. */
async function exportAndImport(page: Page, name: string): Promise<void> {
  await page.getByRole('button', { name: 'Export' }).click();
  const dialog = page.getByRole('dialog', { name: 'Export' });
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 120_000 }),
    dialog.getByRole('button', { name: 'Project archive', exact: true }).click(),
  ]);
  const archive = readFileSync(await download.path());
  await dialog.getByRole('button', { name: 'Close' }).click();
  await page.getByRole('link', { name: '← All projects' }).click();
  await page.getByLabel('Import project').setInputFiles({
    name: `${path.basename(name)}.loupe`,
    mimeType: 'application/zip',
    buffer: archive,
  });
  const clash = page.getByRole('dialog', { name: 'Project name already used' });
  await clash.getByLabel('Import as').fill(`${name} (imported)`);
  await clash.getByRole('button', { name: 'Import with new name' }).click();
  const projectName = page.getByRole('textbox', { name: 'Project name' });
  await expect.poll(() => projectName.inputValue(), { timeout: 60_000 }).toBe(`${name} (imported)`);
}

async function waitForEmbeddings(page: Page, n: number): Promise<void> {
  await page.waitForFunction(
    (count) =>
      document.querySelector('[data-testid=embedded-count]')?.textContent === String(count),
    n,
    { timeout: 180_000 },
  );
}

async function topDense(board: BoardPage, file: string): Promise<string> {
  const { page } = board;
  await page.getByRole('radiogroup', { name: 'Classifier' }).getByLabel('Dense').check();
  await board.tryImage(file);
  const first = page.getByRole('list', { name: 'Predictions' }).locator('.pred-name').first();
  return (await first.textContent()) ?? '';
}

describe('archive round trips', () => {
  const baseUrl = inject('baseUrl');
  let session: Session;
  beforeAll(async () => {
    session = await launch(baseUrl);
  });
  afterAll(async () => {
    await session?.close();
  });

  it(
    'multi-label -> refused switch -> resolved -> single-label -> archive -> identical',
    { timeout: 240_000 },
    async () => {
      const { page } = session;
      const projects = new ProjectsPage(page);
      await projects.goto(baseUrl, { debug: true });
      const board = await projects.newProject('Round trip kinds');
      await page.getByText('Project settings').click();
      const kind = page.getByLabel('Project type');
      await kind.selectOption('multi-label');
      await board.addLabel('daisy');
      await board.addLabel('tulip');
      await board.dropPaths(board.region('daisy'), photos('daisy', 0, 3));
      await board.expectCount('daisy', 3);
      await board.dropPaths(board.region('tulip'), photos('tulip', 0, 3));
      await board.expectCount('tulip', 3);
      // One daisy photo dropped on tulip too: it now carries both labels.
      const both = photos('daisy', 0, 1)[0]!;
      await board.dropPaths(board.region('tulip'), [both]);
      await board.expectCount('tulip', 4);
      await board.expectCount('daisy', 3);

      await kind.selectOption('single-label');
      await page
        .getByRole('alert')
        .filter({ hasText: 'Cannot switch to single-label: 1 image carries several labels' })
        .waitFor();
      expect(await kind.inputValue()).toBe('multi-label');

      // Resolve it: that image keeps only daisy.
      await board
        .region('tulip')
        .getByRole('option')
        .filter({ has: page.getByRole('img', { name: path.basename(both) }) })
        .click();
      await page.getByText('1 selected', { exact: true }).waitFor();
      await page.getByLabel('Move selected to').selectOption({ label: 'daisy' });
      await board.expectCount('tulip', 3);
      await board.expectCount('daisy', 3);
      await kind.selectOption('single-label');
      await expect.poll(() => kind.inputValue()).toBe('single-label');
      const before = await snapshot(page);
      expect(before.kind).toBe('single-label');
      expect(Object.keys(before.members)).toHaveLength(6);
      expect(Object.values(before.members).every((labels) => labels.length === 1)).toBe(true);

      await exportAndImport(page, 'Round trip kinds');
      await board.expectCount('daisy', 3);
      await board.expectCount('tulip', 3);
      expect(await snapshot(page)).toEqual(before);
      // The project list shows each project's size.
      await page.getByRole('link', { name: '← All projects' }).click();
      const row = page.getByRole('listitem').filter({ hasText: 'Round trip kinds (imported)' });
      await expect
        .poll(() => row.locator('.project-meta').textContent())
        .toMatch(/^6 images · 2 labels · single-label · [\d.]+ (KB|MB)$/);
      expect(session.pageErrors).toEqual([]);
      expect(session.crossOrigin()).toEqual([]);
    },
  );

  it(
    'a trained dense model and KNN settings come back with the archive',
    { timeout: 420_000 },
    async () => {
      const { page } = session;
      const projects = new ProjectsPage(page);
      await projects.goto(baseUrl, { debug: true });
      const board = await projects.newProject('Round trip model');
      await board.addLabel('daisy');
      await board.addLabel('sunflower');
      await board.dropPaths(board.region('daisy'), photos('daisy', 0, 6));
      await board.expectCount('daisy', 6);
      await board.dropPaths(board.region('sunflower'), photos('sunflower', 0, 6));
      await board.expectCount('sunflower', 6);
      await waitForEmbeddings(page, 12);

      await page.getByText('Project settings').click();
      await page.getByLabel('KNN neighbours (k)').selectOption('3');
      await page.getByLabel('KNN says unknown below similarity').selectOption('0.7');

      await page.getByRole('button', { name: 'Train', exact: true }).click();
      await page.getByRole('progressbar', { name: 'Training' }).waitFor();
      await page.getByRole('button', { name: 'Train', exact: true }).waitFor({ timeout: 240_000 });
      const unseen = photos('sunflower', 200, 1)[0]!;
      const top = await topDense(board, unseen);
      expect(top).not.toBe('');

      await exportAndImport(page, 'Round trip model');
      await board.expectCount('daisy', 6);
      await board.expectCount('sunflower', 6);
      // Read from the (possibly closed) settings panel.
      expect(await page.getByLabel('KNN neighbours (k)').inputValue()).toBe('3');
      expect(await page.getByLabel('KNN says unknown below similarity').inputValue()).toBe('0.7');
      // The imported model answers without training (Dense is enabled once the worker has
      // opened the imported project's heads with their model).
      const dense = page.getByRole('radiogroup', { name: 'Classifier' }).getByLabel('Dense');
      await expect.poll(() => dense.isEnabled(), { timeout: 60_000, interval: 250 }).toBe(true);
      expect(await topDense(board, unseen)).toBe(top);
      expect(session.pageErrors).toEqual([]);
      expect(session.crossOrigin()).toEqual([]);
    },
  );
});
