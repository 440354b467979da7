// Explain a prediction in real Chromium with real photos and the default backbone: in the try
// panel, `Explain` overlays an `Explanation heatmap` for the KNN classifier (occlusion) and, after
// training, for the dense one (Grad-CAM); the sample detail has the same switch. Then the
// composite-image check (scripts/explainComposites.mjs): ten composites of an unseen sunflower
// and an unseen rose side by side, both orders (six for KNN: occlusion is the slower method);
// per head, most labels' heatmaps must put most of their mass on their own half, and scored
// against the other label's half they must not.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launch, type Session } from './browser';
import { photos, ProjectsPage } from './pages';
import { compositeCheck } from '../../scripts/explainComposites.mjs';

const [A, B] = ['sunflower', 'rose'] as const;

describe('explain a prediction', () => {
  const baseUrl = inject('baseUrl');
  let session: Session;
  beforeAll(async () => {
    session = await launch(baseUrl);
  });
  afterAll(async () => {
    await session?.close();
  });

  it(
    'shows a heatmap for both heads; composites land on their halves',
    { timeout: 400_000 },
    async () => {
      const { page } = session;
      const projects = new ProjectsPage(page);
      await projects.goto(baseUrl, { debug: true });
      const board = await projects.newProject('Explained flowers');
      for (const cls of [A, B]) await board.addLabel(cls);
      for (const cls of [A, B]) {
        await board.pickFiles(cls, photos(cls, 0, 10));
        await board.expectCount(cls, 10);
      }
      await page.waitForFunction(
        () => document.querySelector('[data-testid=embedded-count]')?.textContent === '20',
        undefined,
        { timeout: 180_000 },
      );

      // KNN: occlusion sensitivity.
      const tryPanel = page.getByRole('region', { name: 'Try the classifier' });
      await board.tryImage(photos(A, 200, 1)[0]!);
      await tryPanel.getByRole('switch', { name: 'Explain' }).check();
      const heatmap = tryPanel.getByRole('img', { name: 'Explanation heatmap' });
      await heatmap.waitFor({ timeout: 60_000 });
      expect(await heatmap.getAttribute('data-method')).toBe('occlusion');
      await tryPanel.getByRole('slider', { name: 'Heatmap opacity' }).fill('0.3');
      expect(await heatmap.evaluate((el) => (el as HTMLElement).style.opacity)).toBe('0.3');

      // Dense: Grad-CAM, after a short training.
      await page.getByRole('button', { name: 'Train', exact: true }).click();
      await page.getByRole('progressbar', { name: 'Training' }).waitFor();
      await page.getByRole('button', { name: 'Train', exact: true }).waitFor({ timeout: 300_000 });
      await tryPanel.getByRole('radiogroup', { name: 'Classifier' }).getByLabel('Dense').check();
      await tryPanel
        .locator('img[alt="Explanation heatmap"][data-method="grad-cam"]')
        .waitFor({ timeout: 60_000 });

      // The sample detail has the same switch.
      await board.region(B).getByRole('option').first().click();
      const details = page.getByRole('region', { name: 'Image details' });
      await details.getByRole('switch', { name: 'Explain' }).check();
      await details.getByRole('img', { name: 'Explanation heatmap' }).waitFor({ timeout: 60_000 });

      // Composite check: unseen photos (index 100 on), each pair in both orders.
      const labelIds = await page.evaluate(() => {
        const w = window as unknown as {
          __loupe: { store: { getState(): { labels: { id: string; name: string }[] } } };
        };
        return Object.fromEntries(w.__loupe.store.getState().labels.map((l) => [l.name, l.id]));
      });
      const [as, bs] = [photos(A, 100, 5), photos(B, 100, 5)];
      const composites = as.flatMap((a, i) => {
        const b = bs[i]!;
        return [
          { left: a, right: b, leftLabel: labelIds[A]!, rightLabel: labelIds[B]! },
          { left: b, right: a, leftLabel: labelIds[B]!, rightLabel: labelIds[A]! },
        ];
      });
      // Occlusion (KNN) takes seconds per composite: its check runs on the first six.
      for (const [head, some] of [
        ['dense', composites],
        ['knn', composites.slice(0, 6)],
      ] as const) {
        const report = await compositeCheck(page, some, head);
        console.log(
          `explain composites ${head} (${report.method}): rate ${report.rate.toFixed(2)}, control ${report.controlRate.toFixed(2)}, ${report.msPerExplanation.toFixed(0)} ms per explanation`,
        );
        expect(report.method).toBe(head === 'dense' ? 'grad-cam' : 'occlusion');
        expect(report.rate).toBeGreaterThanOrEqual(0.7);
        expect(report.controlRate).toBeLessThanOrEqual(0.3);
      }
      expect(session.crossOrigin()).toEqual([]);
    },
  );
});
