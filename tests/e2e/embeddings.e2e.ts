// Embedding engine in real Chromium with the real MobileNet weights: every image gets an embedding
// with no user action, a reload recomputes nothing, and the base model sees an espresso in coffee.png.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import path from 'node:path';
import { launch, type Session } from './browser';
import { photos, ProjectsPage, SHARED } from './pages';

describe('embedding engine', () => {
  const baseUrl = inject('baseUrl');
  let session: Session;
  beforeAll(async () => {
    session = await launch(baseUrl);
  });
  afterAll(async () => {
    await session?.close();
  });

  it('embeds every image in the background, caches across reloads, and sees an espresso', async () => {
    const { page } = session;
    const projects = new ProjectsPage(page);
    await projects.goto(baseUrl);
    const board = await projects.newProject('Embeddings');
    await board.addLabel('daisy');
    await board.addLabel('tulip');
    await board.dropPaths(board.region('daisy'), photos('daisy', 0, 20));
    await board.expectCount('daisy', 20);
    await board.dropPaths(board.region('tulip'), photos('tulip', 0, 20));
    await board.expectCount('tulip', 20);

    const embedded = page.getByTestId('embedded-count');
    await page.waitForFunction(
      () => document.querySelector('[data-testid=embedded-count]')?.textContent === '40',
      null,
      {
        timeout: 180_000,
      },
    );
    expect(await page.getByTestId('computed-count').textContent()).toBe('40');
    const backend = await page.getByTestId('backend').textContent();
    expect(backend).toMatch(/Backend: (wasm|webgl|webgpu|cpu)/);

    await page.reload();
    await board.region('tulip').waitFor();
    await page.waitForFunction(
      () => document.querySelector('[data-testid=embedded-count]')?.textContent === '40',
      null,
      {
        timeout: 60_000,
      },
    );
    await page.waitForTimeout(2000);
    expect(await embedded.textContent()).toBe('40');
    expect(await page.getByTestId('computed-count').textContent()).toBe('0');
    expect(await page.getByRole('progressbar', { name: 'Computing embeddings' }).count()).toBe(0);

    await board.addLabel('drinks');
    await board.pickFiles('drinks', [path.join(SHARED, 'images/coffee.png')]);
    await board.expectCount('drinks', 1);
    await board.region('drinks').getByRole('option').first().click();
    const seen = page.getByRole('region', { name: 'Base model sees' });
    await seen.getByRole('listitem').first().waitFor({ timeout: 120_000 });
    expect(await seen.getByRole('listitem').first().textContent()).toMatch(/^espresso/);

    // Custom backbone end to end: Darknet tiny (input [0, 1], layer leaky_re_lu_14, 512-d).
    await page.getByText('Project settings').click();
    await page.getByLabel('Embedding model').selectOption({ label: 'Darknet tiny (ImageNet)' });
    await page.getByText(/Switching to Darknet tiny/).waitFor();
    await page
      .getByText(/Switching to Darknet tiny/)
      .waitFor({ state: 'detached', timeout: 240_000 });
    expect(await page.getByLabel('Embedding model').inputValue()).toBe(
      'custom:darknet_tiny_imagenet:leaky_re_lu_14',
    );
    expect(await embedded.textContent()).toBe('41');
    await page.getByRole('radiogroup', { name: 'Classifier' }).getByLabel('KNN').check();
    await page.getByLabel('Try an image').setInputFiles(photos('tulip', 0, 30)[25]!);
    const top = page.getByRole('list', { name: 'Predictions' }).locator('.pred-name').first();
    await top.waitFor({ timeout: 60_000 });
    expect(['daisy', 'tulip', 'drinks']).toContain(await top.textContent());

    expect(session.pageErrors).toEqual([]);
    expect(session.crossOrigin()).toEqual([]);
  });
});
