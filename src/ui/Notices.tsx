/**
 * Outcome notices: one per drop, listing each rejected file with its reason. Errors stay until
 * dismissed, above the board. Info notices (clean imports, finished exports) float over the
 * bottom-left corner and fade out after a few seconds unless the pointer or focus is on them: they
 * do not pile up, and one that goes by itself never moves the board (a drop aimed at a label
 * lands on that label). The fade is a CSS animation that `prefers-reduced-motion` turns off (the
 * notice then just goes).
 */
import { useEffect, useState } from 'react';
import { useLoupe } from '../state/react';
import type { Notice } from '../state/importSlice';

/** How long an info notice stays, and the last part of it spent fading. */
export const INFO_NOTICE_MS = 6000;
const FADE_MS = 600;

export function Notices() {
  const notices = useLoupe((s) => s.notices);
  const dismiss = useLoupe((s) => s.dismissNotice);
  const errors = notices.filter((n) => n.kind === 'error');
  const infos = notices.filter((n) => n.kind !== 'error');
  return (
    <>
      {errors.length > 0 && (
        <div className="notices">
          {errors.map((n) => (
            <NoticeItem key={n.id} notice={n} dismiss={dismiss} />
          ))}
        </div>
      )}
      {infos.length > 0 && (
        <div className="notices notices-floating">
          {infos.map((n) => (
            <NoticeItem key={n.id} notice={n} dismiss={dismiss} />
          ))}
        </div>
      )}
    </>
  );
}

function NoticeItem({ notice: n, dismiss }: { notice: Notice; dismiss: (id: string) => void }) {
  const [held, setHeld] = useState(false);
  const [fading, setFading] = useState(false);
  const fades = n.kind === 'info';
  useEffect(() => {
    if (!fades || held) return;
    const fade = setTimeout(() => setFading(true), INFO_NOTICE_MS - FADE_MS);
    const gone = setTimeout(() => dismiss(n.id), INFO_NOTICE_MS);
    return () => {
      clearTimeout(fade);
      clearTimeout(gone);
    };
  }, [fades, held, dismiss, n.id]);
  const hold = fades
    ? () => {
        setHeld(true);
        setFading(false);
      }
    : undefined;
  const release = fades ? () => setHeld(false) : undefined;
  return (
    <div
      className={`notice notice-${n.kind}${fading ? ' notice-fading' : ''}`}
      role={n.kind === 'error' ? 'alert' : 'status'}
      onPointerEnter={hold}
      onPointerLeave={release}
      onFocus={hold}
      onBlur={release}
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
  );
}
