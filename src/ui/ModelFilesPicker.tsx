/**
 * The model-files part of the custom backbone form: pick or drop a TF.js layers model's
 * model.json together with its weight files. The engine worker checks them (missing files and
 * wrong sizes are named), describes the model and stores the files on this device; nothing is
 * fetched. The parent gets the stored model's description, or null while none is picked.
 */
import { useState } from 'react';
import { formatBytes } from '../core/imageio';
import { useLoupe } from '../state/react';
import type { ModelFilesInfo } from '../worker/api';
import { useFileDrop } from './useFileDrop';

/** The first folder of dropped paths ("mobilenet/model.json" -> "mobilenet"), if any. */
function droppedFolder(paths: readonly string[]): string | undefined {
  const first = paths[0]?.split('/');
  return first && first.length > 1 ? first[0] : undefined;
}

export function ModelFilesPicker({
  picked,
  onPicked,
}: {
  picked: ModelFilesInfo | null;
  onPicked: (info: ModelFilesInfo | null) => void;
}) {
  const storeModelFiles = useLoupe((s) => s.storeModelFiles);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const take = (files: File[], folder?: string): void => {
    if (files.length === 0) return;
    setBusy(true);
    setError(null);
    onPicked(null);
    storeModelFiles(files, folder)
      .then(onPicked, (err: unknown) => setError(err instanceof Error ? err.message : String(err)))
      .finally(() => setBusy(false));
  };
  const drop = useFileDrop((pathed) =>
    take(
      pathed.map((p) => p.file),
      droppedFolder(pathed.map((p) => p.path)),
    ),
  );

  return (
    <div className={`model-files${drop.over ? ' drop-over' : ''}`} {...drop.handlers}>
      <label>
        Model files (model.json and its weight files, or drop them here)
        <input
          type="file"
          multiple
          aria-label="Model files"
          disabled={busy}
          onChange={(e) => {
            take([...(e.target.files ?? [])]);
            e.target.value = '';
          }}
        />
      </label>
      {busy && (
        <p role="status" className="project-meta">
          Checking the model files…
        </p>
      )}
      {error !== null && (
        <p role="alert" className="project-meta">
          {error}
        </p>
      )}
      {picked && (
        <p role="status" className="project-meta">
          Model files: {picked.name}, {picked.layerCount} layers,{' '}
          {picked.paramCount.toLocaleString('en')} parameters, {formatBytes(picked.byteSize)}
          {picked.inputSize !== null ? `, ${picked.inputSize} px input` : ''}. Stored on this device
          only.
        </p>
      )}
    </div>
  );
}
