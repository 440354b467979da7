#!/usr/bin/env node
// Puts the backbone weights under public/models/<name>/ (git-ignored), served same-origin as
// /models/<name>/... Sources, in order:
//   1. ../shared/models/<name> (beside the checkout), every file checked against
//      ../shared/models/<name>.sha256; nothing is copied when the destination already verifies;
//   2. for MobileNet v1 only, where ../shared is absent: Google's published copy
//      (storage.googleapis.com/tfjs-models/tfjs/mobilenet_v1_0.75_224), shards read from its
//      manifest and size-checked, class names written from @tensorflow-models/mobilenet;
//   3. nothing: a clear message and exit 0 (the app runs without weights, minus embeddings).
// Also copies every mobilenet_v2_* folder from ../shared (mobilenet_v2_1.0_224 is the default
// backbone, a layers model; it has no download fallback) and darknet_tiny_imagenet (the
// custom-backbone test model); `--download-v2[=alpha]` fetches the optional TF Hub MobileNet v2
// graph model into mobilenet_v2_hub_<alpha>_224.
// Each finished folder gets a `files.sha256` recording what was installed.
//
// Usage: node scripts/models.mjs [--download-v2[=1.0|0.75|0.5]] [--force] [--no-download]
//   --force: copy/download again even when the destination verifies;
//   --no-download: never fall back to downloading MobileNet v1 (an explicit --download-v2 still runs);
//   env LOUPE_MOBILENET_V1_URL: download MobileNet v1 from this model.json URL instead;
//   env LOUPE_MOBILENET_V2_URL: a TF Hub-style handle URL to use for --download-v2.
// Exit code 1 only when ../shared holds a file that fails its checksum (or a write fails).
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SHARED_MODELS = path.resolve(ROOT, '..', 'shared', 'models');
const PUBLIC_MODELS = path.join(ROOT, 'public', 'models');
const RECORD = 'files.sha256';

const V1 = {
  name: 'mobilenet_v1_0.75_224',
  // LOUPE_MOBILENET_V1_URL points at a mirror (or a local server in tests).
  url:
    process.env.LOUPE_MOBILENET_V1_URL ??
    'https://storage.googleapis.com/tfjs-models/tfjs/mobilenet_v1_0.75_224/model.json',
};
const DARKNET = 'darknet_tiny_imagenet';
/** TF Hub handles @tensorflow-models/mobilenet itself uses for version 2 (input range [0, 1]). */
const V2_HUB = {
  '1.0': 'https://tfhub.dev/google/imagenet/mobilenet_v2_100_224/classification/2',
  0.75: 'https://tfhub.dev/google/imagenet/mobilenet_v2_075_224/classification/2',
  0.5: 'https://tfhub.dev/google/imagenet/mobilenet_v2_050_224/classification/2',
};

const args = process.argv.slice(2);
const force = args.includes('--force');
const noDownload = args.includes('--no-download');
const v2Arg = args.find((a) => a === '--download-v2' || a.startsWith('--download-v2='));
const v2Alpha = v2Arg?.includes('=') ? v2Arg.split('=')[1] : '1.0';
const rel = (p) => path.relative(ROOT, p) || '.';
const log = (msg) => console.log(`models: ${msg}`);
let failed = false;

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** `<hash>  <name>/<file>` lines -> [{ hash, file }] with the folder prefix removed. */
function readShaList(listFile, name) {
  return readFileSync(listFile, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const m = /^([0-9a-f]{64})\s+\*?(.+)$/i.exec(line);
      if (!m) throw new Error(`${rel(listFile)}: bad line "${line}"`);
      const file = m[2].startsWith(`${name}/`) ? m[2].slice(name.length + 1) : m[2];
      return { hash: m[1].toLowerCase(), file };
    });
}

/** Files of `entries` missing or different in `dir`. */
function mismatches(dir, entries) {
  return entries.filter(({ hash, file }) => {
    const p = path.join(dir, file);
    return !existsSync(p) || sha256(p) !== hash;
  });
}

function writeRecord(dir, name, entries) {
  const text = entries.map(({ hash, file }) => `${hash}  ${name}/${file}`).join('\n');
  writeFileSync(path.join(dir, RECORD), `${text}\n`);
}

/** Bytes per element of a manifest weight entry (quantised weights are stored smaller). */
function bytesPerElement(w) {
  const q = w.quantization?.dtype;
  if (q) return q === 'uint8' ? 1 : 2;
  return { float32: 4, int32: 4, bool: 1, uint8: 1, float16: 2, complex64: 8 }[w.dtype] ?? 4;
}

