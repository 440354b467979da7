// The built app on a plain static server (no special headers) under a sub-path: models load from
// next to the app, the loop runs, and a model URL on another origin is refused with a message by
// the form and by the engine worker alike, before any request reaches that origin.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { launch, type Session } from './browser';
import { photos, ProjectsPage } from './pages';
import { countingServer, serveUnder, type PlainServer } from './subPathServer';

const DIST = path.resolve(process.env.LOUPE_DIST ?? 'dist');
const PREFIX = '/tools/loupe/';

describe('deploy: plain static host, sub-path', () => {
  let app: PlainServer;
  let other: PlainServer;
  let session: Session;
  beforeAll(async () => {
    app = await serveUnder(DIST, PREFIX);
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
    const board = await projects.newProject('Deployed');
    await board.addLabel('daisy');
    await board.addLabel('tulip');
    await board.dropPaths(board.region('daisy'), photos('daisy', 0, 3));
    await board.dropPaths(board.region('tulip'), photos('tulip', 0, 3));
    await board.expectCount('daisy', 3);
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
    expect(app.requests).toContain(`${PREFIX}models/mobilenet_v1_0.75_224/model.json`);
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

    expect(other.requests).toEqual([]);
    expect(session.crossOrigin()).toEqual([]);
    expect(session.pageErrors).toEqual([]);
  });
});
