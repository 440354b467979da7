/** Outcome notices: one per drop, listing each rejected file with its reason. */
import { useLoupe } from '../state/react';

export function Notices() {
  const notices = useLoupe((s) => s.notices);
  const dismiss = useLoupe((s) => s.dismissNotice);
  if (notices.length === 0) return null;
  return (
    <div className="notices">
      {notices.map((n) => (
        <div
          key={n.id}
          className={`notice notice-${n.kind}`}
          role={n.kind === 'error' ? 'alert' : 'status'}
        >
          <div className="notice-head">
            <p>{n.message}</p>
            <button
              type="button"
              className="icon-button"
              aria-label="Dismiss notice"
              onClick={() => dismiss(n.id)}
            >
              ×
            </button>
          </div>
          {n.rejected.length > 0 && (
            <ul aria-label="Rejected files" className="rejected-list">
              {n.rejected.slice(0, 50).map((r, i) => (
                <li key={`${r.name}-${i}`}>
                  <strong>{r.name}</strong>: {r.reason}
                </li>
              ))}
              {n.rejected.length > 50 && <li>… and {n.rejected.length - 50} more</li>}
            </ul>
          )}
        </div>
      ))}
    </div>
  );
}
