/**
 * Train panel: dense-head settings, Train / Stop training with a live loss and accuracy chart, a
 * warning when the data changed since the saved model was trained, and the saved versions.
 */
import { useLoupe } from '../state/react';
import { ModelVersions } from './ModelVersions';
import { changesSince } from '../state/headsSlice';
import type { EpochLog } from '../core/heads/dense';
import { DENSE_DEFAULTS } from '../core/heads/denseConfig';
import { CROPS_PER_IMAGE, type Augmentation } from '../core/backbone/augment';

export function TrainPanel() {
  const training = useLoupe((s) => s.training);
  const train = useLoupe((s) => s.train);
  const stop = useLoupe((s) => s.stopTraining);
  const summary = useLoupe((s) => s.modelSummary);
  const samples = useLoupe((s) => s.samples);
  const headsReady = useLoupe((s) => s.headsReady);
  const embedded = useLoupe((s) => s.embeddedCount);
  const config = useLoupe((s) => s.denseConfig);
  const setConfig = useLoupe((s) => s.setDenseConfig);
  const augmentation = useLoupe((s) => s.augmentation);
  const setAugmentation = useLoupe((s) => s.setAugmentation);
  const error = useLoupe((s) => s.headsError);
  const labelled = samples.filter((s) => s.labelIds.length > 0).length;
  const changes = summary ? changesSince(summary, samples) : 0;
  const logs = training?.epochs ?? summary?.history ?? [];
  // The chart follows the held-out fit; the refit on every image that follows it has no
  // validation curve and is shown as a count.
  const history = logs.filter((log) => log.phase !== 'refit');
  const refitEpochs = training ? logs.length - history.length : 0;
  const waitingForEmbeddings = embedded < samples.length;

  return (
    <section className="panel" aria-label="Training">
      <h2>Dense head</h2>
      {summary && (
        <p
          className={changes > 0 ? 'stale' : 'project-meta'}
          role={changes > 0 ? 'status' : undefined}
        >
          {changes > 0
            ? `Model out of date: ${changes} change${changes === 1 ? '' : 's'} since training. Train again.`
            : `Trained ${new Date(summary.createdAt).toLocaleString()} · best epoch ${summary.bestEpoch}${describeAugmentation(summary.augmentation)}${summary.refit ? ` · refit on all ${summary.refit.images} images` : ''}`}
        </p>
      )}
      <details>
        <summary>Settings</summary>
        <div className="settings-grid">
          {(
            [
              ['hiddenUnits', 'Hidden units', 0, 1024, 1],
              ['dropout', 'Dropout', 0, 0.9, 0.05],
              ['epochs', 'Epochs', 1, 500, 1],
              ['batchSize', 'Batch size', 1, 1024, 1],
              ['learningRate', 'Learning rate', 0.00001, 1, 0.0001],
            ] as const
          ).map(([key, label, min, max, step]) => (
            <label key={key}>
              {label}
              <input
                type="number"
                min={min}
                max={max}
                step={step}
                value={config[key] ?? DENSE_DEFAULTS[key]}
                onChange={(e) => {
                  const v = Number(e.target.value);
                  if (Number.isFinite(v) && v >= min && v <= max) setConfig({ [key]: v });
                }}
              />
            </label>
          ))}
          <label className="settings-wide">
            <input
              type="checkbox"
              checked={augmentation.flips}
              onChange={(e) => setAugmentation({ flips: e.target.checked })}
            />
            Augment with flipped copies
          </label>
          <label className="settings-wide">
            <input
              type="checkbox"
              checked={augmentation.crops > 0}
              onChange={(e) => setAugmentation({ crops: e.target.checked ? CROPS_PER_IMAGE : 0 })}
            />
            Augment with random crops ({CROPS_PER_IMAGE} per image)
          </label>
          <p className="project-meta settings-wide">
            Extra training copies of every image, embedded once and then cached (each kind costs one
            more pass over the images). Flips help when left/right does not matter: leave them off
            for text, arrows or hands. Crops keep 35-100 % of the image.
          </p>
        </div>
      </details>
      <div className="try-actions">
        {training ? (
          <button type="button" onClick={stop}>
            Stop training
          </button>
        ) : (
          <button
            type="button"
            className="primary"
            onClick={() => void train()}
            disabled={!headsReady || labelled < 2 || waitingForEmbeddings}
            title={waitingForEmbeddings ? 'Waiting for embeddings' : undefined}
          >
            Train
          </button>
        )}
        {training?.preparing && (
          <>
            <progress
              aria-label="Computing augmented copies"
              max={Math.max(1, training.preparing.total)}
              value={training.preparing.done}
              aria-valuenow={training.preparing.done}
              aria-valuemax={training.preparing.total}
            />
            <span className="project-meta">
              Augmented copies {training.preparing.done} / {training.preparing.total}
            </span>
          </>
        )}
        {training && !training.preparing && (
          <progress
            aria-label="Training"
            max={training.maxEpochs}
            value={Math.min(history.length, training.maxEpochs)}
            aria-valuenow={Math.min(history.length, training.maxEpochs)}
            aria-valuemax={training.maxEpochs}
          />
        )}
        {training && refitEpochs > 0 && (
          <span className="project-meta" role="status">
            Refitting on every labelled image: epoch {refitEpochs}
          </span>
        )}
      </div>
      {error && (
        <p role="alert" className="status-error">
          {error}
        </p>
      )}
      {history.length > 0 && <TrainingChart history={history} />}
      <ModelVersions />
    </section>
  );
}

/** " · with flipped copies and 2 random crops" for a model trained with augmentation. */
function describeAugmentation(augmentation: Augmentation | undefined): string {
  const parts = [
    ...(augmentation?.flips ? ['flipped copies'] : []),
    ...(augmentation?.crops ? [`${augmentation.crops} random crops`] : []),
  ];
  return parts.length > 0 ? ` · with ${parts.join(' and ')}` : '';
}

const W = 320;
const H = 120;

function TrainingChart({ history }: { history: readonly EpochLog[] }) {
  const maxLoss = Math.max(0.1, ...history.flatMap((h) => [h.loss, h.valLoss ?? 0]));
  const n = Math.max(2, history.length);
  const x = (i: number): number => (i / (n - 1)) * (W - 10) + 5;
  const path = (values: (number | null)[], scale: number): string =>
    values
      .map((v, i) =>
        v === null
          ? ''
          : `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${(H - 5 - (v / scale) * (H - 10)).toFixed(1)}`,
      )
      .join(' ');
  const last = history[history.length - 1];
  return (
    <figure className="chart" aria-label="Training chart">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`Loss and accuracy over ${history.length} epochs`}
      >
        <path
          d={path(
            history.map((h) => h.loss),
            maxLoss,
          )}
          className="line loss"
        />
        <path
          d={path(
            history.map((h) => h.valLoss),
            maxLoss,
          )}
          className="line val-loss"
        />
        <path
          d={path(
            history.map((h) => h.acc),
            1,
          )}
          className="line acc"
        />
        <path
          d={path(
            history.map((h) => h.valAcc),
            1,
          )}
          className="line val-acc"
        />
      </svg>
      <figcaption>
        <span className="key loss">loss</span> <span className="key val-loss">val loss</span>{' '}
        <span className="key acc">acc</span> <span className="key val-acc">val acc</span>
        {last && (
          <span data-testid="epoch-count">
            {' '}
            · epoch {last.epoch}: val acc{' '}
            {last.valAcc === null ? '–' : `${(last.valAcc * 100).toFixed(1)}%`}
          </span>
        )}
      </figcaption>
    </figure>
  );
}
