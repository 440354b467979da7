// The built app on a plain static server (no special headers) under a sub-path: the header service
// worker takes control after one reload and makes the page cross-origin isolated, models load from
// next to the app, the loop runs, and a model URL on another origin is refused with a message by
// the form and by the engine worker alike, before any request reaches that origin. A worker's own
// cross-origin fetch is blocked by the CSP the service worker adds to the worker script, and goes
// through when service workers are blocked (the control: a <meta> CSP does not bind workers).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { launch, type Session } from './browser';
import { photos, ProjectsPage } from './pages';
import { countingServer, serveUnder, type PlainServer } from './subPathServer';

const DIST = path.resolve(process.env.LOUPE_DIST ?? 'dist');
const PREFIX = '/tools/loupe/';

/** Polls until the page (reloaded once by the service worker) is cross-origin isolated. */
async function waitForIsolation(page: Page, timeout = 30_000): Promise<void> {
  const end = Date.now() + timeout;
  for (;;) {
    const isolated = await page.evaluate(() => window.crossOriginIsolated).catch(() => false);
    if (isolated) return;
    if (Date.now() > end) throw new Error('the page never became cross-origin isolated');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * Starts a worker from `${PREFIX}csp-probe.js` that fetches `target` itself and reports
 * "fetched", or "blocked" plus the CSP directive it violated.
 */
function probeWorker(page: Page, target: string): Promise<string> {
  return page.evaluate(
    (url) =>
      new Promise<string>((resolve) => {
        const worker = new Worker(`csp-probe.js?target=${encodeURIComponent(url)}`);
        worker.onmessage = (e: MessageEvent<string>) => {
          resolve(e.data);
          worker.terminate();
        };
      }),
    target,
  );
}

/** The probe worker's script (served by the test, not part of the app). */
const CSP_PROBE = `
let violated = '';
self.addEventListener('securitypolicyviolation', (e) => { violated = e.effectiveDirective; });
const target = new URL(self.location.href).searchParams.get('target');
fetch(target, { mode: 'no-cors' }).then(
  () => postMessage('fetched'),
  () => setTimeout(() => postMessage('blocked ' + violated), 100),
);
`;

describe('deploy: plain static host, sub-path', () => {
  let app: PlainServer;
  let other: PlainServer;
  let session: Session;
  beforeAll(async () => {
    app = await serveUnder(DIST, PREFIX, new Map([[`${PREFIX}csp-probe.js`, CSP_PROBE]]));
    other = await countingServer();
    session = await launch(app.url);
  });
  afterAll(async () => {
    await session?.close();
    await app?.close();
    await other?.close();
  });

  it('embeds and predicts with models from the sub-path; refuses a cross-origin model', async () => {
    const { page } = session;
    const projects = new ProjectsPage(page);
    await projects.goto(app.url, { debug: true });
    await waitForIsolation(page);
    await page.getByRole('heading', { name: 'Projects' }).waitFor();
    expect(app.requests).toContain(`${PREFIX}sw.js`);
    const board = await projects.newProject('Deployed');
    await board.addLabel('daisy');
    await board.addLabel('tulip');
    await board.pickFiles('daisy', photos('daisy', 0, 3));
    await board.expectCount('daisy', 3);
    await board.pickFiles('tulip', photos('tulip', 0, 3));
    await board.expectCount('tulip', 3);
    await page.waitForFunction(
      () => document.querySelector('[data-testid=embedded-count]')?.textContent === '6',
      null,
      { timeout: 180_000 },
    );
    await board.tryImage(photos('daisy', 50, 1)[0]!);
    const top = await page
      .getByRole('list', { name: 'Predictions' })
      .getByRole('listitem')
      .first()
      .textContent();
    expect(top).toMatch(/^(daisy|tulip)/);
    expect(app.requests).toContain(`${PREFIX}models/mobilenet_v2_1.0_224/model.json`);
    expect(app.requests.filter((p) => !p.startsWith(PREFIX))).toEqual([]);

    // The form refuses and explains before submitting.
    const settings = page.getByText('Project settings', { exact: true });
    await settings.click();
    await page.getByText('Custom TF.js layers model', { exact: true }).click();
    const foreign = `${other.url}/models/m/model.json`;
    await page.getByLabel('model.json URL (same origin)').fill(foreign);
    await page.getByLabel('Embedding layer').fill('features');
    await page.getByRole('button', { name: 'Use custom model' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'Refused to load a model from' });
    await alert.waitFor();
    expect(await alert.textContent()).toContain(other.url);
    await page
      .getByLabel('model.json URL (same origin)')
      .fill(`//127.0.0.1:${new URL(other.url).port}/m.json`);
    await page.getByRole('button', { name: 'Use custom model' }).click();
    await alert.waitFor();

    // The engine worker refuses on its own, whatever the page sends (here through the debug hook).
    const refused = await page.evaluate(async (url) => {
      interface Hook {
        store: { getState(): { project: { id: string } | null } };
        services: { engine: { measureForward(call: unknown): Promise<unknown> } };
        backboneSpec(): Record<string, unknown> | null;
      }
      const hook = (window as unknown as { __loupe: Hook }).__loupe;
      const spec = { ...hook.backboneSpec(), id: 'custom:foreign:features', url };
      const projectId = hook.store.getState().project?.id ?? '';
      return hook.services.engine
        .measureForward({ projectId, spec, aspectMode: 'centre-crop', n: 1 })
        .then(
          () => 'loaded',
          (e: unknown) => String(e),
        );
    }, foreign);
    expect(refused).toMatch(/Refused to load a model from http:\/\/127\.0\.0\.1/);

    // A worker's own fetch to another origin: blocked by the CSP header from the service worker.
    expect(await probeWorker(page, `${other.url}/leak`)).toBe('blocked connect-src');

    expect(other.requests).toEqual([]);
    expect(session.crossOrigin()).toEqual([]);
    expect(session.pageErrors).toEqual([]);
  });

  it('control: with service workers blocked, the same worker fetch goes through', async () => {
    const blocked = await launch(app.url, { serviceWorkers: 'block' });
    try {
      await new ProjectsPage(blocked.page).goto(app.url);
      expect(await blocked.page.evaluate(() => window.crossOriginIsolated)).toBe(false);
      expect(await probeWorker(blocked.page, `${other.url}/control`)).toBe('fetched');
      expect(other.requests).toEqual(['/control']);
    } finally {
      await blocked.close();
    }
  });
});
