#!/usr/bin/env node
// `npm run bench`: benchmark of Loupe's embedding engine. Builds the app and a naive baseline page
// (bench/), serves both with `vite preview`, and drives headless Chromium:
//   1. auto: a fresh profile with backendOverride 'auto' imports a few photos -> chosenBackend;
//   2. per backend (backendOverride preset): a real folder drop of N photos from
//      ../shared/datasets/flowers5-dev onto the board -> drop-to-first-embedding time, main-thread
//      long tasks and peak JS heap (page + workers) until every image is embedded; then, with no
//      import running, the full pipeline (`engine.embedProject`, aspect mode 'squash' so all N are
//      recomputed) and the raw forward pass (`engine.measureForward`) on the same images;
//   3. naive: a per-image `model.predict` loop on the main thread, tfjs's default backend, and the
//      same loop on wasm single-threaded: `ratios.dropToEmbeddedVsNaive` is the wasm drop's
//      drop-to-all-embedded rate over that loop's rate.
// Prints one JSON object on stdout (progress goes to stderr). Exits non-zero only when the bench
// itself breaks, or when the chosen backend or the naive baseline could not be measured.
//
// Usage: node scripts/bench.mjs [--n 500] [--backends wasm,webgl,cpu,webgpu] [--n-<backend> K]
//                               [--naive-n 32] [--no-build] [--unsafe-webgpu] [--backbone v2|v1]
//   Always: the JavaScript the page's main thread loads before the project list (index.html's
//        scripts and module preloads, raw and gzip bytes) and the time to an interactive project
//        list (the `New project` button) on a first visit (fresh profile) and a second (reload);
//   --startup-only: just that;
//   --review: also time Review's analyses in the engine worker on 5,000 embeddings: out-of-fold
//        KNN and the near-duplicate search (the project's own embeddings repeated with seeded
//        noise), clustering and Label next (synthetic 768-d); --review-only runs just that;
//   --backbone: the built-in backbone the bench projects (and the naive page) embed with: v2 =
//        MobileNet v2 1.0, the default for new projects; v1 = MobileNet v1 0.75;
//   --n: photos for the chosen backend (and wasm); other backends default to SMALL_N below, since
//        on a GPU-less machine they are 10-100x slower; --n-webgl 64 etc. override per backend.
//   --no-build: reuse dist/ and .bench/naive-dist/ when they exist;
//   --unsafe-webgpu: launch Chromium with --enable-unsafe-webgpu (WebGPU is off headless; here it
//        is SwiftShader at ~0.3 img/s, so by default it is checked without the flag: available:false).
//   --scale [N]: just the scale run (scripts/benchScale.mjs): N files (default 5,000) dropped at
//        once on the wasm backend, then scroll, Train, Compare heads and both exports; per phase its
//        time, long tasks, frame gaps, peak heap (page + workers) and browser RSS; with --profile,
//        a main-thread CPU profile of the import/embedding and training phases (.tmp/*.cpuprofile)
//        and the heaviest functions of each busy stretch over 50 ms.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { constants as osConstants, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { benchAnalysis } from './benchAnalysis.mjs';
import { runScale } from './benchScale.mjs';
import { CHROMIUM_ARGS, CHROMIUM_PATH, useBuiltinBackbone } from './chromium.mjs';
import { benchClusters } from './evalReview.mjs';
import { build, preview } from 'vite';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FLOWERS = path.resolve(ROOT, '..', 'shared', 'datasets', 'flowers5-dev');
const NAIVE_DIST = path.join(ROOT, '.bench', 'naive-dist');
/** Headless Linux Chromium offers WebGPU only with this flag (--unsafe-webgpu adds it). */
const WEBGPU_ARGS = ['--enable-unsafe-webgpu'];
const ALL_BACKENDS = ['wasm', 'webgl', 'cpu', 'webgpu'];
/** Default photo counts for backends other than the chosen one (and wasm). */
const SMALL_N = { webgl: 16, cpu: 8, webgpu: 8 };
const AUTO_N = 10;
/** Built-in backbones the bench can run (ids as src/core/backbone/specs.ts names them). */
const BACKBONES = {
  v2: { id: 'mobilenet_v2_1.0_224_quant', folder: 'mobilenet_v2_1.0_224', layer: 'out_relu' },
  v1: { id: 'mobilenet_v1_0.75_224', folder: 'mobilenet_v1_0.75_224', layer: 'conv_pw_13_relu' },
};
/** The backbone of this run (`--backbone`), set by parseOptions. */
let BACKBONE = BACKBONES.v2;
const modelDir = () => path.join(ROOT, 'public', 'models', BACKBONE.folder);
/** Aspect mode of the clean re-run: the import embeds with the default 'centre-crop'. */
const CLEAN_ASPECT = 'squash';

