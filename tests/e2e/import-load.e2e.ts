// Load test: the whole flowers5-dev folder (2,588 real photos, 5 sub-folders) dropped at once.
// The import completes and persists, and the page stays responsive (main-thread long tasks are
// recorded with a PerformanceObserver and reported).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { launch, type Session } from './browser';
import { FLOWERS, ProjectsPage } from './pages';

const CLASSES = ['daisy', 'dandelion', 'rose', 'sunflower', 'tulip'];

describe('bulk import', () => {
  const baseUrl = inject('baseUrl');
  let session: Session;
  beforeAll(async () => {
    session = await launch(baseUrl);
    await session.page.addInitScript(() => {
      const w = window as unknown as { __longTasks: number[] };
      w.__longTasks = [];
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) w.__longTasks.push(entry.duration);
      }).observe({ type: 'longtask', buffered: true });
    });
  });
  afterAll(async () => {
    await session?.close();
  });

  it(
    'imports 2,588 photos in one drop, stays responsive, and persists',
    { timeout: 600_000 },
    async () => {
      const { page } = session;
      // flowers5-dev holds a few byte-identical photos (some in two classes): the app keeps each
      // content once, so a class gets between (its files - its duplicated files) and its files.
      const hashes = new Map<string, string[]>();
      const files = Object.fromEntries(
        CLASSES.map((c) => [
          c,
          readdirSync(path.join(FLOWERS, c)).filter((f) => f.endsWith('.jpg')),
        ]),
      );
      for (const c of CLASSES) {
        for (const f of files[c]!) {
          const h = createHash('sha256')
            .update(readFileSync(path.join(FLOWERS, c, f)))
            .digest('hex');
          hashes.set(h, [...(hashes.get(h) ?? []), c]);
        }
      }
      const unique = hashes.size;
      const duplicatedIn = (c: string): number =>
        [...hashes.values()].filter((cs) => cs.length > 1 && cs.includes(c)).length;
      const projects = new ProjectsPage(page);
      await projects.goto(baseUrl);
      const board = await projects.newProject('All flowers');
      const longTasksBefore = await page.evaluate(
        () => (window as unknown as { __longTasks: number[] }).__longTasks.length,
      );

      const started = Date.now();
      await board.dropPaths(page.getByRole('toolbar', { name: 'Board actions' }), [FLOWERS]);
      // Responsiveness probe while importing: a round trip through the page's event loop.
      const probes: number[] = [];
      const total = page.getByText(new RegExp(`^${unique} images ·`));
      while (!(await total.isVisible())) {
        const t = Date.now();
        await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(null))));
        probes.push(Date.now() - t);
        await page.waitForTimeout(2000);
      }
      await board.waitForImportIdle();
      const counts = Object.fromEntries(
        await Promise.all(CLASSES.map(async (c) => [c, await board.count(c)])),
      );
      for (const c of CLASSES) {
        expect(counts[c]).toBeLessThanOrEqual(files[c]!.length);
        expect(counts[c]).toBeGreaterThanOrEqual(files[c]!.length - duplicatedIn(c));
      }
      const importMs = Date.now() - started;
      const longTasks = await page.evaluate(
        (skip) => (window as unknown as { __longTasks: number[] }).__longTasks.slice(skip),
        longTasksBefore,
      );
      const longest = Math.max(0, ...longTasks);
      console.log(
        JSON.stringify({
          images: unique,
          importMs,
          imagesPerSec: +((unique * 1000) / importMs).toFixed(1),
          longTasksOver50ms: longTasks.length,
          longestTaskMs: Math.round(longest),
          frameProbeMs: probes,
        }),
      );
      expect(longest).toBeLessThan(1000);

      await page.reload();
      for (const cls of CLASSES) await board.expectCount(cls, counts[cls]!);
      expect(session.pageErrors).toEqual([]);
      expect(session.crossOrigin()).toEqual([]);
    },
  );
});
