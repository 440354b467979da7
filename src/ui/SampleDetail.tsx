/**
 * Detail of the one selected image: a larger preview, its facts, its own out-of-fold prediction
 * from the stored predictions ("Labelled rose, predicted tulip 81%"; nothing before they are
 * computed or after its labels changed), and what the base model sees (top-3 ImageNet classes of
 * the backbone's own head: a sanity check on weights and preprocessing).
 */
import { useEffect, useState } from 'react';
import type { ClassPrediction } from '../core/backbone/types';
import { useLoupe } from '../state/react';
import { formatBytes } from '../core/imageio';
import { samplePrediction } from '../core/analysis/storedOutOfFold';
import { ExplainOverlay } from './ExplainOverlay';

export function SampleDetail() {
  const selection = useLoupe((s) => s.selection);
  const samples = useLoupe((s) => s.samples);
  const project = useLoupe((s) => s.project);
  const loadSampleBlob = useLoupe((s) => s.loadSampleBlob);
  const baseModelSees = useLoupe((s) => s.baseModelSees);
  const outOfFold = useLoupe((s) => s.outOfFold);
  const labels = useLoupe((s) => s.labels);
  const modelSummary = useLoupe((s) => s.modelSummary);
  const id = selection.size === 1 ? [...selection][0] : undefined;
  const sample = id ? samples.find((s) => s.id === id) : undefined;
  const [url, setUrl] = useState<string | null>(null);
  const [seen, setSeen] = useState<{
    id: string;
    classes: ClassPrediction[] | null;
    error?: string;
  } | null>(null);

  useEffect(() => {
    if (!id) return;
    let alive = true;
    let objectUrl: string | null = null;
    void loadSampleBlob(id).then((blob) => {
      if (!alive || !blob) return;
      objectUrl = URL.createObjectURL(blob);
      setUrl(objectUrl);
    });
    return () => {
      alive = false;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
      setUrl(null);
    };
  }, [id, loadSampleBlob]);

  useEffect(() => {
    if (!id || !project) return;
    const controller = new AbortController();
    baseModelSees(id, controller.signal)
      .then((classes) => !controller.signal.aborted && setSeen({ id, classes }))
      .catch(
        (error: unknown) =>
          !controller.signal.aborted && setSeen({ id, classes: null, error: String(error) }),
      );
    return () => controller.abort();
  }, [id, project, baseModelSees]);

  if (!sample) return null;
  const classes = seen?.id === sample.id ? seen.classes : null;
  const own = samplePrediction(outOfFold, sample);
  const nameOf = (id: string): string => labels.find((l) => l.id === id)?.name ?? 'deleted label';
  return (
    <section className="panel sample-detail" aria-label="Image details">
      {url && (
        <ExplainOverlay
          target={{ kind: 'sample', sampleId: sample.id }}
          src={url}
          alt={sample.name}
          version={modelSummary}
        />
      )}
      <h2>{sample.name}</h2>
      <p className="project-meta">
        {sample.width} × {sample.height} px · {formatBytes(sample.byteSize)} · {sample.mime}
      </p>
      {own && (
        <p className={own.agrees ? 'sample-prediction' : 'sample-prediction review-conflict'}>
          Labelled {sample.labelIds.map(nameOf).join(', ')}, predicted {nameOf(own.predicted)}{' '}
          {Math.round(own.probability * 100)}%
        </p>
      )}
      <section aria-label="Base model sees">
        <h3>Base model sees:</h3>
        {classes ? (
          <ol className="base-classes">
            {classes.map((c) => (
              <li key={c.className}>
                {c.className}{' '}
                <span className="project-meta">{(c.probability * 100).toFixed(1)}%</span>
              </li>
            ))}
          </ol>
        ) : seen?.id === sample.id && seen.error ? (
          <p>Unavailable: {seen.error}</p>
        ) : (
          <p className="project-meta">Looking…</p>
        )}
      </section>
    </section>
  );
}
