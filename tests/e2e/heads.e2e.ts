// Heads and evaluation in real Chromium with real photos and the real backbone: KNN predicts with
// no Train press, Train streams a chart, held-out metrics and a confusion matrix appear, unseen
// photos are classified by both heads, the model and metrics survive a reload, and training with
// flipped copies leaves the KNN head untouched.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launch, type Session } from './browser';
import { photos, ProjectsPage, type BoardPage } from './pages';

const CLASSES = ['daisy', 'sunflower', 'tulip'];

async function waitForEmbeddings(page: Page, n: number): Promise<void> {
  await page.waitForFunction(
    (count) =>
      document.querySelector('[data-testid=embedded-count]')?.textContent === String(count),
    n,
    { timeout: 180_000 },
  );
}

async function topPrediction(page: Page): Promise<string> {
  const first = page.getByRole('list', { name: 'Predictions' }).getByRole('listitem').first();
  await first.waitFor({ timeout: 60_000 });
  return (await first.textContent()) ?? '';
}

/** Tries `file` with `classifier` selected; returns the top prediction of that very try. */
async function tryPhoto(
  board: BoardPage,
  file: string,
  classifier: 'KNN' | 'Dense',
): Promise<string> {
  const { page } = board;
  await page.getByRole('radiogroup', { name: 'Classifier' }).getByLabel(classifier).check();
  await board.tryImage(file);
  return topPrediction(page);
}

