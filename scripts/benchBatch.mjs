#!/usr/bin/env node
// `npm run bench:batch`: speed and memory of `Classify images` against the same project's
// embedding rate, in headless Chromium against a production build.
//   1. A project (built-in backbone, `--backbone`) gets `--per-class` real photos of three
//      flowers5-dev classes by a folder drop, and embeds them (its KNN head is then trained).
//   2. Embedding rate: the engine's full embedding pipeline (`engine.embedProject`, under an
//      embedding key the project does not have yet, so every image is recomputed) over those photos.
//   3. Batch rate on the same photos: the same files, picked through the `Classify images` input.
//      Steps 2 and 3 alternate `--repeat` times (default 3, at most 4); medians are reported.
//   4. Memory: `--n` files (default 5,000) through `Classify images`. flowers5-dev holds 2,588
//      photos (11 MB), so the files are copies with distinct names of real photos, repeated as
//      needed (same bytes, distinct paths: nothing is cached by content on the batch path). The JS
//      heap of the page and of each worker it started (CDP `Runtime.getHeapUsage`; the
//      preprocessing worker, started by the engine worker, is not reached) is sampled every
//      500 ms, and measured after a forced garbage collection, with array buffers and the engine's
//      live tensors, when 1,000 files (a fifth of --n if less) are done and at the end.
// Prints one JSON object on stdout (progress to stderr), with the load average beside each figure:
// the machine may be shared.
//
// Usage: node scripts/benchBatch.mjs [--n 5000] [--per-class 50] [--repeat 3] [--backbone v2|v1]
//                                    [--out-dir dist] [--no-build]
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openAppSession, useBuiltinBackbone } from './chromium.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FLOWERS = path.resolve(ROOT, '..', 'shared', 'datasets', 'flowers5-dev');
const CLASSES = ['daisy', 'sunflower', 'tulip'];
const BACKBONES = { v2: 'mobilenet_v2_1.0_224_quant', v1: 'mobilenet_v1_0.75_224' };
/** Files done at the first garbage-collected heap reading (the second is at the end). */
const EARLY_MARK = 1000;

const log = (...parts) => console.error('[bench:batch]', ...parts);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (x, digits = 2) => (x == null ? null : Number(x.toFixed(digits)));
const mb = (bytes) => round(bytes / 2 ** 20, 1);
const load = () => loadavg().map((x) => round(x));

function options() {
  const { values } = parseArgs({
    options: {
      n: { type: 'string', default: '5000' },
      'per-class': { type: 'string', default: '50' },
      repeat: { type: 'string', default: '3' },
      backbone: { type: 'string', default: 'v2' },
      'out-dir': { type: 'string', default: 'dist' },
      'no-build': { type: 'boolean', default: false },
    },
  });
  const backbone = BACKBONES[values.backbone];
  if (!backbone) throw new Error(`--backbone must be one of ${Object.keys(BACKBONES)}`);
  return {
    n: Number(values.n),
    perClass: Number(values['per-class']),
    repeat: Math.min(4, Math.max(1, Number(values.repeat))),
    backbone,
    outDir: path.resolve(ROOT, values['out-dir']),
    noBuild: values['no-build'],
  };
}

/** Sorted real photos of one class. */
function classPhotos(cls) {
  return readdirSync(path.join(FLOWERS, cls))
    .filter((f) => f.endsWith('.jpg'))
    .sort()
    .map((f) => path.join(FLOWERS, cls, f));
}

/** `dir/<class>/<photo>` copies for the project's folder drop; returns every copy. */
function trainingTree(dir, perClass) {
  const links = [];
  for (const cls of CLASSES) {
    mkdirSync(path.join(dir, cls), { recursive: true });
    for (const photo of classPhotos(cls).slice(0, perClass)) {
      const link = path.join(dir, cls, path.basename(photo));
      copyFileSync(photo, link);
      links.push(link);
    }
  }
  return links;
}

