/**
 * The Review view's sections on unlabelled images. `Label next`: the images the live KNN is least
 * sure about, spread over different scenes, each with its suggested label (`Accept {label}`) and
 * a picker for another; number keys 1-9 on a focused item give it the label in that board
 * position, arrow keys move between items (one tab stop for the list), and focus moves on to the
 * next item after each label. `Clusters`: the unlabelled images grouped by similarity (`Number of
 * clusters`, automatic by default), each group a strip of its images with `Make label from
 * cluster` (asks a name) and `Add cluster to {label}`. Images labelled since the last computation
 * are left out at once.
 */
import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { LabelRecord, SampleMeta } from '../core/storage/schema';
import { useLoupe } from '../state/react';
import { Dialog } from './Dialog';
import { nextGridIndex } from './gridKeys';
import { useThumbnailUrl } from './useThumbnailUrl';
import { useListKeys } from './useListKeys';

/** Images shown per cluster strip. */
const STRIP = 12;
const pct = (v: number): string => `${Math.round(v * 100)}%`;

function Thumb({ sample, className }: { sample: SampleMeta; className: string }) {
  const url = useThumbnailUrl(sample.id);
  return url ? (
    <img src={url} alt={sample.name} className={className} />
  ) : (
    <span className={`${className} thumb-placeholder`} aria-hidden="true" />
  );
}

/** The open project's unlabelled samples by id (labelled ones drop out of both sections). */
function useUnlabelled(): Map<string, SampleMeta> {
  const samples = useLoupe((s) => s.samples);
  return useMemo(
    () => new Map(samples.filter((s) => s.labelIds.length === 0).map((s) => [s.id, s])),
    [samples],
  );
}

