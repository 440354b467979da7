/**
 * The Review view: a `Review` toggle on the board toolbar and, while it is open, the `Probable
 * mislabels` region — labelled images whose out-of-fold KNN prediction disagrees most with their
 * label, each with its thumbnail, given and suggested label, `Move to {label}` and `Keep` — and
 * the `Near-duplicates` region (NearDuplicates.tsx). An image whose labels changed since the
 * predictions were computed is left out until they are recomputed; while another tab computes
 * them, the section says so.
 * Below them, the sections on unlabelled images (`Label next`, `Clusters`: UnlabelledReview.tsx).
 */
import { useMemo } from 'react';
import { labelKey, rankMislabels } from '../core/analysis/mislabels';
import { useLoupe } from '../state/react';
import { ClustersSection, LabelNextSection } from './UnlabelledReview';
import { NearDuplicates } from './NearDuplicates';
import { ReviewThumb } from './ReviewThumb';
import { useListKeys } from './useListKeys';

/** Images listed in `Probable mislabels`. */
const TOP_N = 20;
const pct = (v: number): string => `${Math.round(v * 100)}%`;

export function ReviewButton() {
  const open = useLoupe((s) => s.reviewOpen);
  const setOpen = useLoupe((s) => s.setReviewOpen);
  return (
    <button type="button" aria-pressed={open} onClick={() => setOpen(!open)}>
      Review
    </button>
  );
}

export function ReviewPanel() {
  const open = useLoupe((s) => s.reviewOpen);
  const outOfFold = useLoupe((s) => s.outOfFold);
  const busy = useLoupe((s) => s.reviewBusy);
  // Another tab computes the predictions: this one waits for them (then reads them back).
  const elsewhere = useLoupe((s) => !s.outOfFoldRunning && s.remoteJobs.outOfFold !== undefined);
  const error = useLoupe((s) => s.reviewError);
  const samples = useLoupe((s) => s.samples);
  const labels = useLoupe((s) => s.labels);
  const reviewed = useLoupe((s) => s.project?.settings.reviewedMislabels);
  const applySuggestion = useLoupe((s) => s.applySuggestion);
  const keepSample = useLoupe((s) => s.keepSample);

  const byId = useMemo(() => new Map(samples.map((s) => [s.id, s])), [samples]);
  const candidates = useMemo(() => {
    if (!outOfFold) return [];
    const current = outOfFold.predictions.filter((p) => {
      const sample = byId.get(p.sampleId);
      return sample !== undefined && labelKey(sample.labelIds) === labelKey(p.labelIds);
    });
    return rankMislabels(
      { labels: outOfFold.labels, predictions: current },
      { ...(reviewed ? { reviewed } : {}), limit: TOP_N },
    );
  }, [outOfFold, byId, reviewed]);
  const { listRef, itemProps } = useListKeys(candidates.map((c) => c.sampleId));

  if (!open) return null;
  const nameOf = (id: string): string => labels.find((l) => l.id === id)?.name ?? 'deleted label';

  return (
    <section className="panel review" aria-label="Review">
      <h2>Review</h2>
      {error && <p role="alert">{error}</p>}
      <section aria-labelledby="review-mislabels" aria-busy={busy}>
        <h3 id="review-mislabels">Probable mislabels</h3>
        <p className="project-meta">
          Each labelled image is predicted by a KNN that never saw it (5 folds); the images whose
          prediction disagrees most with their label come first.
          {busy && (elsewhere ? ' Running in another tab…' : ' Updating…')}
        </p>
        {outOfFold && candidates.length === 0 && !busy && (
          <p className="project-meta">No labelled image disagrees with its prediction.</p>
        )}
        <ul className="review-list" ref={listRef}>
          {candidates.map((c) => {
            const sample = byId.get(c.sampleId);
            if (!sample) return null;
            const given = nameOf(c.given);
            const suggested = nameOf(c.suggested);
            return (
              <li
                key={c.sampleId}
                {...itemProps(c.sampleId)}
                aria-label={`${sample.name}: labelled ${given}, predicted ${suggested}`}
                className="review-item"
              >
                <ReviewThumb sample={sample} />
                <span className="review-text">
                  <span className="review-name">{sample.name}</span>
                  <span>
                    labelled {given} {pct(c.givenProbability)}, predicted {suggested}{' '}
                    {pct(c.suggestedProbability)}
                  </span>
                </span>
                <span className="review-actions">
                  <button
                    type="button"
                    onClick={() => void applySuggestion(c.sampleId, c.given, c.suggested)}
                  >
                    Move to {suggested}
                  </button>
                  <button type="button" onClick={() => void keepSample(c.sampleId)}>
                    Keep
                  </button>
                </span>
              </li>
            );
          })}
        </ul>
      </section>
      <NearDuplicates byId={byId} nameOf={nameOf} busy={busy} />
      <LabelNextSection />
      <ClustersSection />
    </section>
  );
}
