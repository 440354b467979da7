#!/usr/bin/env node
// `npm run eval`: the accuracy report of the README, measured through the real app. Serves the built
// app and, for each backbone (default: MobileNet v2 1.0 and v1 0.75), drops all of
// ../shared/datasets/flowers5-dev onto a new project in headless Chromium, waits for every
// embedding and the augmentation views the rows need (horizontal flip, 2 seeded random resized
// crops), then runs seeded 5-fold cross-validation in the engine worker on the same folds for:
// KNN (automatic k, chosen inside each fold), the dense head (defaults), the logistic-regression
// probe, the KNN + dense ensemble, each optionally trained with flips / crops and optionally with
// test-time flip averaging ('+tta'); once on all training images and once with 20 training images
// per class. Prints one JSON object on stdout and the side-by-side table on stderr (progress too).
//
// Usage: node scripts/eval.mjs [--no-build] [--per-class 20|0] [--variants knn,logreg,dense]
//                              [--backbones v2,v1] [--dense-config '{"hiddenUnits":0}']
//   --variants: a comma-separated subset of the rows (default: the untrained-augmentation rows
//     knn, logreg, dense, ensemble and their +tta); only the views the chosen rows need are embedded.
//   --per-class 0: only the all-images setting.
//   --review: also measure Review on the first backbone's project: `Probable mislabels` precision
//     and recall with 10 % of a copy's labels flipped, the `Label next` vs random labelling
//     curve, and cluster purity / NMI (scripts/evalMislabels.mjs, scripts/evalReview.mjs);
//     `--variants none` skips the heads table.
//   --backbones: built-in backbone ids, or v1 / v2 for MobileNet v1 0.75 / v2 1.0.
//   --dense-config: dense settings over the defaults for the dense and ensemble rows; a JSON array
//     of settings runs each of those rows once per entry (named `dense {"hiddenUnits":0}` etc.).
// LOUPE_DIST=<folder> builds and serves there instead of dist/ (to keep working while it runs).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openAppSession, useBuiltinBackbone } from './chromium.mjs';
import { evalMislabels } from './evalMislabels.mjs';
import { evalLabelNextAndClusters } from './evalReview.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FLOWERS = path.resolve(ROOT, '..', 'shared', 'datasets', 'flowers5-dev');
const HEADS = ['knn', 'logreg', 'dense', 'ensemble'];
const VARIANTS = HEADS.flatMap((h) =>
  ['', '+flip', '+crops'].flatMap((a) => [`${h}${a}`, `${h}${a}+tta`]),
);
const DEFAULT_VARIANTS = HEADS.flatMap((h) => [h, `${h}+tta`]);
const ALIASES = { v1: 'mobilenet_v1_0.75_224', v2: 'mobilenet_v2_1.0_224_quant' };
/** What a new project uses (src/core/backbone/specs.ts DEFAULT_BACKBONE_ID, the head after Train). */
const DEFAULT_PIPELINE = { backbone: ALIASES.v2, variant: 'dense' };
const VIEWS = [
  { flip: true, crop: 0 },
  { flip: false, crop: 1 },
  { flip: false, crop: 2 },
];

const { values: args } = parseArgs({
  options: {
    'no-build': { type: 'boolean' },
    'per-class': { type: 'string', default: '20' },
    variants: { type: 'string', default: DEFAULT_VARIANTS.join(',') },
    backbones: { type: 'string', default: 'v2,v1' },
    'dense-config': { type: 'string' },
    review: { type: 'boolean', default: false },
  },
});
const log = (...m) => console.error('[eval]', ...m);
const variants = args.variants === 'none' ? [] : args.variants.split(',').map((v) => v.trim());
const unknown = variants.filter((v) => !VARIANTS.includes(v));
if (unknown.length > 0) {
  console.error(`eval: unknown variant(s) ${unknown.join(', ')}; known: ${VARIANTS.join(', ')}`);
  process.exit(1);
}
// The views the chosen rows need: flips for '+flip' and '+tta', both crops for '+crops'.
const views = VIEWS.filter((view) =>
  variants.some((v) =>
    view.flip ? v.includes('+flip') || v.includes('+tta') : v.includes('+crops'),
  ),
);
const backbones = args.backbones.split(',').map((b) => ALIASES[b.trim()] ?? b.trim());
const denseConfig = args['dense-config'] ? JSON.parse(args['dense-config']) : undefined;
/** Rows to run: each variant, the trained ones once per dense setting when several are given. */
const rows = variants.flatMap((variant) => {
  const trained = variant.startsWith('dense') || variant.startsWith('ensemble');
  if (!trained || !Array.isArray(denseConfig))
    return [{ name: variant, variant, config: trained ? denseConfig : undefined }];
  return denseConfig.map((config) => ({
    name: `${variant} ${JSON.stringify(config)}`,
    variant,
    config,
  }));
});

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
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;