/** `n` copies with distinct names of real photos of every class, cycling through all of them. */
function batchFiles(dir, n) {
  const all = readdirSync(FLOWERS, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => classPhotos(d.name));
  mkdirSync(dir, { recursive: true });
  return Array.from({ length: n }, (_, i) => {
    const photo = all[i % all.length];
    const link = path.join(dir, `${String(i).padStart(5, '0')}-${path.basename(photo)}`);
    copyFileSync(photo, link);
    return link;
  });
}

/**
 * CDP heap readings of the page and of its workers (auto-attached, messages relayed through the
 * page's session). `read(gc)` forces a garbage collection first when `gc` is set.
 */
async function heapProbe(context, page) {
  const cdp = await context.newCDPSession(page);
  const workers = new Map();
  const pending = new Map();
  let nextId = 1;
  cdp.on('Target.attachedToTarget', (e) => {
    if (e.targetInfo.type === 'worker') workers.set(e.sessionId, e.targetInfo.url);
  });
  cdp.on('Target.detachedFromTarget', (e) => workers.delete(e.sessionId));
  cdp.on('Target.receivedMessageFromTarget', (e) => {
    const message = JSON.parse(e.message);
    pending.get(message.id)?.(message.result);
  });
  await cdp.send('Target.setAutoAttach', {
    autoAttach: true,
    waitForDebuggerOnStart: false,
    flatten: false,
  });
  const inWorker = (sessionId, method) =>
    new Promise((resolve) => {
      const id = nextId++;
      const done = (result) => {
        clearTimeout(timer);
        pending.delete(id);
        resolve(result ?? null);
      };
      const timer = setTimeout(done, 5000);
      pending.set(id, done);
      const message = JSON.stringify({ id, method });
      cdp.send('Target.sendMessageToTarget', { sessionId, message }).catch(() => done());
    });
  return {
    async read(gc = false) {
      if (gc) {
        await cdp.send('HeapProfiler.collectGarbage');
        await Promise.all(
          [...workers.keys()].map((s) => inWorker(s, 'HeapProfiler.collectGarbage')),
        );
      }
      const main = await cdp.send('Runtime.getHeapUsage');
      const byWorker = {};
      let buffers = main.backingStorageSize ?? 0;
      for (const [sessionId, url] of workers) {
        const usage = await inWorker(sessionId, 'Runtime.getHeapUsage');
        const name = path.basename(new URL(url).pathname).replace(/-[\w-]{8}\.js$/, '');
        if (usage) byWorker[name] = mb(usage.usedSize);
        buffers += usage?.backingStorageSize ?? 0;
      }
      const workersMB = round(
        Object.values(byWorker).reduce((a, b) => a + b, 0),
        1,
      );
      return { pageMB: mb(main.usedSize), workersMB, arrayBuffersMB: mb(buffers), byWorker };
    },
    detach: () => cdp.detach().catch(() => undefined),
  };
}

/** Tensors alive in the engine worker (their memory is WASM or GPU memory, in no JS heap). */
async function tensors(page) {
  const stats = await page.evaluate(() => window.__loupe.services.engine.stats());
  return { engineTensors: stats.numTensors };
}

/** A real drop of `folder` on the board (Chromium builds the DataTransfer), as bench.mjs does. */
async function dropFolder(page, folder) {
  const box = await page.getByRole('toolbar', { name: 'Board actions' }).boundingBox();
  if (!box) throw new Error('the board toolbar is not visible');
  const cdp = await page.context().newCDPSession(page);
  const data = { items: [], files: [folder], dragOperationsMask: 1 };
  const [x, y] = [box.x + box.width / 2, box.y + box.height / 2];
  for (const type of ['dragEnter', 'dragOver', 'drop']) {
    await cdp.send('Input.dispatchDragEvent', { type, x, y, data });
  }
  await cdp.detach();
}

