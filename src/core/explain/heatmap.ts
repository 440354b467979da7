/**
 * Explanation heatmaps as plain data, free of TF.js and the DOM: the grid the engine worker sends
 * (row-major values in [0, 1] over the backbone's square input), its normalisation, the share of
 * its mass over a horizontal band (the composite-image check), the occlusion patches' geometry,
 * the colour map the page draws, and where the input square lies on the displayed image.
 */
import type { AspectMode } from '../kinds';
import { aspectRect } from '../backbone/draw';

/** A heatmap over the model's square input, row-major, `rows * cols` values in [0, 1]. */
export interface HeatGrid {
  rows: number;
  cols: number;
  values: number[];
}

/** Clamps negatives to 0 and divides by the maximum; an all-zero (or empty) grid stays zero. */
export function normaliseGrid(values: ArrayLike<number>): number[] {
  const out = Array.from(values, (v) => (Number.isFinite(v) && v > 0 ? v : 0));
  const max = Math.max(0, ...out);
  return max > 0 ? out.map((v) => v / max) : out;
}

/**
 * Share of the grid's total mass lying between horizontal positions `from` and `to` (fractions
 * of the width, 0 = left edge). A cell straddling a bound counts in proportion to its overlap,
 * so on a 7-column grid the middle column counts half to each half. 0 for an all-zero grid.
 */
export function massShare(grid: HeatGrid, from: number, to: number): number {
  let total = 0;
  let inside = 0;
  for (let c = 0; c < grid.cols; c++) {
    const left = c / grid.cols;
    const right = (c + 1) / grid.cols;
    const overlap = Math.max(0, Math.min(right, to) - Math.max(left, from)) / (right - left);
    for (let r = 0; r < grid.rows; r++) {
      const v = grid.values[r * grid.cols + c] ?? 0;
      total += v;
      inside += v * overlap;
    }
  }
  return total > 0 ? inside / total : 0;
}

/** A square patch over the input, in input pixels (clipped to the input). */
export interface Patch {
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * The occlusion patches: one per cell of a `grid` x `grid` layout over a `size` x `size` input,
 * each centred on its cell and `span` cells wide (span 2: neighbouring patches overlap by half,
 * which smooths the map and lets a patch hide more than a sliver of an object), row-major.
 */
export function occlusionPatches(size: number, grid: number, span = 2): Patch[] {
  const cell = size / grid;
  const side = cell * span;
  const out: Patch[] = [];
  for (let r = 0; r < grid; r++) {
    for (let c = 0; c < grid; c++) {
      const cx = (c + 0.5) * cell;
      const cy = (r + 0.5) * cell;
      const x0 = Math.max(0, Math.round(cx - side / 2));
      const y0 = Math.max(0, Math.round(cy - side / 2));
      const x1 = Math.min(size, Math.round(cx + side / 2));
      const y1 = Math.min(size, Math.round(cy + side / 2));
      out.push({ x: x0, y: y0, w: x1 - x0, h: y1 - y0 });
    }
  }
  return out;
}

/** Colour stops of the map (value 0 -> 1): transparent blue through green and yellow to red. */
const STOPS: readonly (readonly [number, number, number, number])[] = [
  [0, 0, 255, 0],
  [0, 160, 255, 110],
  [0, 220, 0, 160],
  [255, 230, 0, 200],
  [255, 0, 0, 230],
];

/** One value in [0, 1] -> RGBA bytes on the colour map (low values nearly transparent). */
export function heatColour(value: number): [number, number, number, number] {
  const v = Math.min(1, Math.max(0, Number.isFinite(value) ? value : 0)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(v));
  const t = v - i;
  const a = STOPS[i]!;
  const b = STOPS[i + 1]!;
  return [0, 1, 2, 3].map((k) => Math.round(a[k]! + (b[k]! - a[k]!) * t)) as [
    number,
    number,
    number,
    number,
  ];
}

/** The grid as RGBA pixels, one pixel per cell (the page scales it up smoothly). */
export function heatmapRgba(grid: HeatGrid): Uint8ClampedArray<ArrayBuffer> {
  const out = new Uint8ClampedArray(grid.rows * grid.cols * 4);
  for (let i = 0; i < grid.rows * grid.cols; i++) out.set(heatColour(grid.values[i] ?? 0), i * 4);
  return out;
}

/** A rectangle in percent of the displayed image's box (may reach beyond it: letterbox bars). */
export interface OverlayBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * Where the model's square input lies on an image of `width` x `height`, in percent of the image:
 * the inverse of the preprocessing's `aspectRect`. centre-crop: the centred square of the image
 * (the cropped-away sides get no heatmap); squash: the whole image; letterbox: a square larger
 * than the image, its bars outside the image's box (the page clips them).
 */
export function overlayBox(
  width: number,
  height: number,
  mode: AspectMode,
  size = 224,
): OverlayBox {
  const r = aspectRect(width, height, size, mode);
  const sx = r.sw / r.dw;
  const sy = r.sh / r.dh;
  return {
    left: ((r.sx - r.dx * sx) / width) * 100,
    top: ((r.sy - r.dy * sy) / height) * 100,
    width: ((size * sx) / width) * 100,
    height: ((size * sy) / height) * 100,
  };
}