/** Checks model.json parses and every manifest group's shards add up to its weights' size. */
function checkManifest(dir) {
  const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8'));
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new Error(`${rel(dir)}/model.json is not a TF.js model.json`);
  }
  for (const group of json.weightsManifest) {
    const want = group.weights.reduce(
      (n, w) => n + w.shape.reduce((a, b) => a * b, 1) * bytesPerElement(w),
      0,
    );
    let have = 0;
    for (const p of group.paths) {
      const file = path.join(dir, decodeURIComponent(p));
      if (!existsSync(file)) throw new Error(`${rel(file)} is missing`);
      have += statSync(file).size;
    }
    if (have !== want) {
      throw new Error(`${group.paths.join(', ')}: ${have} bytes, the manifest needs ${want}`);
    }
  }
  return json;
}

/** True when `dir` holds a model whose files still match the record written at install time. */
function installedOk(dir, name) {
  const record = path.join(dir, RECORD);
  if (!existsSync(record)) return false;
  try {
    checkManifest(dir);
    return mismatches(dir, readShaList(record, name)).length === 0;
  } catch {
    return false;
  }
}

/** Copies ../shared/models/<name> to public/models/<name>, verifying every listed file. */
function syncFromShared(name) {
  const src = path.join(SHARED_MODELS, name);
  const list = path.join(SHARED_MODELS, `${name}.sha256`);
  const dest = path.join(PUBLIC_MODELS, name);
  let entries;
  if (existsSync(list)) {
    entries = readShaList(list, name);
  } else {
    // No checksum list (e.g. a hand-placed v2 folder): structural check, then record hashes.
    checkManifest(src);
    entries = readdirSync(src)
      .filter((f) => statSync(path.join(src, f)).isFile())
      .map((file) => ({ file, hash: sha256(path.join(src, file)) }));
  }
  if (!force && existsSync(dest) && mismatches(dest, entries).length === 0) {
    log(`${name}: up to date (${entries.length} files verified in ${rel(dest)})`);
    return;
  }
  const bad = mismatches(src, entries);
  if (bad.length > 0) {
    failed = true;
    console.error(
      `models: ${name}: ${bad.length} file(s) in ${src} fail the sha256 list ` +
        `(${bad
          .slice(0, 3)
          .map((b) => b.file)
          .join(', ')}${bad.length > 3 ? ', ...' : ''}); not copied`,
    );
    return;
  }
  mkdirSync(dest, { recursive: true });
  for (const { file } of entries) {
    const to = path.join(dest, file);
    mkdirSync(path.dirname(to), { recursive: true });
    const tmp = `${to}.partial-${process.pid}`;
    copyFileSync(path.join(src, file), tmp);
    renameSync(tmp, to);
  }
  const after = mismatches(dest, entries);
  if (after.length > 0) {
    failed = true;
    console.error(`models: ${name}: ${after.length} file(s) differ after copying to ${rel(dest)}`);
    return;
  }
  writeRecord(dest, name, entries);
  const how = existsSync(list) ? 'verified' : `manifest-checked (no ${name}.sha256 beside it)`;
  log(`${name}: copied ${entries.length} ${how} files from ../shared/models to ${rel(dest)}`);
}

async function fetchOk(url, timeoutMs) {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res;
}

/**
 * Downloads a TF.js model (model.json + every shard in its manifest) into public/models/<name>,
 * staged in a temporary folder and moved into place only once the manifest sizes check out.
 * `fileUrl(p)` maps a file name from the manifest to its URL.
 */
