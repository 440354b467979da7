/**
 * The dense head's saved versions (in the Training panel): when each was trained, its best epoch
 * and held-out accuracy, which one is current, `Use this version` to go back to an earlier one,
 * and `Pin` so pruning keeps it (otherwise only the current and the previous version are kept).
 * The list loads when opened and again whenever the current model changes.
 */
import { useEffect, useState } from 'react';
import { useLoupe } from '../state/react';

export function ModelVersions() {
  const summaryId = useLoupe((s) => s.modelSummary?.id ?? null);
  const versions = useLoupe((s) => s.denseVersions);
  const load = useLoupe((s) => s.loadDenseVersions);
  const pin = useLoupe((s) => s.pinDenseVersion);
  const use = useLoupe((s) => s.useDenseVersion);
  const training = useLoupe((s) => s.training !== null);
  const [open, setOpen] = useState(false);
  useEffect(() => {
    if (open) void load();
  }, [open, summaryId, load]);
  if (!summaryId) return null;
  return (
    <details onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>Versions</summary>
      {versions && (
        <ul aria-label="Model versions" className="model-versions">
          {versions.map((v) => {
            const when = new Date(v.createdAt).toLocaleString();
            return (
              <li key={v.id}>
                <span id={`version-${v.id}`}>
                  {when} · best epoch {v.bestEpoch}
                  {v.accuracy !== null && ` · ${(v.accuracy * 100).toFixed(1)}% held-out`}
                  {v.current && <strong> · current</strong>}
                </span>
                <span className="model-version-actions">
                  <button
                    type="button"
                    className="small"
                    aria-pressed={v.pinned}
                    aria-describedby={`version-${v.id}`}
                    onClick={() => void pin(v.id, !v.pinned)}
                  >
                    Pin
                  </button>
                  {!v.current && (
                    <button
                      type="button"
                      className="small"
                      disabled={training}
                      aria-describedby={`version-${v.id}`}
                      onClick={() => void use(v.id)}
                    >
                      Use this version
                    </button>
                  )}
                </span>
              </li>
            );
          })}
        </ul>
      )}
      <p className="project-meta">
        Each Train keeps the current and the previous version; pinned versions are kept too.
      </p>
    </details>
  );
}
