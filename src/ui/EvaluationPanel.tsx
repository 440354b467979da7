/**
 * Evaluation: held-out metrics of the last training (dense and KNN fits scored on the same
 * validation images, which never trained them; the saved dense model is then refit on every
 * labelled image, and the panel says so), a confusion matrix whose cells select their held-out images
 * on the board, and an on-demand k-fold comparison.
 */
import { useLoupe } from '../state/react';
import { formatEta } from './TaskBar';
import type { HeadEvaluation } from '../worker/api';

const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;

export function EvaluationPanel() {
  const summary = useLoupe((s) => s.modelSummary);
  const labels = useLoupe((s) => s.labels);
  const classifier = useLoupe((s) => s.classifier);
  const compareRows = useLoupe((s) => s.compareRows);
  const comparing = useLoupe((s) => s.comparing);
  const compareProgress = useLoupe((s) => s.compareProgress);
  const compare = useLoupe((s) => s.compareHeads);
  const cancelCompare = useLoupe((s) => s.cancelCompare);
  const knnK = useLoupe((s) => s.knnK);
  const samples = useLoupe((s) => s.samples);
  const selectMany = useLoupe((s) => s.selectMany);
  const openCell = (ids: readonly string[]): void => {
    const present = new Set(samples.map((s) => s.id));
    selectMany(ids.filter((id) => present.has(id)));
  };
  const nameOf = (id: string): string => labels.find((l) => l.id === id)?.name ?? 'deleted label';
  const evaluation =
    summary?.evaluations.find((e) => e.head === classifier) ?? summary?.evaluations[0];

  return (
    <section className="panel" aria-label="Evaluation">
      <h2>Evaluation</h2>
      {!summary && (
        <p className="project-meta">
          Train to see held-out accuracy (20% of each label is kept aside).
        </p>
      )}
      {summary && (
        <table className="metrics-summary">
          <caption>
            Held-out scores ({summary.evaluations[0]?.validationSize ?? 0} images never used for
            training{summary.refit ? ' the held-out fit' : ''})
          </caption>
          <thead>
            <tr>
              <th scope="col">Head</th>
              <th scope="col">{summary.kind === 'multi-label' ? 'Subset acc.' : 'Accuracy'}</th>
              <th scope="col">Macro F1</th>
            </tr>
          </thead>
          <tbody>
            {summary.evaluations.map((e) => (
              <tr key={e.head}>
                <th scope="row">{e.head === 'knn' ? `KNN (k=${knnK})` : 'Dense'}</th>
                <td>
                  {pct(
                    e.metrics.kind === 'single-label'
                      ? e.metrics.accuracy
                      : e.metrics.subsetAccuracy,
                  )}
                </td>
                <td>{pct(e.metrics.macro.f1)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {summary?.refit && (
        <p className="project-meta" role="note">
          These metrics come from the held-out fit ({summary.evaluations[0]?.trainSize ?? 0}{' '}
          images). The saved and exported dense model was then refit on all {summary.refit.images}{' '}
          labelled images for {summary.refit.epochs} epochs (the count the held-out fit chose), so
          it has no held-out score of its own.
        </p>
      )}
      {evaluation && <PerClass evaluation={evaluation} nameOf={nameOf} />}
      {evaluation?.metrics.kind === 'single-label' && (
        <Confusion evaluation={evaluation} nameOf={nameOf} onOpenCell={openCell} />
      )}
      <div className="try-actions">
        {comparing ? (
          <button type="button" className="small" onClick={cancelCompare}>
            Cancel comparison
          </button>
        ) : (
          <button type="button" className="small" onClick={() => void compare()}>
            Compare heads
          </button>
        )}
        {comparing && <CompareProgressBar progress={compareProgress} />}
      </div>
      {compareRows && (
        <table aria-label="Compare heads">
          <caption>5-fold cross-validation, same folds for every head</caption>
          <thead>
            <tr>
              <th scope="col">Head</th>
              <th scope="col">Accuracy</th>
              <th scope="col">Macro F1</th>
            </tr>
          </thead>
          <tbody>
            {compareRows.map((r) => (
              <tr key={r.head}>
                <th scope="row">{r.head}</th>
                <td>
                  {pct(r.accuracy)} <span className="project-meta">± {pct(r.std)}</span>
                </td>
                <td>{pct(r.macroF1)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** The running comparison: folds done of every head's folds, and the time left. */
function CompareProgressBar({
  progress,
}: {
  progress: { done: number; total: number; etaSeconds: number | null } | null;
}) {
  return (
    <span className="project-meta compare-progress">
      {progress
        ? `5-fold cross-validation: ${progress.done} of ${progress.total} folds done · ${formatEta(progress.etaSeconds)}`
        : '5-fold cross-validation…'}
      <progress
        aria-label="Compare heads progress"
        max={progress?.total ?? 1}
        {...(progress ? { value: progress.done } : {})}
      />
    </span>
  );
}

function PerClass({
  evaluation,
  nameOf,
}: {
  evaluation: HeadEvaluation;
  nameOf: (id: string) => string;
}) {
  const m = evaluation.metrics;
  const rows = m.kind === 'single-label' ? m.perClass : m.perLabel;
  return (
    <table aria-label="Per-label scores">
      <thead>
        <tr>
          <th scope="col">Label</th>
          <th scope="col">Precision</th>
          <th scope="col">Recall</th>
          <th scope="col">F1</th>
          <th scope="col">n</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r, i) => (
          <tr key={evaluation.labels[i] ?? i}>
            <th scope="row">{nameOf(evaluation.labels[i] ?? '')}</th>
            <td>{pct(r.precision)}</td>
            <td>{pct(r.recall)}</td>
            <td>{pct(r.f1)}</td>
            <td>{r.support}</td>
          </tr>
        ))}
      </tbody>
      {m.kind === 'multi-label' && (
        <tfoot>
          <tr>
            <td colSpan={5}>
              Subset accuracy {pct(m.subsetAccuracy)} · Hamming loss {m.hammingLoss.toFixed(3)}
            </td>
          </tr>
        </tfoot>
      )}
    </table>
  );
}

function Confusion({
  evaluation,
  nameOf,
  onOpenCell,
}: {
  evaluation: HeadEvaluation;
  nameOf: (id: string) => string;
  /** Selects a cell's held-out images on the board. */
  onOpenCell: (sampleIds: readonly string[]) => void;
}) {
  if (evaluation.metrics.kind !== 'single-label') return null;
  const { confusion } = evaluation.metrics;
  const max = Math.max(1, ...confusion.flat());
  return (
    <table aria-label="Confusion matrix" className="confusion">
      <caption>
        Rows: true label · columns: predicted ({evaluation.head === 'knn' ? 'KNN' : 'Dense'})
      </caption>
      <thead>
        <tr>
          <th scope="col" />
          {evaluation.labels.map((id) => (
            <th scope="col" key={id}>
              {nameOf(id)}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {confusion.map((row, t) => (
          <tr key={evaluation.labels[t] ?? t}>
            <th scope="row">{nameOf(evaluation.labels[t] ?? '')}</th>
            {row.map((v, p) => (
              <td
                key={p}
                style={{
                  background: `color-mix(in srgb, var(--accent) ${Math.round((v / max) * 70)}%, transparent)`,
                }}
              >
                {evaluation.cells ? (
                  <button
                    type="button"
                    className="confusion-cell"
                    aria-label={`${v} ${nameOf(evaluation.labels[t] ?? '')} predicted as ${nameOf(evaluation.labels[p] ?? '')}`}
                    disabled={v === 0}
                    onClick={() => onOpenCell(evaluation.cells?.[t]?.[p] ?? [])}
                  >
                    {v}
                  </button>
                ) : (
                  v
                )}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
