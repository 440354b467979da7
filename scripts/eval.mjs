#!/usr/bin/env node
// `npm run eval`: the accuracy report of the README, measured through the real app. Serves the built
// app, drops all of ../shared/datasets/flowers5-dev onto a new project in headless Chromium, waits
// for every embedding and the augmentation views (horizontal flip, 2 seeded random resized crops),
// then runs seeded 5-fold cross-validation in the engine worker on the same folds for: KNN
// (default = automatic k, chosen inside each fold), dense head (defaults), each without
// augmentation, with flips and with crops, and a logistic-regression probe; once on all training
// images and once with 20 training images per class. Prints one JSON object (progress on stderr).
//
// Usage: node scripts/eval.mjs [--no-build] [--per-class 20] [--variants knn,logreg,dense]
//   --variants: a comma-separated subset of the rows (default all); only the augmentation views
//   the chosen rows need are embedded.
// LOUPE_DIST=<folder> builds and serves there instead of dist/ (to keep working while it runs).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openAppSession } from './chromium.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FLOWERS = path.resolve(ROOT, '..', 'shared', 'datasets', 'flowers5-dev');
const VARIANTS = ['knn', 'knn+flip', 'knn+crops', 'logreg', 'dense', 'dense+flip', 'dense+crops'];
const VIEWS = [
  { flip: true, crop: 0 },
  { flip: false, crop: 1 },
  { flip: false, crop: 2 },
];

const { values: args } = parseArgs({
  options: {
    'no-build': { type: 'boolean' },
    'per-class': { type: 'string', default: '20' },
    variants: { type: 'string', default: VARIANTS.join(',') },
  },
});
const log = (...m) => console.error('[eval]', ...m);
const variants = args.variants.split(',').map((v) => v.trim());
const unknown = variants.filter((v) => !VARIANTS.includes(v));
if (unknown.length > 0) {
  console.error(`eval: unknown variant(s) ${unknown.join(', ')}; known: ${VARIANTS.join(', ')}`);
  process.exit(1);
}
// The augmentation views the chosen rows train on: flips for '+flip', both crops for '+crops'.
const views = VIEWS.filter((view) =>
  variants.some((v) => (view.flip ? v.includes('+flip') : v.includes('+crops'))),
);

if (!existsSync(FLOWERS)) {
  console.error(`eval needs ${FLOWERS} (the shared flowers5-dev dataset beside the checkout).`);
  process.exit(1);
}
process.chdir(ROOT);
const session = await openAppSession({
  outDir: process.env.LOUPE_DIST ?? 'dist',
  noBuild: args['no-build'],
  profilePrefix: 'loupe-eval-',
  log,
});
const { baseUrl, context } = session;
const started = Date.now();
try {
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`${baseUrl}/?debug=1#/`);
  await page.waitForFunction(() => 'store' in (window.__loupe ?? {}));
  const projectId = await page.evaluate(() =>
    window.__loupe.store.getState().createProject('flowers5 eval'),
  );
  await page.goto(`${baseUrl}/?debug=1#/p/${projectId}`);
  await page.getByRole('toolbar', { name: 'Board actions' }).waitFor();

  log('dropping', FLOWERS);
  const box = await page.getByRole('toolbar', { name: 'Board actions' }).boundingBox();
  const cdp = await context.newCDPSession(page);
  for (const type of ['dragEnter', 'dragOver', 'drop']) {
    await cdp.send('Input.dispatchDragEvent', {
      type,
      x: box.x + box.width / 2,
      y: box.y + 10,
      data: { items: [], files: [FLOWERS], dragOperationsMask: 1 },
    });
  }
  await page.waitForFunction(
    () => {
      const s = window.__loupe.store.getState();
      return (
        !s.importProgress &&
        s.samples.length > 2500 &&
        s.embeddedCount >= s.samples.length &&
        !s.embedProgress
      );
    },
    null,
    { timeout: 1_800_000, polling: 2000 },
  );
  const images = await page.evaluate(() => window.__loupe.store.getState().samples.length);
  log(
    `${images} images embedded after ${((Date.now() - started) / 1000).toFixed(0)} s; computing augmentation views`,
  );

  for (const view of views) {
    await page.evaluate(async (view) => {
      const { store, services, backboneSpec } = window.__loupe;
      const { project } = store.getState();
      await services.engine.embedProject({
        projectId: project.id,
        spec: backboneSpec(),
        aspectMode: project.settings.aspectMode,
        signal: new AbortController().signal,
        onProgress: () => {},
        onBatch: () => {},
        view,
      });
    }, view);
    log(
      `view ${JSON.stringify(view)} embedded after ${((Date.now() - started) / 1000).toFixed(0)} s`,
    );
  }
  const backend = await page.evaluate(
    () => window.__loupe.store.getState().engineStatus?.backend ?? null,
  );

  // One call per variant, the quick setting first, so progress (and partial numbers) show on
  // stderr while the dense variants train (each trains twice per fold: epoch search + refit).
  const perClass = Number(args['per-class']);
  const settings = [
    { key: `train${perClass}PerClass`, perClass },
    { key: 'allTraining', perClass: undefined },
  ];
  const results = {};
  for (const setting of settings) {
    results[setting.key] = {};
    for (const variant of variants) {
      const t0 = Date.now();
      const [row] = await page.evaluate(
        ({ variant, perClass }) =>
          window.__loupe.services.engine.evaluateVariants({
            variants: [variant],
            trainPerClass: perClass,
          }),
        { variant, perClass: setting.perClass },
      );
      results[setting.key][variant] = {
        accuracy: +row.accuracy.toFixed(4),
        macroF1: +row.macroF1.toFixed(4),
        std: +row.std.toFixed(4),
        ...(variant.startsWith('knn') ? { kPerFold: row.kPerFold } : {}),
        seconds: Math.round((Date.now() - t0) / 1000),
      };
      log(setting.key, variant, JSON.stringify(results[setting.key][variant]));
    }
  }
  console.log(
    JSON.stringify(
      {
        dataset: 'flowers5-dev',
        images,
        folds: 5,
        backend,
        ...results,
        seconds: Math.round((Date.now() - started) / 1000),
      },
      null,
      2,
    ),
  );
} finally {
  await session.close();
}
