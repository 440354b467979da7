/** A model input drawn at import time, and how it travels between threads (by transfer). */
import type { AspectMode } from '../kinds';

/** A stored sample's model input, drawn at import (see `ImportOptions.modelInput`). */
export interface PreparedInput {
  sampleId: string;
  size: number;
  mode: AspectMode;
  pixels: { data: Uint8ClampedArray; width: number; height: number };
}

/** The buffers of `inputs`, to hand them on by transfer rather than by copy. */
export function preparedBuffers(inputs: readonly PreparedInput[]): ArrayBuffer[] {
  return inputs.map((i) => i.pixels.data.buffer as ArrayBuffer);
}