export function LabelNextSection() {
  const result = useLoupe((s) => s.labelNext);
  const busy = useLoupe((s) => s.unlabelledBusy);
  const error = useLoupe((s) => s.unlabelledError);
  const labels = useLoupe((s) => s.labels);
  const labelSamples = useLoupe((s) => s.labelSamples);
  const unlabelled = useUnlabelled();
  const listRef = useRef<HTMLUListElement>(null);
  const [current, setCurrent] = useState<string | null>(null);
  /** The item that should hold focus after a label was given (until focus leaves the list). */
  const pendingFocus = useRef<string | null>(null);

  const items = (result?.items ?? []).filter((i) => unlabelled.has(i.sampleId));
  const tabStop = items.some((i) => i.sampleId === current)
    ? current
    : (items[0]?.sampleId ?? null);

  const itemElement = (id: string): HTMLElement | null =>
    listRef.current?.querySelector<HTMLElement>(`[data-sample-id="${CSS.escape(id)}"]`) ?? null;
  const focusItem = (id: string | undefined): void => {
    if (!id) return;
    setCurrent(id);
    itemElement(id)?.focus();
  };

  useEffect(() => {
    // A refreshed ranking re-renders the list: keep focus on the item the user is working on.
    const id = pendingFocus.current;
    if (!id || !listRef.current) return;
    const active = document.activeElement;
    if (active && active !== document.body) return;
    const target =
      itemElement(id) ?? listRef.current.querySelector<HTMLElement>('[data-sample-id]');
    target?.focus();
  });

  const assign = (index: number, labelId: string): void => {
    const item = items[index];
    if (!item) return;
    const next = items[index + 1] ?? items[index - 1];
    pendingFocus.current = next?.sampleId ?? null;
    focusItem(next?.sampleId);
    void labelSamples([item.sampleId], labelId);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLLIElement>, index: number): void => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.target instanceof HTMLSelectElement) return;
    if (/^[1-9]$/.test(event.key)) {
      const label = labels[Number(event.key) - 1];
      if (!label) return;
      event.preventDefault();
      event.stopPropagation();
      assign(index, label.id);
      return;
    }
    const to = nextGridIndex(event.key, index, items.length, 1);
    if (to === null || event.target !== event.currentTarget) return;
    event.preventDefault();
    focusItem(items[to]?.sampleId);
  };

  const byId = new Map(labels.map((l) => [l.id, l]));
  return (
    <section aria-labelledby="review-label-next" aria-busy={busy}>
      <h3 id="review-label-next">Label next</h3>
      <p className="project-meta">
        Unlabelled images the current KNN is least sure about, spread over different scenes. On a
        focused image, press 1–9 to give it the label in that position
        {labels.length > 0 &&
          ` (${labels
            .slice(0, 9)
            .map((l, i) => `${i + 1} ${l.name}`)
            .join(', ')})`}
        .{busy && ' Updating…'}
      </p>
      {error && <p role="alert">{error}</p>}
      {result && items.length === 0 && !busy && (
        <p className="project-meta">
          {unlabelled.size === 0 ? 'No unlabelled images.' : 'No embedded unlabelled images yet.'}
        </p>
      )}
      <ul
        className="review-list"
        ref={listRef}
        aria-label="Images to label next"
        onBlur={(e) => {
          // Focus left the list (a moved or removed item fires no blur, so this is the user).
          const to = e.relatedTarget;
          if (!(to instanceof Node && e.currentTarget.contains(to))) pendingFocus.current = null;
        }}
      >
        {items.map((item, index) => {
          const sample = unlabelled.get(item.sampleId);
          if (!sample) return null;
          const suggested: LabelRecord | undefined = item.suggested
            ? byId.get(item.suggested)
            : undefined;
          const inner = item.sampleId === tabStop ? 0 : -1;
          return (
            <li
              key={item.sampleId}
              data-sample-id={item.sampleId}
              tabIndex={inner}
              aria-label={`${sample.name}: ${suggested ? `suggested ${suggested.name}` : 'no suggestion'}`}
              className="review-item"
              onFocus={(e) => {
                if (e.target === e.currentTarget) setCurrent(item.sampleId);
              }}
              onKeyDown={(e) => onKeyDown(e, index)}
            >
              <Thumb sample={sample} className="review-thumb" />
              <span className="review-text">
                <span className="review-name">{sample.name}</span>
                <span>
                  {suggested
                    ? `suggested ${suggested.name} ${pct(item.suggestedProbability)}`
                    : 'no suggestion yet'}
                </span>
              </span>
              <span className="review-actions">
                {suggested && (
                  <button
                    type="button"
                    tabIndex={inner}
                    onClick={() => assign(index, suggested.id)}
                  >
                    Accept {suggested.name}
                  </button>
                )}
                <select
                  aria-label={`Label ${sample.name} as`}
                  tabIndex={inner}
                  value=""
                  onChange={(e) => {
                    if (e.target.value) assign(index, e.target.value);
                  }}
                >
                  <option value="">Other label…</option>
                  {labels.map((l) => (
                    <option key={l.id} value={l.id}>
                      {l.name}
                    </option>
                  ))}
                </select>
              </span>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

function MakeLabelDialog(props: { sampleIds: string[] | null; onClose: () => void }) {
  const makeLabel = useLoupe((s) => s.makeLabelFromCluster);
  const { sampleIds, onClose } = props;
  return (
    <Dialog title="Make label from cluster" open={sampleIds !== null} onClose={onClose}>
      {sampleIds && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            const name = new FormData(e.currentTarget).get('name');
            if (typeof name === 'string' && name.trim())
              void makeLabel(sampleIds, name.trim()).then(onClose);
          }}
        >
          <label>
            Name of the new label for these {sampleIds.length} images
            <input name="name" required autoFocus />
          </label>
          <div className="dialog-actions">
            <button type="button" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" className="primary">
              Create label
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}

export function ClustersSection() {
  const clustering = useLoupe((s) => s.clustering);
  const busy = useLoupe((s) => s.unlabelledBusy);
  const clusterK = useLoupe((s) => s.clusterK);
  const setClusterK = useLoupe((s) => s.setClusterK);
  const labels = useLoupe((s) => s.labels);
  const labelSamples = useLoupe((s) => s.labelSamples);
  const unlabelled = useUnlabelled();
  const [naming, setNaming] = useState<string[] | null>(null);

  const clusters = (clustering?.clusters ?? [])
    .map((c) => c.sampleIds.filter((id) => unlabelled.has(id)))
    .filter((ids) => ids.length > 0);
  const maxK = Math.max(1, clustering?.maxK ?? 1, typeof clusterK === 'number' ? clusterK : 1);
  return (
    <section aria-labelledby="review-clusters" aria-busy={busy}>
      <h3 id="review-clusters">Clusters</h3>
      <p className="project-meta">
        Unlabelled images grouped by similarity (k-means on the embeddings; the number of clusters
        is chosen automatically unless you set it).{busy && ' Updating…'}
      </p>
      <div className="review-cluster-controls">
        <label>
          Number of clusters{' '}
          <input
            type="number"
            min={1}
            max={Math.max(maxK, 50)}
            value={clusterK === 'auto' ? (clustering?.k ?? '') : clusterK}
            onChange={(e) => {
              const k = Number(e.target.value);
              if (Number.isInteger(k) && k >= 1) setClusterK(k);
            }}
          />
        </label>
        {clusterK === 'auto' ? (
          <span className="project-meta"> (automatic)</span>
        ) : (
          <button type="button" onClick={() => setClusterK('auto')}>
            Choose automatically
          </button>
        )}
      </div>
      {clustering && clusters.length === 0 && !busy && (
        <p className="project-meta">
          {unlabelled.size === 0 ? 'No unlabelled images.' : 'No embedded unlabelled images yet.'}
        </p>
      )}
      {clusters.map((ids, index) => (
        <div
          key={ids[0]}
          role="group"
          aria-label={`Cluster ${index + 1}`}
          className="review-group review-cluster"
        >
          <p className="review-group-head">
            Cluster {index + 1} · {ids.length} image{ids.length === 1 ? '' : 's'}
          </p>
          <ClusterStrip ids={ids} unlabelled={unlabelled} />
          <div className="review-cluster-actions">
            <button type="button" onClick={() => setNaming(ids)}>
              Make label from cluster
            </button>
            {labels.map((l) => (
              <button key={l.id} type="button" onClick={() => void labelSamples(ids, l.id)}>
                Add cluster to {l.name}
              </button>
            ))}
          </div>
        </div>
      ))}
      <MakeLabelDialog sampleIds={naming} onClose={() => setNaming(null)} />
    </section>
  );
}

/** A cluster's first images: a keyboard list (arrows, 1-9 label the focused image). */
function ClusterStrip(props: { ids: string[]; unlabelled: ReadonlyMap<string, SampleMeta> }) {
  const { ids, unlabelled } = props;
  const shown = ids.slice(0, STRIP).filter((id) => unlabelled.has(id));
  const { listRef, itemProps } = useListKeys(shown);
  return (
    <ul className="review-strip" ref={listRef}>
      {shown.map((id) => {
        const sample = unlabelled.get(id);
        return sample ? (
          <li key={id} {...itemProps(id)} aria-label={sample.name} className="review-strip-item">
            <Thumb sample={sample} className="review-strip-thumb" />
          </li>
        ) : null;
      })}
      {ids.length > STRIP && <li className="project-meta">+{ids.length - STRIP} more</li>}
    </ul>
  );
}
