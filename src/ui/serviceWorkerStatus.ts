/**
 * What the UI knows of the service worker (src/app/serviceWorker.ts implements it): whether it
 * controls the page, whether the page is cross-origin isolated, whether a new version waits, and
 * the action that lets it take over. Provided through `ServiceWorkerContext`; without a provider
 * the app reads as "no service worker". `threadsStatus` turns it into the status bar's words.
 */
import { createContext } from 'react';
import type { EngineStatus } from '../worker/api';

/**
 * `off`: not registered (development build); `unsupported`: no service workers here, or the
 * browser refused the registration (blocked); `installing`: storing the app for offline use, not
 * yet in control; `ready`: in control, everything precached; `failed`: the install failed.
 */
export type ServiceWorkerState = 'off' | 'unsupported' | 'installing' | 'ready' | 'failed';

export interface ServiceWorkerSnapshot {
  state: ServiceWorkerState;
  /** `window.crossOriginIsolated` at page load: WASM threads possible. */
  isolated: boolean;
  /** A new version is installed and waits for `applyUpdate`. */
  updateWaiting: boolean;
}

export interface ServiceWorkerControl {
  getSnapshot(): ServiceWorkerSnapshot;
  subscribe(listener: () => void): () => void;
  /** Lets the waiting version take over; the page reloads when it does. */
  applyUpdate(): void;
}

/** A control that never changes (no service worker, or tests). */
export function fixedServiceWorker(snapshot: ServiceWorkerSnapshot): ServiceWorkerControl {
  return { getSnapshot: () => snapshot, subscribe: () => () => undefined, applyUpdate() {} };
}

export const ServiceWorkerContext = createContext<ServiceWorkerControl>(
  fixedServiceWorker({ state: 'off', isolated: false, updateWaiting: false }),
);

/**
 * The status bar's threading line: `threads on` when the page is isolated (and the WASM backend,
 * if it is the one in use, reports threads), otherwise why the engine runs single-threaded.
 */
export function threadsStatus(sw: ServiceWorkerSnapshot, engine: EngineStatus | null): string {
  if (sw.isolated) {
    const wasmWithout = engine?.backend === 'wasm' && !engine.detail.includes('threads on');
    return wasmWithout ? 'threads off: the WASM backend reports none' : 'threads on';
  }
  switch (sw.state) {
    case 'unsupported':
      return 'single-threaded: this host sends no isolation headers and service workers are unavailable';
    case 'failed':
      return 'single-threaded: this host sends no isolation headers and the service worker failed to install';
    case 'installing':
      return 'single-threaded until the service worker takes over (one reload)';
    case 'ready':
      return 'single-threaded: the service worker could not isolate this page';
    case 'off':
      return 'single-threaded: no isolation headers';
  }
}

/** The status bar's offline line, or null when there is nothing to say. */
export function offlineStatus(sw: ServiceWorkerSnapshot): string | null {
  if (sw.state === 'ready') return 'works offline';
  if (sw.state === 'installing') return 'saving for offline use…';
  return null;
}
