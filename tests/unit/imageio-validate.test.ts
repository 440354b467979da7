import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  MAX_FILE_BYTES,
  MAX_PIXELS,
  checkDecoded,
  checkFile,
  describeDecodeError,
  formatBytes,
} from '../../src/core/imageio';
import type { FileCheckInput } from '../../src/core/imageio';

function bytes(...parts: (Uint8Array | readonly number[] | string)[]): Uint8Array {
  const arrays = parts.map((p) =>
    typeof p === 'string' ? new TextEncoder().encode(p) : Uint8Array.from(p),
  );
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

const be16 = (v: number): number[] => [(v >>> 8) & 0xff, v & 0xff];
const be32 = (v: number): number[] => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, ...be16(v)];

function png(width: number, height: number): Uint8Array {
  return bytes(
    [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    be32(13),
    'IHDR',
    be32(width),
    be32(height),
    [8, 2, 0, 0, 0],
    be32(0),
    be32(0),
    'IEND',
    be32(0xae426082),
  );
}

function segment(marker: number, payload: Uint8Array | readonly number[]): Uint8Array {
  return bytes([0xff, marker], be16(payload.length + 2), payload);
}

function jpeg(width: number, height: number, before: Uint8Array[] = []): Uint8Array {
  return bytes(
    [0xff, 0xd8],
    ...before,
    segment(0xc0, [8, ...be16(height), ...be16(width), 1, 1, 0x11, 0]),
    segment(0xda, [1, 1, 0, 0, 63, 0]),
    [0x12, 0x34, 0xff, 0xd9],
  );
}

/** Input as the importer builds it: the file's first 256 KB as `head`. */
function input(file: Uint8Array, name = 'photo', type = '', size = file.length): FileCheckInput {
  return { name, size, type, head: file.subarray(0, 256 * 1024) };
}

describe('checkFile', () => {
  it('accepts a valid image and returns its header', () => {
    expect(checkFile(input(png(451, 300), 'cat.png', 'image/png'))).toEqual({
      ok: true,
      header: { format: 'png', mime: 'image/png', width: 451, height: 300 },
    });
  });

  it('trusts the magic bytes over the browser-reported type', () => {
    const result = checkFile(input(png(8, 8), 'really-a-png.jpg', 'image/jpeg'));
    expect(result.ok && result.header.mime).toBe('image/png');
  });

  it('rejects an empty file first', () => {
    expect(checkFile(input(new Uint8Array(0), 'x.png', 'image/png'))).toEqual({
      ok: false,
      code: 'empty',
      reason: 'empty file (0 bytes)',
    });
  });

  it('rejects a file over 40 MB before looking at its bytes', () => {
    const result = checkFile(input(png(10, 10), 'big.png', 'image/png', 41 * 1024 * 1024));
    expect(result).toEqual({
      ok: false,
      code: 'too-large',
      reason: 'file is 41 MB; the limit is 40 MB',
    });
    const odd = checkFile(input(new Uint8Array(4), 'x', '', Math.round(52.3 * 1024 * 1024)));
    expect(!odd.ok && odd.reason).toBe('file is 52.3 MB; the limit is 40 MB');
    expect(checkFile(input(png(10, 10), 'edge.png', '', MAX_FILE_BYTES)).ok).toBe(true);
  });

  it('rejects text as not an image, naming the reported type or the extension', () => {
    const text = new TextEncoder().encode('name,label\ncat.png,cat\n');
    expect(checkFile(input(text, 'labels.txt', 'text/plain'))).toEqual({
      ok: false,
      code: 'not-an-image',
      reason: 'not an image (text/plain)',
    });
    const noType = checkFile(input(text, 'labels.CSV', ''));
    expect(!noType.ok && noType.reason).toBe('not an image (.csv)');
    const nothing = checkFile(input(text, 'README', ''));
    expect(!nothing.ok && nothing.reason).toBe('not an image (unknown type)');
  });

  it('says the contents do not match when a text file is named like an image', () => {
    const text = new TextEncoder().encode('definitely not a jpeg');
    expect(checkFile(input(text, 'fake.jpg', 'image/jpeg'))).toEqual({
      ok: false,
      code: 'not-an-image',
      reason: 'not an image (contents do not match image/jpeg)',
    });
  });

  it('rejects recognised but unsupported formats as unsupported', () => {
    const heic = bytes(be32(24), 'ftypheic', be32(0), 'mif1heic');
    expect(checkFile(input(heic, 'IMG_0001.HEIC', 'image/heic'))).toEqual({
      ok: false,
      code: 'unsupported',
      reason: 'HEIC images are not supported; convert to JPEG, PNG or WebP',
    });
    const tiff = Uint8Array.from([0x49, 0x49, 0x2a, 0, 8, 0, 0, 0, 0, 0]);
    expect(checkFile(input(tiff, 'scan.tif', 'image/tiff'))).toMatchObject({
      code: 'unsupported',
      reason: 'TIFF images are not supported; convert to JPEG, PNG or WebP',
    });
    const ico = Uint8Array.from([0, 0, 1, 0, 1, 0, 16, 16]);
    expect(checkFile(input(ico, 'favicon.ico', 'image/x-icon'))).toMatchObject({
      code: 'unsupported',
      reason: 'unsupported image format (image/x-icon); convert to JPEG, PNG or WebP',
    });
    expect(checkFile(input(ico, 'favicon.ico', ''))).toMatchObject({
      code: 'unsupported',
      reason: 'unsupported image format (.ico); convert to JPEG, PNG or WebP',
    });
  });

  it('rejects a PNG header claiming 20000 x 20000 without decoding', () => {
    expect(checkFile(input(png(20000, 20000), 'bomb.png', 'image/png'))).toEqual({
      ok: false,
      code: 'too-many-pixels',
      reason: 'image is 20000 × 20000 px (400 MP); the limit is 100 megapixels',
    });
    const wide = checkFile(input(png(20000, 12000), 'wide.png', 'image/png'));
    expect(!wide.ok && wide.reason).toBe(
      'image is 20000 × 12000 px (240 MP); the limit is 100 megapixels',
    );
  });

  it('allows exactly MAX_PIXELS and shows enough precision just above it', () => {
    expect(checkFile(input(png(10000, 10000))).ok).toBe(true);
    const over = checkFile(input(png(10001, 10000)));
    expect(!over.ok && over.reason).toBe(
      'image is 10001 × 10000 px (100.01 MP); the limit is 100 megapixels',
    );
    expect(MAX_PIXELS).toBe(100_000_000);
  });

  it('applies the pixel limit to JPEG frame headers too', () => {
    const result = checkFile(input(jpeg(30000, 20000), 'pano.jpg', 'image/jpeg'));
    expect(result).toMatchObject({ ok: false, code: 'too-many-pixels' });
  });

  it('rejects zero dimensions as corrupt', () => {
    expect(checkFile(input(png(0, 300), 'zero.png', 'image/png'))).toEqual({
      ok: false,
      code: 'corrupt',
      reason: 'corrupt or truncated image header',
    });
    expect(checkFile(input(jpeg(640, 0))).ok).toBe(false);
  });

  it('rejects a truncated header when the whole file is in hand', () => {
    const truncated = png(640, 480).subarray(0, 20);
    expect(checkFile(input(truncated, 'cut.png', 'image/png'))).toMatchObject({
      ok: false,
      code: 'corrupt',
    });
    const noSof = bytes([0xff, 0xd8], segment(0xe0, [0, 0, 0, 0]), [0xff, 0xd9]);
    expect(checkFile(input(noSof, 'x.jpg'))).toMatchObject({ ok: false, code: 'corrupt' });
  });

  it('lets a JPEG through with unknown dimensions when its SOF lies beyond the head', () => {
    const app = segment(0xe2, new Uint8Array(65_000));
    const file = jpeg(640, 480, [app, app, app, app, app]);
    const result = checkFile(input(file, 'big-exif.jpg', 'image/jpeg'));
    expect(result).toEqual({
      ok: true,
      header: { format: 'jpeg', mime: 'image/jpeg', width: null, height: null },
    });
  });
});

describe('checkDecoded', () => {
  it('accepts normal dimensions', () => {
    expect(checkDecoded(640, 480)).toEqual({ ok: true });
    expect(checkDecoded(10000, 10000)).toEqual({ ok: true });
  });

  it('rejects zero or nonsense dimensions as corrupt', () => {
    for (const [w, h] of [
      [0, 10],
      [10, 0],
      [-1, 5],
      [Number.NaN, 5],
    ] as const) {
      expect(checkDecoded(w, h)).toEqual({
        ok: false,
        code: 'corrupt',
        reason: 'could not decode image (corrupt or truncated)',
      });
    }
  });

  it('rejects more than MAX_PIXELS', () => {
    expect(checkDecoded(20000, 12000)).toEqual({
      ok: false,
      code: 'too-many-pixels',
      reason: 'image is 20000 × 12000 px (240 MP); the limit is 100 megapixels',
    });
  });
});

describe('describeDecodeError', () => {
  it('maps createImageBitmap failures to a short message', () => {
    const err = new DOMException('The source image could not be decoded.', 'InvalidStateError');
    expect(describeDecodeError(err)).toBe('could not decode image (corrupt or truncated)');
    expect(describeDecodeError(new Error('boom'))).toBe(
      'could not decode image (corrupt or truncated)',
    );
    expect(describeDecodeError(undefined)).toBe('could not decode image (corrupt or truncated)');
    expect(describeDecodeError('decode failed')).toBe(
      'could not decode image (corrupt or truncated)',
    );
  });

  it('calls out running out of memory', () => {
    expect(describeDecodeError(new RangeError('Array buffer allocation failed'))).toBe(
      'not enough memory to decode image; try a smaller image',
    );
  });
});

describe('formatBytes', () => {
  it('formats with binary units and one decimal', () => {
    expect(formatBytes(0)).toBe('0 bytes');
    expect(formatBytes(1)).toBe('1 byte');
    expect(formatBytes(1023)).toBe('1023 bytes');
    expect(formatBytes(1024)).toBe('1 KB');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(1024 * 1024 - 1)).toBe('1 MB');
    expect(formatBytes(MAX_FILE_BYTES)).toBe('40 MB');
    expect(formatBytes(52.3 * 1024 * 1024)).toBe('52.3 MB');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3 GB');
  });
});

// Real files from the shared fixtures folder, when present.
const SHARED_IMAGES = path.resolve(__dirname, '../../../shared/images');

describe('checkFile: real files', () => {
  const names = ['chelsea.png', 'coffee.png', 'astronaut.png', 'dog.jpg', 'rocket.jpg'];
  for (const name of names) {
    it.skipIf(!existsSync(SHARED_IMAGES))(`accepts ${name}`, () => {
      const file = path.join(SHARED_IMAGES, name);
      const head = readFileSync(file).subarray(0, 256 * 1024);
      const result = checkFile({ name, size: statSync(file).size, type: '', head });
      expect(result.ok).toBe(true);
    });
  }
});