describe('heads and evaluation', () => {
  const baseUrl = inject('baseUrl');
  let session: Session;
  beforeAll(async () => {
    session = await launch(baseUrl);
  });
  afterAll(async () => {
    await session?.close();
  });

  it(
    'KNN without training, dense training with live chart, metrics, reload',
    { timeout: 600_000 },
    async () => {
      const { page } = session;
      const projects = new ProjectsPage(page);
      await projects.goto(baseUrl);
      const board = await projects.newProject('Three flowers');
      for (const cls of CLASSES) await board.addLabel(cls);
      for (const cls of CLASSES) {
        await board.dropPaths(board.region(cls), photos(cls, 0, 15));
        await board.expectCount(cls, 15);
      }
      await waitForEmbeddings(page, 45);

      // KNN answers with no Train press.
      const unseen = Object.fromEntries(CLASSES.map((c) => [c, photos(c, 200, 1)[0]!]));
      const knnTop = await tryPhoto(board, unseen['sunflower']!, 'KNN');
      expect(knnTop).toMatch(/^sunflower\s*\d+(\.\d)?%/);

      // Train: the chart advances, then metrics and a confusion matrix appear.
      await page.getByRole('button', { name: 'Train', exact: true }).click();
      await page.getByRole('progressbar', { name: 'Training' }).waitFor();
      await page.getByTestId('epoch-count').waitFor({ timeout: 60_000 });
      await page.getByRole('button', { name: 'Train', exact: true }).waitFor({ timeout: 300_000 });
      const evaluation = page.getByRole('region', { name: 'Evaluation' });
      const matrix = evaluation.getByRole('table', { name: 'Confusion matrix' });
      await matrix.waitFor();
      const cells = await matrix.locator('tbody td').allTextContents();
      expect(cells).toHaveLength(9);
      const validated = cells.map(Number).reduce((a, b) => a + b, 0);
      expect(validated).toBe(9); // 20% of 15 per class, never trained on

      // Unseen photos, one per class, through both heads.
      const results: Record<string, string[]> = { KNN: [], Dense: [] };
      for (const head of ['Dense', 'KNN'] as const) {
        for (const cls of CLASSES) {
          const top = await tryPhoto(board, unseen[cls]!, head);
          results[head]!.push(`${cls} -> ${top}`);
        }
      }
      console.log(JSON.stringify(results));
      for (const head of ['Dense', 'KNN'] as const) {
        const correct = results[head]!.filter((r) => {
          const [truth, predicted] = r.split(' -> ');
          return predicted?.startsWith(truth!);
        });
        expect(correct.length, `${head}: ${results[head]!.join(', ')}`).toBeGreaterThanOrEqual(2);
      }
      expect(results['Dense']![1]).toMatch(/^sunflower -> sunflower/);
      expect(results['KNN']![1]).toMatch(/^sunflower -> sunflower/);

      const accuracyBefore = await evaluation.getByRole('table').first().textContent();
      await page.reload();
      await board.region('tulip').waitFor();
      await matrix.waitFor({ timeout: 60_000 });
      expect(await evaluation.getByRole('table').first().textContent()).toBe(accuracyBefore);
      expect(
        await page.getByRole('radiogroup', { name: 'Classifier' }).getByLabel('Dense').isEnabled(),
      ).toBe(true);
      expect(await tryPhoto(board, unseen['sunflower']!, 'Dense')).toMatch(/^sunflower/);

      // Augmentation: flipped copies and random crops are embedded once and train the dense head
      // only; the KNN head (so its predictions) and the image count stay exactly as they were.
      const classifier = page.getByRole('radiogroup', { name: 'Classifier' });
      const predictions = page.getByRole('list', { name: 'Predictions' });
      await classifier.getByLabel('KNN').check();
      const knnBefore = await predictions.textContent();
      const trainPanel = page.getByRole('region', { name: 'Training' });
      await trainPanel.getByText('Settings', { exact: true }).click();
      await trainPanel.getByLabel('Augment with flipped copies').check();
      await trainPanel.getByLabel(/Augment with random crops/).check();
      await trainPanel.getByRole('button', { name: 'Train', exact: true }).click();
      await trainPanel
        .getByText(/best epoch \d+ · with flipped copies and 2 random crops/)
        .waitFor({ timeout: 300_000 });
      expect(await page.getByTestId('embedded-count').textContent()).toBe('45');
      await classifier.getByLabel('KNN').check();
      expect(await predictions.textContent()).toBe(knnBefore);
      const flipped: string[] = [];
      for (const file of photos('sunflower', 201, 3))
        flipped.push(await tryPhoto(board, file, 'Dense'));
      console.log(JSON.stringify({ denseAugmented: flipped }));
      expect(flipped.filter((top) => top.startsWith('sunflower')).length).toBeGreaterThanOrEqual(2);

      // Versions: the earlier training is kept. Pin it, go back to it (it stays current after a
      // reload), then forward again to the augmented one.
      const augmentedText = /best epoch \d+ · with flipped copies and 2 random crops/;
      await trainPanel.getByText('Versions', { exact: true }).click();
      const versions = trainPanel.getByRole('list', { name: 'Model versions' });
      const items = versions.getByRole('listitem');
      await expect.poll(() => items.count()).toBe(2);
      expect(await items.first().textContent()).toMatch(/current/);
      await items.nth(1).getByRole('button', { name: 'Pin' }).click();
      await expect
        .poll(() => items.nth(1).getByRole('button', { name: 'Pin' }).getAttribute('aria-pressed'))
        .toBe('true');
      await items.nth(1).getByRole('button', { name: 'Use this version' }).click();
      await expect
        .poll(() => items.first().getByRole('button', { name: 'Pin' }).getAttribute('aria-pressed'))
        .toBe('true');
      expect(await items.first().textContent()).toMatch(/current/);
      expect(await trainPanel.getByText(augmentedText).count()).toBe(0);
      await page.reload();
      await trainPanel.getByText('Versions', { exact: true }).click();
      await expect.poll(() => items.count(), { timeout: 60_000 }).toBe(2);
      expect(
        await items.first().getByRole('button', { name: 'Pin' }).getAttribute('aria-pressed'),
      ).toBe('true');
      expect(await items.first().textContent()).toMatch(/current/);
      expect(await trainPanel.getByText(augmentedText).count()).toBe(0);
      await items.nth(1).getByRole('button', { name: 'Use this version' }).click();
      await trainPanel.getByText(augmentedText).waitFor();
      // The reload emptied the try panel: the last sunflower again, with the augmented model.
      await tryPhoto(board, photos('sunflower', 201, 3)[2]!, 'Dense');

      // KNN k: automatic (cross-validated on the project) by default, or fixed by the user; the
      // choice is stored with the project.
      await page.getByText('Project settings').click();
      const kSelect = page.getByLabel('KNN neighbours (k)');
      expect(await kSelect.locator('option:checked').textContent()).toMatch(
        /^Automatic \(cross-validated\): k = (1|3|5|7|10)$/,
      );
      await kSelect.selectOption('3');
      await evaluation.getByText('KNN (k=3)').waitFor();
      // "Unknown" below a confidence: the last photo (a sunflower under 99 %) becomes unknown.
      await classifier.getByLabel('Dense').check();
      await page.getByLabel('Dense says unknown below confidence').selectOption('0.99');
      await page.getByText('Prediction: unknown').waitFor();
      // Test-time flip: the try image and its mirror, averaged; still a sunflower for KNN.
      await page.getByLabel(/test-time flip/).check();
      expect(await tryPhoto(board, unseen['sunflower']!, 'KNN')).toMatch(/^sunflower/);
      await page.reload();
      await page.getByText('Project settings').click();
      expect(await page.getByLabel('KNN neighbours (k)').inputValue()).toBe('3');

      expect(session.pageErrors).toEqual([]);
      expect(session.crossOrigin()).toEqual([]);
    },
  );

  it(
    'Compare heads can be cancelled: the job stops in the worker, and the next run completes',
    { timeout: 600_000 },
    async () => {
      const { page } = session;
      const projects = new ProjectsPage(page);
      await projects.goto(baseUrl, { debug: true });
      const board = await projects.newProject('Cancel a comparison');
      for (const cls of ['daisy', 'tulip']) {
        await board.addLabel(cls);
        await board.dropPaths(board.region(cls), photos(cls, 0, 30));
        await board.expectCount(cls, 30);
      }
      await waitForEmbeddings(page, 60);
      const runningJobs = (): Promise<number> =>
        page.evaluate(async () => {
          const w = window as unknown as {
            __loupe: { services: { engine: { stats(): Promise<{ runningJobs: number }> } } };
          };
          return (await w.__loupe.services.engine.stats()).runningJobs;
        });
      const evaluation = page.getByRole('region', { name: 'Evaluation' });
      await evaluation.getByRole('button', { name: 'Compare heads' }).click();
      await evaluation.getByRole('progressbar', { name: 'Compare heads progress' }).waitFor();
      await expect.poll(runningJobs, { timeout: 30_000 }).toBe(1);
      await evaluation.getByRole('button', { name: 'Cancel comparison' }).click();
      // The worker drops the job between folds or training batches: within seconds, not minutes.
      const cancelledAt = Date.now();
      await expect.poll(runningJobs, { timeout: 15_000, interval: 100 }).toBe(0);
      console.log(JSON.stringify({ compareStoppedAfterMs: Date.now() - cancelledAt }));
      await evaluation.getByRole('button', { name: 'Compare heads' }).waitFor();
      expect(await evaluation.getByRole('table', { name: 'Compare heads' }).count()).toBe(0);
      expect(await page.getByRole('alert').count()).toBe(0);

      // Nothing is left half-done: the next comparison runs to the end, counting its folds (3
      // heads x 5) as it goes.
      await evaluation.getByRole('button', { name: 'Compare heads' }).click();
      await evaluation.getByText(/[1-9]\d* of 15 folds done · /).waitFor({ timeout: 120_000 });
      const table = evaluation.getByRole('table', { name: 'Compare heads' });
      await table.waitFor({ timeout: 300_000 });
      expect(await table.locator('tbody tr').count()).toBe(3);
      expect(session.pageErrors).toEqual([]);
      expect(session.crossOrigin()).toEqual([]);
    },
  );

  it(
    'multi-label: images with two labels train a sigmoid head that returns both',
    { timeout: 600_000 },
    async () => {
      const { page } = session;
      const projects = new ProjectsPage(page);
      await projects.goto(baseUrl);
      const board = await projects.newProject('Multi-label flowers');
      await page.getByText('Project settings').click();
      await page.getByLabel('Project type').selectOption('multi-label');
      for (const name of ['daisy', 'sunflower', 'tulip', 'yellow']) await board.addLabel(name);
      await board.dropPaths(board.region('daisy'), photos('daisy', 0, 12));
      await board.expectCount('daisy', 12);
      await board.dropPaths(board.region('tulip'), photos('tulip', 0, 12));
      await board.expectCount('tulip', 12);
      await board.dropPaths(board.region('sunflower'), photos('sunflower', 0, 12));
      await board.expectCount('sunflower', 12);
      // The same sunflowers dropped on "yellow" gain that label instead of being skipped.
      await board.dropPaths(board.region('yellow'), photos('sunflower', 0, 12));
      await board.expectCount('yellow', 12);
      await board.expectCount('sunflower', 12);
      await waitForEmbeddings(page, 36);

      await page.getByRole('button', { name: 'Train', exact: true }).click();
      await page.getByRole('progressbar', { name: 'Training' }).waitFor();
      await page.getByRole('button', { name: 'Train', exact: true }).waitFor({ timeout: 300_000 });
      await page
        .getByRole('region', { name: 'Evaluation' })
        .getByRole('table', { name: 'Per-label scores' })
        .waitFor();

      await page.getByRole('radiogroup', { name: 'Classifier' }).getByLabel('Dense').check();
      // Three unseen sunflowers: both labels come back (at least 2 of 3, since a 12-image label
      // can still miss one photo).
      const both: string[][] = [];
      for (const file of photos('sunflower', 200, 3)) {
        await board.tryImage(file);
        both.push(
          await page
            .getByRole('list', { name: 'Predictions' })
            .locator('li.predicted .pred-name')
            .allTextContents(),
        );
      }
      console.log(JSON.stringify({ multiLabel: both }));
      expect(
        both.filter((names) => names.includes('sunflower') && names.includes('yellow')).length,
      ).toBeGreaterThanOrEqual(2);
      expect(session.pageErrors).toEqual([]);
    },
  );
});
