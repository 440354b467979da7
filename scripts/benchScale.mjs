// `npm run bench -- --scale [N]`: the app at scale (default 5,000 images), driven through the real
// UI in headless Chromium on the wasm backend: one folder drop of N photos (labels from the
// sub-folders), every embedding, scrolling the board, Train (dense), Compare heads, and the
// TF.js-model and project-archive exports. Per phase: wall time, main-thread long tasks (count
// over 50 ms and over 100 ms, longest; PerformanceObserver 'longtask'), frame gaps (the largest
// requestAnimationFrame delta), peak JS heap of the page and its workers (CDP
// Runtime.getHeapUsage) and peak resident memory of every Chromium process (/proc). Records the
// 1-minute load average before and after each phase: the machine is shared.
//
// flowers5-dev holds ~2,600 distinct photos; past those, each photo is reused as a copy with a
// JPEG comment (COM) segment naming the copy inserted after the SOI marker, so every file has its
// own bytes and SHA-256 (the import's duplicate check is by content hash) while decoding to the
// same pixels: the decode, thumbnail and embedding work per file is that of a real photo.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { startProfile } from './benchProfile.mjs';
import path from 'node:path';

/** Longest wait for Train and Compare heads to finish (override: LOUPE_BENCH_PHASE_TIMEOUT_MS). */
const PHASE_TIMEOUT_MS = Number(process.env.LOUPE_BENCH_PHASE_TIMEOUT_MS ?? 1_200_000);
const round = (x, digits = 1) => (x == null ? null : Number(x.toFixed(digits)));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** `bytes` (a JPEG) with a COM segment holding `text` right after SOI: new bytes, same pixels. */
export function withJpegComment(bytes, text) {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) throw new Error('not a JPEG');
  const payload = Buffer.from(text, 'latin1');
  const length = payload.length + 2;
  const segment = Buffer.concat([Buffer.from([0xff, 0xfe, length >> 8, length & 0xff]), payload]);
  return Buffer.concat([bytes.subarray(0, 2), segment, bytes.subarray(2)]);
}

/** Writes N distinct JPEG files into `<dir>/flowers/<class>/` and returns that folder. */
export function scalePhotoTree(flowers, dir, n) {
  const classes = readdirSync(flowers, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  const seen = new Set();
  const originals = [];
  for (const cls of classes) {
    for (const file of readdirSync(path.join(flowers, cls)).sort()) {
      if (!/\.jpe?g$/i.test(file)) continue;
      const bytes = readFileSync(path.join(flowers, cls, file));
      const digest = createHash('sha256').update(bytes).digest('hex');
      if (seen.has(digest)) continue;
      seen.add(digest);
      originals.push({ cls, file, bytes });
    }
  }
  // Round-robin over the classes, so any N holds every label (Train needs two).
  const byClass = classes.map((cls) => originals.filter((o) => o.cls === cls));
  originals.length = 0;
  for (let i = 0; byClass.some((list) => i < list.length); i++) {
    for (const list of byClass) if (i < list.length) originals.push(list[i]);
  }
  const root = path.join(dir, 'flowers');
  for (const cls of classes) mkdirSync(path.join(root, cls), { recursive: true });
  for (let i = 0; i < n; i++) {
    const { cls, file, bytes } = originals[i % originals.length];
    const copy = Math.floor(i / originals.length);
    const name = copy === 0 ? file : file.replace(/\.jpe?g$/i, `-copy${copy}.jpg`);
    const out = copy === 0 ? bytes : withJpegComment(bytes, `loupe bench copy ${copy}`);
    writeFileSync(path.join(root, cls, name), out);
  }
  return { folder: root, distinctPhotos: originals.length, classes: classes.length };
}

/** Page init script: every requestAnimationFrame delta over 50 ms, as [start, gap] in page time. */
export function instrumentFrames() {
  const frames = { gaps: [] };
  window.__frames = frames;
  let last = null;
  const tick = (t) => {
    if (last !== null && t - last > 50) frames.gaps.push([last, t - last]);
    last = t;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}

/** Sum of VmRSS over `pid` and all its descendants, in bytes (Linux /proc). */
async function treeRss(rootPid) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // the process ended while listing
    }
  }
  let total = 0;
  const stack = [rootPid];
  while (stack.length > 0) {
    const pid = stack.pop();
    try {
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      total += kb * 1024;
    } catch {
      continue;
    }
    stack.push(...(children.get(pid) ?? []));
  }
  return total;
}

