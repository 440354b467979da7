// The one preprocessing pipeline: aspect geometry, drawing steps and imageToPixels (decode, view,
// draw, close; on a recording OffscreenCanvas stand-in, since Node has none), scaling to the input
// range, and its written description.
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  ASPECT_MODES,
  PREPROCESS_VERSION,
  aspectRect,
  cropSeed,
  describePreprocessing,
  drawToPixels,
  flipHorizontally,
  imageToPixels,
  pixelsToTensor,
  preprocess,
  randomResizedCrop,
} from '../../src/core/backbone';
import { nodeDrawToPixels } from './helpers/nodeImage';

beforeAll(async () => {
  await tf.setBackend('wasm');
});

describe('aspectRect', () => {
  it('centre-crops the largest centred square', () => {
    expect(aspectRect(600, 400, 224, 'centre-crop')).toEqual({
      sx: 100,
      sy: 0,
      sw: 400,
      sh: 400,
      dx: 0,
      dy: 0,
      dw: 224,
      dh: 224,
    });
    expect(aspectRect(300, 451, 224, 'centre-crop')).toMatchObject({
      sx: 0,
      sy: 75,
      sw: 300,
      sh: 300,
    });
    expect(aspectRect(224, 224, 224, 'centre-crop')).toMatchObject({
      sx: 0,
      sy: 0,
      sw: 224,
      sh: 224,
    });
  });

  it('letterboxes the whole image, centred', () => {
    expect(aspectRect(600, 400, 224, 'letterbox')).toEqual({
      sx: 0,
      sy: 0,
      sw: 600,
      sh: 400,
      dx: 0,
      dy: 37,
      dw: 224,
      dh: 149,
    });
    expect(aspectRect(400, 600, 224, 'letterbox')).toMatchObject({
      dx: 37,
      dy: 0,
      dw: 149,
      dh: 224,
    });
    // A sliver never collapses to zero pixels.
    expect(aspectRect(10_000, 1, 224, 'letterbox')).toMatchObject({ dw: 224, dh: 1, dy: 111 });
  });

  it('squashes the whole image onto the square', () => {
    expect(aspectRect(600, 400, 224, 'squash')).toEqual({
      sx: 0,
      sy: 0,
      sw: 600,
      sh: 400,
      dx: 0,
      dy: 0,
      dw: 224,
      dh: 224,
    });
  });

  it('keeps every rectangle inside its image, in integers', () => {
    for (const mode of ASPECT_MODES) {
      for (const [w, h] of [
        [1, 1],
        [7, 3],
        [3, 7],
        [4032, 3024],
        [225, 224],
        [97, 1000],
      ] as const) {
        const r = aspectRect(w, h, 224, mode);
        for (const v of Object.values(r)) expect(Number.isInteger(v)).toBe(true);
        expect(r.sx + r.sw).toBeLessThanOrEqual(w);
        expect(r.sy + r.sh).toBeLessThanOrEqual(h);
        expect(r.dx + r.dw).toBeLessThanOrEqual(224);
        expect(r.dy + r.dh).toBeLessThanOrEqual(224);
        expect(Math.min(r.sw, r.sh, r.dw, r.dh)).toBeGreaterThan(0);
      }
    }
  });

  it('rejects empty images', () => {
    expect(() => aspectRect(0, 10, 224, 'squash')).toThrow(/positive/);
  });
});

