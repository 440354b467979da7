/**
 * Security and isolation headers shared by the dev server, the preview server, the built
 * index.html (as a CSP meta tag) and the optional header files the build emits for static hosts
 * (`_headers`, `nginx-headers.conf`; see README "Deploy"). The two isolation headers let WASM
 * threads use SharedArrayBuffer; without them the app runs single-threaded.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  // blob: is needed by tfjs-backend-wasm's pthreads: each thread worker importScripts() a blob of
  // the Emscripten factory made by this origin. Without it WASM runs single-threaded only.
  "script-src 'self' 'wasm-unsafe-eval' blob:",
  "worker-src 'self' blob:",
  "connect-src 'self' blob: data:",
  "img-src 'self' blob: data:",
  "media-src 'self' blob: mediastream:",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join('; ');

export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
} as const;

export const SERVER_HEADERS: Record<string, string> = {
  ...ISOLATION_HEADERS,
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

/** `_headers` for Netlify and Cloudflare Pages: every path gets `SERVER_HEADERS`. */
export function headersFile(): string {
  const lines = Object.entries(SERVER_HEADERS).map(([name, value]) => `  ${name}: ${value}`);
  return ['/*', ...lines, ''].join('\n');
}

/** `add_header` lines for an nginx `location` serving the app (`include` this file there). */
export function nginxHeaders(): string {
  const lines = Object.entries(SERVER_HEADERS).map(
    ([name, value]) => `add_header ${name} "${value}" always;`,
  );
  return [...lines, ''].join('\n');
}
