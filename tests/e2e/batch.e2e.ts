// Batch classification in real Chromium with real photos: a folder of unseen photos in two
// sub-folders is classified without being added to the project, `Batch results` gets one row per
// image, the downloaded CSV parses with the documented header and agrees with the try panel, and
// two selected rows are accepted into a label.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launch, type Session } from './browser';
import { photos, ProjectsPage } from './pages';

/** RFC 4180 records (CRLF line ends, quoted fields with doubled quotes). */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i++;
    } else field += c;
  }
  return records;
}

describe('batch classification', () => {
  const baseUrl = inject('baseUrl');
  let session: Session;
  let folder: string;
  beforeAll(async () => {
    session = await launch(baseUrl);
    folder = mkdtempSync(path.join(tmpdir(), 'loupe-batch-'));
  });
  afterAll(async () => {
    await session?.close();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it('classifies a folder of unseen photos to a CSV that matches the try panel', async () => {
    const { page } = session;
    const projects = new ProjectsPage(page);
    await projects.goto(baseUrl);
    const board = await projects.newProject('Batch');
    for (const cls of ['daisy', 'sunflower']) {
      await board.addLabel(cls);
      await board.dropPaths(board.region(cls), photos(cls, 0, 8));
      await board.expectCount(cls, 8);
    }
    await page.waitForFunction(
      () => document.querySelector('[data-testid=embedded-count]')?.textContent === '16',
      undefined,
      { timeout: 120_000 },
    );

    // Six unseen photos in two sub-folders, one with a comma, quotes and non-Latin characters.
    const root = path.join(folder, 'unseen');
    const expected: string[] = [];
    const sources = new Map<string, string>();
    for (const [sub, cls] of [
      ['garden', 'daisy'],
      ['field, "north" 向日葵', 'sunflower'],
    ] as const) {
      mkdirSync(path.join(root, sub), { recursive: true });
      for (const file of photos(cls, 200, 3)) {
        copyFileSync(file, path.join(root, sub, path.basename(file)));
        const relative = `unseen/${sub}/${path.basename(file)}`;
        expected.push(relative);
        sources.set(relative, file);
      }
    }
    await page.getByLabel('Classify a folder', { exact: true }).setInputFiles(root);
    const results = page.getByRole('region', { name: 'Batch results' });
    await results.waitFor();
    await page.waitForFunction(
      () => document.querySelector('[data-testid=batch-count]')?.getAttribute('data-rows') === '6',
      undefined,
      { timeout: 60_000 },
    );
    await page
      .getByRole('progressbar', { name: 'Classifying images' })
      .waitFor({ state: 'detached' });
    const table = results.getByRole('table', { name: 'Classified images' });
    expect(await table.getByRole('row').count()).toBe(7); // header + one per image
    // Visible rows show their image (from the picked file itself, not from storage).
    await page.waitForFunction(
      (el) => {
        const imgs = Array.from((el as HTMLElement).querySelectorAll('img'));
        return imgs.length === 6 && imgs.every((i) => i.complete && i.naturalWidth > 0);
      },
      await table.elementHandle(),
      { timeout: 30_000 },
    );

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      results.getByRole('button', { name: 'Download CSV' }).click(),
    ]);
    const text = readFileSync(await download.path(), 'utf8');
    expect(text.startsWith('\uFEFF')).toBe(true);
    const [header, ...rows] = parseCsv(text.slice(1));
    expect(header).toEqual(['path', 'predicted', 'confidence', 'daisy', 'sunflower']);
    expect(rows.map((r) => r[0]).sort()).toEqual([...expected].sort());
    console.log(JSON.stringify(rows.map((r) => [r[0], r[1], r[2]])));
    for (const row of rows) {
      expect(['daisy', 'sunflower']).toContain(row[1]);
      expect(Number(row[3]) + Number(row[4])).toBeCloseTo(1, 3);
    }

    // The confidence range keeps only the rows inside it (here: 80 % and more).
    const sure = rows.filter((r) => Number(r[2]) >= 0.8).length;
    await results.getByLabel('Minimum confidence (%)').fill('80');
    await expect.poll(() => table.getByRole('row').count()).toBe(sure + 1);
    await results.getByLabel('Minimum confidence (%)').fill('0');
    await expect.poll(() => table.getByRole('row').count()).toBe(7);

    // The try panel (same head, KNN) predicts the same labels for three batch images.
    const checked = [
      rows.find((r) => r[0]!.includes('向日葵'))!,
      ...rows.filter((r) => r[0]!.includes('garden')).slice(0, 2),
    ];
    for (const row of checked) {
      await board.tryImage(sources.get(row[0]!)!);
      const top = await page
        .getByRole('list', { name: 'Predictions' })
        .getByRole('listitem')
        .first()
        .textContent();
      expect(top, row[0]).toMatch(new RegExp(`^${row[1]}\\s`));
    }
    // A paste after clicking the try panel tries the image; it is not added to the project.
    const tryPanel = page.getByRole('region', { name: 'Try the classifier' });
    const predictions = page.getByRole('list', { name: 'Predictions' });
    const triesBefore = Number(await predictions.getAttribute('data-tries'));
    await tryPanel.getByRole('heading', { name: 'Try it' }).click();
    const pasted = readFileSync(photos('sunflower', 60, 1)[0]!).toString('base64');
    await page.evaluate((b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], '', { type: 'image/jpeg' }));
      const target = document.activeElement ?? document.body;
      target.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true }));
    }, pasted);
    await expect
      .poll(async () => Number(await predictions.getAttribute('data-tries')))
      .toBeGreaterThan(triesBefore);

    // Nothing was added to the project.
    expect(await page.getByTestId('embedded-count').textContent()).toBe('16');

    // Two selected rows are accepted into daisy: imported like picked files, gone from the table.
    for (const row of checked.slice(1)) await results.getByLabel(`Select ${row[0]}`).check();
    await results.getByRole('button', { name: 'Add to daisy' }).click();
    await board.expectCount('daisy', 10);
    expect(await table.getByRole('row').count()).toBe(5);

    expect(session.pageErrors).toEqual([]);
    expect(session.crossOrigin()).toEqual([]);
  }, 180_000);
});
