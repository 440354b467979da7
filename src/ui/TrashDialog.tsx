/**
 * The `Trash` button and dialog: the open project's deleted images and labels (`scope="project"`,
 * on the board) or the deleted projects (`scope="projects"`, on the project list), each with when
 * it was deleted, what it holds and its size, a `Restore {name}` button per item, and `Empty trash`
 * (confirmed), the only permanent delete.
 */
import { useState } from 'react';
import type { TrashEntry } from '../core/storage/schema';
import { formatBytes } from '../core/imageio/validate';
import { useLoupe } from '../state/react';
import type { TrashScope } from '../state/trashSlice';
import { Dialog } from './Dialog';

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** E.g. "Label · 3 images · deleted 2 Dec, 23:04 · 1.2 MB". */
export function describeEntry(entry: TrashEntry): string {
  const what =
    entry.kind === 'project'
      ? `Project · ${plural(entry.imageCount, 'image')} · ${plural(entry.labelCount, 'label')}`
      : entry.kind === 'label'
        ? `Label · ${entry.imageCount > 0 ? plural(entry.imageCount, 'image') : 'images kept'}`
        : plural(entry.imageCount, 'image');
  const when = new Date(entry.deletedAt).toLocaleString(undefined, {
    dateStyle: 'medium',
    timeStyle: 'short',
  });
  return `${what} · deleted ${when} · ${formatBytes(entry.byteSize)}`;
}

export function TrashButton(props: { scope: TrashScope }) {
  const [open, setOpen] = useState(false);
  const loadTrash = useLoupe((s) => s.loadTrash);
  return (
    <>
      <button
        type="button"
        onClick={() => {
          void loadTrash();
          setOpen(true);
        }}
      >
        Trash
      </button>
      <Dialog title="Trash" open={open} onClose={() => setOpen(false)}>
        <TrashContents scope={props.scope} onClose={() => setOpen(false)} />
      </Dialog>
    </>
  );
}

function TrashContents(props: { scope: TrashScope; onClose: () => void }) {
  const { scope } = props;
  const entries = useLoupe((s) => (scope === 'project' ? s.trash : s.projectTrash));
  const restore = useLoupe((s) => s.restoreFromTrash);
  const empty = useLoupe((s) => s.emptyTrash);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const bytes = entries.reduce((n, e) => n + e.byteSize, 0);
  const run = async (work: () => Promise<unknown>): Promise<void> => {
    setBusy(true);
    try {
      await work();
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <p>
        {entries.length === 0
          ? scope === 'project'
            ? 'Nothing deleted from this project is kept.'
            : 'No deleted project is kept.'
          : `${plural(entries.length, 'item')}, ${formatBytes(bytes)}. The trash counts toward ` +
            "this site's storage until it is emptied."}
      </p>
      {entries.length > 0 && (
        <ul className="trash-list" aria-label="Deleted items">
          {entries.map((entry) => (
            <li key={entry.id} className="trash-item">
              <span>
                <strong>{entry.name}</strong>{' '}
                <span className="project-meta">{describeEntry(entry)}</span>
              </span>
              <button
                type="button"
                aria-label={`Restore ${entry.name}`}
                disabled={busy}
                onClick={() => void run(() => restore(entry.id))}
              >
                Restore
              </button>
            </li>
          ))}
        </ul>
      )}
      {confirming ? (
        <div role="group" aria-label="Empty trash" className="dialog-actions">
          <p>
            Delete {plural(entries.length, 'item')} ({formatBytes(bytes)}) for good? This cannot be
            undone.
          </p>
          <button type="button" onClick={() => setConfirming(false)}>
            Cancel
          </button>
          <button
            type="button"
            className="danger"
            disabled={busy}
            onClick={() => void run(() => empty(scope)).then(() => setConfirming(false))}
          >
            Delete permanently
          </button>
        </div>
      ) : (
        <div className="dialog-actions">
          <button type="button" onClick={props.onClose}>
            Close
          </button>
          <button
            type="button"
            className="danger"
            disabled={entries.length === 0 || busy}
            onClick={() => setConfirming(true)}
          >
            Empty trash
          </button>
        </div>
      )}
    </>
  );
}
