/**
 * Registers Loupe's service worker (sw.js, built from headerServiceWorker.js) in production
 * builds and reports on it to the UI (`ServiceWorkerControl`). The worker precaches the app and
 * the built-in models (offline use) and adds the CSP and COOP/COEP headers to what it serves.
 *
 * First visit on a host that sends no isolation headers: once the worker controls the page, the
 * page reloads once, after any running import, embedding, training or export has ended, so the
 * document and the workers come back with the headers; a sessionStorage flag keeps that to one
 * reload per tab session, never a loop. Updates: a new version that has installed waits; the UI
 * shows `Reload to update` and `applyUpdate` tells it to take over, then the page reloads. Where
 * service workers are unavailable nothing happens and the engine runs single-threaded.
 */
import {
  fixedServiceWorker,
  type ServiceWorkerControl,
  type ServiceWorkerSnapshot,
} from '../ui/serviceWorkerStatus';

const RELOADED_FLAG = 'loupe-sw-reloaded';

export interface RegisterOptions {
  /** Resolves when no long run is under way (a reload waits for it). */
  whenIdle: () => Promise<void>;
}

export function registerServiceWorker(options: RegisterOptions): ServiceWorkerControl {
  const isolated = window.crossOriginIsolated;
  if (!import.meta.env.PROD) {
    return fixedServiceWorker({ state: 'off', isolated, updateWaiting: false });
  }
  if (!('serviceWorker' in navigator)) {
    return fixedServiceWorker({ state: 'unsupported', isolated, updateWaiting: false });
  }
  if (isolated) sessionStorage.removeItem(RELOADED_FLAG);
  const container = navigator.serviceWorker;
  const listeners = new Set<() => void>();
  let snapshot: ServiceWorkerSnapshot = {
    state: container.controller ? 'ready' : 'installing',
    isolated,
    updateWaiting: false,
  };
  const set = (patch: Partial<ServiceWorkerSnapshot>): void => {
    snapshot = { ...snapshot, ...patch };
    for (const listener of listeners) listener();
  };
  let waiting: ServiceWorker | null = null;
  let updating = false;

  /** A version installed while another controls the page: it waits for `applyUpdate`. */
  const offerUpdate = (worker: ServiceWorker): void => {
    waiting = worker;
    set({ updateWaiting: true });
  };
  const watch = (worker: ServiceWorker): void => {
    worker.addEventListener('statechange', () => {
      if (worker.state === 'installed' && container.controller) offerUpdate(worker);
      if (worker.state === 'redundant' && !container.controller) set({ state: 'failed' });
    });
  };

  container.addEventListener('controllerchange', () => {
    if (updating) {
      window.location.reload();
      return;
    }
    set({ state: 'ready' });
    // First control on a host without isolation headers: one reload brings them.
    if (isolated || sessionStorage.getItem(RELOADED_FLAG) !== null) return;
    void options.whenIdle().then(() => {
      sessionStorage.setItem(RELOADED_FLAG, '1');
      window.location.reload();
    });
  });

  container
    .register(new URL('sw.js', document.baseURI), { scope: './' })
    .then((registration) => {
      if (registration.waiting && container.controller) offerUpdate(registration.waiting);
      if (registration.installing) watch(registration.installing);
      registration.addEventListener('updatefound', () => {
        if (registration.installing) watch(registration.installing);
      });
    })
    .catch((err: unknown) => {
      // Refused registration (service workers blocked, private modes): as good as unavailable.
      console.warn('Loupe: no service worker, single-threaded and online only', err);
      set({ state: container.controller ? 'ready' : 'unsupported' });
    });

  return {
    getSnapshot: () => snapshot,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    applyUpdate() {
      if (!waiting) return;
      updating = true;
      waiting.postMessage({ type: 'skip-waiting' });
    },
  };
}
