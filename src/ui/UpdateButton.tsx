/**
 * `Reload to update`, shown while a new version of the app waits (service worker installed, not
 * yet in control). Disabled, with the reason beside it, while an import, embedding, training,
 * export or batch run is under way, so the new version never takes over in the middle of one.
 */
import { useContext, useId, useSyncExternalStore } from 'react';
import { runningTask } from '../state/busy';
import { useLoupe } from '../state/react';
import { ServiceWorkerContext } from './serviceWorkerStatus';

export function UpdateButton() {
  const control = useContext(ServiceWorkerContext);
  const sw = useSyncExternalStore(control.subscribe, control.getSnapshot);
  const busy = useLoupe(runningTask);
  const reasonId = useId();
  if (!sw.updateWaiting) return null;
  const reason = busy === null ? null : `Waits until the run ends: ${busy}.`;
  return (
    <span className="update">
      <button
        type="button"
        disabled={reason !== null}
        title={reason ?? 'A new version is ready: reload the app to use it'}
        aria-describedby={reason === null ? undefined : reasonId}
        onClick={() => control.applyUpdate()}
      >
        Reload to update
      </button>
      {reason !== null && <span id={reasonId}>{reason}</span>}
    </span>
  );
}
