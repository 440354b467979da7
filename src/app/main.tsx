/**
 * Entry point: opens storage, builds the store with real services, registers the service worker,
 * renders the app.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { lazyDatabase } from '../core/storage/db';
import { createDataClient, runImport } from '../worker/dataBridge';
import { createEngineClient } from '../worker/engineBridge';
import { createLoupeStore } from '../state/store';
import { projectBackboneSpec } from '../core/projectSettings';
import { getBuiltinSpec } from '../core/backbone/specs';
import type { Services } from '../state/services';
import { StoreContext } from '../state/react';
import { App } from '../ui/App';
import { ErrorBoundary } from '../ui/ErrorBoundary';
import '../ui/styles.css';
import { whenIdle } from '../state/busy';
import { ServiceWorkerContext } from '../ui/serviceWorkerStatus';
import { registerServiceWorker } from './serviceWorker';
import { openTabChannel } from '../core/sync/tabMessages';
import { platformLocks } from '../core/sync/jobLock';

const services: Services = {
  db: lazyDatabase({ onVersionChange: () => window.location.reload() }),
  runImport,
  engine: createEngineClient(),
  data: createDataClient(),
  tabs: openTabChannel(),
  locks: platformLocks(),
};

const store = createLoupeStore(services, { persistPrefs: true });
// Debug handle for benchmarks and diagnostics (`?debug=1`): the same store and services the UI
// uses, the open project's backbone spec and the built-in specs by id (so scripts never repeat a
// spec object).
if (new URLSearchParams(window.location.search).has('debug')) {
  (window as unknown as { __loupe: unknown }).__loupe = {
    store,
    services,
    backboneSpec: () => {
      const { project } = store.getState();
      return project ? projectBackboneSpec(project) : null;
    },
    builtinBackbone: (id: string) => getBuiltinSpec(id) ?? null,
  };
}
const serviceWorker = registerServiceWorker({ whenIdle: () => whenIdle(store) });
const root = document.getElementById('root');
if (!root) throw new Error('index.html lacks #root');
createRoot(root).render(
  <StrictMode>
    <ErrorBoundary>
      <StoreContext.Provider value={store}>
        <ServiceWorkerContext.Provider value={serviceWorker}>
          <App />
        </ServiceWorkerContext.Provider>
      </StoreContext.Provider>
    </ErrorBoundary>
  </StrictMode>,
);
