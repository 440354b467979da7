/**
 * Backbone and preprocessing settings: built-in MobileNets, the bundled Darknet example, or any
 * TF.js layers model with a chosen embedding layer and input range, from a same-origin URL (a URL
 * on another origin is refused here, with the reason, before anything is fetched) or picked as
 * files (ModelFilesPicker: stored on this device, never fetched). A switch computes
 * the new embeddings in the background; the current ones stay in use until it completes.
 */
import { useEffect, useState } from 'react';
import { probeBackbone } from '../core/backbone/probe';
import {
  customBackboneId,
  darknetTinySpec,
  mobileNetV1Spec,
  mobileNetV2HubSpec,
  mobileNetV2Spec,
} from '../core/backbone/specs';
import { sameOriginProblem } from '../core/sameOrigin';
import type { BackboneSpec, CustomBackboneSpec } from '../core/backbone/types';
import type { AspectMode } from '../core/storage/schema';
import { pendingBackbone, projectBackboneSpec } from '../core/projectSettings';
import { useLoupe } from '../state/react';
import type { ModelFilesInfo } from '../worker/api';
import { ModelFilesPicker } from './ModelFilesPicker';

const CANDIDATES: BackboneSpec[] = [
  mobileNetV2Spec(),
  mobileNetV1Spec(),
  mobileNetV2HubSpec(),
  darknetTinySpec(),
];

export function BackboneSettings() {
  const project = useLoupe((s) => s.project);
  const setBackbone = useLoupe((s) => s.setBackbone);
  const embedded = useLoupe((s) => s.embeddedCount);
  const total = useLoupe((s) => s.samples.length);
  const [available, setAvailable] = useState<Record<string, boolean>>({});
  const [custom, setCustom] = useState({ url: '', layer: '', lo: '0', hi: '1', size: '224' });
  const [formProblem, setFormProblem] = useState<string | null>(null);
  const [picked, setPicked] = useState<ModelFilesInfo | null>(null);

  useEffect(() => {
    let alive = true;
    void Promise.all(
      CANDIDATES.map(async (c) => [c.id, (await probeBackbone(c)).available] as const),
    ).then((entries) => alive && setAvailable(Object.fromEntries(entries)));
    return () => {
      alive = false;
    };
  }, []);

  if (!project) return null;
  const active = projectBackboneSpec(project);
  const pending = pendingBackbone(project);
  const aspectMode = pending?.aspectMode ?? project.settings.aspectMode;
  const chosen = pending?.spec ?? active;

  const useCustom = (): void => {
    const lo = Number(custom.lo);
    const hi = Number(custom.hi);
    const size = Number(custom.size);
    if (picked) {
      const layer = picked.candidates.find((c) => c.name === custom.layer);
      setFormProblem(
        layer || !custom.layer
          ? null
          : `The model has no usable layer "${custom.layer}"; choose one of: ${picked.candidates
              .slice(0, 6)
              .map((c) => c.name)
              .join(', ')}.`,
      );
      if (!layer || !Number.isFinite(lo) || !Number.isFinite(hi) || !(size > 0)) return;
      const spec: CustomBackboneSpec = {
        kind: 'custom',
        id: customBackboneId(picked.name, layer.name, picked.key),
        label: `${picked.name} files (${layer.name})`,
        url: '',
        files: picked.key,
        embeddingLayer: layer.name,
        inputSize: size,
        inputRange: [lo, hi],
        embeddingSize: layer.embeddingSize,
      };
      void setBackbone({ spec, aspectMode });
      return;
    }
    const problem = custom.url ? sameOriginProblem(custom.url) : null;
    setFormProblem(problem);
    if (problem !== null) return;
    if (!custom.url || !custom.layer || !Number.isFinite(lo) || !Number.isFinite(hi) || !(size > 0))
      return;
    const name =
      custom.url
        .replace(/\/model\.json$/, '')
        .split('/')
        .pop() ?? 'custom';
    void setBackbone({
      spec: {
        kind: 'custom',
        id: customBackboneId(name, custom.layer),
        label: `${name} (${custom.layer})`,
        url: custom.url,
        embeddingLayer: custom.layer,
        inputSize: size,
        inputRange: [lo, hi],
      },
      aspectMode,
    });
  };
  const onPicked = (info: ModelFilesInfo | null): void => {
    setPicked(info);
    setFormProblem(null);
    if (info)
      setCustom((c) => ({
        ...c,
        url: '',
        size: info.inputSize !== null ? String(info.inputSize) : c.size,
      }));
  };

  return (
    <fieldset className="backbone-settings">
      <legend>Backbone</legend>
      <label>
        Embedding model
        <select
          value={chosen.id}
          onChange={(e) => {
            const spec = CANDIDATES.find((c) => c.id === e.target.value);
            if (spec) void setBackbone({ spec, aspectMode });
          }}
        >
          {CANDIDATES.map((c) => (
            <option key={c.id} value={c.id} disabled={available[c.id] === false}>
              {c.label}
              {available[c.id] === false ? ' — not installed' : ''}
            </option>
          ))}
          {!CANDIDATES.some((c) => c.id === chosen.id) && (
            <option value={chosen.id}>{chosen.label}</option>
          )}
        </select>
      </label>
      <label>
        Aspect mode
        <select
          value={aspectMode}
          onChange={(e) =>
            void setBackbone({ spec: chosen, aspectMode: e.target.value as AspectMode })
          }
        >
          <option value="centre-crop">Centre-crop</option>
          <option value="letterbox">Letterbox (pad)</option>
          <option value="squash">Squash</option>
        </select>
      </label>
      {pending && (
        <p role="status" className="project-meta">
          Switching to {pending.spec.label} ({pending.aspectMode}): {Math.min(embedded, total)} /{' '}
          {total} embeddings computed. {active.label} stays in use until then.
        </p>
      )}
      <details>
        <summary>Custom TF.js layers model</summary>
        <label>
          model.json URL (same origin)
          <input
            value={custom.url}
            placeholder="models/my-model/model.json"
            onChange={(e) => {
              setCustom({ ...custom, url: e.target.value });
              setFormProblem(null);
              setPicked(null);
            }}
          />
        </label>
        <ModelFilesPicker picked={picked} onPicked={onPicked} />
        {formProblem !== null && (
          <p role="alert" className="project-meta">
            {formProblem}
          </p>
        )}
        <label>
          Embedding layer
          <input
            value={custom.layer}
            list={picked ? 'model-files-layers' : undefined}
            onChange={(e) => setCustom({ ...custom, layer: e.target.value })}
          />
        </label>
        {picked && (
          <datalist id="model-files-layers">
            {picked.candidates.map((c) => (
              <option key={c.name} value={c.name}>
                {c.embeddingSize}-d
              </option>
            ))}
          </datalist>
        )}
        <div className="settings-grid">
          <label>
            Input min
            <input
              value={custom.lo}
              onChange={(e) => setCustom({ ...custom, lo: e.target.value })}
            />
          </label>
          <label>
            Input max
            <input
              value={custom.hi}
              onChange={(e) => setCustom({ ...custom, hi: e.target.value })}
            />
          </label>
          <label>
            Input size
            <input
              value={custom.size}
              onChange={(e) => setCustom({ ...custom, size: e.target.value })}
            />
          </label>
        </div>
        <button type="button" className="small" onClick={useCustom}>
          Use custom model
        </button>
      </details>
    </fieldset>
  );
}
