import { readFileSync } from 'node:fs';
import { defineConfig, type Plugin } from 'vite';
import {
  CONTENT_SECURITY_POLICY,
  SERVER_HEADERS,
  headersFile,
  nginxHeaders,
} from './src/app/securityHeaders.ts';

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

/**
 * Emits sw.js: src/app/headerServiceWorker.js with `SERVER_HEADERS` prepended, so hosts that send
 * no headers still deliver them (see src/app/serviceWorker.ts). Plain JS, not bundled: a service
 * worker must sit at the app's root URL and needs nothing from the app's modules.
 */
function headerServiceWorker(): Plugin {
  return {
    name: 'loupe-header-service-worker',
    apply: 'build',
    generateBundle() {
      const body = readFileSync(
        new URL('./src/app/headerServiceWorker.js', import.meta.url),
        'utf8',
      );
      const source = `const LOUPE_HEADERS = ${JSON.stringify(SERVER_HEADERS, null, 2)};\n${body}`;
      this.emitFile({ type: 'asset', fileName: 'sw.js', source });
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
