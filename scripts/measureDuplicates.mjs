#!/usr/bin/env node
// How the `Similarity threshold` default of Near-duplicates was chosen: serves the built app, drops
// the first `--per-class` photos of each class of ../shared/datasets/flowers5-dev onto a new project
// in headless Chromium, then, for the first `--copies` of them, adds byte-different copies made in
// the page (resized, re-encoded as JPEG or WebP, lightly cropped), waits for every embedding and
// reads them back from IndexedDB. Prints one JSON object: per kind of copy, the cosine similarity
// of each copy to its own original (min, 5th percentile, median), and the closest pairs of
// different photos (so the gap between the two is visible). Progress on stderr.
//
// Usage: node scripts/measureDuplicates.mjs [--no-build] [--per-class 60] [--copies 40]
// LOUPE_DIST=<folder> builds and serves there instead of dist/.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openAppSession } from './chromium.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FLOWERS = path.resolve(ROOT, '..', 'shared', 'datasets', 'flowers5-dev');
/** Copies made of each photo: scale of the longest side, output type and quality, crop share. */
const COPIES = [
  { kind: 'resize75-jpeg80', scale: 0.75, type: 'image/jpeg', quality: 0.8, crop: 1 },
  { kind: 'resize50-jpeg90', scale: 0.5, type: 'image/jpeg', quality: 0.9, crop: 1 },
  { kind: 'resize25-jpeg90', scale: 0.25, type: 'image/jpeg', quality: 0.9, crop: 1 },
  { kind: 'jpeg50', scale: 1, type: 'image/jpeg', quality: 0.5, crop: 1 },
  { kind: 'webp80', scale: 1, type: 'image/webp', quality: 0.8, crop: 1 },
  { kind: 'crop90-jpeg90', scale: 1, type: 'image/jpeg', quality: 0.9, crop: 0.9 },
];

const { values: args } = parseArgs({
  options: {
    'no-build': { type: 'boolean' },
    'per-class': { type: 'string', default: '60' },
    copies: { type: 'string', default: '40' },
  },
});
const log = (...m) => console.error('[dups]', ...m);
if (!existsSync(FLOWERS)) {
  console.error(`measureDuplicates needs ${FLOWERS}.`);
  process.exit(1);
}
const perClass = Number(args['per-class']);
const originals = readdirSync(FLOWERS)
  .sort()
  .flatMap((cls) =>
    readdirSync(path.join(FLOWERS, cls))
      .filter((f) => f.endsWith('.jpg'))
      .sort()
      .slice(0, perClass)
      .map((f) => path.join(FLOWERS, cls, f)),
  );
// Copies of photos spread over the classes (every k-th original).
const copies = Number(args.copies);
const step = Math.max(1, Math.floor(originals.length / copies));
const copied = originals.filter((_, i) => i % step === 0).slice(0, copies);