const log = (...parts) => console.error('[bench]', ...parts);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (x, digits = 2) => (x == null ? null : Number(x.toFixed(digits)));
const mb = (bytes) => round(bytes / 2 ** 20, 1);

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result after ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function parseOptions() {
  const perBackend = Object.fromEntries(ALL_BACKENDS.map((b) => [`n-${b}`, { type: 'string' }]));
  // `--scale` alone means 5,000 files; `--scale 1000` sets the count.
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--scale');
  if (at >= 0) {
    const count = /^\d+$/.test(argv[at + 1] ?? '') ? argv[at + 1] : '5000';
    argv.splice(at, count === argv[at + 1] ? 2 : 1, '--scale-n', count);
  }
  const { values } = parseArgs({
    args: argv,
    options: {
      n: { type: 'string', default: '500' },
      backends: { type: 'string', default: ALL_BACKENDS.join(',') },
      'naive-n': { type: 'string', default: '32' },
      'no-build': { type: 'boolean', default: false },
      'unsafe-webgpu': { type: 'boolean', default: false },
      backbone: { type: 'string', default: 'v2' },
      review: { type: 'boolean', default: false },
      'review-only': { type: 'boolean', default: false },
      'startup-only': { type: 'boolean', default: false },
      'scale-n': { type: 'string' },
      profile: { type: 'boolean', default: false },
      ...perBackend,
    },
  });
  const positive = (value, name) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
    return n;
  };
  const backends = values.backends.split(',').filter(Boolean);
  const unknown = backends.filter((b) => !ALL_BACKENDS.includes(b));
  if (unknown.length > 0) throw new Error(`unknown backend(s): ${unknown.join(', ')}`);
  if (!BACKBONES[values.backbone]) {
    throw new Error(`--backbone must be one of ${Object.keys(BACKBONES).join(', ')}`);
  }
  BACKBONE = BACKBONES[values.backbone];
  const nOverride = {};
  for (const b of ALL_BACKENDS) {
    if (values[`n-${b}`] !== undefined) nOverride[b] = positive(values[`n-${b}`], `n-${b}`);
  }
  return {
    n: positive(values.n, 'n'),
    naiveN: positive(values['naive-n'], 'naive-n'),
    backends,
    nOverride,
    build: !values['no-build'],
    review: values.review || values['review-only'],
    reviewOnly: values['review-only'],
    startupOnly: values['startup-only'],
    profile: values.profile,
    scale: values['scale-n'] === undefined ? null : positive(values['scale-n'], 'scale'),
    browserArgs: values['unsafe-webgpu'] ? WEBGPU_ARGS : [],
  };
}

/**
 * The first `n` distinct photos of flowers5-dev, round-robin over its classes (sorted,
 * deterministic). Byte-identical copies are skipped: the app imports those once.
 */
function listPhotos(n) {
  const classes = readdirSync(FLOWERS, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  const files = classes.map((c) =>
    readdirSync(path.join(FLOWERS, c))
      .filter((f) => /\.(jpe?g|png)$/i.test(f))
      .sort(),
  );
  const longest = Math.max(...files.map((list) => list.length));
  const seen = new Set();
  const photos = [];
  for (let i = 0; photos.length < n && i < longest * classes.length; i++) {
    const k = i % classes.length;
    const file = files[k][Math.floor(i / classes.length)];
    if (!file) continue;
    const digest = createHash('sha256')
      .update(readFileSync(path.join(FLOWERS, classes[k], file)))
      .digest('hex');
    if (seen.has(digest)) continue;
    seen.add(digest);
    photos.push({ cls: classes[k], file });
  }
  if (photos.length < n)
    throw new Error(`asked for ${n} photos, ${FLOWERS} holds ${photos.length}`);
  return photos;
}

/** Copies `photos` into `<dir>/flowers/<class>/<file>` and returns the folder to drop. */
function photoTree(dir, photos) {
  const root = path.join(dir, 'flowers');
  for (const { cls, file } of photos) {
    mkdirSync(path.join(root, cls), { recursive: true });
    cpSync(path.join(FLOWERS, cls, file), path.join(root, cls, file));
  }
  return root;
}

async function buildAll(options) {
  if (!existsSync(path.join(modelDir(), 'model.json'))) {
    log('weights missing: running scripts/models.mjs');
    const res = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'models.mjs')], {
      cwd: ROOT,
      stdio: ['ignore', 2, 2],
    });
    if (res.status !== 0 || !existsSync(path.join(modelDir(), 'model.json'))) {
      throw new Error(`${BACKBONE.folder} is missing and \`npm run models\` did not install it`);
    }
  }
  const haveApp = existsSync(path.join(ROOT, 'dist', 'index.html'));
  if (options.build || !haveApp) {
    log('building the app (vite build)');
    await build({ root: ROOT, logLevel: 'warn' });
  }
  if (options.build || !existsSync(path.join(NAIVE_DIST, 'naive.html'))) {
    log('building the naive baseline page (bench/naive.html)');
    await build({
      configFile: false,
      root: path.join(ROOT, 'bench'),
      logLevel: 'warn',
      build: {
        outDir: NAIVE_DIST,
        emptyOutDir: true,
        target: 'es2022',
        chunkSizeWarningLimit: 4096,
        rolldownOptions: { input: path.join(ROOT, 'bench', 'naive.html') },
      },
    });
  }
}

