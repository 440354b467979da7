/**
 * The board toolbar's selection actions: select all, move or (multi-label) tag the selected images,
 * delete them after confirmation, clear the selection; Ctrl/Cmd+A selects all and Escape clears
 * outside form fields.
 */
import { useEffect, useState } from 'react';
import { useLoupe } from '../state/react';
import { forgetThumbnails } from '../state/thumbnails';
import { Dialog } from './Dialog';

export function SelectionActions({ orderedIds }: { orderedIds: readonly string[] }) {
  const selection = useLoupe((s) => s.selection);
  const labels = useLoupe((s) => s.labels);
  const selectMany = useLoupe((s) => s.selectMany);
  const clear = useLoupe((s) => s.clearSelection);
  const move = useLoupe((s) => s.moveSamples);
  const tag = useLoupe((s) => s.tagSamples);
  const multi = useLoupe((s) => s.project?.kind === 'multi-label');
  const remove = useLoupe((s) => s.deleteSamples);
  const [confirming, setConfirming] = useState(false);
  const ids = [...selection];

  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      const target = e.target as HTMLElement | null;
      if (
        target &&
        (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT')
      )
        return;
      if ((e.ctrlKey || e.metaKey) && e.key === 'a') {
        e.preventDefault();
        selectMany(orderedIds);
      } else if (e.key === 'Escape') clear();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [orderedIds, selectMany, clear]);

  return (
    <span className="selection-actions">
      <button
        type="button"
        onClick={() => selectMany(orderedIds)}
        disabled={orderedIds.length === 0}
      >
        Select all
      </button>
      {ids.length > 0 && (
        <>
          <span aria-live="polite">{ids.length} selected</span>
          <label>
            Move selected to
            <select
              aria-label="Move selected to"
              value=""
              onChange={(e) => {
                const value = e.target.value;
                if (!value) return;
                void move(ids, value === '__inbox__' ? null : value).then(clear);
              }}
            >
              <option value="">Choose a label…</option>
              {labels.map((l) => (
                <option key={l.id} value={l.id}>
                  {l.name}
                </option>
              ))}
              <option value="__inbox__">Unlabelled images</option>
            </select>
          </label>
          {multi && (
            <label>
              Add label to selected
              <select
                aria-label="Add label to selected"
                value=""
                onChange={(e) => {
                  if (e.target.value) void tag(ids, e.target.value, true);
                }}
              >
                <option value="">Choose a label…</option>
                {labels.map((l) => (
                  <option key={l.id} value={l.id}>
                    {l.name}
                  </option>
                ))}
              </select>
            </label>
          )}
          <button type="button" className="danger" onClick={() => setConfirming(true)}>
            Delete selected
          </button>
          <button type="button" onClick={clear}>
            Clear selection
          </button>
        </>
      )}
      <Dialog title="Delete images" open={confirming} onClose={() => setConfirming(false)}>
        <p>
          Delete {ids.length} selected image{ids.length === 1 ? '' : 's'} from this project? They
          move to the Trash (Undo brings them back).
        </p>
        <div className="dialog-actions">
          <button type="button" onClick={() => setConfirming(false)}>
            Cancel
          </button>
          <button
            type="button"
            className="danger"
            onClick={() => {
              forgetThumbnails(ids);
              void remove(ids).then(() => setConfirming(false));
            }}
          >
            Delete images
          </button>
        </div>
      </Dialog>
    </span>
  );
}
