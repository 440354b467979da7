/**
 * Status bar: backend in use, threads (or why single-threaded) and offline readiness from the
 * service worker, `Reload to update` when a new version waits, embedding progress with cancel,
 * jobs running in another tab, and cache counters (debug view).
 */
import { useContext, useSyncExternalStore } from 'react';
import { useLoupe } from '../state/react';
import { offlineStatus, ServiceWorkerContext, threadsStatus } from './serviceWorkerStatus';
import { TaskBar } from './TaskBar';
import { UpdateButton } from './UpdateButton';
import { RemoteJobs } from './RemoteJobs';

export function EmbeddingProgressBar() {
  const progress = useLoupe((s) => s.embedProgress);
  const cancel = useLoupe((s) => s.cancelEmbedding);
  if (!progress) return null;
  return (
    <TaskBar
      name="Computing embeddings"
      progress={progress}
      stopLabel="Pause embeddings"
      onStop={cancel}
    />
  );
}

export function StatusBar() {
  const status = useLoupe((s) => s.engineStatus);
  const error = useLoupe((s) => s.engineError);
  const project = useLoupe((s) => s.project);
  const embedded = useLoupe((s) => s.embeddedCount);
  const total = useLoupe((s) => s.samples.length);
  const computed = useLoupe((s) => s.computedThisSession);
  const control = useContext(ServiceWorkerContext);
  const sw = useSyncExternalStore(control.subscribe, control.getSnapshot);
  const offline = offlineStatus(sw);
  return (
    <footer className="status-bar" aria-label="Status">
      {error ? (
        <span role="alert" className="status-error">
          {error}
        </span>
      ) : (
        <span data-testid="backend">
          Backend: {status ? `${status.backend} (${status.detail})` : 'starting…'}
        </span>
      )}
      <span data-testid="threads">{threadsStatus(sw, status)}</span>
      {offline && <span data-testid="offline">{offline}</span>}
      <UpdateButton />
      {project && (
        <span data-testid="embedding-counts">
          Embeddings: <span data-testid="embedded-count">{Math.min(embedded, total)}</span> /{' '}
          {total} cached · computed since page load:{' '}
          <span data-testid="computed-count">{computed}</span>
        </span>
      )}
      <RemoteJobs />
    </footer>
  );
}