async function downloadModel(name, modelJsonUrl, fileUrl, extraFiles = {}) {
  const dest = path.join(PUBLIC_MODELS, name);
  const stage = path.join(PUBLIC_MODELS, `.${name}.download-${process.pid}`);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  try {
    const text = await (await fetchOk(modelJsonUrl, 15_000)).text();
    const json = JSON.parse(text);
    writeFileSync(path.join(stage, 'model.json'), text);
    const shards = (json.weightsManifest ?? []).flatMap((g) => g.paths);
    let done = 0;
    for (const p of shards) {
      const bytes = new Uint8Array(await (await fetchOk(fileUrl(p), 60_000)).arrayBuffer());
      const file = path.join(stage, decodeURIComponent(p));
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, bytes);
      done++;
      if (done % 10 === 0 || done === shards.length)
        log(`${name}: ${done}/${shards.length} shards`);
    }
    for (const [file, content] of Object.entries(extraFiles)) {
      writeFileSync(path.join(stage, file), content);
    }
    checkManifest(stage);
    const entries = readdirSync(stage).map((file) => ({
      file,
      hash: sha256(path.join(stage, file)),
    }));
    writeRecord(stage, name, entries);
    rmSync(dest, { recursive: true, force: true });
    renameSync(stage, dest);
    log(`${name}: downloaded ${entries.length} files (manifest sizes checked) to ${rel(dest)}`);
    return true;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/** metadata.json with the 1000 ImageNet class names, from @tensorflow-models/mobilenet. */
function imagenetMetadata() {
  try {
    const require = createRequire(import.meta.url);
    const { IMAGENET_CLASSES } = require('@tensorflow-models/mobilenet/dist/imagenet_classes.js');
    const labels = Array.from({ length: 1000 }, (_, i) => IMAGENET_CLASSES[i]);
    if (labels.some((l) => typeof l !== 'string')) return {};
    return { 'metadata.json': JSON.stringify({ labels }) };
  } catch {
    return {};
  }
}

function errText(err) {
  const cause = err?.cause?.code ?? err?.cause?.message;
  return `${err?.message ?? err}${cause ? ` (${cause})` : ''}`;
}

async function mobilenetV1() {
  const { name, url } = V1;
  if (existsSync(path.join(SHARED_MODELS, name))) return syncFromShared(name);
  const dest = path.join(PUBLIC_MODELS, name);
  if (!force && installedOk(dest, name)) {
    log(`${name}: up to date (${rel(dest)} matches its ${RECORD})`);
    return;
  }
  const help = [
    `  The app still runs; only embeddings (and everything built on them) need these weights.`,
    `  Fix: run \`npm run models\` where the internet is reachable (it downloads`,
    `  ${url} and its shards),`,
    `  or place ../shared/models/${name} beside the checkout, or copy that folder`,
    `  (model.json, group*-shard*, metadata.json) to public/models/${name}/ by hand.`,
  ].join('\n');
  if (noDownload) {
    log(`${name}: not in ../shared/models and --no-download was given.\n${help}`);
    return;
  }
  log(`${name}: not in ../shared/models; downloading from ${url}`);
  try {
    await downloadModel(name, url, (p) => new URL(p, url).href, imagenetMetadata());
  } catch (err) {
    log(`${name}: NOT installed: download failed: ${errText(err)}\n${help}`);
  }
}

function darknet() {
  if (existsSync(path.join(SHARED_MODELS, DARKNET))) return syncFromShared(DARKNET);
  log(`${DARKNET}: skipped (custom-backbone test model, only copied from ../shared/models)`);
}

async function mobilenetV2() {
  const shared = existsSync(SHARED_MODELS)
    ? readdirSync(SHARED_MODELS).filter(
        (n) => n.startsWith('mobilenet_v2_') && statSync(path.join(SHARED_MODELS, n)).isDirectory(),
      )
    : [];
  for (const name of shared) syncFromShared(name);
  const layersV2 = 'mobilenet_v2_1.0_224';
  if (!shared.includes(layersV2) && !existsSync(path.join(PUBLIC_MODELS, layersV2, RECORD))) {
    log(
      `${layersV2}: NOT installed: it is only copied from ${rel(SHARED_MODELS)}/${layersV2}.\n` +
        `  New projects use it by default; without it they cannot embed (choose MobileNet v1 in\n` +
        `  the project's Backbone settings, or put the folder there and rerun \`npm run models\`).`,
    );
  }
  if (!v2Arg) return;
  const hub = process.env.LOUPE_MOBILENET_V2_URL ?? V2_HUB[v2Alpha];
  if (!hub) {
    failed = true;
    console.error(`models: --download-v2=${v2Alpha}: alpha must be one of ${Object.keys(V2_HUB)}`);
    return;
  }
  const name = `mobilenet_v2_hub_${v2Alpha}_224`;
  const dest = path.join(PUBLIC_MODELS, name);
  if (!force && (shared.includes(name) || installedOk(dest, name))) {
    log(`${name}: already installed in ${rel(dest)}`);
    return;
  }
  // The same URL scheme tfjs-converter uses for `fromTFHub: true`.
  const suffix = '?tfjs-format=file';
  log(`${name}: downloading from ${hub}`);
  try {
    await downloadModel(name, `${hub}/model.json${suffix}`, (p) => `${hub}/${p}${suffix}`);
  } catch (err) {
    log(
      `${name}: NOT installed: download failed: ${errText(err)}\n` +
        `  The TF Hub MobileNet v2 is optional; the bundled backbones do not need it.\n` +
        `  Fix: rerun \`npm run models -- --download-v2\` with internet access, or put a TF.js\n` +
        `  graph-model folder at ../shared/models/${name} (or public/models/${name}).`,
    );
  }
}

try {
  mkdirSync(PUBLIC_MODELS, { recursive: true });
  if (!existsSync(SHARED_MODELS)) log(`${rel(SHARED_MODELS)} not found`);
  await mobilenetV1();
  darknet();
  await mobilenetV2();
} catch (err) {
  failed = true;
  console.error(`models: ${errText(err)}`);
}
process.exit(failed ? 1 : 0);
