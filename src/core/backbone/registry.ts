/**
 * `createBackbone(spec)` for any spec (built-in specs live in specs.ts), and a cheap availability
 * probe so the UI can say "weights missing: run `npm run models`" before trying to load.
 */
import { createCustomBackbone } from './layersBackbone';
import { CrossOriginModelError, sameOriginFetch } from '../sameOrigin';
import { FIX_MODELS_COMMAND } from './layersModel';
import { createMobileNetV1Backbone } from './mobilenetV1';
import { createMobileNetV2Backbone } from './mobilenetV2';
import { modelUrl } from './specs';
import type { Backbone, BackboneOptions, BackboneSpec } from './types';

/** A backbone for `spec` (not loaded yet: call `load()`). */
export function createBackbone(spec: BackboneSpec, options: BackboneOptions = {}): Backbone {
  switch (spec.kind) {
    case 'mobilenet-v1':
    case 'imagenet-layers':
      return createMobileNetV1Backbone(spec, options);
    case 'mobilenet-v2':
      return createMobileNetV2Backbone(spec, options);
    case 'custom':
      return createCustomBackbone(spec, options);
    default: {
      const never: never = spec;
      throw new Error(`Unknown backbone kind in ${JSON.stringify(never)}`);
    }
  }
}

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
