/**
 * Registers the header service worker (sw.js, built from headerServiceWorker.js) in production
 * builds when the host did not make the page cross-origin isolated, i.e. sent no COOP/COEP. Once
 * it controls the page, the page reloads once so the document and the workers come back with the
 * headers; a sessionStorage flag keeps that to one reload per tab session, never a loop. Where
 * service workers are unavailable nothing happens and the engine runs single-threaded.
 */
const RELOADED_FLAG = 'loupe-sw-reloaded';

function whenControlled(container: ServiceWorkerContainer): Promise<void> {
  if (container.controller) return Promise.resolve();
  return new Promise((resolve) =>
    container.addEventListener('controllerchange', () => resolve(), { once: true }),
  );
}

export function registerHeaderServiceWorker(): void {
  if (!import.meta.env.PROD || !('serviceWorker' in navigator)) return;
  if (window.crossOriginIsolated) {
    sessionStorage.removeItem(RELOADED_FLAG);
    return;
  }
  const container = navigator.serviceWorker;
  container
    .register(new URL('sw.js', document.baseURI), { scope: './' })
    .then(() => container.ready)
    .then(() => whenControlled(container))
    .then(() => {
      if (sessionStorage.getItem(RELOADED_FLAG) !== null) return;
      sessionStorage.setItem(RELOADED_FLAG, '1');
      window.location.reload();
    })
    .catch((err: unknown) => console.warn('Loupe: no service worker, single-threaded', err));
}
