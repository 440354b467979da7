/**
 * Security and isolation headers shared by the dev server, the preview server and the built
 * index.html (as a CSP meta tag). Static hosts must send the same two isolation headers
 * (see README: "Hosting") so WASM threads can use SharedArrayBuffer.
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
