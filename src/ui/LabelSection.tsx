/**
 * One label (or the inbox): its number key (1-9, by board position), name, count, pickers, drop
 * zone, `Capture from webcam` (labels only) and its thumbnail grid.
 */
import { memo, useState } from 'react';
import type { LabelRecord, SampleMeta } from '../core/storage/schema';
import type { DropTarget } from '../state/importSlice';
import { useLoupe } from '../state/react';
import { filesFromInput } from './fileCollection';
import { ThumbnailGrid } from './ThumbnailGrid';
import { CaptureDialog } from './CaptureDialog';
import { LABEL_KEYS } from './useLabelKeys';
import { useFileDrop } from './useFileDrop';

/** Memoised: an import chunk re-renders only the sections whose images changed. */
export const LabelSection = memo(function LabelSection(props: {
  label: LabelRecord | null;
  samples: SampleMeta[];
  getOrderedIds: () => readonly string[];
  onDelete?: (label: LabelRecord) => void;
  onMerge?: (label: LabelRecord) => void;
}) {
  const { label, samples } = props;
  const name = label ? label.name : 'Unlabelled';
  const regionName = label ? `${label.name} images` : 'Unlabelled images';
  const addFiles = useLoupe((s) => s.addFiles);
  const setActive = useLoupe((s) => s.setActiveLabel);
  const selectMany = useLoupe((s) => s.selectMany);
  const position = useLoupe((s) => (label ? s.labels.findIndex((l) => l.id === label.id) : -1));
  const target: DropTarget = label ? { kind: 'label', labelId: label.id } : { kind: 'inbox' };
  const drop = useFileDrop((files) => void addFiles(files, target, 'drop'));
  const [capturing, setCapturing] = useState(false);

  return (
    <section
      aria-label={regionName}
      className={`label-section${drop.over ? ' drop-over' : ''}${label ? '' : ' inbox'}`}
      onFocusCapture={() => setActive(label?.id ?? null)}
      onPointerDown={() => setActive(label?.id ?? null)}
      {...drop.handlers}
    >
      <header className="label-head">
        {position >= 0 && position < LABEL_KEYS && (
          <kbd
            className="label-key"
            aria-hidden="true"
            title={`Press ${position + 1} to move the focused image here`}
          >
            {position + 1}
          </kbd>
        )}
        {label ? (
          <LabelNameField label={label} />
        ) : (
          <h2 className="inbox-title">Unlabelled images</h2>
        )}
        <span className="count" aria-label={`${samples.length} images in ${name}`}>
          {samples.length}
        </span>
        <span className="label-actions">
          <label className="button small">
            Add images
            <input
              type="file"
              multiple
              accept="image/*"
              className="visually-hidden"
              aria-label={`Add images to ${name}`}
              onChange={(e) => {
                void addFiles(filesFromInput(e.currentTarget.files), target, 'file-picker');
                e.currentTarget.value = '';
              }}
            />
          </label>
          <label className="button small">
            Add folder
            <input
              type="file"
              className="visually-hidden"
              aria-label={`Add a folder to ${name}`}
              {...{ webkitdirectory: '', directory: '' }}
              onChange={(e) => {
                void addFiles(filesFromInput(e.currentTarget.files), target, 'folder');
                e.currentTarget.value = '';
              }}
            />
          </label>
          {label && (
            <button type="button" className="small" onClick={() => setCapturing(true)}>
              Capture from webcam
            </button>
          )}
          {samples.length > 0 && (
            <button
              type="button"
              className="small"
              onClick={() => selectMany(samples.map((s) => s.id))}
            >
              Select all in {name}
            </button>
          )}
          {label && props.onMerge && (
            <button type="button" className="small" onClick={() => props.onMerge?.(label)}>
              Merge…
            </button>
          )}
          {label && props.onDelete && (
            <button
              type="button"
              className="small danger"
              aria-label={`Delete label ${label.name}`}
              onClick={() => props.onDelete?.(label)}
            >
              Delete
            </button>
          )}
        </span>
      </header>
      {samples.length === 0 ? (
        <p className="drop-hint">Drop images or a folder here, or use “Add images”.</p>
      ) : (
        <ThumbnailGrid samples={samples} getOrderedIds={props.getOrderedIds} label={name} />
      )}
      {label && (
        <CaptureDialog label={label} open={capturing} onClose={() => setCapturing(false)} />
      )}
    </section>
  );
});

function LabelNameField({ label }: { label: LabelRecord }) {
  const rename = useLoupe((s) => s.renameLabel);
  const pushNotice = useLoupe((s) => s.pushNotice);
  const [draft, setDraft] = useState(label.name);
  const [seen, setSeen] = useState(label.name);
  if (seen !== label.name) {
    setSeen(label.name);
    setDraft(label.name);
  }
  const commit = (): void => {
    if (draft.trim() === label.name) return;
    rename(label.id, draft).catch((error: unknown) => {
      setDraft(label.name);
      pushNotice({
        kind: 'error',
        message: error instanceof Error ? error.message : String(error),
        rejected: [],
      });
    });
  };
  return (
    <input
      className="label-name"
      aria-label="Label name"
      value={draft}
      maxLength={120}
      onChange={(e) => setDraft(e.target.value)}
      onBlur={commit}
      onKeyDown={(e) => {
        if (e.key === 'Enter') e.currentTarget.blur();
        if (e.key === 'Escape') setDraft(label.name);
      }}
    />
  );
}