describe('pixelsToTensor', () => {
  const px = (values: number[]) => ({
    data: new Uint8ClampedArray(values.flatMap((v) => [v, v, v, 77])),
    width: 2,
    height: 2,
  });

  it.each([
    [
      [-1, 1],
      [-1, 1, 0.003921568, -0.99215686],
    ],
    [
      [0, 1],
      [0, 1, 0.50196078, 0.00392157],
    ],
    [
      [0, 255],
      [0, 255, 128, 1],
    ],
  ] as const)('maps 0..255 to %j, alpha dropped', (range, want) => {
    const t = pixelsToTensor([px([0, 255, 128, 1])], [range[0], range[1]]);
    expect(t.shape).toEqual([1, 2, 2, 3]);
    expect(t.dtype).toBe('float32');
    const got = Array.from(t.dataSync()).filter((_, i) => i % 3 === 0);
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i] ?? NaN, 5));
    t.dispose();
  });

  it('keeps channel order and stacks a batch', () => {
    const a = { data: new Uint8ClampedArray([255, 0, 51, 255]), width: 1, height: 1 };
    const t = pixelsToTensor([a, a, a], [0, 1]);
    expect(t.shape).toEqual([3, 1, 1, 3]);
    expect(
      Array.from(t.dataSync())
        .slice(0, 3)
        .map((v) => +v.toFixed(3)),
    ).toEqual([1, 0, 0.2]);
    t.dispose();
  });

  it('refuses mixed sizes and empty batches', () => {
    const one = { data: new Uint8ClampedArray(4), width: 1, height: 1 };
    expect(() => pixelsToTensor([px([0, 0, 0, 0]), one], [0, 1])).toThrow(/mixed sizes/);
    expect(() => pixelsToTensor([], [0, 1])).toThrow(/no images/);
  });
});

/** Records what drawToPixels does with canvases; getImageData hands back a fixed grey. */
class RecordingCanvas {
  static log: string[] = [];
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    RecordingCanvas.log.push(`canvas ${width}x${height}`);
  }
  getContext() {
    return {
      imageSmoothingEnabled: false,
      imageSmoothingQuality: 'low',
      fillStyle: '',
      fillRect(x: number, y: number, w: number, h: number) {
        RecordingCanvas.log.push(`fill ${this.fillStyle} ${x},${y} ${w}x${h}`);
      },
      drawImage(src: { width: number; height: number }, ...r: number[]) {
        RecordingCanvas.log.push(
          `draw ${src.width}x${src.height} [${r.join(',')}] ${this.imageSmoothingQuality}`,
        );
      },
      getImageData(_x: number, _y: number, w: number, h: number) {
        return { data: new Uint8ClampedArray(w * h * 4).fill(128), width: w, height: h };
      },
    };
  }
}

describe('drawToPixels (recorded)', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    RecordingCanvas.log = [];
  });

  it('halves big downscales first, then draws once with high smoothing', () => {
    vi.stubGlobal('OffscreenCanvas', RecordingCanvas);
    const bitmap = { width: 4032, height: 3024 } as unknown as ImageBitmap;
    const img = drawToPixels(bitmap, 224, 'centre-crop');
    expect(img.width).toBe(224);
    expect(RecordingCanvas.log).toEqual([
      'canvas 1512x1512',
      'draw 4032x3024 [504,0,3024,3024,0,0,1512,1512] high',
      'canvas 756x756',
      'draw 1512x1512 [0,0,1512,1512,0,0,756,756] high',
      'canvas 378x378',
      'draw 756x756 [0,0,756,756,0,0,378,378] high',
      'canvas 224x224',
      'fill #000000 0,0 224x224',
      'draw 378x378 [0,0,378,378,0,0,224,224] high',
    ]);
  });

  it('draws small images directly and letterboxes onto black', () => {
    vi.stubGlobal('OffscreenCanvas', RecordingCanvas);
    const bitmap = { width: 300, height: 150 } as unknown as ImageBitmap;
    drawToPixels(bitmap, 224, 'letterbox');
    expect(RecordingCanvas.log).toEqual([
      'canvas 224x224',
      'fill #000000 0,0 224x224',
      'draw 300x150 [0,0,300,150,0,56,224,112] high',
    ]);
  });

  it('preprocess() stacks drawn images into the input range', async () => {
    vi.stubGlobal('OffscreenCanvas', RecordingCanvas);
    const close = vi.fn();
    const bitmaps = [
      { width: 640, height: 480, close },
      { width: 50, height: 90, close },
    ] as unknown as ImageBitmap[];
    const t = await preprocess(bitmaps, { inputSize: 8, inputRange: [-1, 1] }, 'squash');
    expect(t.shape).toEqual([2, 8, 8, 3]);
    expect(t.dataSync()[0]).toBeCloseTo((128 / 255) * 2 - 1, 6);
    expect(close).toHaveBeenCalledTimes(2);
    t.dispose();
  });
});

