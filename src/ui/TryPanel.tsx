/**
 * Try panel: pick or drop an image, or use the webcam, and see live predictions of the
 * selected classifier (KNN is ready as soon as images are labelled; Dense after training). The
 * Predictions list carries `data-tries`, the number of picked or dropped images whose try has
 * settled, so a test can wait for the answer to its own image.
 */
import { useEffect, useRef, useState } from 'react';
import { useLoupe } from '../state/react';
import type { Prediction } from '../core/heads/types';
import { useFileDrop } from './useFileDrop';
import { ExplainOverlay } from './ExplainOverlay';

export function TryPanel() {
  const classifier = useLoupe((s) => s.classifier);
  const setClassifier = useLoupe((s) => s.setClassifier);
  const result = useLoupe((s) => s.tryResult);
  const preview = useLoupe((s) => s.tryPreviewUrl);
  const tryImage = useLoupe((s) => s.tryImage);
  const hasDense = useLoupe((s) => !!s.modelSummary);
  const labels = useLoupe((s) => s.labels);
  const [webcam, setWebcam] = useState(false);
  const [tries, setTries] = useState(0);
  const tryFile = (file: Blob): void => {
    void tryImage(file).then(() => setTries((n) => n + 1));
  };
  const drop = useFileDrop((files) => {
    const first = files[0];
    if (first) tryFile(first.file);
  });

  const prediction: Prediction | null = result
    ? classifier === 'knn'
      ? result.knn
      : result.dense
    : null;
  const order = result ? (classifier === 'knn' ? result.knnLabels : result.denseLabels) : [];
  const nameOf = (id: string): string => labels.find((l) => l.id === id)?.name ?? 'deleted label';
  const rows = prediction
    ? order
        .map((id, i) => ({ id, name: nameOf(id), p: prediction.probabilities[i] ?? 0 }))
        .sort((a, b) => b.p - a.p)
    : [];

  return (
    <section
      className="panel"
      aria-label="Try the classifier"
      // Focusable by a click (not a tab stop), so a paste after clicking the panel lands here and
      // tries the image instead of adding it to the project.
      tabIndex={-1}
      data-paste-target="try"
      onPaste={(e) => {
        const file = Array.from(e.clipboardData.files).find((f) => f.type.startsWith('image/'));
        if (!file) return;
        e.preventDefault();
        e.stopPropagation();
        tryFile(file);
      }}
      {...drop.handlers}
    >
      <h2>Try it</h2>
      <div role="radiogroup" aria-label="Classifier" className="segmented">
        {(['knn', 'dense'] as const).map((c) => (
          <label key={c} className={classifier === c ? 'on' : ''}>
            <input
              type="radio"
              name="classifier"
              value={c}
              checked={classifier === c}
              disabled={c === 'dense' && !hasDense}
              onChange={() => setClassifier(c)}
            />
            {c === 'knn' ? 'KNN' : 'Dense'}
          </label>
        ))}
      </div>
      <div className="try-actions">
        <label className="button small">
          Choose image
          <input
            type="file"
            accept="image/*"
            className="visually-hidden"
            aria-label="Try an image"
            onChange={(e) => {
              const file = e.currentTarget.files?.[0];
              if (file) tryFile(file);
              e.currentTarget.value = '';
            }}
          />
        </label>
        <button
          type="button"
          className="small"
          aria-pressed={webcam}
          onClick={() => setWebcam(!webcam)}
        >
          {webcam ? 'Stop webcam' : 'Webcam'}
        </button>
      </div>
      {webcam ? (
        <Webcam />
      ) : (
        preview && (
          <ExplainOverlay
            target={{ kind: 'try' }}
            src={preview}
            alt="Image being classified"
            version={result}
          />
        )
      )}
      {!result && !webcam && (
        <p className="project-meta">
          Drop or choose an image to classify it, or click here and paste one.
        </p>
      )}
      {result && !prediction && (
        <p className="project-meta">
          {classifier === 'dense' ? 'Train the dense head to use it.' : 'Label some images first.'}
        </p>
      )}
      <ul aria-label="Predictions" className="predictions" data-tries={tries}>
        {rows.map((r) => (
          <li key={r.id} className={prediction?.labels.includes(r.id) ? 'predicted' : ''}>
            <span className="pred-name">{r.name}</span>{' '}
            <span className="pred-value">{(r.p * 100).toFixed(1)}%</span>
            <span
              className="pred-bar"
              style={{ width: `${Math.round(r.p * 100)}%` }}
              aria-hidden="true"
            />
          </li>
        ))}
      </ul>
      {prediction && prediction.top === null && <p className="project-meta">Prediction: unknown</p>}
    </section>
  );
}

function Webcam() {
  const videoRef = useRef<HTMLVideoElement>(null);
  const tryFrame = useLoupe((s) => s.tryFrame);
  const [devices, setDevices] = useState<MediaDeviceInfo[]>([]);
  const [deviceId, setDeviceId] = useState<string>('');
  const [mirror, setMirror] = useState(true);
  const [fps, setFps] = useState(0);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let stream: MediaStream | null = null;
    let stopped = false;
    let frames = 0;
    let windowStart = performance.now();
    void (async () => {
      try {
        stream = await navigator.mediaDevices.getUserMedia({
          video: deviceId ? { deviceId: { exact: deviceId } } : true,
          audio: false,
        });
        const video = videoRef.current;
        if (!video || stopped) return;
        video.srcObject = stream;
        await video.play();
        setDevices(
          (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'videoinput'),
        );
        const loop = async (): Promise<void> => {
          while (!stopped && video.readyState >= 2) {
            await tryFrame(await createImageBitmap(video));
            frames++;
            const now = performance.now();
            if (now - windowStart > 1000) {
              setFps((frames * 1000) / (now - windowStart));
              frames = 0;
              windowStart = now;
            }
            await new Promise((r) => requestAnimationFrame(r));
          }
        };
        void loop();
      } catch (e) {
        setError(e instanceof Error ? e.message : String(e));
      }
    })();
    return () => {
      stopped = true;
      stream?.getTracks().forEach((t) => t.stop());
    };
  }, [deviceId, tryFrame]);

  return (
    <div className="webcam">
      {error && <p role="alert">Camera unavailable: {error}</p>}
      <video
        ref={videoRef}
        muted
        playsInline
        style={{ transform: mirror ? 'scaleX(-1)' : undefined }}
      />
      <div className="try-actions">
        <label>
          Camera
          <select value={deviceId} onChange={(e) => setDeviceId(e.target.value)}>
            <option value="">Default</option>
            {devices.map((d, i) => (
              <option key={d.deviceId || i} value={d.deviceId}>
                {d.label || `Camera ${i + 1}`}
              </option>
            ))}
          </select>
        </label>
        <label>
          <input type="checkbox" checked={mirror} onChange={(e) => setMirror(e.target.checked)} />{' '}
          Mirror
        </label>
        <span className="project-meta">{fps.toFixed(1)} fps</span>
      </div>
    </div>
  );
}