async function serve(config) {
  const server = await preview({
    ...config,
    preview: { port: 0, strictPort: false, host: '127.0.0.1' },
    logLevel: 'warn',
  });
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('vite preview did not report a URL');
  return { server, url: url.replace(/\/$/, '') };
}

/** Runs before any page script: long-task observer, drop timestamp, preset backend preference. */
function instrumentPage(backendOverride) {
  const bench = { longTasks: [], dropAt: null };
  window.__bench = bench;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) bench.longTasks.push([e.startTime, e.duration]);
  }).observe({ type: 'longtask', buffered: true });
  window.addEventListener('drop', () => (bench.dropAt ??= performance.now()), true);
  const prefs = { state: { backendOverride, rememberedBackends: {} }, version: 1 };
  if (!localStorage.getItem('loupe-prefs'))
    localStorage.setItem('loupe-prefs', JSON.stringify(prefs));
}

/** A fresh Chromium profile under `env.tmp`, with the e2e flags (+ --unsafe-webgpu's). */
async function launchBrowser(env) {
  const profile = mkdtempSync(path.join(env.tmp, 'profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS, ...env.browserArgs],
    headless: true,
    viewport: { width: 1280, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  return {
    context,
    page,
    pageErrors,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Samples the JS heap of the page and of its (auto-attached) workers with CDP
 * `Runtime.getHeapUsage` every `intervalMs` until `stop()`; reports the peaks in MB, array buffer
 * backing stores apart. Tensors in WASM memory or on the GPU are in neither.
 */
async function startHeapSampler(context, page, intervalMs = 250) {
  const cdp = await context.newCDPSession(page);
  const workers = new Set();
  const pending = new Map();
  let nextId = 1;
  cdp.on('Target.attachedToTarget', (e) => {
    if (e.targetInfo.type === 'worker') workers.add(e.sessionId);
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
  const workerHeap = (sessionId) =>
    new Promise((resolve) => {
      const id = nextId++;
      const done = (result) => {
        clearTimeout(timer);
        pending.delete(id);
        resolve(result ?? { usedSize: 0, backingStorageSize: 0 });
      };
      const timer = setTimeout(done, 2000);
      pending.set(id, done);
      const message = JSON.stringify({ id, method: 'Runtime.getHeapUsage' });
      cdp.send('Target.sendMessageToTarget', { sessionId, message }).catch(() => done());
    });
  const peak = { total: 0, main: 0, workers: 0, buffers: 0 };
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const main = await cdp.send('Runtime.getHeapUsage');
        const inWorkers = await Promise.all([...workers].map(workerHeap));
        const sum = (key) => inWorkers.reduce((total, w) => total + w[key], 0);
        peak.total = Math.max(peak.total, main.usedSize + sum('usedSize'));
        peak.main = Math.max(peak.main, main.usedSize);
        peak.workers = Math.max(peak.workers, sum('usedSize'));
        peak.buffers = Math.max(peak.buffers, main.backingStorageSize + sum('backingStorageSize'));
      } catch {
        return; // page gone
      }
      await sleep(intervalMs);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      await cdp.detach().catch(() => undefined);
      return {
        peakHeapMB: mb(peak.total),
        peakMainHeapMB: mb(peak.main),
        peakWorkersHeapMB: mb(peak.workers),
        peakArrayBuffersMB: mb(peak.buffers),
      };
    },
  };
}

/** Opens the app (`?debug=1` exposes `window.__loupe`) and reads what the page sees. */
async function openApp(page, baseUrl) {
  await page.goto(`${baseUrl}/?debug=1#/`);
  await page.getByRole('heading', { name: 'Projects' }).waitFor();
  const cdp = await page.context().newCDPSession(page);
  const { product } = await cdp.send('Browser.getVersion');
  await cdp.detach();
  const seen = await page.evaluate(async () => ({
    hardwareConcurrency: navigator.hardwareConcurrency,
    crossOriginIsolated: window.crossOriginIsolated,
    webgpuAdapter: !!(await navigator.gpu?.requestAdapter?.()),
  }));
  return { chromium: product, ...seen };
}

/** Creates a project through the UI and records store milestones after the drop (page time). */
async function newProject(page) {
  await page.getByRole('button', { name: 'New project' }).click();
  const name = page.getByRole('textbox', { name: 'Project name' });
  await name.waitFor();
  await name.fill('Bench');
  await name.press('Enter');
  await page.getByRole('toolbar', { name: 'Board actions' }).waitFor();
  await useBuiltinBackbone(page, BACKBONE.id);
  // The drop is timed with the backbone loaded, as a project opened a moment earlier has it (the
  // app warms it on open) and as the naive loop's rate excludes its model load.
  await page.evaluate(() => window.__loupe.store.getState().warmBackbone());
  return page.evaluate(() => {
    const { store } = window.__loupe;
    const bench = window.__bench;
    bench.timeline = [];
    store.subscribe((s) => {
      const now = performance.now();
      // Stored and embedded counts every 250 ms or more, to see where a drop spends its time.
      const last = bench.timeline[bench.timeline.length - 1];
      if (bench.dropAt != null && bench.doneAt == null && (!last || now - last[0] >= 250)) {
        bench.timeline.push([now, s.samples.length, s.embeddedCount]);
      }
      if (s.importProgress !== null) bench.importSeen = true;
      if (bench.firstEmbeddingAt == null && s.embeddedCount > 0) bench.firstEmbeddingAt = now;
      if (bench.firstChunkAt == null && s.samples.length > 0) bench.firstChunkAt = now;
      const imported = bench.importSeen && s.importProgress === null && s.importQueueLength === 0;
      if (bench.importDoneAt == null && imported) bench.importDoneAt = now;
      const embedded = s.embeddedCount >= s.samples.length && s.embedProgress === null;
      if (bench.doneAt == null && imported && embedded) bench.doneAt = now;
    });
    return store.getState().project.id;
  });
}

/** A real drop of `folder` on the board (Chromium builds the DataTransfer), as tests/e2e/pages.ts. */
async function dropFolder(page, folder) {
  const box = await page.getByRole('toolbar', { name: 'Board actions' }).boundingBox();
  if (!box) throw new Error('the board toolbar is not visible');
  const cdp = await page.context().newCDPSession(page);
  const data = { items: [], files: [folder], dragOperationsMask: 1 };
  const x = box.x + box.width / 2;
  const y = box.y + box.height / 2;
  for (const type of ['dragEnter', 'dragOver', 'drop']) {
    await cdp.send('Input.dispatchDragEvent', { type, x, y, data });
  }
  await cdp.detach();
}

async function waitForEmbeddings(page, timeoutMs) {
  const handle = await page.waitForFunction(
    () => window.__bench.doneAt != null || window.__loupe.store.getState().engineError,
    null,
    { timeout: timeoutMs, polling: 200 },
  );
  const engineError = await handle.jsonValue();
  if (typeof engineError === 'string') throw new Error(`engine error: ${engineError}`);
}

/** Long tasks that started between `from` and `to` (page time), each as [ms after `from`, ms]. */
function longTaskSummary(tasks, from, to) {
  const inside = tasks
    .filter(([start]) => start >= from && start <= to)
    .map(([start, duration]) => [Math.round(start - from), Math.round(duration)]);
  return {
    count: inside.filter(([, d]) => d > 50).length,
    longestMs: Math.max(0, ...inside.map(([, d]) => d)),
    list: inside.slice(0, 20),
  };
}

/** The JavaScript index.html makes the main thread load: its module scripts and preloads. */
function mainThreadJs() {
  const dist = path.join(ROOT, 'dist');
  const html = readFileSync(path.join(dist, 'index.html'), 'utf8');
  const files = [
    ...html.matchAll(/<script[^>]+src="([^"]+)"|<link[^>]+rel="modulepreload"[^>]+href="([^"]+)"/g),
  ].map((m) => m[1] ?? m[2]);
  const sizes = files.map((f) => {
    const bytes = readFileSync(path.join(dist, f));
    return { file: f, bytes: bytes.length, gzipBytes: gzipSync(bytes).length };
  });
  const sum = (key) => sizes.reduce((n, s) => n + s[key], 0);
  return {
    files: sizes,
    kB: round(sum('bytes') / 1000, 1),
    gzipKB: round(sum('gzipBytes') / 1000, 1),
  };
}

/** Time to an interactive project list: a fresh profile's first visit, then a reload. */
async function runStartup(env) {
  const session = await launchBrowser(env);
  try {
    const visit = async (load) => {
      const t0 = Date.now();
      await load();
      await session.page.getByRole('button', { name: 'New project' }).waitFor();
      await session.page.getByRole('button', { name: 'New project' }).click({ trial: true });
      return Date.now() - t0;
    };
    const firstVisitMs = await visit(() => session.page.goto(`${env.url}/#/`));
    const secondVisitMs = await visit(() => session.page.reload());
    return { firstVisitMs, secondVisitMs, pageErrors: session.pageErrors };
  } finally {
    await session.close();
  }
}

/** Review's analyses at 5,000 embeddings, in a project of AUTO_N photos on the wasm backend. */
async function runReview(env) {
  const photos = listPhotos(AUTO_N);
  const folder = photoTree(mkdtempSync(path.join(env.tmp, 'photos-')), photos);
  const session = await launchBrowser(env);
  try {
    await session.page.addInitScript(instrumentPage, 'wasm');
    await openApp(session.page, env.url);
    await newProject(session.page);
    await dropFolder(session.page, folder);
    await waitForEmbeddings(session.page, 180_000);
    const analysis = await benchAnalysis(session.page, log);
    const clusters = await benchClusters(session.page, log);
    return { analysis, clusters, pageErrors: session.pageErrors };
  } finally {
    await session.close();
  }
}

/** Auto mode: which backend the app picks by itself, and its per-backend probe reports. */
async function runAuto(env) {
  const photos = listPhotos(AUTO_N);
  const folder = photoTree(mkdtempSync(path.join(env.tmp, 'photos-')), photos);
  const session = await launchBrowser(env);
  try {
    await session.page.addInitScript(instrumentPage, 'auto');
    await openApp(session.page, env.url);
    await newProject(session.page);
    await dropFolder(session.page, folder);
    await waitForEmbeddings(session.page, 180_000);
    const { status, bench } = await session.page.evaluate(() => ({
      status: window.__loupe.store.getState().engineStatus,
      bench: window.__bench,
    }));
    return {
      backend: status.backend,
      how: status.how,
      detail: status.detail,
      n: photos.length,
      firstEmbeddingMsWithProbe: Math.round(bench.firstEmbeddingAt - bench.dropAt),
      reports: status.reports.map((r) => ({
        name: r.name,
        available: r.available,
        software: r.software,
        imgPerSec: round(r.imgPerSec),
        detail: r.detail,
        ...(r.error ? { error: r.error } : {}),
      })),
      pageErrors: session.pageErrors,
    };
  } finally {
    await session.close();
  }
}

/** One backend: drop N photos, wait for every embedding, then the clean pipeline and raw rates. */
async function runBackend(env, backend, n) {
  const photos = listPhotos(n);
  const folder = photoTree(mkdtempSync(path.join(env.tmp, 'photos-')), photos);
  const session = await launchBrowser(env);
  const { context, page } = session;
  try {
    await page.addInitScript(instrumentPage, backend);
    const environment = await openApp(page, env.url);
    if (backend === 'webgpu' && !environment.webgpuAdapter) {
      const detail = env.browserArgs.includes(WEBGPU_ARGS[0])
        ? 'no WebGPU adapter'
        : 'no WebGPU adapter (headless Chromium: try --unsafe-webgpu)';
      return { result: { available: false, n: 0, detail }, environment };
    }
    log(`${backend}: dropping ${n} photos`);
    const projectId = await newProject(page);
    const heap = await startHeapSampler(context, page);
    await dropFolder(page, folder);
    await waitForEmbeddings(page, 120_000 + n * 2_000);
    const { bench, status, samples, prepared } = await page.evaluate(async () => {
      const state = window.__loupe.store.getState();
      const stats = await window.__loupe.services.engine.stats();
      return {
        bench: window.__bench,
        status: state.engineStatus,
        samples: state.samples.length,
        prepared: stats.prepared,
      };
    });
    if (samples !== n) throw new Error(`the drop of ${n} photos imported ${samples}`);
    if (status?.backend !== backend) {
      await heap.stop();
      const detail = `app ran on ${status?.backend} instead (${status?.detail})`;
      return { result: { available: false, n: 0, detail }, environment };
    }
    log(`${backend}: ${n} photos embedded; clean pipeline run and raw forward pass`);
    const clean = await withTimeout(
      page.evaluate(
        async ({ projectId, backboneId, aspectMode, n }) => {
          const { services, backboneSpec } = window.__loupe;
          const { engine } = services;
          const spec = backboneSpec();
          if (spec?.id !== backboneId)
            throw new Error(`project backbone ${spec?.id}, not ${backboneId}`);
          const before = await engine.stats();
          const startedAt = performance.now();
          const report = await engine.embedProject({
            projectId,
            spec,
            aspectMode,
            signal: new AbortController().signal,
            onProgress: () => undefined,
            onBatch: () => undefined,
          });
          const endedAt = performance.now();
          const forward = await engine.measureForward({ projectId, spec, aspectMode, n });
          const after = await engine.stats();
          return {
            report,
            startedAt,
            endedAt,
            forward,
            tensorsLeaked: after.numTensors - before.numTensors,
          };
        },
        { projectId, backboneId: BACKBONE.id, aspectMode: CLEAN_ASPECT, n },
      ),
      120_000 + n * 6_000,
      `${backend} clean run`,
    );
    const memory = await heap.stop();
    const tasks = await page.evaluate(() => window.__bench.longTasks);
    const whileEmbedding = longTaskSummary(tasks, bench.dropAt, bench.doneAt);
    const afterImport = longTaskSummary(tasks, bench.importDoneAt, bench.doneAt);
    const duringClean = longTaskSummary(tasks, clean.startedAt, clean.endedAt);
    const { report, forward } = clean;
    if (report.computed !== n) throw new Error(`clean run computed ${report.computed} of ${n}`);
    return {
      environment,
      result: {
        available: true,
        n,
        pipelineImgPerSec: round(report.computed / (report.elapsedMs / 1000)),
        rawForwardImgPerSec: round(forward.imgPerSec),
        firstEmbeddingMs: Math.round(bench.firstEmbeddingAt - bench.dropAt),
        longTasksOver50ms: whileEmbedding.count,
        longestTaskMs: whileEmbedding.longestMs,
        peakHeapMB: memory.peakHeapMB,
        detail: {
          engine: status.detail,
          batchSize: forward.batchSize,
          dropToImportedMs: Math.round(bench.importDoneAt - bench.dropAt),
          dropToFirstStoredMs: Math.round(bench.firstChunkAt - bench.dropAt),
          dropToAllEmbeddedMs: Math.round(bench.doneAt - bench.dropAt),
          // [ms after the drop, samples stored, samples embedded], every 250 ms or more.
          timeline: bench.timeline.map(([t, stored, embedded]) => [
            Math.round(t - bench.dropAt),
            stored,
            embedded,
          ]),
          // Images the drop's embedding took from the import's own decode vs decoded again.
          decodesReusedFromImport: prepared?.reused ?? null,
          decodedAgainByPipeline: prepared?.decoded ?? null,
          pipelineMs: Math.round(report.elapsedMs),
          pipelineForwardMs: Math.round(report.forwardMs),
          forwardShareOfPipeline: round(report.forwardMs / report.elapsedMs),
          pipelineForwardImgPerSec: round(report.computed / (report.forwardMs / 1000)),
          pipelineWallImgPerSec: round(n / ((clean.endedAt - clean.startedAt) / 1000)),
          longTasksWhileEmbedding: whileEmbedding.list,
          longTasksAfterImportDone: afterImport.count,
          longTasksDuringCleanRun: duringClean.count,
          longestTaskDuringCleanRunMs: duringClean.longestMs,
          peakMainHeapMB: memory.peakMainHeapMB,
          peakWorkersHeapMB: memory.peakWorkersHeapMB,
          peakArrayBuffersMB: memory.peakArrayBuffersMB,
          tensorsLeakedByCleanRun: clean.tensorsLeaked,
          pageErrors: session.pageErrors,
        },
      },
    };
  } finally {
    await session.close();
  }
}

/** The naive baseline page: copies the model and `n` photos beside it, then reads its result. */
async function runNaive(env, n, backend = null) {
  const photos = listPhotos(n);
  cpSync(modelDir(), path.join(NAIVE_DIST, 'models', BACKBONE.folder), { recursive: true });
  rmSync(path.join(NAIVE_DIST, 'photos'), { recursive: true, force: true });
  photoTree(path.join(NAIVE_DIST, 'photos'), photos);
  const urls = photos.map(({ cls, file }) => `/photos/flowers/${cls}/${file}`);
  writeFileSync(path.join(NAIVE_DIST, 'photos.json'), JSON.stringify(urls));
  const { server, url } = await serve({ configFile: false, build: { outDir: NAIVE_DIST } });
  const session = await launchBrowser(env);
  try {
    const model = `n=${n}&model=${BACKBONE.folder}&layer=${BACKBONE.layer}${backend ? `&backend=${backend}` : ''}`;
    await session.page.goto(`${url}/naive.html?${model}`);
    const handle = await session.page.waitForFunction(() => window.__naive, null, {
      timeout: 120_000 + n * 5_000,
    });
    const result = await handle.jsonValue();
    if (result.error) throw new Error(`naive page: ${result.error}`);
    return {
      backend: result.backend,
      n: result.images,
      imgPerSec: round(result.imgPerSec),
      loadMs: Math.round(result.loadMs),
      firstPredictMs: Math.round(result.firstPredictMs),
      pageErrors: session.pageErrors,
    };
  } finally {
    await session.close();
    await server.close();
  }
}

/** Photos for `backend`: --n-<backend>, else --n for the chosen backend and wasm, else SMALL_N. */
function photosFor(backend, chosen, options) {
  const full = backend === chosen || backend === 'wasm';
  return options.nOverride[backend] ?? (full ? options.n : SMALL_N[backend]);
}

/** Auto mode, then every backend (the chosen one first), then the naive baseline. */
async function measure(options, env) {
  log('auto mode: which backend does the app pick?');
  const auto = await runAuto(env);
  log(`chosen backend: ${auto.backend} (${auto.detail})`);
  const backends = {};
  let environment = null;
  for (const backend of new Set([auto.backend, ...options.backends])) {
    const n = photosFor(backend, auto.backend, options);
    const t0 = Date.now();
    try {
      const run = await runBackend(env, backend, n);
      environment ??= run.environment;
      backends[backend] = run.result;
    } catch (error) {
      log(`${backend} failed: ${error.stack ?? error}`);
      backends[backend] = { available: true, n, error: String(error.message ?? error) };
    }
    log(`${backend}: done in ${Math.round((Date.now() - t0) / 1000)} s`);
  }
  log(`naive baseline: ${options.naiveN} photos, per-image predict on the main thread`);
  let naive;
  try {
    naive = await runNaive(env, options.naiveN);
  } catch (error) {
    log(`naive baseline failed: ${error.stack ?? error}`);
    naive = { error: String(error.message ?? error) };
  }
  log(`naive baseline on wasm, single-threaded: ${options.naiveN} photos`);
  let naiveWasm;
  try {
    naiveWasm = await runNaive(env, options.naiveN, 'wasm');
  } catch (error) {
    log(`naive wasm baseline failed: ${error.stack ?? error}`);
    naiveWasm = { error: String(error.message ?? error) };
  }
  return { auto, backends, naive, naiveWasm, environment };
}

function target(value, threshold, pass) {
  return { value: round(value), target: threshold, pass: value != null && pass(value) };
}

function summarise({ auto, backends, naive, naiveWasm, environment }, started, loadAtStart) {
  const chosen = backends[auto.backend] ?? {};
  const finite = (x) => (Number.isFinite(x) ? x : null);
  const pipelineVsRaw = finite(chosen.pipelineImgPerSec / chosen.rawForwardImgPerSec);
  const pipelineVsNaive = finite(chosen.pipelineImgPerSec / naive.imgPerSec);
  // A real drop on wasm (import, decode, thumbnail, embed: drop to the last embedding) against the
  // naive loop on wasm single-threaded, both measured in this run.
  const wasm = backends.wasm ?? {};
  const dropRate = wasm.n / (wasm.detail?.dropToAllEmbeddedMs / 1000);
  const dropToEmbeddedVsNaive = finite(dropRate / naiveWasm?.imgPerSec);
  return {
    backbone: BACKBONE.id,
    chosenBackend: auto.backend,
    pipelineImgPerSec: chosen.pipelineImgPerSec ?? null,
    rawForwardImgPerSec: chosen.rawForwardImgPerSec ?? null,
    naiveImgPerSec: naive.imgPerSec ?? null,
    firstEmbeddingMs: chosen.firstEmbeddingMs ?? null,
    longTasksOver50ms: chosen.longTasksOver50ms ?? null,
    longestTaskMs: chosen.longestTaskMs ?? null,
    peakHeapMB: chosen.peakHeapMB ?? null,
    n: chosen.n ?? null,
    ratios: {
      pipelineVsRaw: round(pipelineVsRaw, 3),
      pipelineVsNaive: round(pipelineVsNaive),
      dropToEmbeddedVsNaive: round(dropToEmbeddedVsNaive),
    },
    wasmDropToAllEmbeddedImgPerSec: round(finite(dropRate)),
    naiveWasmImgPerSec: naiveWasm?.imgPerSec ?? null,
    targets: {
      pipelineAtLeast0_9xRaw: target(pipelineVsRaw, '>= 0.9', (v) => v >= 0.9),
      pipelineAtLeast5xNaive: target(pipelineVsNaive, '>= 5', (v) => v >= 5),
      dropToEmbeddedAtLeast1_2xNaiveWasm: target(dropToEmbeddedVsNaive, '>= 1.2', (v) => v >= 1.2),
      noLongTasksWhileEmbedding: target(chosen.longTasksOver50ms, '== 0', (v) => v === 0),
    },
    backends,
    auto,
    naive,
    naiveWasm,
    machine: {
      cores: cpus().length,
      cpu: cpus()[0]?.model ?? null,
      memoryGB: round(totalmem() / 2 ** 30, 1),
      hardwareConcurrency: environment?.hardwareConcurrency ?? null,
      crossOriginIsolated: environment?.crossOriginIsolated ?? null,
      loadAverage1m: round(loadAtStart, 2),
      chromium: environment?.chromium ?? null,
      node: process.versions.node,
    },
    durationSeconds: Math.round((Date.now() - started) / 1000),
    date: new Date().toISOString(),
  };
}

async function main() {
  const started = Date.now();
  const [loadAtStart] = loadavg();
  const options = parseOptions();
  if (!existsSync(FLOWERS)) throw new Error(`${FLOWERS} is missing (../shared beside the repo)`);
  await buildAll(options);
  const tmp = mkdtempSync(path.join(tmpdir(), 'loupe-bench-'));
  const cleanup = () => rmSync(tmp, { recursive: true, force: true });
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      cleanup();
      process.exit(128 + osConstants.signals[signal]);
    });
  }
  const { server, url } = await serve({ root: ROOT });
  let measured;
  let review;
  let startup;
  const env = { url, tmp, browserArgs: options.browserArgs };
  try {
    if (options.scale !== null) {
      const helpers = {
        launchBrowser,
        instrumentPage,
        openApp,
        newProject,
        dropFolder,
        startHeapSampler,
        waitForEmbeddings,
      };
      const shots = path.join(ROOT, '.tmp');
      mkdirSync(shots, { recursive: true });
      const scale = await runScale(env, helpers, {
        n: options.scale,
        flowers: FLOWERS,
        log,
        shots,
        profile: options.profile,
      });
      const machine = { cores: cpus().length, loadAverage1mAtStart: round(loadAtStart, 2) };
      const seconds = Math.round((Date.now() - started) / 1000);
      console.log(JSON.stringify({ backbone: BACKBONE.id, scale, machine, seconds }, null, 2));
      return;
    }
    startup = { mainThreadJs: mainThreadJs(), ...(await runStartup(env)) };
    log('startup', JSON.stringify(startup));
    if (options.startupOnly) {
      console.log(JSON.stringify({ startup }, null, 2));
      return;
    }
    if (!options.reviewOnly) measured = await measure(options, env);
    if (options.review) {
      log('Review analyses on 5,000 embeddings');
      review = await runReview(env);
    }
  } finally {
    await server.close();
    cleanup();
  }
  if (options.reviewOnly) {
    console.log(JSON.stringify({ backbone: BACKBONE.id, startup, review }, null, 2));
    return;
  }
  const result = {
    ...summarise(measured, started, loadAtStart),
    startup,
    ...(review ? { review } : {}),
  };
  console.log(JSON.stringify(result, null, 2));
  // Missed targets are results; no figure for the chosen backend or the baseline is a failure.
  if (result.pipelineImgPerSec == null || result.naiveImgPerSec == null) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
