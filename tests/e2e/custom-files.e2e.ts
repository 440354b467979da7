// A custom backbone picked as files: the shared MobileNet v1 0.75 (model.json + 55 weight shards)
// is picked in Backbone settings, embeds real photos, predicts in the try panel, and still does
// after a reload (the files live in IndexedDB; nothing is fetched for them).
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launch, type Session } from './browser';
import { photos, ProjectsPage, SHARED } from './pages';

const MODEL_DIR = path.join(SHARED, 'models/mobilenet_v1_0.75_224');

describe('custom backbone from files', () => {
  const baseUrl = inject('baseUrl');
  let session: Session;
  beforeAll(async () => {
    session = await launch(baseUrl);
  });
  afterAll(async () => {
    await session?.close();
  });

  it('picks model.json + shards, embeds, predicts, and survives a reload', async () => {
    const { page } = session;
    const projects = new ProjectsPage(page);
    await projects.goto(baseUrl);
    const board = await projects.newProject('Files model');

    await page.getByText('Project settings', { exact: true }).click();
    await page.getByText('Custom TF.js layers model', { exact: true }).click();
    const files = readdirSync(MODEL_DIR).map((f) => path.join(MODEL_DIR, f));
    await page.getByLabel('Model files', { exact: true }).setInputFiles(files);
    await page.getByText(/Model files: model, 88 layers/).waitFor({ timeout: 60_000 });
    expect(await page.getByLabel('Input size').inputValue()).toBe('224');
    await page.getByLabel('Embedding layer').fill('conv_pw_13_relu');
    await page.getByLabel('Input min').fill('-1');
    await page.getByLabel('Input max').fill('1');
    await page.getByRole('button', { name: 'Use custom model' }).click();
    const model = page.getByLabel('Embedding model');
    await expect
      .poll(() => model.inputValue(), { timeout: 60_000 })
      .toMatch(/^custom:model:conv_pw_13_relu-[0-9a-f]{12}$/);
    const id = await model.inputValue();

    await board.addLabel('daisy');
    await board.addLabel('tulip');
    await board.pickFiles('daisy', photos('daisy', 0, 4));
    await board.pickFiles('tulip', photos('tulip', 0, 4));
    await board.expectCount('daisy', 4);
    await board.expectCount('tulip', 4);
    const embeddedAll = (): Promise<unknown> =>
      page.waitForFunction(
        () => document.querySelector('[data-testid=embedded-count]')?.textContent === '8',
        null,
        { timeout: 120_000 },
      );
    await embeddedAll();

    const top = page.getByRole('list', { name: 'Predictions' }).locator('.pred-name').first();
    await board.tryImage(photos('tulip', 10, 1)[0]!);
    expect(['daisy', 'tulip']).toContain(await top.textContent());

    await page.reload();
    await board.region('tulip').waitFor();
    await embeddedAll();
    await page.getByText('Project settings', { exact: true }).click();
    expect(await model.inputValue()).toBe(id);
    expect(await page.getByTestId('computed-count').textContent()).toBe('0');
    await board.tryImage(photos('daisy', 10, 1)[0]!);
    expect(['daisy', 'tulip']).toContain(await top.textContent());

    expect(session.pageErrors).toEqual([]);
    expect(session.crossOrigin()).toEqual([]);
  });
});
