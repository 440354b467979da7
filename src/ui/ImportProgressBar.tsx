/** Progress of the running import, with a cancel button (what was stored stays). */
import { useLoupe } from '../state/react';
import { TaskBar } from './TaskBar';

export function ImportProgressBar() {
  const progress = useLoupe((s) => s.importProgress);
  const cancel = useLoupe((s) => s.cancelImport);
  if (!progress) return null;
  return (
    <TaskBar
      name="Importing images"
      progress={progress}
      stopLabel="Cancel import"
      onStop={cancel}
    />
  );
}