process.chdir(ROOT);
const session = await openAppSession({
  outDir: process.env.LOUPE_DIST ?? 'dist',
  noBuild: args['no-build'],
  profilePrefix: 'loupe-dups-',
  log,
});
const { baseUrl, context } = session;
const started = Date.now();
try {
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`${baseUrl}/?debug=1#/`);
  await page.waitForFunction(() => 'store' in (window.__loupe ?? {}));
  const projectId = await page.evaluate(() =>
    window.__loupe.store.getState().createProject('duplicate threshold'),
  );
  await page.goto(`${baseUrl}/?debug=1#/p/${projectId}`);
  const inbox = page.getByRole('region', { name: 'Unlabelled images', exact: true });
  await inbox.waitFor();
  const box = await page.getByRole('toolbar', { name: 'Board actions' }).boundingBox();
  const cdp = await context.newCDPSession(page);
  for (const type of ['dragEnter', 'dragOver', 'drop']) {
    await cdp.send('Input.dispatchDragEvent', {
      type,
      x: box.x + box.width / 2,
      y: box.y + 10,
      data: { items: [], files: originals, dragOperationsMask: 1 },
    });
  }
  const progress = setInterval(() => {
    page
      .evaluate(() => {
        const s = window.__loupe.store.getState();
        return `${s.samples.length} images, ${s.embeddedCount} embedded`;
      })
      .then((m) => log(m))
      .catch(() => undefined);
  }, 15_000);
  // Byte-identical files in the dataset are imported once.
  await page.waitForFunction(
    () => {
      const s = window.__loupe.store.getState();
      return s.samples.length > 0 && !s.importProgress;
    },
    null,
    { timeout: 600_000, polling: 1000 },
  );
  const imported = await page.evaluate(() => window.__loupe.store.getState().samples.length);
  log(`${imported} photos imported; making ${copied.length * COPIES.length} copies`);
  const { readFileSync } = await import('node:fs');
  for (const file of copied) {
    const base = path.basename(file, '.jpg');
    await inbox.evaluate(
      async (el, { data, base, kinds }) => {
        const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
        const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/jpeg' }));
        const dt = new DataTransfer();
        for (const c of kinds) {
          const sw = Math.round(bitmap.width * c.crop);
          const sh = Math.round(bitmap.height * c.crop);
          const w = Math.max(1, Math.round(sw * c.scale));
          const h = Math.max(1, Math.round(sh * c.scale));
          const canvas = new OffscreenCanvas(w, h);
          canvas
            .getContext('2d')
            ?.drawImage(
              bitmap,
              (bitmap.width - sw) / 2,
              (bitmap.height - sh) / 2,
              sw,
              sh,
              0,
              0,
              w,
              h,
            );
          const blob = await canvas.convertToBlob({ type: c.type, quality: c.quality });
          const ext = c.type === 'image/webp' ? 'webp' : 'jpg';
          dt.items.add(new File([blob], `${base}__${c.kind}.${ext}`, { type: c.type }));
        }
        for (const type of ['dragenter', 'dragover', 'drop'])
          el.dispatchEvent(
            new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }),
          );
      },
      { data: readFileSync(file).toString('base64'), base, kinds: COPIES },
    );
  }
  const total = imported + copied.length * COPIES.length;
  await page.waitForFunction(
    (n) => {
      const s = window.__loupe.store.getState();
      return s.samples.length >= n && s.embeddedCount >= n && !s.embedProgress;
    },
    total,
    { timeout: 1_800_000, polling: 2000 },
  );
  clearInterval(progress);
  log(`${total} images embedded after ${((Date.now() - started) / 1000).toFixed(0)} s`);

  const report = await page.evaluate(async (kinds) => {
    const { store, services } = window.__loupe;
    const { project, samples } = store.getState();
    const db = await services.db();
    const records = await db.getAllFromIndex('embeddings', 'byProjectKey', [
      project.id,
      (await db.getAllFromIndex('embeddings', 'bySample', samples[0].id))[0].embeddingKey,
    ]);
    const nameOf = new Map(samples.map((s) => [s.id, s.name]));
    const unit = (v) => {
      let n = 0;
      for (const x of v) n += x * x;
      n = Math.sqrt(n) || 1;
      return Float32Array.from(v, (x) => x / n);
    };
    const items = records.map((r) => ({ name: nameOf.get(r.sampleId), v: unit(r.vector) }));
    const cos = (a, b) => {
      let s = 0;
      for (let i = 0; i < a.length; i++) s += a[i] * b[i];
      return s;
    };
    const originalsByBase = new Map(
      items.filter((i) => !i.name.includes('__')).map((i) => [i.name.replace(/\.jpg$/, ''), i]),
    );
    const stats = (xs) => {
      const s = [...xs].sort((a, b) => a - b);
      const q = (p) => +s[Math.min(s.length - 1, Math.floor(p * (s.length - 1)))].toFixed(4);
      return { n: s.length, min: q(0), p05: q(0.05), median: q(0.5) };
    };
    const perKind = {};
    for (const { kind } of kinds) {
      const sims = items
        .filter((i) => i.name.includes(`__${kind}.`))
        .map((i) => cos(i.v, originalsByBase.get(i.name.split('__')[0]).v));
      perKind[kind] = stats(sims);
    }
    // Different photos: every pair of originals, and each copy against the other originals.
    const origs = [...originalsByBase.values()];
    const pairs = [];
    for (let i = 0; i < origs.length; i++)
      for (let j = i + 1; j < origs.length; j++)
        pairs.push({ a: origs[i].name, b: origs[j].name, s: cos(origs[i].v, origs[j].v) });
    pairs.sort((x, y) => y.s - x.s);
    let copyVsOthers = -1;
    for (const i of items.filter((i) => i.name.includes('__'))) {
      const own = i.name.split('__')[0];
      for (const o of origs)
        if (o.name.replace(/\.jpg$/, '') !== own)
          copyVsOthers = Math.max(copyVsOthers, cos(i.v, o.v));
    }
    const above = (t) => pairs.filter((p) => p.s >= t).length;
    return {
      originals: origs.length,
      copiesToOriginal: perKind,
      differentPhotos: {
        pairs: pairs.length,
        top: pairs.slice(0, 12).map((p) => ({ ...p, s: +p.s.toFixed(4) })),
        p999: +pairs[Math.floor(pairs.length * 0.001)].s.toFixed(4),
        pairsAtOrAbove: {
          0.85: above(0.85),
          0.9: above(0.9),
          0.92: above(0.92),
          0.95: above(0.95),
        },
        copyVsOtherOriginalsMax: +copyVsOthers.toFixed(4),
      },
    };
  }, COPIES);
  console.log(
    JSON.stringify(
      { dataset: 'flowers5-dev', ...report, seconds: Math.round((Date.now() - started) / 1000) },
      null,
      2,
    ),
  );
} finally {
  await session.close();
}
