/**
 * The Export dialog: the classifier as one TF.js model (runs anywhere TF.js runs, including
 * Teachable Machine's loader), the compact KNN model, a lossless project archive, or the dataset.
 */
import { useState } from 'react';
import { useLoupe } from '../state/react';
import type { ExportKind } from '../state/transferSlice';
import type { KnnExportDtype } from '../core/formats/knnExport';
import { Dialog } from './Dialog';
import { downloadBlob } from './download';
import { TransferProgress } from './TransferProgress';

export function ExportButton() {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" onClick={() => setOpen(true)}>
        Export
      </button>
      <ExportDialog open={open} onClose={() => setOpen(false)} />
    </>
  );
}

function ExportDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const exportAs = useLoupe((s) => s.exportAs);
  const transfer = useLoupe((s) => s.transfer);
  const hasDense = useLoupe((s) => !!s.modelSummary);
  const classifier = useLoupe((s) => s.classifier);
  const train = useLoupe((s) => s.train);
  const [dtype, setDtype] = useState<KnnExportDtype>('float32');
  const [needsDense, setNeedsDense] = useState(false);

  const run = async (kind: ExportKind): Promise<void> => {
    if (kind === 'tfjs' && !hasDense) {
      setNeedsDense(true);
      return;
    }
    const result = await exportAs(kind, { dtype });
    if (result) downloadBlob(result.blob, result.fileName);
  };

  return (
    <Dialog title="Export" open={open} onClose={onClose}>
      <div className="export-options">
        <button type="button" onClick={() => void run('tfjs')} disabled={!!transfer}>
          TF.js model
        </button>
        <p className="project-meta">
          One TF.js layers model (backbone + trained dense head) with metadata.json: loads with
          tf.loadLayersModel and Teachable Machine’s loader.
        </p>
        {needsDense && !hasDense && (
          <p role="status">
            The {classifier === 'knn' ? 'active head is KNN, which' : 'KNN head'} cannot be a layers
            model. Train the dense head first, or export the KNN model.{' '}
            <button type="button" className="small" onClick={() => void train()}>
              Train dense head
            </button>
          </p>
        )}
        <button type="button" onClick={() => void run('knn')} disabled={!!transfer}>
          KNN model
        </button>
        <label className="inline">
          Precision
          <select value={dtype} onChange={(e) => setDtype(e.target.value as KnnExportDtype)}>
            <option value="float32">float32 (exact)</option>
            <option value="float16">float16 (half the size)</option>
            <option value="int8">int8 (a quarter of the size)</option>
          </select>
        </label>
        <p className="project-meta">
          The labelled examples, the backbone and loupe-runtime.js, with a ready index.html.
        </p>
        <button type="button" onClick={() => void run('archive')} disabled={!!transfer}>
          Project archive
        </button>
        <p className="project-meta">
          Everything, losslessly: images, labels, embeddings, models and metrics (.loupe).
        </p>
        <button type="button" onClick={() => void run('dataset')} disabled={!!transfer}>
          Dataset
        </button>
        <p className="project-meta">
          A folder per label + labels.csv, as Keras image_dataset_from_directory reads it.
        </p>
      </div>
      <TransferProgress />
      <div className="dialog-actions">
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
    </Dialog>
  );
}