/** Picks `files` in `Classify images` and waits for the run to end; samples the heap meanwhile. */
async function classify(page, probe, files, label, earlyMark = Infinity) {
  await page.evaluate(() => window.__loupe.store.getState().closeBatch());
  const samples = [];
  const marks = {};
  // Timed on the page: from the run's start (the batch appears) to its end (progress cleared).
  await page.evaluate(() => {
    const timing = { start: null, end: null, workerRate: null };
    window.__batchTiming = timing;
    const unsubscribe = window.__loupe.store.subscribe(({ batch }) => {
      if (timing.start === null && batch?.progress) timing.start = performance.now();
      // The worker's own rate (files done / seconds since its job started), last reported.
      if (batch?.progress && batch.progress.done > 0) timing.workerRate = batch.progress.rate;
      if (timing.start !== null && batch && !batch.progress) {
        timing.end = performance.now();
        unsubscribe();
      }
    });
  });
  await page.getByLabel('Classify images', { exact: true }).setInputFiles(files);
  let heapAtStart = null;
  for (;;) {
    const state = await page.evaluate(() => {
      const b = window.__loupe.store.getState().batch;
      return b && { done: b.progress?.done ?? null, rows: b.rows.length, failed: b.failed.length };
    });
    const running = state && state.done !== null;
    const done = running ? state.done : (state?.rows ?? 0) + (state?.failed ?? 0);
    const heap = await probe.read();
    heapAtStart ??= heap;
    samples.push({ done, pageMB: heap.pageMB, workersMB: heap.workersMB });
    if (running && !marks.early && done >= earlyMark) {
      marks.early = { done, ...(await probe.read(true)), ...(await tensors(page)), load: load() };
      log(`${label}: ${done} done`, JSON.stringify(marks.early));
    }
    if (state && !running) break;
    await sleep(500);
  }
  const result = await page.evaluate(() => {
    const b = window.__loupe.store.getState().batch;
    const { start, end, workerRate } = window.__batchTiming;
    const region = document.querySelector('[aria-label="Batch results"]');
    return {
      rows: b.rows.length,
      failed: b.failed.length,
      error: b.error,
      renderedRows: region?.querySelectorAll('tbody tr').length ?? null,
      renderedThumbnails: region?.querySelectorAll('img').length ?? null,
      elapsedS: (end - start) / 1000,
      workerImgPerSec: workerRate,
    };
  });
  if (result.error) throw new Error(`${label}: ${result.error}`);
  if (result.rows + result.failed !== files.length)
    throw new Error(`${label}: ${result.rows} rows + ${result.failed} failed for ${files.length}`);
  marks.end = { done: files.length, ...(await probe.read(true)), ...(await tensors(page)) };
  marks.end.load = load();
  const peak = (key) => Math.max(...samples.map((s) => s[key]));
  return {
    files: files.length,
    ...result,
    imgPerSec: round(result.rows / result.elapsedS),
    workerImgPerSec: round(result.workerImgPerSec),
    elapsedS: round(result.elapsedS, 1),
    loadAverage: load(),
    heapMB: {
      // Up to 20 readings spread over the run, as [files done, page MB, workers MB].
      series: samples
        .filter((_, i) => i % Math.ceil(samples.length / 20) === 0)
        .map((r) => [r.done, r.pageMB, r.workersMB]),
      start: { pageMB: heapAtStart.pageMB, workersMB: heapAtStart.workersMB },
      peak: { pageMB: peak('pageMB'), workersMB: peak('workersMB') },
      afterGc: marks,
    },
  };
}

