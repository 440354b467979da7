// Offline and installable, the pure parts: which built files sw.js precaches and the version they
// make, the web app manifest in public/, the status bar's threading and offline words, and what
// holds back `Reload to update`.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  BUILTIN_MODEL_FOLDERS,
  isPrecached,
  modelFolders,
  precacheManifest,
  serviceWorkerSource,
  type BuiltFile,
} from '../../src/app/precache';
import { BUILTIN_BACKBONES, defaultBackboneSpec } from '../../src/core/backbone/specs';
import { runningTask, type BusyFields } from '../../src/state/busy';
import {
  offlineStatus,
  threadsStatus,
  type ServiceWorkerSnapshot,
} from '../../src/ui/serviceWorkerStatus';
import type { EngineStatus } from '../../src/worker/api';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const V1 = 'models/mobilenet_v1_0.75_224/';

const BUILT: BuiltFile[] = [
  { path: 'index.html', hash: 'h1' },
  { path: 'assets/index-abc.js', hash: 'h2' },
  { path: 'assets/index-abc.js.map', hash: 'h3' },
  { path: 'assets/engine.worker-def.js', hash: 'h4' },
  { path: 'assets/tfjs-backend-wasm-simd-x.wasm', hash: 'h5' },
  { path: 'assets/index-a.css', hash: 'h6' },
  { path: 'sw.js', hash: 'h7' },
  { path: '_headers', hash: 'h8' },
  { path: 'nginx-headers.conf', hash: 'h9' },
  { path: 'manifest.webmanifest', hash: 'ha' },
  { path: `${V1}model.json`, hash: 'hb' },
  { path: `${V1}group1-shard1of1`, hash: 'hc' },
  { path: `${V1}files.sha256`, hash: 'hd' },
  { path: 'models/darknet_tiny_imagenet/model.json', hash: 'he' },
  { path: 'models/mobilenet_v2_1.0_224/LICENSE.google-coral-test_data', hash: 'hf' },
  { path: '.DS_Store', hash: 'hg' },
];

describe('precache manifest', () => {
  it('takes the model folders of the built-in backbones, the default among them', () => {
    const folders = modelFolders(
      [...BUILTIN_BACKBONES, defaultBackboneSpec()].map((spec) => spec.url),
    );
    expect(folders).toContain(defaultBackboneSpec().url.replace(/model\.json$/, ''));
    expect(folders).toContain(V1);
    // The build's list must hold every built-in backbone's folder, the default among them.
    expect(BUILTIN_MODEL_FOLDERS).toEqual(expect.arrayContaining(folders));
    expect(folders.some((f) => f.includes('darknet'))).toBe(false);
    expect(modelFolders(['models/a/model.json', 'models/a/x.json', '/elsewhere/m.json'])).toEqual([
      'models/a/',
    ]);
  });

  it('lists the app shell, workers, wasm and built-in model files; no maps or host files', () => {
    const m = precacheManifest(BUILT, [V1], sha256);
    expect(m.files.map(([path]) => path)).toEqual([
      'assets/engine.worker-def.js',
      'assets/index-a.css',
      'assets/index-abc.js',
      'assets/tfjs-backend-wasm-simd-x.wasm',
      'index.html',
      'manifest.webmanifest',
      `${V1}group1-shard1of1`,
      `${V1}model.json`,
    ]);
    expect(m.files.find(([path]) => path === 'index.html')?.[1]).toBe('h1');
    expect(isPrecached('models/darknet_tiny_imagenet/model.json', [V1])).toBe(false);
    expect(isPrecached(`${V1}LICENSE.x`, [V1])).toBe(false);
  });

  it('has a version that changes with any precached file and only with those', () => {
    const base = precacheManifest(BUILT, [V1], sha256).version;
    expect(base).toMatch(/^[0-9a-f]{16}$/);
    const changed = BUILT.map((f) => (f.path === `${V1}model.json` ? { ...f, hash: 'new' } : f));
    expect(precacheManifest(changed, [V1], sha256).version).not.toBe(base);
    const mapOnly = BUILT.map((f) => (f.path.endsWith('.map') ? { ...f, hash: 'new' } : f));
    expect(precacheManifest(mapOnly, [V1], sha256).version).toBe(base);
  });

  it('refuses a build without index.html', () => {
    expect(() =>
      precacheManifest(
        BUILT.filter((f) => f.path !== 'index.html'),
        [V1],
        sha256,
      ),
    ).toThrow(/index\.html/);
  });

  it('prepends the headers and the manifest to the worker body', () => {
    const m = precacheManifest(BUILT, [V1], sha256);
    const source = serviceWorkerSource({ 'X-A': 'b' }, m, '/* body */');
    const run = new Function(`${source}\nreturn [LOUPE_HEADERS, LOUPE_PRECACHE];`) as () => [
      unknown,
      unknown,
    ];
    expect(run()).toEqual([{ 'X-A': 'b' }, m]);
    expect(source.endsWith('/* body */')).toBe(true);
  });
});

