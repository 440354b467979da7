/** Progress of the running import: count, rate, ETA and a cancel button. */
import { useLoupe } from '../state/react';

export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return 'estimating…';
  if (seconds < 60) return `${Math.ceil(seconds)} s left`;
  return `${Math.floor(seconds / 60)} min ${Math.ceil(seconds % 60)} s left`;
}

export function ImportProgressBar() {
  const progress = useLoupe((s) => s.importProgress);
  const cancel = useLoupe((s) => s.cancelImport);
  if (!progress) return null;
  return (
    <div className="task-bar">
      <label className="task-label" htmlFor="import-progress">
        Importing images: {progress.done} / {progress.total} · {progress.rate.toFixed(1)} images/s ·{' '}
        {formatEta(progress.etaSeconds)}
      </label>
      <progress
        id="import-progress"
        aria-label="Importing images"
        max={progress.total}
        value={progress.done}
        aria-valuenow={progress.done}
        aria-valuemax={progress.total}
      />
      <button type="button" onClick={cancel}>
        Cancel import
      </button>
    </div>
  );
}
