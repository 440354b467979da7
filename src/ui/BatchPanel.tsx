/**
 * Batch classification on the board: the `Classify images` pickers (files, or a whole folder)
 * for the toolbar, and the `Batch results` region that shows the running batch's progress (with
 * Stop), its results table (`BatchTable`), the unreadable files with their reasons and
 * `Download CSV`. Dropping files or folders on the region classifies them too. Images join the
 * project only when the user selects rows and presses `Add to {label}`; the work happens in the
 * store's batch slice and the engine worker.
 */
import { useState } from 'react';
import { useLoupe } from '../state/react';
import { BatchTable } from './BatchTable';
import { downloadBlob } from './download';
import { filesFromInput } from './fileCollection';
import { TaskBar } from './TaskBar';
import { useFileDrop } from './useFileDrop';

/** The toolbar's pickers: several files, or a folder with its sub-folders. */
export function BatchClassifyInputs() {
  const classify = useLoupe((s) => s.classifyImages);
  return (
    <>
      <label className="button">
        Classify images
        <input
          type="file"
          multiple
          accept="image/*"
          className="visually-hidden"
          aria-label="Classify images"
          onChange={(e) => {
            void classify(filesFromInput(e.currentTarget.files), 'file-picker');
            e.currentTarget.value = '';
          }}
        />
      </label>
      <label className="button">
        Classify a folder
        <input
          type="file"
          className="visually-hidden"
          aria-label="Classify a folder"
          {...{ webkitdirectory: '', directory: '' }}
          onChange={(e) => {
            void classify(filesFromInput(e.currentTarget.files), 'folder');
            e.currentTarget.value = '';
          }}
        />
      </label>
    </>
  );
}

export function BatchPanel() {
  const batch = useLoupe((s) => s.batch);
  const project = useLoupe((s) => s.project);
  const classify = useLoupe((s) => s.classifyImages);
  const stop = useLoupe((s) => s.stopBatch);
  const close = useLoupe((s) => s.closeBatch);
  const csv = useLoupe((s) => s.batchCsvBlob);
  const addTo = useLoupe((s) => s.addBatchRowsTo);
  const labels = useLoupe((s) => s.labels);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const drop = useFileDrop((files) => {
    setSelected(new Set());
    void classify(files, 'drop');
  });
  if (!batch || !project || batch.projectId !== project.id) return null;
  const present = new Set(batch.rows.map((r) => r.path));
  const chosen = [...selected].filter((p) => present.has(p));
  const toggle = (path: string): void => {
    const next = new Set(selected);
    if (!next.delete(path)) next.add(path);
    setSelected(next);
  };

  const download = (): void => {
    const blob = csv();
    if (blob) downloadBlob(blob, `${project.name} predictions.csv`);
  };

  return (
    <section
      className={`panel batch-panel${drop.over ? ' drop-over' : ''}`}
      aria-label="Batch results"
      {...drop.handlers}
    >
      <div className="batch-head">
        <h2>Batch results</h2>
        <span className="project-meta" data-testid="batch-count" data-rows={batch.rows.length}>
          {batch.rows.length} of {batch.total} images classified with{' '}
          {batch.head === 'knn' ? 'KNN' : 'Dense'}
          {batch.failed.length > 0 ? ` · ${batch.failed.length} unreadable` : ''}
          {batch.cancelled ? ' · stopped' : ''}
        </span>
        <button type="button" className="small" onClick={download} disabled={!batch.rows.length}>
          Download CSV
        </button>
        <button type="button" className="small" onClick={close}>
          Close
        </button>
      </div>
      {batch.progress && (
        <TaskBar
          name="Classifying images"
          progress={batch.progress}
          stopLabel="Stop"
          onStop={stop}
        />
      )}
      {batch.error && <p role="alert">Classification failed: {batch.error}</p>}
      <BatchTable rows={batch.rows} selected={selected} onToggle={toggle} />
      <div className="batch-actions" role="group" aria-label="Accept selected predictions">
        <span className="project-meta">{chosen.length} selected</span>
        {labels.map((l) => (
          <button
            key={l.id}
            type="button"
            className="small"
            disabled={chosen.length === 0}
            onClick={() => {
              setSelected(new Set());
              void addTo(chosen, l.id);
            }}
          >
            Add to {l.name}
          </button>
        ))}
      </div>
      {batch.failed.length > 0 && (
        <div role="status" className="batch-failed">
          <p>Unreadable files (not classified):</p>
          <ul aria-label="Unreadable files">
            {batch.failed.map((f) => (
              <li key={f.path}>
                {f.path}: {f.reason}
              </li>
            ))}
          </ul>
        </div>
      )}
      <p className="project-meta">
        These images are not added to the project. Drop more files or folders here to classify them.
      </p>
    </section>
  );
}