/** The Chromium browser processes this Node process started (direct children). */
function chromiumRoots() {
  const roots = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (Number(fields[1]) === process.pid && /chrom/i.test(comm)) roots.push(Number(entry));
    } catch {
      // gone
    }
  }
  return roots;
}

function startRssSampler(intervalMs = 2000) {
  let peak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      let sum = 0;
      for (const pid of chromiumRoots()) sum += await treeRss(pid);
      peak = Math.max(peak, sum);
      await sleep(intervalMs);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return round(peak / 2 ** 20);
    },
  };
}

/** Long tasks and frame gaps whose start lies in [from, to] (page time). */
function jank(tasks, gaps, from, to) {
  const inTasks = tasks.filter(([s]) => s >= from && s <= to).map(([, d]) => d);
  const inGaps = gaps.filter(([s]) => s >= from && s <= to).map(([, d]) => d);
  return {
    longTasksOver50ms: inTasks.filter((d) => d > 50).length,
    longTasksOver100ms: inTasks.filter((d) => d > 100).length,
    longTasksOver200ms: inTasks.filter((d) => d > 200).length,
    longestTaskMs: Math.round(Math.max(0, ...inTasks)),
    frameGapsOver100ms: inGaps.filter((d) => d > 100).length,
    maxFrameGapMs: Math.round(Math.max(0, ...inGaps)),
  };
}

const pageNow = (page) => page.evaluate(() => performance.now());

/**
 * Runs `body` as one named phase: page-time window, memory samplers, load average around it.
 * The long-task / frame-gap windows are filled in by `summarise` once all phases ran.
 */
async function phase(h, session, name, log, shots, body, profile = false) {
  const { context, page } = session;
  log(`scale: ${name}`);
  const heap = await h.startHeapSampler(context, page);
  const rss = startRssSampler();
  const load1mBefore = round(loadavg()[0], 2);
  const profiler = profile ? await startProfile(page) : null;
  const from = await pageNow(page);
  const t0 = Date.now();
  let error;
  let extra = {};
  try {
    extra = (await body()) ?? {};
  } catch (e) {
    error = String(e?.message ?? e).split('\n')[0];
    log(`scale: ${name} failed: ${error}`);
    if (shots)
      await page.screenshot({ path: path.join(shots, `scale-${name}.png`), fullPage: true });
  }
  const ms = Date.now() - t0;
  const to = await pageNow(page);
  const busy = profiler ? await profiler.stop(path.join(shots, `scale-${name}.cpuprofile`)) : null;
  const memory = await heap.stop();
  const peakRssMB = await rss.stop();
  return {
    name,
    window: [from, to],
    result: {
      ms,
      ...extra,
      peakHeapMB: memory.peakHeapMB,
      peakMainHeapMB: memory.peakMainHeapMB,
      peakWorkersHeapMB: memory.peakWorkersHeapMB,
      peakBrowserRssMB: peakRssMB,
      load1m: [load1mBefore, round(loadavg()[0], 2)],
      ...(error ? { error } : {}),
      ...(busy ? { busyStretches: busy } : {}),
    },
  };
}

async function download(page, button, timeout) {
  const dialog = page.getByRole('dialog', { name: 'Export' });
  const [file] = await Promise.all([
    page.waitForEvent('download', { timeout }),
    dialog.getByRole('button', { name: button, exact: true }).click(),
  ]);
  const saved = await file.path();
  return readFileSync(saved).length;
}

/** Wheel-scrolls the first label's thumbnail grid down and back, then the board itself. */
async function scrollBoard(page) {
  const grid = page.locator('.thumb-scroll').first();
  await grid.scrollIntoViewIfNeeded();
  const box = await grid.boundingBox();
  if (!box) throw new Error('no thumbnail grid to scroll');
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  for (const dy of [240, -240]) {
    for (let i = 0; i < 40; i++) {
      await page.mouse.wheel(0, dy);
      await sleep(16);
    }
  }
  const rows = await grid.evaluate((el) => el.scrollHeight);
  return { gridScrollHeightPx: rows };
}

/**
 * The scale run. `h` holds bench.mjs's helpers (launchBrowser, instrumentPage, openApp,
 * newProject, dropFolder, startHeapSampler, waitForEmbeddings); `flowers` the photo folder.
 */