describe('web app manifest', () => {
  it('uses relative URLs and SVG icons that exist in public/', () => {
    const manifest = JSON.parse(readFileSync('public/manifest.webmanifest', 'utf8')) as {
      start_url: string;
      scope: string;
      icons: { src: string; purpose: string; type: string }[];
    };
    expect(manifest.start_url).toBe('./');
    expect(manifest.scope).toBe('./');
    expect(manifest.icons.map((i) => i.purpose).sort()).toEqual(['any', 'maskable']);
    for (const icon of manifest.icons) {
      expect(icon.src).not.toMatch(/^\/|:/);
      expect(icon.type).toBe('image/svg+xml');
      expect(existsSync(`public/${icon.src}`)).toBe(true);
    }
    expect(readFileSync('index.html', 'utf8')).toContain('rel="manifest"');
  });
});

describe('status bar words', () => {
  const sw = (patch: Partial<ServiceWorkerSnapshot>): ServiceWorkerSnapshot => ({
    state: 'ready',
    isolated: true,
    updateWaiting: false,
    ...patch,
  });
  const engine = (backend: EngineStatus['backend'], detail: string): EngineStatus => ({
    backend,
    detail,
    reports: [],
    how: 'probed',
  });

  it('says threads on when isolated, and why not otherwise', () => {
    expect(threadsStatus(sw({}), null)).toBe('threads on');
    expect(threadsStatus(sw({}), engine('wasm', 'SIMD on, threads on'))).toBe('threads on');
    expect(threadsStatus(sw({}), engine('wasm', 'SIMD on, threads off'))).toMatch(/threads off/);
    expect(threadsStatus(sw({ isolated: false, state: 'unsupported' }), null)).toBe(
      'single-threaded: this host sends no isolation headers and service workers are unavailable',
    );
    expect(threadsStatus(sw({ isolated: false, state: 'installing' }), null)).toMatch(
      /^single-threaded until/,
    );
    expect(threadsStatus(sw({ isolated: false, state: 'failed' }), null)).toMatch(/failed/);
  });

  it('says when the app works offline', () => {
    expect(offlineStatus(sw({}))).toBe('works offline');
    expect(offlineStatus(sw({ state: 'installing' }))).toMatch(/saving/);
    expect(offlineStatus(sw({ state: 'unsupported' }))).toBeNull();
  });
});

describe('update gate', () => {
  const idle: BusyFields = {
    importProgress: null,
    importQueueLength: 0,
    embedProgress: null,
    training: null,
    comparing: false,
    transfer: null,
    batch: null,
  };

  it('holds the update back during any long run', () => {
    expect(runningTask(idle)).toBeNull();
    expect(runningTask({ ...idle, importQueueLength: 1 })).toMatch(/import/);
    expect(
      runningTask({
        ...idle,
        embedProgress: { done: 1, total: 4, computed: 1, rate: 2, etaSeconds: 2 },
      }),
    ).toMatch(/embeddings/);
    expect(
      runningTask({ ...idle, training: { epochs: [], maxEpochs: 5, preparing: null } }),
    ).toMatch(/training/);
    expect(runningTask({ ...idle, transfer: { task: 'Exporting', done: 0, total: 1 } })).toMatch(
      /export/,
    );
    expect(runningTask({ ...idle, comparing: true })).toMatch(/compared/);
  });
});
