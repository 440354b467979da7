/** A long task's bar: its name, count, rate and ETA, a named progressbar, and a stop button. */
export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return 'estimating…';
  if (seconds < 60) return `${Math.ceil(seconds)} s left`;
  return `${Math.floor(seconds / 60)} min ${Math.ceil(seconds % 60)} s left`;
}

export interface TaskProgress {
  done: number;
  total: number;
  rate: number;
  etaSeconds: number | null;
}

export function TaskBar(props: {
  name: string;
  progress: TaskProgress;
  stopLabel: string;
  onStop: () => void;
}) {
  const { name, progress } = props;
  const id = `task-${name.replace(/\s+/g, '-').toLowerCase()}`;
  return (
    <div className="task-bar">
      <label className="task-label" htmlFor={id}>
        {name}: {progress.done} / {progress.total} · {progress.rate.toFixed(1)} images/s ·{' '}
        {formatEta(progress.etaSeconds)}
      </label>
      <progress
        id={id}
        aria-label={name}
        max={progress.total}
        value={progress.done}
        aria-valuenow={progress.done}
        aria-valuemax={progress.total}
      />
      <button type="button" onClick={props.onStop}>
        {props.stopLabel}
      </button>
    </div>
  );
}
