// Two tabs on one project: an import in one appears in the other, a label deleted in one
// disappears in the other, and the embedding job runs in one tab only while the other says so.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launch, type Session } from './browser';
import { BoardPage, photos, ProjectsPage } from './pages';

const N = 8;

interface Watched {
  __remoteJobs: string[];
  __embedJobs: number;
  __loupe: { services: { engine: { embedProject: (...args: unknown[]) => unknown } } };
}

/**
 * Records in the page whether the status bar ever said a job runs in another tab, and counts the
 * embedding jobs this tab starts (through the `?debug=1` handle on its services).
 */
async function watchJobs(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as Watched;
    const engine = w.__loupe.services.engine;
    const embedProject = engine.embedProject.bind(engine);
    w.__embedJobs = 0;
    engine.embedProject = (...args: unknown[]) => {
      w.__embedJobs++;
      return embedProject(...args);
    };
    const seen: string[] = [];
    w.__remoteJobs = seen;
    const check = (): void => {
      const text = document.querySelector('[data-testid=remote-jobs]')?.textContent;
      if (text) seen.push(text);
    };
    new MutationObserver(check).observe(document.body, {
      subtree: true,
      childList: true,
      characterData: true,
    });
  });
}

const embeddedIs = (page: Page, n: number) =>
  page.waitForFunction(
    (count) =>
      document.querySelector('[data-testid=embedded-count]')?.textContent === String(count),
    n,
    { timeout: 180_000 },
  );

describe('two tabs on one project', () => {
  const baseUrl = inject('baseUrl');
  let session: Session;
  beforeAll(async () => {
    session = await launch(baseUrl);
  });
  afterAll(async () => {
    await session?.close();
  });

  it('keeps both tabs in step and embeds once', async () => {
    const pageA = session.page;
    const projects = new ProjectsPage(pageA);
    await projects.goto(baseUrl, { debug: true });
    const a = await projects.newProject('Shared');
    await a.addLabel('daisy');

    const pageB = await session.context.newPage();
    pageB.on('pageerror', (e) => session.pageErrors.push(String(e)));
    await pageB.goto(pageA.url());
    const b = new BoardPage(pageB);
    await b.region('daisy').waitFor();
    await embeddedIs(pageB, 0);
    await watchJobs(pageA);
    await watchJobs(pageB);
    // Both engines ready first, so both tabs would be quick to start a job of their own.
    for (const p of [pageA, pageB])
      await p
        .getByTestId('backend')
        .getByText(/Backend: \w+ \(/)
        .waitFor({ timeout: 120_000 });

    // An import in A appears in B (thumbnails included) without a reload.
    await a.pickFiles('daisy', photos('daisy', 0, N));
    await a.expectCount('daisy', N);
    const shownInA = Date.now();
    await b.expectCount('daisy', N, 10_000);
    console.log(`import visible in the other tab ${Date.now() - shownInA} ms after this one`);
    expect(await b.renderedThumbnails(b.region('daisy'))).toHaveLength(N);

    // One embedding job: one tab starts it (the other waits for the lock, then finds nothing
    // left), every image is computed once, and a tab said where the job ran.
    await embeddedIs(pageA, N);
    await embeddedIs(pageB, N);
    const seen = await Promise.all(
      [pageA, pageB].map(async (p) => ({
        computed: Number(await p.getByTestId('computed-count').textContent()),
        ...(await p.evaluate(() => {
          const w = window as unknown as Watched;
          return { jobs: w.__embedJobs, said: w.__remoteJobs };
        })),
      })),
    );
    expect(seen.map((t) => t.jobs).reduce((x, y) => x + y)).toBe(1);
    expect(seen.map((t) => t.computed).reduce((x, y) => x + y)).toBe(N);
    expect(seen.flatMap((t) => t.said).some((t) => t.startsWith('Embedding in another tab'))).toBe(
      true,
    );

    // A label added in B appears in A; deleted in A, it disappears in B.
    await b.addLabel('tulip');
    await a.region('tulip').waitFor({ timeout: 5_000 });
    await pageA.getByRole('button', { name: 'Delete label tulip' }).click();
    await b.region('tulip').waitFor({ state: 'detached', timeout: 5_000 });

    expect(session.pageErrors).toEqual([]);
    expect(session.crossOrigin()).toEqual([]);
  });
});
