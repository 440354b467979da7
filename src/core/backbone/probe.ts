/**
 * A cheap availability probe for a backbone spec, so the UI can say "weights missing: run
 * `npm run models`" before anything is loaded. Reads only the model.json; no TF.js here, so the
 * page can probe without loading a model runtime.
 */
import { CrossOriginModelError, sameOriginFetch } from '../sameOrigin';
import { FIX_MODELS_COMMAND, modelUrl } from './specs';
import type { BackboneSpec } from './types';

export type Availability =
  { available: true } | { available: false; reason: string; fixCommand: string | null };

/**
 * Whether `spec.url` serves a model.json (not a 404, not an HTML fallback page). Reads only the
 * JSON, no weights. A URL the same-origin rule refuses is unavailable, with no request made.
 */
export async function probeBackbone(spec: BackboneSpec): Promise<Availability> {
  const fixCommand = spec.kind === 'custom' ? null : FIX_MODELS_COMMAND;
  try {
    const res = await sameOriginFetch(modelUrl(spec.url), { cache: 'no-cache' });
    if (!res.ok) {
      return { available: false, reason: `${spec.url}: HTTP ${res.status}`, fixCommand };
    }
    const json = (await res.json()) as { modelTopology?: unknown; weightsManifest?: unknown };
    if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
      return { available: false, reason: `${spec.url} is not a TF.js model.json`, fixCommand };
    }
    return { available: true };
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const refused = err instanceof CrossOriginModelError;
    return {
      available: false,
      reason: `${spec.url}: ${msg}`,
      fixCommand: refused ? null : fixCommand,
    };
  }
}
