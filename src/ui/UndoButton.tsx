/**
 * The board's `Undo` button (disabled when nothing can be undone; its title says what the next
 * undo reverts) and Ctrl+Z / Cmd+Z, which undo too unless focus is in a text field or a dialog.
 */
import { useEffect } from 'react';
import { useLoupe } from '../state/react';

/** Whether a key event comes from where typing happens (its own undo belongs there). */
function inTextField(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (!(target instanceof HTMLInputElement)) return false;
  return !['button', 'checkbox', 'radio', 'range', 'file', 'submit', 'reset'].includes(target.type);
}

export function UndoButton() {
  const next = useLoupe((s) => s.undoSteps[s.undoSteps.length - 1]);
  const undoing = useLoupe((s) => s.undoing);
  const undo = useLoupe((s) => s.undo);

  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      if (!(event.ctrlKey || event.metaKey) || event.shiftKey || event.altKey) return;
      if (event.key.toLowerCase() !== 'z' || inTextField(event.target)) return;
      if (document.querySelector('dialog[open]')) return;
      event.preventDefault();
      void undo();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [undo]);

  return (
    <button
      type="button"
      disabled={!next || undoing}
      title={next ? `Undo ${next.description} (Ctrl+Z)` : 'Nothing to undo'}
      onClick={() => void undo()}
    >
      Undo
    </button>
  );
}
