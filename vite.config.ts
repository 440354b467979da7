import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { defineConfig, type Plugin } from 'vite';
import {
  CONTENT_SECURITY_POLICY,
  SERVER_HEADERS,
  headersFile,
  nginxHeaders,
} from './src/app/securityHeaders.ts';
import {
  BUILTIN_MODEL_FOLDERS,
  precacheManifest,
  serviceWorkerSource,
} from './src/app/precache.ts';

/** Writes the CSP into index.html so any static host enforces it, with or without headers. */
function cspMetaTag(): Plugin {
  return {
    name: 'loupe-csp-meta',
    transformIndexHtml(html) {
      return html.replace(
        '<!--CSP-->',
        `<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}" />`,
      );
    },
  };
}

/**
 * Emits the optional header files for static hosts that read them, from the same strings as the
 * dev and preview servers: `_headers` (Netlify, Cloudflare Pages) and `nginx-headers.conf`.
 */
function hostHeaderFiles(): Plugin {
  return {
    name: 'loupe-host-headers',
    apply: 'build',
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: '_headers', source: headersFile() });
      this.emitFile({ type: 'asset', fileName: 'nginx-headers.conf', source: nginxHeaders() });
    },
  };
}

/** Every file under `dir`, as '/'-separated paths relative to it. */
function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(path.join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    return entry.isDirectory() ? listFiles(dir, rel) : [rel];
  });
}

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/**
 * Writes sw.js into the finished build: src/app/headerServiceWorker.js with `SERVER_HEADERS` and
 * the precache manifest (src/app/precache.ts) prepended. It runs after the bundle is written, so
 * the manifest lists the files as they are on disk: chunks, worker chunks, wasm, and the public/
 * files (models) Vite copied, of which the built-in backbones' model folders are kept. Plain JS,
 * not bundled: a service
 * worker must sit at the app's root URL and needs nothing from the app's modules.
 */
function headerServiceWorker(): Plugin {
  let outDir = '';
  return {
    name: 'loupe-header-service-worker',
    apply: 'build',
    configResolved(config) {
      outDir = path.resolve(config.root, config.build.outDir);
    },
    writeBundle() {
      const built = listFiles(outDir).map((file) => ({
        path: file,
        hash: sha256(readFileSync(path.join(outDir, file))).slice(0, 16),
      }));
      const manifest = precacheManifest(built, BUILTIN_MODEL_FOLDERS, sha256);
      const body = readFileSync(
        new URL('./src/app/headerServiceWorker.js', import.meta.url),
        'utf8',
      );
      writeFileSync(
        path.join(outDir, 'sw.js'),
        serviceWorkerSource(SERVER_HEADERS, manifest, body),
      );
    },
  };
}

export default defineConfig({
  // Relative asset URLs: dist/ works from any path on any static server (e.g. /tools/loupe/).
  base: './',
  plugins: [cspMetaTag(), hostHeaderFiles(), headerServiceWorker()],
  server: { headers: SERVER_HEADERS, port: 5173, strictPort: false },
  preview: { headers: SERVER_HEADERS, port: 4173, strictPort: false },
  worker: {
    format: 'es',
    // Workers are bundled separately: the same no-compress rule must hold there (see build below).
    rolldownOptions: { output: { minify: { compress: false, mangle: true } } },
  },
  build: {
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 4096,
    rolldownOptions: {
      // Vite 8's default compressor rewrites `typeof _scriptDir !== "undefined" && _scriptDir`
      // inside tfjs-backend-wasm's pthread factory, which is shipped to workers as source text:
      // every thread then dies with "e is not defined". Mangle, but never compress.
      output: { minify: { compress: false, mangle: true } },
    },
  },
});