/** As RecordingCanvas, but pixel i of the read-back image has red = i (so a mirror shows). */
class NumberedCanvas extends RecordingCanvas {
  override getContext() {
    return {
      ...super.getContext(),
      getImageData(_x: number, _y: number, w: number, h: number) {
        const data = new Uint8ClampedArray(w * h * 4);
        for (let i = 0; i < w * h; i++) data[i * 4] = i;
        return { data, width: w, height: h };
      },
    };
  }
}

describe('imageToPixels (recorded)', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    RecordingCanvas.log = [];
  });

  it('decodes a Blob with its EXIF orientation, draws it, and closes the bitmap', async () => {
    vi.stubGlobal('OffscreenCanvas', RecordingCanvas);
    const close = vi.fn();
    const decode = vi.fn(async () => ({ width: 300, height: 150, close }));
    vi.stubGlobal('createImageBitmap', decode);
    const blob = new Blob([new Uint8Array(4)], { type: 'image/png' });
    const img = await imageToPixels(blob, 224, 'letterbox');
    expect(img.width).toBe(224);
    expect(decode).toHaveBeenCalledWith(
      blob,
      expect.objectContaining({ imageOrientation: 'from-image' }),
    );
    expect(RecordingCanvas.log).toContain('draw 300x150 [0,0,300,150,0,56,224,112] high');
    expect(close).toHaveBeenCalledTimes(1);
  });

  it("draws a view's seeded crop, then mirrors it", async () => {
    vi.stubGlobal('OffscreenCanvas', NumberedCanvas);
    const bitmap = { width: 400, height: 300, close: vi.fn() } as unknown as ImageBitmap;
    const view = { flip: true, crop: 2, sha256: 'ab'.repeat(32) };
    const img = await imageToPixels(bitmap, 2, 'squash', view);
    const r = randomResizedCrop(400, 300, cropSeed(view.sha256, 2));
    // The crop is the source rectangle of the first draw (halvings follow, down to 2x2).
    const first = RecordingCanvas.log.find((line) => line.startsWith('draw 400x300'));
    expect(first).toContain(`[${r.x},${r.y},${r.w},${r.h},0,0,`);
    expect(Array.from(img.data).filter((_, i) => i % 4 === 0)).toEqual([1, 0, 3, 2]);
    expect(bitmap.close).toHaveBeenCalledTimes(1);
  });

  it('closes a handed-in bitmap even when drawing fails', async () => {
    vi.stubGlobal(
      'OffscreenCanvas',
      class {
        getContext() {
          return null;
        }
      },
    );
    const bitmap = { width: 10, height: 10, close: vi.fn() } as unknown as ImageBitmap;
    await expect(imageToPixels(bitmap, 8, 'squash')).rejects.toThrow(/2D context unavailable/);
    expect(bitmap.close).toHaveBeenCalledTimes(1);
  });

  it('flipHorizontally mirrors each row in place', () => {
    const data = new Uint8ClampedArray([1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4]);
    const image = { data, width: 2, height: 2 };
    expect(flipHorizontally(image)).toBe(image);
    expect(Array.from(data).filter((_, i) => i % 4 === 0)).toEqual([2, 1, 4, 3]);
  });
});

describe('Node stand-in drawing (test helper)', () => {
  it('follows aspectRect: letterbox bars are black, content keeps its colour', () => {
    const w = 20;
    const h = 10;
    const data = new Uint8ClampedArray(w * h * 4).fill(255);
    const out = nodeDrawToPixels({ data, width: w, height: h }, 8, 'letterbox');
    const column = Array.from({ length: 8 }, (_, y) => out.data[(y * 8 + 3) * 4]);
    expect(column).toEqual([0, 0, 255, 255, 255, 255, 0, 0]);
  });
});

describe('describePreprocessing', () => {
  it('names the version, every step and the exact scaling', () => {
    const text = describePreprocessing({
      inputSize: 224,
      inputRange: [-1, 1],
      aspectMode: 'letterbox',
    });
    expect(text).toContain(`v${PREPROCESS_VERSION}`);
    expect(text).toContain("imageOrientation 'from-image'");
    expect(text).toContain('224x224');
    expect(text).toContain('filled with black');
    expect(text).not.toContain('centre-crop');
    expect(text).toContain('v / 255 * (hi - lo) + lo with input range [-1, 1]');
    for (const mode of ASPECT_MODES) expect(describePreprocessing()).toContain(mode);
  });
});
