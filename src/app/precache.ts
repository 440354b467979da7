/**
 * The service worker's precache manifest, worked out at build time (vite.config.ts reads the
 * written dist/ folder and prepends the result to sw.js): which built files the service worker
 * stores on install so the app works offline after one visit, each with a content hash, and the
 * cache version those hashes add up to. Plain functions of file lists, no file system here.
 *
 * Precached: index.html, every JS/CSS/worker chunk, the wasm files, the web app manifest and its
 * icons, and the model folders of the built-in backbones (`BUILTIN_MODEL_FOLDERS`, the default
 * one among them; a unit test checks the list against the specs in core/backbone). Not
 * precached: source maps, the host header files, sw.js itself, and any other folder under
 * models/ (test models; a custom model is runtime-cached when it is first fetched).
 */

/** One built file: its path relative to the build folder ('assets/x.js') and a content hash. */
export interface BuiltFile {
  path: string;
  hash: string;
}

/** What sw.js is given: the cache version and the files to store, as [relative path, hash]. */
export interface PrecacheManifest {
  version: string;
  files: [string, string][];
}

/**
 * The built-in backbones' model folders. Listed here rather than read from the specs because the
 * Vite config imports this file and core's extension-less imports do not load there; a folder
 * missing from the build (v2 before `npm run models:v2`) simply adds no files.
 */
export const BUILTIN_MODEL_FOLDERS = [
  'models/mobilenet_v2_1.0_224/',
  'models/mobilenet_v1_0.75_224/',
  // Optional (`npm run models:v2`): precached only where the build holds it.
  'models/mobilenet_v2_hub_1.0_224/',
] as const;

/** Build outputs that are never served to the app itself. */
const NEVER = new Set(['sw.js', '_headers', 'nginx-headers.conf']);
/** Files in a model folder the app never fetches (checksums, licences). */
const MODEL_SIDE_FILES = /(^|\/)(files\.sha256|LICENSE[^/]*)$/;

/**
 * The model folders to precache ('models/mobilenet_v1_0.75_224/'), from model URLs relative to
 * the app ('models/<folder>/model.json'); URLs outside models/ are ignored.
 */
export function modelFolders(modelUrls: readonly string[]): string[] {
  const folders = modelUrls
    .filter((url) => url.startsWith('models/'))
    .map((url) => url.slice(0, url.lastIndexOf('/') + 1));
  return [...new Set(folders)].sort();
}

/** Whether a built file (path relative to the build folder, '/'-separated) is precached. */
export function isPrecached(path: string, folders: readonly string[]): boolean {
  if (NEVER.has(path) || path.endsWith('.map') || path.split('/').some((p) => p.startsWith('.'))) {
    return false;
  }
  if (!path.startsWith('models/')) return true;
  return folders.some((f) => path.startsWith(f)) && !MODEL_SIDE_FILES.test(path);
}

/**
 * The manifest for sw.js: precached files sorted by path, and a version that changes whenever
 * any file's hash or the list changes (`digest` hashes a string, e.g. SHA-256 hex in Node).
 */
export function precacheManifest(
  built: readonly BuiltFile[],
  folders: readonly string[],
  digest: (text: string) => string,
): PrecacheManifest {
  const files = built
    .filter((f) => isPrecached(f.path, folders))
    .map((f): [string, string] => [f.path, f.hash])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (!files.some(([path]) => path === 'index.html')) {
    throw new Error('precache: the build has no index.html');
  }
  return { version: digest(JSON.stringify(files)).slice(0, 16), files };
}

/** sw.js: the headers and the manifest as constants, then the worker's own code. */
export function serviceWorkerSource(
  headers: Record<string, string>,
  manifest: PrecacheManifest,
  body: string,
): string {
  return [
    `const LOUPE_HEADERS = ${JSON.stringify(headers, null, 2)};`,
    `const LOUPE_PRECACHE = ${JSON.stringify(manifest)};`,
    body,
  ].join('\n');
}
