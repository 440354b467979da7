import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sniffImage, sniffUnsupported } from '../../src/core/imageio';
import type { ImageHeader } from '../../src/core/imageio';

// ---------------------------------------------------------------------------------------------
// Byte fixture builders

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
const le16 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff];
const be32 = (v: number): number[] => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, ...be16(v)];
const le32 = (v: number): number[] => [...le16(v), (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const le24 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff];

function segment(marker: number, payload: Uint8Array | readonly number[]): Uint8Array {
  return bytes([0xff, marker], be16(payload.length + 2), payload);
}

function exif(orientation: number, little = false): Uint8Array {
  const u16 = little ? le16 : be16;
  const u32 = little ? le32 : be32;
  const tiff = bytes(
    little ? 'II' : 'MM',
    u16(42),
    u32(8), // IFD0 right after the TIFF header
    u16(2), // two entries
    [...u16(0x010f), ...u16(2), ...u32(4), 0x41, 0x42, 0x43, 0x00], // Make = "ABC"
    [...u16(0x0112), ...u16(3), ...u32(1), ...u16(orientation), 0, 0], // Orientation
    u32(0), // no next IFD
  );
  return segment(0xe1, bytes('Exif', [0, 0], tiff));
}

function sof(marker: number, width: number, height: number): Uint8Array {
  return segment(marker, [
    8,
    ...be16(height),
    ...be16(width),
    3,
    1,
    0x22,
    0,
    2,
    0x11,
    1,
    3,
    0x11,
    1,
  ]);
}

const JFIF = segment(0xe0, bytes('JFIF', [0, 1, 1, 0, 0, 1, 0, 1, 0, 0]));
const DQT = segment(0xdb, [0, ...new Array<number>(64).fill(1)]);
// A DHT whose payload, read as if it were an SOF, would claim 0x0102 x 0x0304.
const DHT = segment(0xc4, [0x00, 0x01, 0x02, 0x03, 0x04, ...new Array<number>(12).fill(0)]);
const SOS = segment(0xda, [3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0]);
const SCAN = [0x12, 0xff, 0x00, 0x34, 0xff, 0xd0, 0x56, 0xff, 0xd1, 0x78];
const EOI = [0xff, 0xd9];

function jpeg(
  width: number,
  height: number,
  opts: { sofMarker?: number; before?: Uint8Array[] } = {},
): Uint8Array {
  return bytes(
    [0xff, 0xd8],
    ...(opts.before ?? [JFIF]),
    DQT,
    DHT,
    sof(opts.sofMarker ?? 0xc0, width, height),
    SOS,
    SCAN,
    EOI,
  );
}

function png(width: number, height: number): Uint8Array {
  return bytes(
    [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    be32(13),
    'IHDR',
    be32(width),
    be32(height),
    [8, 2, 0, 0, 0],
    be32(0x12345678), // CRC (not checked)
    be32(0),
    'IEND',
    be32(0xae426082),
  );
}

function gif(width: number, height: number, version = '89a'): Uint8Array {
  return bytes(
    'GIF',
    version,
    le16(width),
    le16(height),
    [0x80, 0, 0],
    new Array<number>(6).fill(0),
    ';',
  );
}

function riff(chunk: string, data: Uint8Array | readonly number[]): Uint8Array {
  const body = bytes('WEBP', chunk, le32(data.length), data);
  return bytes('RIFF', le32(body.length), body);
}

function webpLossy(width: number, height: number): Uint8Array {
  return riff('VP8 ', [0x30, 0x01, 0x00, 0x9d, 0x01, 0x2a, ...le16(width), ...le16(height), 0, 0]);
}

function webpLossless(width: number, height: number): Uint8Array {
  const bits = ((width - 1) | ((height - 1) << 14)) >>> 0;
  return riff('VP8L', [0x2f, ...le32(bits), 0, 0, 0]);
}

function webpExtended(width: number, height: number): Uint8Array {
  return riff('VP8X', [0x10, 0, 0, 0, ...le24(width - 1), ...le24(height - 1)]);
}

function bmp(width: number, height: number): Uint8Array {
  const dib = [...le32(40), ...le32(width >>> 0), ...le32(height >>> 0), ...le16(1), ...le16(24)];
  return bytes(
    'BM',
    le32(54 + 4),
    le32(0),
    le32(54),
    dib,
    new Array<number>(24).fill(0),
    [0, 0, 0, 0],
  );
}

function bmpCore(width: number, height: number): Uint8Array {
  return bytes(
    'BM',
    le32(26 + 4),
    le32(0),
    le32(26),
    le32(12),
    le16(width),
    le16(height),
    le16(1),
    le16(24),
    [0, 0, 0, 0],
  );
}

function box(type: string, ...content: (Uint8Array | readonly number[] | string)[]): Uint8Array {
  const body = bytes(...content);
  return bytes(be32(body.length + 8), type, body);
}

const fullBox = (
  type: string,
  ...content: (Uint8Array | readonly number[] | string)[]
): Uint8Array => box(type, [0, 0, 0, 0], ...content);

function ftyp(major: string, ...compatible: string[]): Uint8Array {
  return box('ftyp', major, be32(0), ...compatible);
}

const ispe = (w: number, h: number): Uint8Array => fullBox('ispe', be32(w), be32(h));

/** AVIF with a 64x64 thumbnail (item 2) and the primary item 1, rotated when `irot` is set. */
function avif(
  width: number,
  height: number,
  opts: { irot?: number; brands?: string[]; thumb?: number } = {},
): Uint8Array {
  const props = [ispe(opts.thumb ?? 64, opts.thumb ?? 64), ispe(width, height)];
  const primaryProps = [2];
  if (opts.irot !== undefined) {
    props.push(box('irot', [opts.irot]));
    primaryProps.push(3);
  }
  const ipma = fullBox(
    'ipma',
    be32(2),
    be16(2), // thumbnail first, to prove the primary item is followed
    [1, 0x81],
    be16(1),
    [primaryProps.length, ...primaryProps.map((p) => 0x80 | p)],
  );
  const meta = fullBox(
    'meta',
    fullBox('hdlr', be32(0), 'pict', new Array<number>(12).fill(0), [0]),
    fullBox('pitm', be16(1)),
    box('iprp', box('ipco', ...props), ipma),
  );
  const [major = 'avif', ...compatible] = opts.brands ?? ['avif', 'mif1', 'miaf'];
  return bytes(ftyp(major, ...compatible), meta, box('mdat', [1, 2, 3, 4]));
}

// Deterministic PRNG so failures reproduce.
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const dims = (h: ImageHeader | null): [number | null, number | null] | null =>
  h ? [h.width, h.height] : null;

// ---------------------------------------------------------------------------------------------

describe('sniffImage: JPEG', () => {
  it('reads baseline SOF0 dimensions and skips DHT', () => {
    expect(sniffImage(jpeg(640, 480))).toEqual({
      format: 'jpeg',
      mime: 'image/jpeg',
      width: 640,
      height: 480,
    });
  });

  it('reads progressive SOF2 and other SOFn markers', () => {
    expect(dims(sniffImage(jpeg(1024, 768, { sofMarker: 0xc2 })))).toEqual([1024, 768]);
    expect(dims(sniffImage(jpeg(33, 17, { sofMarker: 0xc1 })))).toEqual([33, 17]);
    expect(dims(sniffImage(jpeg(9, 8, { sofMarker: 0xcf })))).toEqual([9, 8]);
  });

  it('does not mistake DAC (CC) or JPG (C8) segments for a frame header', () => {
    const dac = segment(0xcc, [0x00, 0x01, 0x02, 0x03, 0x04, 0x05]);
    const jpg = segment(0xc8, [0x00, 0x0a, 0x0b, 0x0c, 0x0d]);
    expect(dims(sniffImage(jpeg(300, 200, { before: [JFIF, dac, jpg] })))).toEqual([300, 200]);
  });

  it('applies EXIF orientation 6 (big-endian): width and height swap', () => {
    const h = sniffImage(jpeg(640, 480, { before: [exif(6)] }));
    expect(h).toEqual({
      format: 'jpeg',
      mime: 'image/jpeg',
      width: 480,
      height: 640,
      orientation: 6,
    });
  });

  it('reads little-endian EXIF and swaps for every orientation 5-8 only', () => {
    for (let o = 1; o <= 8; o++) {
      const h = sniffImage(jpeg(640, 480, { before: [JFIF, exif(o, true)] }));
      expect(h?.orientation).toBe(o);
      expect(dims(h)).toEqual(o >= 5 ? [480, 640] : [640, 480]);
    }
  });

  it('ignores out-of-range orientation values and non-EXIF APP1 (XMP)', () => {
    expect(sniffImage(jpeg(640, 480, { before: [exif(9)] }))).not.toHaveProperty('orientation');
    const xmp = segment(0xe1, bytes('http://ns.adobe.com/xap/1.0/\0<x:xmpmeta/>'));
    const h = sniffImage(jpeg(640, 480, { before: [xmp, exif(8)] }));
    expect(h?.orientation).toBe(8);
    expect(dims(h)).toEqual([480, 640]);
  });

  it('skips a large APP segment before the SOF', () => {
    const icc = segment(0xe2, new Uint8Array(65_000).fill(0xff));
    const file = jpeg(4000, 3000, { before: [JFIF, exif(6), icc, icc, icc] });
    expect(file.length).toBeGreaterThan(190_000);
    expect(sniffImage(file.subarray(0, 256 * 1024))).toMatchObject({ width: 3000, height: 4000 });
  });

  it('reports unknown dimensions when the SOF lies beyond the head slice', () => {
    const icc = segment(0xe2, new Uint8Array(65_000));
    const file = jpeg(4000, 3000, { before: [exif(6), icc, icc, icc, icc, icc] });
    const h = sniffImage(file.subarray(0, 256 * 1024));
    expect(h).toEqual({
      format: 'jpeg',
      mime: 'image/jpeg',
      width: null,
      height: null,
      orientation: 6,
    });
  });

  it('handles fill bytes, standalone markers and stray bytes between segments', () => {
    const file = bytes(
      [0xff, 0xd8],
      [0xff, 0xff, 0xff],
      JFIF,
      [0xff, 0x01], // TEM
      [0xff, 0xd3], // stray RST
      [0x00, 0x17], // junk
      [0xff, 0xff],
      DQT,
      sof(0xc0, 123, 45),
      SOS,
      SCAN,
      EOI,
    );
    expect(dims(sniffImage(file))).toEqual([123, 45]);
  });

  it('stops at SOS or EOI when no frame header came first', () => {
    expect(dims(sniffImage(bytes([0xff, 0xd8], JFIF, SOS, SCAN, sof(0xc0, 5, 5), EOI)))).toEqual([
      null,
      null,
    ]);
    expect(dims(sniffImage(bytes([0xff, 0xd8], JFIF, EOI, sof(0xc0, 5, 5))))).toEqual([null, null]);
  });

  it('stops on a corrupt segment length', () => {
    const bad = bytes([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x01], sof(0xc0, 5, 5));
    expect(dims(sniffImage(bad))).toEqual([null, null]);
  });

  it('needs the third magic byte', () => {
    expect(sniffImage(Uint8Array.from([0xff, 0xd8]))).toBeNull();
  });
});

describe('sniffImage: other formats', () => {
  it('PNG (IHDR)', () => {
    expect(sniffImage(png(451, 300))).toEqual({
      format: 'png',
      mime: 'image/png',
      width: 451,
      height: 300,
    });
    expect(dims(sniffImage(png(0x7fffffff, 1)))).toEqual([0x7fffffff, 1]);
  });

  it('PNG whose first chunk is not IHDR has unknown dimensions', () => {
    const file = png(10, 10);
    file.set(new TextEncoder().encode('IDAT'), 12);
    expect(sniffImage(file)).toMatchObject({ format: 'png', width: null, height: null });
  });

  it('GIF87a and GIF89a (logical screen)', () => {
    expect(sniffImage(gif(320, 240))).toEqual({
      format: 'gif',
      mime: 'image/gif',
      width: 320,
      height: 240,
    });
    expect(dims(sniffImage(gif(1, 65535, '87a')))).toEqual([1, 65535]);
  });

  it('WebP lossy (VP8)', () => {
    expect(sniffImage(webpLossy(550, 368))).toEqual({
      format: 'webp',
      mime: 'image/webp',
      width: 550,
      height: 368,
    });
    // The top two bits of each field are a scaling code, not part of the size.
    expect(dims(sniffImage(webpLossy(0xc000 | 100, 0x4000 | 50)))).toEqual([100, 50]);
  });

  it('WebP lossless (VP8L)', () => {
    expect(dims(sniffImage(webpLossless(386, 395)))).toEqual([386, 395]);
    expect(dims(sniffImage(webpLossless(16384, 1)))).toEqual([16384, 1]);
  });

  it('WebP extended (VP8X)', () => {
    expect(dims(sniffImage(webpExtended(400, 301)))).toEqual([400, 301]);
    expect(dims(sniffImage(webpExtended(16_777_216, 20_000)))).toEqual([16_777_216, 20_000]);
  });

  it('BMP, including top-down (negative height) and OS/2 core headers', () => {
    expect(sniffImage(bmp(127, 64))).toEqual({
      format: 'bmp',
      mime: 'image/bmp',
      width: 127,
      height: 64,
    });
    expect(dims(sniffImage(bmp(127, -64)))).toEqual([127, 64]);
    expect(dims(sniffImage(bmpCore(31, 7)))).toEqual([31, 7]);
  });

  it('"BM" text without a valid DIB header is not a BMP', () => {
    expect(sniffImage(new TextEncoder().encode('BMW owners club newsletter, issue 12'))).toBeNull();
  });

  it('AVIF: primary item ispe via pitm + ipma', () => {
    expect(sniffImage(avif(1920, 1080))).toEqual({
      format: 'avif',
      mime: 'image/avif',
      width: 1920,
      height: 1080,
    });
  });

  it('AVIF: the primary item wins even over a larger unrelated ispe', () => {
    expect(dims(sniffImage(avif(300, 200, { thumb: 5000 })))).toEqual([300, 200]);
  });

  it('AVIF: irot by 90 degrees swaps width and height; 180 does not', () => {
    expect(dims(sniffImage(avif(1920, 1080, { irot: 1 })))).toEqual([1080, 1920]);
    expect(dims(sniffImage(avif(1920, 1080, { irot: 2 })))).toEqual([1920, 1080]);
  });

  it('AVIF: brand may be compatible-only; avis (sequence) counts', () => {
    expect(sniffImage(avif(10, 20, { brands: ['mif1', 'miaf', 'avif'] }))?.format).toBe('avif');
    expect(sniffImage(avif(10, 20, { brands: ['avis', 'msf1'] }))?.format).toBe('avif');
  });

  it('AVIF: dims unknown when the meta box is not in the head', () => {
    const head = bytes(ftyp('avif', 'mif1'), box('mdat', new Array<number>(100).fill(7)));
    expect(sniffImage(head)).toEqual({
      format: 'avif',
      mime: 'image/avif',
      width: null,
      height: null,
    });
    const full = avif(1920, 1080);
    expect(dims(sniffImage(full.subarray(0, 60)))).toEqual([null, null]);
  });

  it('AVIF without ipma falls back to the largest ispe', () => {
    const meta = fullBox(
      'meta',
      box('iprp', box('ipco', ispe(64, 64), ispe(800, 600), ispe(8, 8))),
    );
    expect(dims(sniffImage(bytes(ftyp('avif'), meta)))).toEqual([800, 600]);
  });

  it('HEIC and plain video ftyp are not supported images', () => {
    const heic = bytes(ftyp('heic', 'mif1', 'heic'), fullBox('meta'));
    expect(sniffImage(heic)).toBeNull();
    expect(sniffUnsupported(heic)).toEqual({ name: 'HEIC', mime: 'image/heic' });
    expect(sniffUnsupported(bytes(ftyp('mif1', 'mif1')))).toEqual({
      name: 'HEIF',
      mime: 'image/heif',
    });
    const mp4 = bytes(ftyp('isom', 'iso2', 'mp41'));
    expect(sniffImage(mp4)).toBeNull();
    expect(sniffUnsupported(mp4)).toBeNull();
  });
});

describe('sniffUnsupported', () => {
  it('names TIFF, JPEG XL, PSD and SVG', () => {
    expect(sniffUnsupported(Uint8Array.from([0x49, 0x49, 0x2a, 0, 8, 0, 0, 0]))?.name).toBe('TIFF');
    expect(sniffUnsupported(Uint8Array.from([0x4d, 0x4d, 0, 0x2a, 0, 0, 0, 8]))?.name).toBe('TIFF');
    expect(sniffUnsupported(Uint8Array.from([0xff, 0x0a, 0xfa, 0x7f]))?.name).toBe('JPEG XL');
    expect(sniffUnsupported(bytes('8BPS', [0, 1]))?.name).toBe('Photoshop');
    const svg = '\ufeff  <?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>';
    expect(sniffUnsupported(new TextEncoder().encode(svg))?.name).toBe('SVG');
    expect(sniffUnsupported(new TextEncoder().encode('<html><body>hi</body></html>'))).toBeNull();
    expect(sniffUnsupported(png(1, 1))).toBeNull();
  });
});

describe('sniffImage: robustness', () => {
  const fixtures: [string, Uint8Array][] = [
    ['jpeg', jpeg(640, 480, { before: [JFIF, exif(6), exif(3, true)] })],
    ['jpeg', jpeg(64, 48, { sofMarker: 0xc2 })],
    ['png', png(451, 300)],
    ['gif', gif(320, 240)],
    ['webp', webpLossy(550, 368)],
    ['webp', webpLossless(386, 395)],
    ['webp', webpExtended(400, 301)],
    ['bmp', bmp(127, -64)],
    ['bmp', bmpCore(31, 7)],
    ['avif', avif(1920, 1080, { irot: 3 })],
  ];

  it('empty and tiny inputs return null', () => {
    expect(sniffImage(new Uint8Array(0))).toBeNull();
    expect(sniffImage(Uint8Array.from([0x89]))).toBeNull();
    expect(sniffImage(new TextEncoder().encode('hello, world\n'))).toBeNull();
  });

  it('every truncation of every fixture is handled without throwing', () => {
    for (const [format, file] of fixtures) {
      for (let n = 0; n <= file.length; n++) {
        const h = sniffImage(file.subarray(0, n));
        if (h) {
          expect(h.format).toBe(format);
          expect(h.width === null || h.width >= 0).toBe(true);
          expect(h.height === null || h.height >= 0).toBe(true);
        }
      }
      expect(sniffImage(file)?.format).toBe(format);
    }
  });

  it('random garbage, bare and behind each magic prefix, never throws', () => {
    const random = mulberry32(1234);
    const prefixes = [
      [],
      [0xff, 0xd8, 0xff],
      [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
      [...new TextEncoder().encode('GIF89a')],
      [...new TextEncoder().encode('RIFF\0\0\0\0WEBP')],
      [...new TextEncoder().encode('BM')],
      [0, 0, 0, 0x20, ...new TextEncoder().encode('ftypavif')],
    ];
    for (let round = 0; round < 3000; round++) {
      const prefix = prefixes[round % prefixes.length] ?? [];
      const body = new Uint8Array(Math.floor(random() * 600));
      for (let i = 0; i < body.length; i++) body[i] = Math.floor(random() * 256);
      expect(() => sniffImage(bytes(prefix, body))).not.toThrow();
      expect(() => sniffUnsupported(bytes(prefix, body))).not.toThrow();
    }
  });

  it('randomly corrupted fixtures never throw', () => {
    const random = mulberry32(99);
    for (let round = 0; round < 3000; round++) {
      const [, file] = fixtures[round % fixtures.length] ?? ['', new Uint8Array(0)];
      const copy = file.slice();
      const flips = 1 + Math.floor(random() * 8);
      for (let f = 0; f < flips; f++) {
        copy[Math.floor(random() * copy.length)] = Math.floor(random() * 256);
      }
      expect(() => sniffImage(copy)).not.toThrow();
    }
  });

  it('a JPEG of nothing but fill bytes or zero-length-ish segments terminates', () => {
    const fill = new Uint8Array(256 * 1024).fill(0xff);
    fill[1] = 0xd8;
    expect(dims(sniffImage(fill))).toEqual([null, null]);
    const zeros = new Uint8Array(256 * 1024);
    zeros.set([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x02]);
    expect(dims(sniffImage(zeros))).toEqual([null, null]);
  });

  it('AVIF with a zero-size or oversized box terminates', () => {
    const zeroSize = bytes(ftyp('avif'), be32(0), 'meta', [0, 0, 0, 0], be32(3), 'iprp');
    expect(dims(sniffImage(zeroSize))).toEqual([null, null]);
    const huge = bytes(ftyp('avif'), be32(1), 'meta', be32(0xffffffff), be32(0xffffffff));
    expect(dims(sniffImage(huge))).toEqual([null, null]);
  });
});

// ---------------------------------------------------------------------------------------------
// Real files from the shared fixtures folder, when present. Dimensions from `file(1)`.

const SHARED_IMAGES = path.resolve(__dirname, '../../../shared/images');
const hasShared = existsSync(SHARED_IMAGES);

describe('sniffImage: real files', () => {
  const cases: [string, ImageHeader['format'], number, number][] = [
    ['chelsea.png', 'png', 451, 300],
    ['coffee.png', 'png', 600, 400],
    ['astronaut.png', 'png', 512, 512],
    ['dog.jpg', 'jpeg', 768, 576],
    ['rocket.jpg', 'jpeg', 640, 427],
  ];
  for (const [name, format, width, height] of cases) {
    it.skipIf(!hasShared)(`${name} is ${format} ${width}x${height}`, () => {
      const head = readFileSync(path.join(SHARED_IMAGES, name)).subarray(0, 256 * 1024);
      expect(sniffImage(head)).toMatchObject({ format, width, height });
    });
  }

  it.skipIf(!hasShared)('dog.jpg carries EXIF orientation 1 (upper-left)', () => {
    const head = readFileSync(path.join(SHARED_IMAGES, 'dog.jpg')).subarray(0, 256 * 1024);
    expect(sniffImage(head)?.orientation).toBe(1);
  });
});
