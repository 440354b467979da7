// The explanation grid's plain helpers: normalisation, mass share over a band (straddling cells
// split), occlusion patches, the colour map and where the model's input lies on the image.
import { describe, expect, it } from 'vitest';
import {
  heatColour,
  heatmapRgba,
  massShare,
  normaliseGrid,
  occlusionPatches,
  overlayBox,
} from '../../src/core/explain/heatmap';

describe('explanation heatmap helpers', () => {
  it('normalises to [0, 1], negatives and NaN to 0; an all-zero grid stays zero', () => {
    expect(normaliseGrid([2, -1, 4, Number.NaN])).toEqual([0.5, 0, 1, 0]);
    expect(normaliseGrid([0, -3])).toEqual([0, 0]);
  });

  it('counts a straddling column half to each half', () => {
    const grid = { rows: 1, cols: 3, values: [1, 1, 0] };
    expect(massShare(grid, 0, 0.5)).toBeCloseTo(0.75);
    expect(massShare(grid, 0.5, 1)).toBeCloseTo(0.25);
    expect(massShare({ rows: 1, cols: 2, values: [0, 0] }, 0, 0.5)).toBe(0);
  });

  it('makes one patch per cell, two cells wide, clipped to the input', () => {
    const patches = occlusionPatches(224, 7);
    expect(patches).toHaveLength(49);
    expect(patches[0]).toEqual({ x: 0, y: 0, w: 48, h: 48 });
    expect(patches[24]).toEqual({ x: 80, y: 80, w: 64, h: 64 });
    expect(patches[48]).toEqual({ x: 176, y: 176, w: 48, h: 48 });
  });

  it('maps 0 to transparent and 1 to opaque red', () => {
    expect(heatColour(0)).toEqual([0, 0, 255, 0]);
    expect(heatColour(1)).toEqual([255, 0, 0, 230]);
    expect(Array.from(heatmapRgba({ rows: 1, cols: 2, values: [0, 1] }))).toEqual([
      0, 0, 255, 0, 255, 0, 0, 230,
    ]);
  });

  it('places the input square on the image for each aspect mode', () => {
    expect(overlayBox(400, 200, 'centre-crop')).toEqual({
      left: 25,
      top: 0,
      width: 50,
      height: 100,
    });
    expect(overlayBox(400, 200, 'squash')).toEqual({ left: 0, top: 0, width: 100, height: 100 });
    const box = overlayBox(400, 200, 'letterbox');
    expect(box.left).toBeCloseTo(0);
    expect(box.width).toBeCloseTo(100);
    expect(box.top).toBeCloseTo(-50);
    expect(box.height).toBeCloseTo(200);
  });
});
