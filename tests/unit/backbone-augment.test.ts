// Augmentation geometry: view key suffixes, content-seeded random resized crops (inside the image,
// within the area and ratio ranges, the same for the same photo, different per crop number).
import { describe, expect, it } from 'vitest';
import {
  augmentationViews,
  CROP_AREA,
  CROP_RATIO,
  cropSeed,
  randomResizedCrop,
  viewSuffix,
} from '../../src/core/backbone/augment';

describe('augmentation views', () => {
  it('names each view by a key suffix; the original has none', () => {
    expect(viewSuffix({ flip: false, crop: 0 })).toBe('');
    expect(viewSuffix({ flip: true, crop: 0 })).toBe('~flip');
    expect(viewSuffix({ flip: false, crop: 2 })).toBe('~crop2');
    expect(viewSuffix({ flip: true, crop: 1 })).toBe('~crop1~flip');
  });

  it('lists the views an augmentation trains on', () => {
    expect(augmentationViews({ flips: false, crops: 0 })).toEqual([]);
    expect(augmentationViews({ flips: true, crops: 2 })).toEqual([
      { flip: true, crop: 0 },
      { flip: false, crop: 1 },
      { flip: false, crop: 2 },
    ]);
  });
});

describe('randomResizedCrop', () => {
  const hash = 'a'.repeat(64);

  it('stays inside the image, within the area and aspect ranges, for many seeds and sizes', () => {
    for (const [w, h] of [
      [500, 375],
      [240, 320],
      [1000, 100],
      [7, 7],
    ] as const) {
      for (let i = 0; i < 200; i++) {
        const r = randomResizedCrop(w, h, cropSeed(`${hash}${i}`, 1));
        expect(Number.isInteger(r.x) && Number.isInteger(r.w)).toBe(true);
        expect(r.x >= 0 && r.y >= 0 && r.w >= 1 && r.h >= 1).toBe(true);
        expect(r.x + r.w <= w && r.y + r.h <= h).toBe(true);
        if (w === 500) {
          // Rounding to whole pixels moves area and ratio only slightly.
          const area = (r.w * r.h) / (w * h);
          expect(area).toBeGreaterThan(CROP_AREA[0] * 0.97);
          expect(area).toBeLessThanOrEqual(CROP_AREA[1] + 0.01);
          expect(r.w / r.h).toBeGreaterThan(CROP_RATIO[0] * 0.98);
          expect(r.w / r.h).toBeLessThan(CROP_RATIO[1] * 1.02);
        }
      }
    }
  });

  it('gives the same crop for the same photo and crop number, another for the next crop', () => {
    const a = randomResizedCrop(640, 480, cropSeed(hash, 1));
    expect(randomResizedCrop(640, 480, cropSeed(hash, 1))).toEqual(a);
    expect(randomResizedCrop(640, 480, cropSeed(hash, 2))).not.toEqual(a);
    expect(randomResizedCrop(640, 480, cropSeed('b'.repeat(64), 1))).not.toEqual(a);
  });

  it('falls back to a centred crop within the ratio range for extreme shapes', () => {
    const r = randomResizedCrop(1000, 10, 12345);
    expect(r.h).toBeLessThanOrEqual(10);
    expect(r.x + r.w).toBeLessThanOrEqual(1000);
    expect(() => randomResizedCrop(0, 10, 1)).toThrow(/bad size/);
  });
});
