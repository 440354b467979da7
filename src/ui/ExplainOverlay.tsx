/**
 * An image with an `Explain` switch: when on, the engine's heatmap for the selected classifier's
 * predicted label is drawn over it (`Explanation heatmap`, with a `Heatmap opacity` slider). The
 * grid covers the model's square input; `overlayBox` places that square on the displayed image
 * by the project's aspect mode (centre-crop, the default: the image's centred square, so the
 * cropped-away sides stay uncovered; squash: the whole image; letterbox: a larger square whose
 * bars fall outside the image and are clipped). The grid is painted one pixel per cell on a
 * canvas and scaled up smoothly by the browser.
 */
import { useEffect, useMemo, useState } from 'react';
import { heatmapRgba, overlayBox, type HeatGrid } from '../core/explain/heatmap';
import { useLoupe } from '../state/react';
import type { ExplainTarget } from '../state/explainSlice';
import type { Explanation } from '../worker/api';

/** Displayed images are at most this tall (px). */
const MAX_HEIGHT = 200;

function gridUrl(grid: HeatGrid): string {
  const canvas = document.createElement('canvas');
  canvas.width = grid.cols;
  canvas.height = grid.rows;
  const ctx = canvas.getContext('2d');
  if (!ctx) return '';
  ctx.putImageData(new ImageData(heatmapRgba(grid), grid.cols, grid.rows), 0, 0);
  return canvas.toDataURL('image/png');
}

export function ExplainOverlay(props: {
  target: ExplainTarget;
  src: string;
  alt: string;
  /** Anything whose change calls for a fresh explanation (the prediction, the model). */
  version?: unknown;
}) {
  const { target, src, alt, version } = props;
  const explain = useLoupe((s) => s.explain);
  const classifier = useLoupe((s) => s.classifier);
  const labels = useLoupe((s) => s.labels);
  const aspectMode = useLoupe((s) => s.project?.settings.aspectMode ?? 'centre-crop');
  const [on, setOn] = useState(false);
  const [opacity, setOpacity] = useState(0.6);
  const [size, setSize] = useState<{ w: number; h: number } | null>(null);
  /** The last answer, with what it was asked for (busy while that differs from the props). */
  const [state, setState] = useState<{
    asked: readonly unknown[];
    result: Explanation | null;
    error: string | null;
  } | null>(null);
  const sampleId = target.kind === 'sample' ? target.sampleId : null;
  const asking = [sampleId, src, classifier, version] as const;
  const current = state !== null && state.asked.every((v, i) => v === asking[i]);

  useEffect(() => {
    if (!on) return;
    const controller = new AbortController();
    const asked = [sampleId, src, classifier, version];
    explain(sampleId ? { kind: 'sample', sampleId } : { kind: 'try' }, controller.signal)
      .then((result) => {
        if (!controller.signal.aborted) setState({ asked, result, error: null });
      })
      .catch((error: unknown) => {
        if (controller.signal.aborted) return;
        const message = error instanceof Error ? error.message : String(error);
        setState({ asked, result: null, error: message });
      });
    return () => controller.abort();
  }, [on, explain, sampleId, src, classifier, version]);

  const result = current ? state.result : null;
  const url = useMemo(() => {
    const heat = result?.heatmaps[0];
    return heat ? gridUrl({ rows: result.rows, cols: result.cols, values: heat.values }) : '';
  }, [result]);
  const explained = labels.find((l) => l.id === result?.heatmaps[0]?.labelId)?.name;
  const box = size ? overlayBox(size.w, size.h, aspectMode) : null;
  return (
    <div className="explain">
      <div
        className="explain-stage"
        style={size ? { width: `min(100%, ${(MAX_HEIGHT * size.w) / size.h}px)` } : undefined}
      >
        <img
          src={src}
          alt={alt}
          onLoad={(e) =>
            setSize({ w: e.currentTarget.naturalWidth, h: e.currentTarget.naturalHeight })
          }
        />
        {on && url && box && (
          <img
            className="explain-heat"
            src={url}
            alt="Explanation heatmap"
            data-method={result?.method}
            style={{
              left: `${box.left}%`,
              top: `${box.top}%`,
              width: `${box.width}%`,
              height: `${box.height}%`,
              opacity,
            }}
          />
        )}
      </div>
      <div className="explain-controls">
        <label>
          <input
            type="checkbox"
            role="switch"
            checked={on}
            onChange={(e) => setOn(e.currentTarget.checked)}
          />{' '}
          Explain
        </label>
        {on && (
          <label>
            Heatmap opacity{' '}
            <input
              type="range"
              min={0}
              max={1}
              step={0.05}
              value={opacity}
              onChange={(e) => setOpacity(Number(e.currentTarget.value))}
            />
          </label>
        )}
        {on && !current && <span className="project-meta">Explaining…</span>}
        {on && result && (
          <span className="project-meta">
            {explained ? `${explained}: ` : ''}
            {result.method === 'grad-cam' ? 'Grad-CAM' : 'Occlusion'} · {Math.round(result.ms)} ms
          </span>
        )}
        {on && current && state.error && (
          <span className="project-meta">Unavailable: {state.error}</span>
        )}
      </div>
    </div>
  );
}
