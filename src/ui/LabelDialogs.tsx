/**
 * The board's label dialogs: delete a label (asking whether its images move to the inbox or are
 * deleted too; a label without images goes without asking) and merge a label into another.
 */
import { useEffect, useState } from 'react';
import type { LabelRecord } from '../core/storage/schema';
import { useLoupe } from '../state/react';
import { Dialog } from './Dialog';

export function DeleteLabelDialog(props: {
  label: LabelRecord | null;
  count: number;
  onClose: () => void;
}) {
  const deleteLabel = useLoupe((s) => s.deleteLabel);
  const [mode, setMode] = useState<'move-to-inbox' | 'delete-images'>('move-to-inbox');
  const { label, count, onClose } = props;
  useEffect(() => {
    // A label without images goes without asking.
    if (label && count === 0) void deleteLabel(label.id, 'move-to-inbox').then(onClose);
  }, [label, count, deleteLabel, onClose]);
  return (
    <Dialog title="Delete label" open={!!label && count > 0} onClose={onClose}>
      {label && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void deleteLabel(label.id, mode).then(onClose);
          }}
        >
          <p>
            “{label.name}” has {count} image{count === 1 ? '' : 's'}. What should happen to them?
            The label (with any images deleted with it) goes to the Trash.
          </p>
          <fieldset>
            <label>
              <input
                type="radio"
                name="mode"
                checked={mode === 'move-to-inbox'}
                onChange={() => setMode('move-to-inbox')}
              />
              Move them to Unlabelled images
            </label>
            <label>
              <input
                type="radio"
                name="mode"
                checked={mode === 'delete-images'}
                onChange={() => setMode('delete-images')}
              />
              Delete them too
            </label>
          </fieldset>
          <div className="dialog-actions">
            <button type="button" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" className="danger">
              Delete label
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}

export function MergeLabelDialog(props: {
  label: LabelRecord | null;
  labels: LabelRecord[];
  onClose: () => void;
}) {
  const merge = useLoupe((s) => s.mergeLabels);
  const { label, labels, onClose } = props;
  const others = labels.filter((l) => l.id !== label?.id);
  return (
    <Dialog title="Merge label" open={!!label} onClose={onClose}>
      {label && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            const target = new FormData(e.currentTarget).get('target');
            if (typeof target === 'string' && target) void merge(label.id, target).then(onClose);
          }}
        >
          <label>
            Move every image of “{label.name}” into
            <select name="target" defaultValue={others[0]?.id ?? ''}>
              {others.map((l) => (
                <option key={l.id} value={l.id}>
                  {l.name}
                </option>
              ))}
            </select>
          </label>
          <p>“{label.name}” is removed afterwards.</p>
          <div className="dialog-actions">
            <button type="button" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" className="primary" disabled={others.length === 0}>
              Merge
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
