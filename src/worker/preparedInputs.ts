/**
 * Model inputs drawn at import time (the data worker decodes each image once, for its checks, its
 * thumbnail and this), handed to the engine through the page and kept here until the embedding
 * pipeline asks for them. `withPrepared` wraps the pipeline's batch preparation: samples with a
 * matching input (same size and aspect mode, original view) skip the read and decode; the others go
 * to the preparation they would have had anyway. Bounded by bytes and age: when full, new inputs
 * are refused rather than old ones dropped, because the pipeline embeds the oldest samples first
 * (a drop larger than the bound keeps the inputs the next batches need); whatever is refused or
 * expires is simply decoded again.
 */
import type { AugmentView } from '../core/backbone/augment';
import type { Pixels } from '../core/backbone/draw';
import type { AspectMode } from '../core/backbone/types';
import type { PreparedInput } from '../core/dataset/importer';
import type { LoupeDatabase } from '../core/storage/db';
import type { Decoded } from './decodeBatch';

/** 64 MiB: about 340 inputs of 224 x 224 RGBA, a few batches ahead of any embedding run. */
export const PREPARED_BYTES_LIMIT = 64 * 2 ** 20;
/** Inputs not taken within this long are dropped (an import whose embedding never ran). */
export const PREPARED_MAX_AGE_MS = 10 * 60_000;

type Prepare = (
  ids: string[],
  size: number,
  mode: AspectMode,
  view: AugmentView,
) => Promise<Decoded>;

interface Entry {
  size: number;
  mode: AspectMode;
  pixels: Pixels;
  at: number;
}

export interface PreparedStats {
  /** Images embedded from an input drawn at import (one decode in all). */
  reused: number;
  /** Images the pipeline read and decoded itself. */
  decoded: number;
  /** Inputs refused (byte limit) or dropped unused (age limit). */
  evicted: number;
  held: number;
}

export class PreparedInputs {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  private readonly counts = { reused: 0, decoded: 0, evicted: 0 };

  constructor(
    private readonly limitBytes = PREPARED_BYTES_LIMIT,
    private readonly maxAgeMs = PREPARED_MAX_AGE_MS,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Keeps `inputs` while they fit under the byte limit; the rest are refused (counted). */
  offer(inputs: readonly PreparedInput[]): void {
    this.expire();
    const at = this.now();
    for (const { sampleId, size, mode, pixels } of inputs) {
      if (pixels.data.byteLength !== size * size * 4) continue; // not an RGBA square: ignore
      this.remove(sampleId);
      if (this.bytes + pixels.data.byteLength > this.limitBytes) {
        this.counts.evicted += 1;
        continue;
      }
      this.entries.set(sampleId, { size, mode, pixels, at });
      this.bytes += pixels.data.byteLength;
    }
  }

  /** Ids of the samples whose input is held, oldest first. */
  heldIds(): IterableIterator<string> {
    return this.entries.keys();
  }

  /** Takes (and forgets) the inputs of `ids` drawn for `size` and `mode`. */
  take(ids: readonly string[], size: number, mode: AspectMode): Map<string, Pixels> {
    this.expire();
    const found = new Map<string, Pixels>();
    for (const id of ids) {
      const entry = this.entries.get(id);
      if (!entry) continue;
      this.remove(id);
      if (entry.size === size && entry.mode === mode) found.set(id, entry.pixels);
    }
    return found;
  }

  /**
   * Wraps a batch preparation: original-view batches use the inputs held here and prepare only
   * the rest; labels come from the stored sample (read now, as a prepared batch would), and a
   * sample deleted meanwhile is skipped.
   */
  withPrepared(db: () => Promise<LoupeDatabase>, prepare: Prepare): Prepare {
    return async (ids, size, mode, view) => {
      const original = view.crop === 0 && !view.flip;
      const held = original ? this.take(ids, size, mode) : new Map<string, Pixels>();
      const rest = ids.filter((id) => !held.has(id));
      this.counts.reused += held.size;
      this.counts.decoded += rest.length;
      if (held.size === 0) return prepare(ids, size, mode, view);
      const database = await db();
      const [decoded, samples] = await Promise.all([
        rest.length > 0 ? prepare(rest, size, mode, view) : Promise.resolve(null),
        Promise.all([...held.keys()].map((id) => database.get('samples', id))),
      ]);
      const labels = new Map(samples.flatMap((s) => (s ? [[s.id, s.labelIds] as const] : [])));
      const byId = new Map<string, { labelIds: string[]; pixels: Pixels }>();
      for (const [id, pixels] of held) {
        const labelIds = labels.get(id);
        if (labelIds) byId.set(id, { labelIds, pixels });
      }
      decoded?.ids.forEach((id, k) =>
        byId.set(id, {
          labelIds: decoded.labelIds[k] as string[],
          pixels: decoded.pixels[k] as Pixels,
        }),
      );
      // The batch's own order, as the pipeline would have prepared it.
      const out: Decoded = { ids: [], labelIds: [], pixels: [], failed: decoded?.failed ?? [] };
      for (const id of ids) {
        const item = byId.get(id);
        if (!item) continue;
        out.ids.push(id);
        out.labelIds.push(item.labelIds);
        out.pixels.push(item.pixels);
      }
      return out;
    };
  }

  stats(): PreparedStats {
    return { ...this.counts, held: this.entries.size };
  }

  private remove(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    this.bytes -= entry.pixels.data.byteLength;
  }

  private expire(): void {
    const oldest = this.now() - this.maxAgeMs;
    // A Map iterates in insertion order: the oldest first.
    for (const [id, entry] of this.entries) {
      if (entry.at >= oldest) break;
      this.remove(id);
      this.counts.evicted += 1;
    }
  }
}
