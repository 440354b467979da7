/** Project settings: single- or multi-label, and the backend used on this device. */
import { useLoupe } from '../state/react';
import type { BackendName } from '../worker/engineBridge';
import { BackboneSettings } from './BackboneSettings';

export function ProjectSettings() {
  const project = useLoupe((s) => s.project);
  const setKind = useLoupe((s) => s.setProjectKind);
  const override = useLoupe((s) => s.backendOverride);
  const setOverride = useLoupe((s) => s.setBackendOverride);
  const status = useLoupe((s) => s.engineStatus);
  if (!project) return null;
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
