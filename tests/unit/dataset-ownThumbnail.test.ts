import { describe, expect, it } from 'vitest';
import { isOwnThumbnail, THUMBNAIL_MAX_SIDE } from '../../src/core/dataset/decoder';

const blob = (bytes: number, type: string): Blob => new Blob([new Uint8Array(bytes)], { type });

describe('isOwnThumbnail', () => {
  it('keeps a small still image of at most the thumbnail side as its own thumbnail', () => {
    expect(isOwnThumbnail(blob(3000, 'image/jpeg'), 128, 128)).toBe(true);
    expect(isOwnThumbnail(blob(3000, 'image/png'), THUMBNAIL_MAX_SIDE, 10)).toBe(true);
    expect(isOwnThumbnail(blob(3000, 'image/webp'), 1, 1)).toBe(true);
  });

  it('makes a thumbnail for larger, heavier or other-format images', () => {
    expect(isOwnThumbnail(blob(3000, 'image/jpeg'), THUMBNAIL_MAX_SIDE + 1, 10)).toBe(false);
    expect(isOwnThumbnail(blob(200_000, 'image/png'), 200, 200)).toBe(false);
    expect(isOwnThumbnail(blob(3000, 'image/gif'), 64, 64)).toBe(false); // may animate
    expect(isOwnThumbnail(blob(3000, 'image/bmp'), 64, 64)).toBe(false);
    expect(isOwnThumbnail(blob(3000, ''), 64, 64)).toBe(false);
  });
});
