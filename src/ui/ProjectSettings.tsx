/** Project settings: single- or multi-label, KNN neighbours, backbone, and this device's backend. */
import { useLoupe } from '../state/react';
import { countMultiLabelled } from '../state/boardSlice';
import { projectHeadSettings } from '../core/projectSettings';
import type { BackendName } from '../worker/api';
import { BackboneSettings } from './BackboneSettings';

const KNN_K_CHOICES = [1, 3, 5, 7, 10, 15, 20];

/** A "say unknown below ..." threshold: Never, or one of `choices`. */
function ThresholdSelect(props: {
  label: string;
  value: number | null;
  choices: readonly number[];
  format: (threshold: number) => string;
  onChange: (threshold: number | null) => void;
}) {
  return (
    <label>
      {props.label}
      <select
        value={String(props.value ?? 'off')}
        onChange={(e) => props.onChange(e.target.value === 'off' ? null : Number(e.target.value))}
      >
        <option value="off">Never</option>
        {props.choices.map((t) => (
          <option key={t} value={String(t)}>
            {props.format(t)}
          </option>
        ))}
      </select>
    </label>
  );
}

export function ProjectSettings() {
  const project = useLoupe((s) => s.project);
  const setKind = useLoupe((s) => s.setProjectKind);
  const override = useLoupe((s) => s.backendOverride);
  const setOverride = useLoupe((s) => s.setBackendOverride);
  const status = useLoupe((s) => s.engineStatus);
  const setHeadSettings = useLoupe((s) => s.setHeadSettings);
  const knnK = useLoupe((s) => s.knnK);
  const multiLabelled = useLoupe((s) => countMultiLabelled(s.samples));
  if (!project) return null;
  const headSettings = projectHeadSettings(project);
  return (
    <details className="panel">
      <summary>Project settings</summary>
      <label>
        Project type
        <select
          value={project.kind}
          onChange={(e) => void setKind(e.target.value as typeof project.kind)}
        >
          <option value="single-label">Single-label (one label per image)</option>
          <option value="multi-label">Multi-label (several labels per image)</option>
        </select>
      </label>
      {project.kind === 'multi-label' && multiLabelled > 0 && (
        <p className="project-meta">
          {multiLabelled === 1 ? '1 image carries' : `${multiLabelled} images carry`} several
          labels: give each one label before switching to single-label.
        </p>
      )}
      <label>
        KNN neighbours (k)
        <select
          value={String(headSettings.k)}
          onChange={(e) =>
            void setHeadSettings({ k: e.target.value === 'auto' ? 'auto' : Number(e.target.value) })
          }
        >
          <option value="auto">
            Automatic (cross-validated){headSettings.k === 'auto' ? `: k = ${knnK}` : ''}
          </option>
          {KNN_K_CHOICES.map((k) => (
            <option key={k} value={String(k)}>
              {k}
            </option>
          ))}
        </select>
      </label>
      <label className="inline-check">
        <input
          type="checkbox"
          checked={headSettings.weighted}
          onChange={(e) => void setHeadSettings({ weighted: e.target.checked })}
        />
        Similarity-weighted KNN votes
      </label>
      <ThresholdSelect
        label="KNN says unknown below similarity"
        value={headSettings.knnUnknownBelow}
        choices={[0.5, 0.6, 0.7, 0.8, 0.9]}
        format={(t) => t.toFixed(1)}
        onChange={(knnUnknownBelow) => void setHeadSettings({ knnUnknownBelow })}
      />
      <ThresholdSelect
        label="Dense says unknown below confidence"
        value={headSettings.denseUnknownBelow}
        choices={[0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.99]}
        format={(t) => `${Math.round(t * 100)} %`}
        onChange={(denseUnknownBelow) => void setHeadSettings({ denseUnknownBelow })}
      />
      <label className="inline-check">
        <input
          type="checkbox"
          checked={headSettings.flipTta}
          onChange={(e) => void setHeadSettings({ flipTta: e.target.checked })}
        />
        Try panel: also look at the mirrored image (test-time flip; from the next image on)
      </label>
      <BackboneSettings />
      <label>
        Compute backend
        <select
          value={override}
          onChange={(e) => void setOverride(e.target.value as BackendName | 'auto')}
        >
          <option value="auto">Automatic (fastest measured)</option>
          <option value="webgpu">WebGPU</option>
          <option value="webgl">WebGL</option>
          <option value="wasm">WASM</option>
          <option value="cpu">CPU (slowest)</option>
        </select>
      </label>
      {status && status.reports.length > 0 && (
        <ul className="project-meta backend-reports">
          {status.reports.map((r) => (
            <li key={r.name}>
              {r.name}:{' '}
              {r.available
                ? r.imgPerSec !== null
                  ? `${r.imgPerSec.toFixed(1)} img/s`
                  : 'not timed'
                : 'unavailable'}
              {r.software ? ' (software renderer)' : ''} — {r.detail}
            </li>
          ))}
        </ul>
      )}
    </details>
  );
}
