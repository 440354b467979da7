/** Progress of the running export or archive import, with the button that cancels it. */
import { useLoupe } from '../state/react';

export function TransferProgress() {
  const transfer = useLoupe((s) => s.transfer);
  const cancel = useLoupe((s) => s.cancelTransfer);
  if (!transfer) return null;
  return (
    <div className="transfer-progress">
      <progress
        aria-label={transfer.task}
        max={Math.max(1, transfer.total)}
        value={transfer.done}
        aria-valuenow={transfer.done}
        aria-valuemax={transfer.total}
      />
      <button type="button" className="small" onClick={cancel}>
        Cancel {transfer.task.toLowerCase()}
      </button>
    </div>
  );
}
