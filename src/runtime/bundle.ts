/**
 * The files every model export carries next to the model: `loupe-runtime.js` (a standalone ES
 * module that loads either export and classifies images), a ready `index.html` (loads
 * `./tf.min.js` and the runtime) and `README.txt`. Bundled as text by Vite (`?raw`), so exports
 * need no network. The app adds tfjs's UMD build as `tf.min.js` next to them.
 */
import runtimeSource from './loupe-runtime.js?raw';
import indexTemplate from './index.html.template?raw';
import readmeText from './README.txt?raw';

export const RUNTIME_JS_FILE = 'loupe-runtime.js';
export const INDEX_HTML_FILE = 'index.html';
export const README_FILE = 'README.txt';
/** Where index.html expects TensorFlow.js (the UMD build, defining the `tf` global). */
export const TFJS_SCRIPT_FILE = 'tf.min.js';
export const DEFAULT_PAGE_TITLE = 'Loupe classifier';

export interface RuntimeFile {
  path: string;
  bytes: Uint8Array;
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/** The demo page, titled `title` (escaped; blank -> "Loupe classifier"). */
export function indexHtml(title = DEFAULT_PAGE_TITLE): string {
  const safe = escapeHtml(title.trim() || DEFAULT_PAGE_TITLE);
  return indexTemplate.replaceAll('{{TITLE}}', () => safe);
}

/** The source of `loupe-runtime.js`. */
export function runtimeScript(): string {
  return runtimeSource;
}

/** README.txt: what each file is, how to serve the folder, a usage example. */
export function runtimeReadme(): string {
  return readmeText;
}

/** `loupe-runtime.js`, `index.html` and `README.txt` as UTF-8 bytes, ready to zip. */
export function runtimeFiles(options: { title?: string } = {}): RuntimeFile[] {
  const text = (s: string): Uint8Array => new TextEncoder().encode(s);
  return [
    { path: RUNTIME_JS_FILE, bytes: text(runtimeSource) },
    { path: INDEX_HTML_FILE, bytes: text(indexHtml(options.title)) },
    { path: README_FILE, bytes: text(readmeText) },
  ];
}
