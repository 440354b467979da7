/** Status bar: backend in use, embedding progress with cancel, and cache counters (debug view). */
import { useLoupe } from '../state/react';
import { formatEta } from './ImportProgressBar';

export function EmbeddingProgressBar() {
  const progress = useLoupe((s) => s.embedProgress);
  const cancel = useLoupe((s) => s.cancelEmbedding);
  if (!progress) return null;
  return (
    <div className="task-bar">
      <label className="task-label" htmlFor="embed-progress">
        Computing embeddings: {progress.done} / {progress.total} · {progress.rate.toFixed(1)}{' '}
        images/s · {formatEta(progress.etaSeconds)}
      </label>
      <progress
        id="embed-progress"
        aria-label="Computing embeddings"
        max={progress.total}
        value={progress.done}
        aria-valuenow={progress.done}
        aria-valuemax={progress.total}
      />
      <button type="button" onClick={cancel}>
        Pause embeddings
      </button>
    </div>
  );
}

export function StatusBar() {
  const status = useLoupe((s) => s.engineStatus);
  const error = useLoupe((s) => s.engineError);
  const project = useLoupe((s) => s.project);
  const embedded = useLoupe((s) => s.embeddedCount);
  const total = useLoupe((s) => s.samples.length);
  const computed = useLoupe((s) => s.computedThisSession);
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
      {project && (
        <span data-testid="embedding-counts">
          Embeddings: <span data-testid="embedded-count">{Math.min(embedded, total)}</span> /{' '}
          {total} cached · computed since page load:{' '}
          <span data-testid="computed-count">{computed}</span>
        </span>
      )}
    </footer>
  );
}
