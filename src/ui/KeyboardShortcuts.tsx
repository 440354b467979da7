/**
 * The `Keyboard shortcuts` button and dialog: lists the board's keys. `?` opens it from anywhere on
 * the page except a text field; Escape closes it and the browser's dialog returns focus to where it
 * was.
 */
import { useCallback, useEffect, useState } from 'react';
import { Dialog } from './Dialog';

const SHORTCUTS: ReadonlyArray<readonly [keys: string, what: string]> = [
  ['Tab', 'Move between controls; each image grid is one stop'],
  ['← → ↑ ↓', 'Move between images in a grid'],
  ['Home / End', 'First / last image of the grid'],
  ['1 – 9', 'Move the focused image (or the selection, if it is selected) to that label'],
  ['Space / Enter', 'Select or unselect the focused image (with Shift: extend)'],
  ['Ctrl+A / ⌘A', 'Select all images'],
  ['Ctrl+Z / ⌘Z', 'Undo the last board action (move, tag, delete, merge, rename)'],
  ['Esc', 'Clear the selection, or close a dialog'],
  ['?', 'Show this list'],
];

function inTextField(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return (
    target.isContentEditable ||
    target.tagName === 'INPUT' ||
    target.tagName === 'TEXTAREA' ||
    target.tagName === 'SELECT'
  );
}

export function KeyboardShortcutsButton() {
  const [open, setOpen] = useState(false);
  const close = useCallback(() => setOpen(false), []);

  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if (e.key !== '?' || e.ctrlKey || e.metaKey || e.altKey || inTextField(e.target)) return;
      e.preventDefault();
      setOpen(true);
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  return (
    <>
      <button type="button" title="Press ? to open" onClick={() => setOpen(true)}>
        Keyboard shortcuts <kbd aria-hidden="true">?</kbd>
      </button>
      <Dialog title="Keyboard shortcuts" open={open} onClose={close}>
        <table className="shortcuts">
          <thead>
            <tr>
              <th scope="col">Keys</th>
              <th scope="col">Action</th>
            </tr>
          </thead>
          <tbody>
            {SHORTCUTS.map(([keys, what]) => (
              <tr key={keys}>
                <td>
                  <kbd>{keys}</kbd>
                </td>
                <td>{what}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <div className="dialog-actions">
          <button type="button" onClick={close}>
            Close
          </button>
        </div>
      </Dialog>
    </>
  );
}