/** Imports flowers5-dev into a new project on `backboneId`, embeds it and its views. */
async function loadDataset(page, backboneId) {
  await page.goto(`${baseUrl}/?debug=1#/`);
  await page.waitForFunction(() => 'store' in (window.__loupe ?? {}));
  const projectId = await page.evaluate(
    (name) => window.__loupe.store.getState().createProject(name),
    `flowers5 eval ${backboneId}`,
  );
  await page.goto(`${baseUrl}/?debug=1#/p/${projectId}`);
  await page.getByRole('toolbar', { name: 'Board actions' }).waitFor();
  await useBuiltinBackbone(page, backboneId);
  log(backboneId, 'dropping', FLOWERS);
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
    { timeout: 3_600_000, polling: 2000 },
  );
  const images = await page.evaluate(() => window.__loupe.store.getState().samples.length);
  log(backboneId, `${images} images embedded after ${elapsed()}; computing views`);
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
    log(backboneId, `view ${JSON.stringify(view)} embedded after ${elapsed()}`);
  }
  return images;
}

/** Cross-validates every chosen variant, the quick setting first (partial numbers show early). */
async function evaluate(page, backboneId) {
  const perClass = Number(args['per-class']);
  const settings = [
    ...(perClass > 0 ? [{ key: `train${perClass}PerClass`, perClass }] : []),
    { key: 'allTraining', perClass: undefined },
  ];
  const results = {};
  for (const setting of settings) {
    results[setting.key] = {};
    for (const { name, variant, config } of rows) {
      const t0 = Date.now();
      const [row] = await page.evaluate(
        ({ variant, perClass, config }) =>
          window.__loupe.services.engine.evaluateVariants({
            variants: [variant],
            trainPerClass: perClass,
            ...(config ? { denseConfig: config } : {}),
          }),
        { variant, perClass: setting.perClass, config },
      );
      results[setting.key][name] = {
        accuracy: +row.accuracy.toFixed(4),
        macroF1: +row.macroF1.toFixed(4),
        std: +row.std.toFixed(4),
        ...(row.kPerFold.length > 0 ? { kPerFold: row.kPerFold } : {}),
        seconds: Math.round((Date.now() - t0) / 1000),
      };
      log(backboneId, setting.key, name, JSON.stringify(results[setting.key][name]));
    }
  }
  return results;
}

/** Markdown: one row per variant, accuracy ± fold spread per backbone and setting. */
function table(report) {
  const ids = Object.keys(report);
  const keys = Object.keys(report[ids[0]]?.results ?? {});
  const head = ids.flatMap((id) => keys.map((k) => `${id} ${k}`));
  const lines = [`| variant | ${head.join(' | ')} |`, `|---|${head.map(() => '---').join('|')}|`];
  for (const { name: variant } of rows) {
    const cells = ids.flatMap((id) =>
      keys.map((k) => {
        const r = report[id].results[k]?.[variant];
        if (!r) return '';
        const cell = `${r.accuracy.toFixed(3)} ± ${r.std.toFixed(3)}`;
        const isDefault = id === DEFAULT_PIPELINE.backbone && variant === DEFAULT_PIPELINE.variant;
        return isDefault ? `**${cell}** (default)` : cell;
      }),
    );
    lines.push(`| ${variant} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

try {
  const page = context.pages()[0] ?? (await context.newPage());
  const report = {};
  let backend = null;
  for (const backboneId of backbones) {
    const t0 = Date.now();
    const images = await loadDataset(page, backboneId);
    const embedSeconds = Math.round((Date.now() - t0) / 1000);
    backend ??= await page.evaluate(
      () => window.__loupe.store.getState().engineStatus?.backend ?? null,
    );
    const review =
      args.review && backboneId === backbones[0]
        ? {
            mislabels: await evalMislabels(page, log),
            labelNextAndClusters: await evalLabelNextAndClusters(page, log),
          }
        : undefined;
    if (review) log(backboneId, 'review', JSON.stringify(review));
    report[backboneId] = {
      images,
      embedSeconds,
      ...(review ? { review } : {}),
      results: await evaluate(page, backboneId),
    };
  }
  const markdown = variants.length > 0 ? table(report) : '';
  console.error(markdown);
  console.log(
    JSON.stringify(
      {
        dataset: 'flowers5-dev',
        folds: 5,
        backend,
        ...(denseConfig ? { denseConfig } : {}),
        defaultPipeline: DEFAULT_PIPELINE,
        backbones: report,
        table: markdown,
        seconds: Math.round((Date.now() - started) / 1000),
      },
      null,
      2,
    ),
  );
} finally {
  await session.close();
}
