#!/usr/bin/env node
// `npm run screenshot`: writes docs/screenshot.png, the README's picture of the app. Serves the
// built app and, in headless Chromium (the flags of scripts/chromium.mjs, a 1280x900 window),
// creates the project "Three flowers" with the labels daisy, sunflower and tulip, drops 15
// photos of each from ../shared/datasets/flowers5-dev, waits for every embedding, trains the dense
// head, reloads the page, then tries an unseen sunflower with the dense head and captures the
// page: labels with their photos, the try panel's predictions and the training chart.
//
// Usage: node scripts/screenshot.mjs [--no-build] [--out docs/screenshot.png]
// LOUPE_DIST=<folder> builds and serves there instead of dist/ (to keep working while it runs).
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openAppSession } from './chromium.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FLOWERS = path.resolve(ROOT, '..', 'shared', 'datasets', 'flowers5-dev');
const CLASSES = ['daisy', 'sunflower', 'tulip'];

const { values: args } = parseArgs({
  options: {
    'no-build': { type: 'boolean' },
    out: { type: 'string', default: path.join('docs', 'screenshot.png') },
  },
});
const log = (...m) => console.error('[screenshot]', ...m);

/** `n` photos of class `cls` (sorted by file name) from index `from`, as the e2e tests pick them. */
function photos(cls, from, n) {
  return readdirSync(path.join(FLOWERS, cls))
    .filter((f) => f.endsWith('.jpg'))
    .sort()
    .slice(from, from + n)
    .map((f) => path.join(FLOWERS, cls, f));
}

if (!existsSync(FLOWERS)) {
  console.error(
    `screenshot needs ${FLOWERS} (the shared flowers5-dev dataset beside the checkout).`,
  );
  process.exit(1);
}
process.chdir(ROOT);
const session = await openAppSession({
  outDir: process.env.LOUPE_DIST ?? 'dist',
  noBuild: args['no-build'],
  profilePrefix: 'loupe-screenshot-',
  log,
});
const { baseUrl, context } = session;
try {
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`${baseUrl}/#/`);
  await page.getByRole('button', { name: 'New project' }).click();
  const projectName = page.getByRole('textbox', { name: 'Project name' });
  await projectName.waitFor();
  await projectName.fill('Three flowers');
  await projectName.press('Enter');

  const cdp = await context.newCDPSession(page);
  for (const [i, cls] of CLASSES.entries()) {
    await page.getByRole('button', { name: 'Add label' }).click();
    const field = page.getByRole('textbox', { name: 'Label name' }).nth(i);
    await field.waitFor();
    await field.fill(cls);
    await field.press('Enter');
    const region = page.getByRole('region', { name: `${cls} images`, exact: true });
    await region.waitFor();
    await region.scrollIntoViewIfNeeded();
    const box = await region.boundingBox();
    const data = { items: [], files: photos(cls, 0, 15), dragOperationsMask: 1 };
    for (const type of ['dragEnter', 'dragOver', 'drop']) {
      await cdp.send('Input.dispatchDragEvent', {
        type,
        x: box.x + box.width / 2,
        y: box.y + Math.min(box.height / 2, 40),
        data,
      });
    }
    await page.getByLabel(`15 images in ${cls}`, { exact: true }).waitFor({ timeout: 120_000 });
    log(`dropped 15 ${cls} photos`);
  }
  await cdp.detach();
  await page.waitForFunction(
    () => document.querySelector('[data-testid=embedded-count]')?.textContent === '45',
    null,
    { timeout: 600_000 },
  );
  log('45 images embedded; training the dense head');

  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await page.getByRole('progressbar', { name: 'Training' }).waitFor();
  await page.getByRole('button', { name: 'Train', exact: true }).waitFor({ timeout: 600_000 });
  await page
    .getByRole('region', { name: 'Evaluation' })
    .getByRole('table', { name: 'Confusion matrix' })
    .waitFor({ timeout: 120_000 });
  log('trained; reloading and trying an unseen sunflower');

  await page.reload();
  await page.getByRole('region', { name: 'tulip images', exact: true }).waitFor();
  // The Dense choice is enabled once the stored model summary has loaded.
  await page
    .getByRole('radiogroup', { name: 'Classifier' })
    .getByLabel('Dense')
    .check({ timeout: 120_000 });
  const list = page.getByRole('list', { name: 'Predictions' });
  const before = Number(await list.getAttribute('data-tries'));
  await page.getByLabel('Try an image').setInputFiles(photos('sunflower', 200, 1)[0]);
  await page.waitForFunction(
    ([el, n]) => Number(el.dataset.tries) > n,
    [await list.elementHandle(), before],
    { timeout: 120_000 },
  );
  const top = await list.getByRole('listitem').first().textContent();
  // The README describes the picture as predicting a sunflower: write nothing otherwise.
  if (!top?.startsWith('sunflower')) throw new Error(`the dense head's top prediction is "${top}"`);

  // Every rendered thumbnail and the try preview decoded, so the picture has no blank tiles.
  await page.waitForFunction(
    () => {
      const imgs = Array.from(document.querySelectorAll('main img'));
      return imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0);
    },
    null,
    { timeout: 60_000 },
  );
  await page.screenshot({ path: args.out });
  log('wrote', args.out, `(top prediction: ${top})`);
} finally {
  await session.close();
}
