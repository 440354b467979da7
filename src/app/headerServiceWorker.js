/* global LOUPE_HEADERS, LOUPE_PRECACHE */
// Loupe's service worker. The build prepends LOUPE_HEADERS (SERVER_HEADERS from
// securityHeaders.ts) and LOUPE_PRECACHE (the manifest from precache.ts: a version and the built
// files with their content hashes).
//
// Headers: every same-origin GET it answers, from the cache or the network, gets LOUPE_HEADERS,
// so on hosts that send no headers documents get COOP/COEP (the page becomes cross-origin
// isolated: WASM threads) and every worker script gets the CSP as a header, which binds the
// worker (a <meta> CSP binds only the page).
//
// Offline: install stores every manifest file in a cache named by the version (a file whose hash
// is unchanged is copied from the previous version's cache instead of downloaded again). Those
// files are served cache first; a navigation to the app's folder or index.html gets the cached
// index.html. Other same-origin GETs are stale-while-revalidate from a runtime cache. Other
// origins are never touched (the CSP refuses them anyway).
//
// Updates: the first install activates at once and claims the open pages. A later version waits
// until a page posts {type: 'skip-waiting'} (the `Reload to update` button, enabled only while
// no import, embedding, training or export runs); activating it deletes the older caches.

const PRECACHE = `loupe-precache-${LOUPE_PRECACHE.version}`;
const RUNTIME = `loupe-runtime-${LOUPE_PRECACHE.version}`;
const REVISION = 'X-Loupe-Revision';
const scopeUrl = (path) => new URL(path, self.registration.scope).href;
const precached = new Map(LOUPE_PRECACHE.files.map(([path, hash]) => [scopeUrl(path), hash]));
const INDEX = scopeUrl('index.html');

/** The copy of `url` with revision `hash` in an older precache, if any. */
async function previousCopy(url, hash) {
  const hit = await caches.match(url);
  return hit && hit.headers.get(REVISION) === hash ? hit : null;
}

/** A response stored with its revision, so the next version can tell whether it changed. */
async function revisioned(response, hash) {
  const headers = new Headers(response.headers);
  headers.set(REVISION, hash);
  return new Response(await response.blob(), {
    status: response.status,
    statusText: response.statusText,
    headers,
  });
}

async function precache() {
  const cache = await caches.open(PRECACHE);
  await Promise.all(
    [...precached].map(async ([url, hash]) => {
      if (await cache.match(url)) return;
      let response = await previousCopy(url, hash);
      if (!response) {
        response = await fetch(url, { cache: 'no-cache' });
        if (!response.ok) throw new Error(`precache: ${url} answered ${response.status}`);
        response = await revisioned(response, hash);
      }
      await cache.put(url, response);
    }),
  );
}

self.addEventListener('install', (event) => {
  // Only the very first version takes over by itself: later ones wait for the page's go-ahead.
  const first = !self.registration.active;
  // A failed install (e.g. storage quota) leaves no half-filled cache taking up the quota.
  const failed = (error) => caches.delete(PRECACHE).then(() => Promise.reject(error));
  event.waitUntil(precache().then(() => (first ? self.skipWaiting() : undefined), failed));
});

self.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'skip-waiting') self.skipWaiting();
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(
          keys
            .filter((k) => k.startsWith('loupe-') && k !== PRECACHE && k !== RUNTIME)
            .map((k) => caches.delete(k)),
        ),
      )
      .then(() => self.clients.claim()),
  );
});

/** `response` as served to the page: LOUPE_HEADERS added, the cache's revision mark removed. */
function withHeaders(response) {
  if (response.type === 'opaque' || response.type === 'opaqueredirect' || response.status === 0) {
    return response;
  }
  const headers = new Headers(response.headers);
  headers.delete(REVISION);
  for (const [name, value] of Object.entries(LOUPE_HEADERS)) headers.set(name, value);
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers,
  });
}

/** The precache key a request is answered from, or null. */
function precacheKey(request) {
  const url = new URL(request.url);
  const path = url.origin + url.pathname;
  if (request.mode === 'navigate' && (path === self.registration.scope || path === INDEX)) {
    return INDEX;
  }
  return precached.has(path) && url.search === '' ? path : null;
}

async function fromPrecache(key, request) {
  const hit = await caches.match(key, { cacheName: PRECACHE });
  return hit ?? fetch(request);
}

async function staleWhileRevalidate(event) {
  const { request } = event;
  const cache = await caches.open(RUNTIME);
  const hit = await cache.match(request);
  const network = fetch(request).then(async (response) => {
    if (response.ok && response.type === 'basic') await cache.put(request, response.clone());
    return response;
  });
  if (!hit) return network;
  event.waitUntil(network.catch(() => undefined));
  return hit;
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  const key = precacheKey(request);
  const answer =
    key !== null
      ? fromPrecache(key, request)
      : request.headers.has('range') || request.cache === 'no-store'
        ? fetch(request)
        : staleWhileRevalidate(event);
  event.respondWith(answer.then(withHeaders));
});
