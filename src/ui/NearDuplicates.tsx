/**
 * The `Near-duplicates` region of the Review view: the `Similarity threshold` slider (a project
 * setting), the groups of nearly identical images with their flags (`conflicting labels` from the
 * current labels; `leakage` when a group spans the training and evaluation parts of the dense
 * head's hold-out split) and, per group, `Keep one`, which asks for confirmation with the number
 * of images it deletes.
 */
import { useId, useState } from 'react';
import { labelKey } from '../core/analysis/mislabels';
import { MIN_DUPLICATE_THRESHOLD } from '../core/analysis/duplicateGroups';
import { projectDuplicateThreshold } from '../core/projectSettings';
import type { SampleMeta } from '../core/storage/schema';
import { useLoupe } from '../state/react';
import { forgetThumbnails } from '../state/thumbnails';
import { Dialog } from './Dialog';
import { ReviewThumb } from './ReviewThumb';
import { useListKeys } from './useListKeys';

/** Groups listed. */
const TOP_N = 20;

export function NearDuplicates(props: {
  byId: ReadonlyMap<string, SampleMeta>;
  nameOf: (labelId: string) => string;
  busy: boolean;
}) {
  const { byId, nameOf, busy } = props;
  const duplicates = useLoupe((s) => s.duplicates);
  const threshold = useLoupe((s) => (s.project ? projectDuplicateThreshold(s.project) : null));
  const setThreshold = useLoupe((s) => s.setDuplicateThreshold);
  const keepOnePlan = useLoupe((s) => s.keepOnePlan);
  const keepOne = useLoupe((s) => s.keepOneOfGroup);
  const sliderId = useId();
  const [confirming, setConfirming] = useState<{ keep: string; remove: string[] } | null>(null);

  /** With the current labels: the group's labelled images do not all carry the same labels. */
  const conflicting = (ids: readonly string[]): boolean =>
    new Set(
      ids.flatMap((id) => {
        const labelIds = byId.get(id)?.labelIds ?? [];
        return labelIds.length > 0 ? [labelKey(labelIds)] : [];
      }),
    ).size > 1;
  const keptName = confirming ? (byId.get(confirming.keep)?.name ?? '') : '';
  const count = confirming?.remove.length ?? 0;

  return (
    <section aria-labelledby="review-duplicates" aria-busy={busy}>
      <h3 id="review-duplicates">Near-duplicates</h3>
      <p className="project-meta">
        Images whose embeddings are nearly identical, such as re-encoded or resized copies. A group
        whose images carry different labels is a conflict; one with images in both the training and
        the evaluation part of the trained model&apos;s split is leakage (it inflates the scores).
      </p>
      {threshold !== null && (
        <p className="review-threshold">
          <label htmlFor={sliderId}>Similarity threshold</label>{' '}
          <input
            id={sliderId}
            type="range"
            min={MIN_DUPLICATE_THRESHOLD}
            max={1}
            step={0.005}
            value={threshold}
            onChange={(e) => void setThreshold(Number(e.currentTarget.value))}
          />{' '}
          <output htmlFor={sliderId}>{threshold.toFixed(3)}</output>
        </p>
      )}
      {duplicates && duplicates.length === 0 && !busy && (
        <p className="project-meta">No near-duplicates.</p>
      )}
      {(duplicates ?? []).slice(0, TOP_N).map((group) => (
        <div key={group.sampleIds.join(',')} className="review-group">
          <p className="review-group-head">
            {group.sampleIds.length} images, similarity {group.similarity.toFixed(3)}
            {conflicting(group.sampleIds) && (
              <strong className="review-conflict"> · conflicting labels</strong>
            )}
            {group.leakage && <strong className="review-conflict"> · leakage</strong>}{' '}
            <button type="button" onClick={() => setConfirming(keepOnePlan(group.sampleIds))}>
              Keep one
            </button>
          </p>
          <GroupList ids={group.sampleIds} byId={byId} nameOf={nameOf} />
        </div>
      ))}
      <Dialog title="Keep one image" open={confirming !== null} onClose={() => setConfirming(null)}>
        <p>
          Keep {keptName} and delete the other {count} image{count === 1 ? '' : 's'} of this group
          from the project? They move to the project's Trash.
        </p>
        <div className="dialog-actions">
          <button type="button" onClick={() => setConfirming(null)}>
            Cancel
          </button>
          <button
            type="button"
            className="danger"
            onClick={() => {
              const plan = confirming;
              if (!plan) return;
              forgetThumbnails(plan.remove);
              void keepOne([plan.keep, ...plan.remove]).then(() => setConfirming(null));
            }}
          >
            Delete {count} image{count === 1 ? '' : 's'}
          </button>
        </div>
      </Dialog>
    </section>
  );
}

/** One group's images: a keyboard list (arrows, 1-9 label the focused image). */
function GroupList(props: {
  ids: string[];
  byId: ReadonlyMap<string, SampleMeta>;
  nameOf: (id: string) => string;
}) {
  const { listRef, itemProps } = useListKeys(props.ids);
  return (
    <ul className="review-list" ref={listRef}>
      {props.ids.map((id) => {
        const sample = props.byId.get(id);
        if (!sample) return null;
        const labelNames = sample.labelIds.map(props.nameOf).join(', ') || 'unlabelled';
        return (
          <li
            key={id}
            {...itemProps(id)}
            aria-label={`${sample.name}: ${labelNames}`}
            className="review-item"
          >
            <ReviewThumb sample={sample} />
            <span className="review-text">
              <span className="review-name">{sample.name}</span>
              <span>{labelNames}</span>
            </span>
          </li>
        );
      })}
    </ul>
  );
}