async function main() {
  const opts = options();
  const tmp = mkdtempSync(path.join(tmpdir(), 'loupe-bench-batch-'));
  const loadAtStart = load();
  const session = await openAppSession({
    outDir: opts.outDir,
    noBuild: opts.noBuild,
    profilePrefix: 'loupe-bench-batch-',
    log,
  });
  const page = session.context.pages()[0] ?? (await session.context.newPage());
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  try {
    await page.goto(`${session.baseUrl}/?debug=1#/`);
    await page.getByRole('button', { name: 'New project' }).click();
    const name = page.getByRole('textbox', { name: 'Project name' });
    await name.fill('Batch bench');
    await name.press('Enter');
    await page.getByRole('toolbar', { name: 'Board actions' }).waitFor();
    await useBuiltinBackbone(page, opts.backbone);

    const trainDir = path.join(tmp, 'train');
    const photos = trainingTree(trainDir, opts.perClass);
    log(`dropping ${photos.length} photos in ${CLASSES.length} labels`);
    await dropFolder(page, trainDir);
    await page.waitForFunction(
      () => {
        const s = window.__loupe.store.getState();
        if (s.engineError) return s.engineError;
        const imported = s.samples.length > 0 && !s.importProgress && s.importQueueLength === 0;
        return imported && s.embeddedCount >= s.samples.length && s.embedProgress === null;
      },
      undefined,
      { timeout: 120_000 + photos.length * 2_000, polling: 500 },
    );

    // Embedding and batch runs alternate, `--repeat` times, so each pair sees the same load; each
    // embedding run writes a fresh key (aspect mode x mirrored view), so all images are computed.
    const probe = await heapProbe(session.context, page);
    const variants = [
      ['squash', false],
      ['letterbox', false],
      ['squash', true],
      ['letterbox', true],
    ];
    // A first short batch starts what every later run finds ready (the preprocessing worker, the
    // KNN head's examples on the backend), as the project's own first embedding did.
    const warmUp = await classify(page, probe, photos.slice(0, 16), 'warm-up');
    log(`warm-up batch of 16: ${warmUp.imgPerSec} img/s`);
    const pairs = [];
    for (const [aspectMode, flip] of variants.slice(0, opts.repeat)) {
      const embedding = await page.evaluate(
        async ({ aspectMode, flip }) => {
          const { services, backboneSpec, store } = window.__loupe;
          const project = store.getState().project;
          const started = performance.now();
          const report = await services.engine.embedProject({
            projectId: project.id,
            spec: backboneSpec(),
            aspectMode,
            view: { flip, crop: 0 },
            signal: new AbortController().signal,
            onProgress: () => undefined,
            onBatch: () => undefined,
          });
          return { computed: report.computed, seconds: (performance.now() - started) / 1000 };
        },
        { aspectMode, flip },
      );
      const embeddingRun = {
        images: embedding.computed,
        imgPerSec: round(embedding.computed / embedding.seconds),
        loadAverage: load(),
      };
      log(`embedding ${embeddingRun.imgPerSec} img/s (load ${embeddingRun.loadAverage})`);
      const batch = await classify(page, probe, photos, 'same photos');
      log(`batch ${batch.imgPerSec} img/s (load ${batch.loadAverage})`);
      pairs.push({
        embedding: embeddingRun,
        batch: {
          imgPerSec: batch.imgPerSec,
          workerImgPerSec: batch.workerImgPerSec,
          loadAverage: batch.loadAverage,
          rows: batch.rows,
        },
        ratio: round(batch.imgPerSec / embeddingRun.imgPerSec),
      });
    }
    const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor((xs.length - 1) / 2)];
    const embeddingImgPerSec = median(pairs.map((p) => p.embedding.imgPerSec));
    log(`classifying ${opts.n} files`);
    const many = await classify(
      page,
      probe,
      batchFiles(path.join(tmp, 'many'), opts.n),
      'many',
      Math.min(EARLY_MARK, Math.floor(opts.n / 5)),
    );
    await probe.detach();
    const early = many.heapMB.afterGc.early;
    const end = many.heapMB.afterGc.end;
    const report = {
      environment: {
        cpus: cpus().length,
        loadAverageAtStart: loadAtStart,
        backbone: opts.backbone,
      },
      samePhotos: {
        images: photos.length,
        warmUpImgPerSec: warmUp.imgPerSec,
        pairs,
        embeddingImgPerSec,
        batchImgPerSec: median(pairs.map((p) => p.batch.imgPerSec)),
        medianRatio: median(pairs.map((p) => p.ratio)),
      },
      batchMany: many,
      ratioMany: round(many.imgPerSec / embeddingImgPerSec),
      memory: early
        ? {
            afterGcAt: { [early.done]: early, [end.done]: end },
            pageGrowthMB: round(end.pageMB - early.pageMB, 1),
            workersGrowthMB: round(end.workersMB - early.workersMB, 1),
          }
        : null,
      pageErrors,
    };
    console.log(JSON.stringify(report, null, 2));
  } finally {
    await session.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
