#!/usr/bin/env node
// `npm run bench:explain`: "Explain a prediction" measured through the real app in headless
// Chromium (wasm backend, the default MobileNet v2 unless --backbone). A project gets the first
// `--train` photos of each flowers5-dev class, embeds them and trains the dense head; then
// `--composites` composites of two unseen photos of different classes side by side (photos from
// index 100 on, the pair's order alternating) are explained three ways: the dense head with
// Grad-CAM, the KNN head with occlusion, the dense head with occlusion forced. For each: the
// share of labels whose heatmap puts most of its mass on their own half (`rate`), the same maps
// scored against the other half (`controlRate`, what a label-blind map would also reach), and
// the worker's milliseconds per explanation (both labels of a composite in one call).
// Prints one JSON object on stdout, progress on stderr.
//
// Usage: node scripts/benchExplain.mjs [--no-build] [--train 15] [--composites 20]
//                                      [--backbone mobilenet_v1_0.75_224]
//                                      [--runs dense,knn,dense-occlusion]
// LOUPE_DIST=<folder> builds and serves there instead of dist/.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openAppSession, useBuiltinBackbone } from './chromium.mjs';
import { compositeCheck } from './explainComposites.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FLOWERS = path.resolve(ROOT, '..', 'shared', 'datasets', 'flowers5-dev');
const CLASSES = ['daisy', 'dandelion', 'rose', 'sunflower', 'tulip'];

const { values: args } = parseArgs({
  options: {
    'no-build': { type: 'boolean' },
    train: { type: 'string', default: '15' },
    composites: { type: 'string', default: '20' },
    backbone: { type: 'string' },
    runs: { type: 'string', default: 'dense,knn,dense-occlusion' },
  },
});
const log = (...m) => console.error('[bench:explain]', ...m);

if (!existsSync(FLOWERS)) {
  console.error(
    `bench:explain needs ${FLOWERS} (the shared flowers5-dev dataset beside the checkout).`,
  );
  process.exit(1);
}

/** `n` photos of `cls`, sorted by name, from index `from`. */
function photos(cls, from, n) {
  return readdirSync(path.join(FLOWERS, cls))
    .filter((f) => f.endsWith('.jpg'))
    .sort()
    .slice(from, from + n)
    .map((f) => path.join(FLOWERS, cls, f));
}

process.chdir(ROOT);
const session = await openAppSession({
  outDir: process.env.LOUPE_DIST ?? 'dist',
  noBuild: args['no-build'],
  profilePrefix: 'loupe-bench-explain-',
  log,
});
try {
  const page = await session.context.newPage();
  await page.goto(`${session.baseUrl}/?debug=1#/`);
  await page.waitForFunction(() => 'store' in (window.__loupe ?? {}));
  const projectId = await page.evaluate(() =>
    window.__loupe.store.getState().createProject('explain bench'),
  );
  await page.goto(`${session.baseUrl}/?debug=1#/p/${projectId}`);
  await page.getByRole('toolbar', { name: 'Board actions' }).waitFor();
  if (args.backbone) await useBuiltinBackbone(page, args.backbone);
  const perClass = Number(args.train);
  const labelIds = {};
  for (const cls of CLASSES) {
    labelIds[cls] = await page.evaluate(
      async (name) => (await window.__loupe.store.getState().addLabel(name)).id,
      cls,
    );
    await page
      .getByLabel(`Add images to ${cls}`, { exact: true })
      .setInputFiles(photos(cls, 0, perClass));
  }
  const total = perClass * CLASSES.length;
  await page.waitForFunction(
    (total) => {
      const s = window.__loupe.store.getState();
      return !s.importProgress && s.samples.length >= total && s.embeddedCount >= total;
    },
    total,
    { timeout: 1_200_000, polling: 1000 },
  );
  log(`${total} photos embedded; training the dense head`);
  await page.evaluate(() => window.__loupe.store.getState().train());
  await page.waitForFunction(() => window.__loupe.store.getState().modelSummary !== null, null, {
    timeout: 600_000,
    polling: 1000,
  });
  const n = Number(args.composites);
  const composites = Array.from({ length: n }, (_, i) => {
    const a = CLASSES[i % CLASSES.length];
    const b = CLASSES[(i + 1 + (Math.floor(i / CLASSES.length) % 4)) % CLASSES.length];
    const [left, right] = i % 2 === 0 ? [a, b] : [b, a];
    const index = 100 + Math.floor(i / 2);
    return {
      left: photos(left, index, 1)[0],
      right: photos(right, index + 50, 1)[0],
      leftLabel: labelIds[left],
      rightLabel: labelIds[right],
    };
  });
  const backend = await page.evaluate(
    () => window.__loupe.store.getState().engineStatus?.backend ?? null,
  );
  const runs = [];
  const RUNS = { dense: ['dense'], knn: ['knn'], 'dense-occlusion': ['dense', 'occlusion'] };
  for (const [head, method] of args.runs.split(',').map((r) => RUNS[r.trim()])) {
    const report = await compositeCheck(page, composites, head, method);
    const { rows, ...summary } = report;
    const ms = rows.map((r) => r.ms).sort((x, y) => x - y);
    const result = {
      ...summary,
      rate: +summary.rate.toFixed(3),
      controlRate: +summary.controlRate.toFixed(3),
      msPerExplanation: Math.round(summary.msPerExplanation),
      medianMs: Math.round(ms[Math.floor(ms.length / 2)] ?? 0),
    };
    log(JSON.stringify(result));
    runs.push(result);
  }
  console.log(
    JSON.stringify(
      {
        backend,
        backbone: await page.evaluate(() => window.__loupe.backboneSpec()?.id),
        trainPerClass: perClass,
        runs,
      },
      null,
      2,
    ),
  );
} finally {
  await session.close();
}
