/* global LOUPE_HEADERS */
// Loupe's service worker, for static hosts that send no headers: it passes every same-origin GET
// through unchanged except for the headers, adding SERVER_HEADERS from securityHeaders.ts (the
// build prepends them as LOUPE_HEADERS). So documents get COOP/COEP (the page becomes
// cross-origin isolated: WASM threads) and every worker script gets the CSP as a header, which
// binds the worker (a <meta> CSP binds only the page). It caches nothing.

self.addEventListener('install', () => {
  self.skipWaiting();
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

async function withHeaders(request) {
  const response = await fetch(request);
  if (response.type === 'opaque' || response.type === 'opaqueredirect' || response.status === 0) {
    return response;
  }
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(LOUPE_HEADERS)) headers.set(name, value);
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers,
  });
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  // Other origins are left to the browser (the CSP refuses them anyway); only GETs are rewritten.
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(withHeaders(request));
});
