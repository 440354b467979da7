/**
 * `createBackbone(spec)` for any spec (built-in specs live in specs.ts; the availability probe,
 * which needs no TF.js, in probe.ts).
 */
import { createCustomBackbone } from './layersBackbone';
import { createMobileNetV1Backbone } from './mobilenetV1';
import { createMobileNetV2Backbone } from './mobilenetV2';
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

export { probeBackbone, type Availability } from './probe';