export async function runScale(env, h, { n, flowers, log, shots, profile }) {
  const tree = scalePhotoTree(flowers, mkdtempSync(path.join(env.tmp, 'scale-')), n);
  log(`scale: ${n} files (${tree.distinctPhotos} distinct photos, copies past that)`);
  const session = await h.launchBrowser(env);
  const { page } = session;
  page.setDefaultTimeout(60_000);
  const phases = [];
  try {
    await page.addInitScript(h.instrumentPage, 'wasm');
    await page.addInitScript(instrumentFrames);
    const environment = await h.openApp(page, env.url);
    await h.newProject(page);
    const importAndEmbed = async () => {
      await h.dropFolder(page, tree.folder);
      await h.waitForEmbeddings(page, 600_000 + n * 1_000);
      const { bench, samples, backend } = await page.evaluate(() => {
        const state = window.__loupe.store.getState();
        return {
          bench: window.__bench,
          samples: state.samples.length,
          backend: state.engineStatus?.backend,
        };
      });
      if (samples !== n) throw new Error(`the drop of ${n} files imported ${samples}`);
      return {
        backend,
        images: samples,
        dropToImportedMs: Math.round(bench.importDoneAt - bench.dropAt),
        dropToAllEmbeddedMs: Math.round(bench.doneAt - bench.dropAt),
        importImgPerSec: round((n * 1000) / (bench.importDoneAt - bench.dropAt)),
        embedImgPerSec: round((n * 1000) / (bench.doneAt - bench.dropAt)),
        // Page-time marks, to split the long tasks into import and embedding-only below.
        marks: { dropAt: bench.dropAt, importDoneAt: bench.importDoneAt, doneAt: bench.doneAt },
      };
    };
    const train = async () => {
      // The panel says "Trained <date> · best epoch N" once the model is saved (a short run can
      // finish before a progressbar poll would see it).
      await page.getByRole('button', { name: 'Train', exact: true }).click();
      await page
        .getByRole('region', { name: 'Training' })
        .getByText(/^Trained /)
        .waitFor({ timeout: PHASE_TIMEOUT_MS });
      const bestEpoch = await page.evaluate(
        () => window.__loupe.store.getState().modelSummary?.bestEpoch ?? null,
      );
      return { bestEpoch };
    };
    const compareHeads = async () => {
      const evaluation = page.getByRole('region', { name: 'Evaluation' });
      await evaluation.getByRole('button', { name: 'Compare heads' }).click();
      await evaluation
        .getByRole('table', { name: 'Compare heads' })
        .waitFor({ timeout: PHASE_TIMEOUT_MS });
    };
    phases.push(await phase(h, session, 'importAndEmbed', log, shots, importAndEmbed, profile));
    phases.push(await phase(h, session, 'scroll', log, shots, () => scrollBoard(page)));
    phases.push(await phase(h, session, 'train', log, shots, train, profile));
    phases.push(await phase(h, session, 'compareHeads', log, shots, compareHeads));
    phases.push(
      await phase(h, session, 'exportModel', log, shots, async () => {
        await page.getByRole('button', { name: 'Export' }).click();
        const bytes = await download(page, 'TF.js model', 600_000);
        return { bytes };
      }),
    );
    phases.push(
      await phase(h, session, 'exportArchive', log, shots, async () => {
        const bytes = await download(page, 'Project archive', 600_000);
        await page.keyboard.press('Escape');
        return { bytes };
      }),
    );
    const { tasks, gaps } = await page.evaluate(() => ({
      tasks: window.__bench.longTasks,
      gaps: window.__frames.gaps,
    }));
    const out = {};
    for (const p of phases) {
      out[p.name] = { ...p.result, ...jank(tasks, gaps, ...p.window) };
      delete out[p.name].marks;
    }
    const marks = phases[0].result.marks;
    if (marks?.importDoneAt != null) {
      out.importAndEmbed.duringImport = jank(tasks, gaps, marks.dropAt, marks.importDoneAt);
      out.importAndEmbed.afterImport = jank(tasks, gaps, marks.importDoneAt, marks.doneAt);
    }
    const all = Object.values(out);
    return {
      n,
      distinctPhotos: tree.distinctPhotos,
      synthesis:
        'past the distinct photos: copies with a JPEG COM segment (new bytes, same pixels)',
      phases: out,
      worst: {
        longTasksOver100ms: all.reduce((s, p) => s + p.longTasksOver100ms, 0),
        longestTaskMs: Math.max(...all.map((p) => p.longestTaskMs)),
        maxFrameGapMs: Math.max(...all.map((p) => p.maxFrameGapMs)),
        peakHeapMB: Math.max(...all.map((p) => p.peakHeapMB ?? 0)),
        peakBrowserRssMB: Math.max(...all.map((p) => p.peakBrowserRssMB ?? 0)),
      },
      chromium: environment.chromium,
      pageErrors: session.pageErrors,
    };
  } finally {
    await session.close();
  }
}
