/**
 * Image format sniffing: recognises JPEG, PNG, GIF, WebP, BMP and AVIF from their magic bytes and
 * reads pixel dimensions (and JPEG EXIF orientation) straight from the header bytes, without
 * decoding. Works on a head slice of the file; every read is bounds-checked, so truncated or
 * garbage input yields `null` / unknown dimensions rather than an exception, and every loop
 * advances, so it always terminates. Also names well-known image formats we cannot decode.
 */

export type ImageFormat = 'jpeg' | 'png' | 'gif' | 'webp' | 'bmp' | 'avif';

export interface ImageHeader {
  format: ImageFormat;
  mime: string;
  /** Pixel width as displayed (after EXIF orientation); null when not found in the bytes given. */
  width: number | null;
  /** Pixel height as displayed (after EXIF orientation); null when not found in the bytes given. */
  height: number | null;
  /** JPEG EXIF orientation 1-8, when present. */
  orientation?: number;
}

/** A recognised image format that the app does not decode (HEIC, TIFF, ...). */
export interface UnsupportedImage {
  name: string;
  mime: string;
}

export const MIME_BY_FORMAT: Readonly<Record<ImageFormat, string>> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  bmp: 'image/bmp',
  avif: 'image/avif',
};

// ---------------------------------------------------------------------------------------------
// Bounds-checked readers: -1 when any byte is out of range (all results are otherwise >= 0).

function u8(b: Uint8Array, i: number): number {
  return i >= 0 && i < b.length ? (b[i] ?? -1) : -1;
}

function be16(b: Uint8Array, i: number): number {
  if (i < 0 || i + 2 > b.length) return -1;
  return (u8(b, i) << 8) | u8(b, i + 1);
}

function le16(b: Uint8Array, i: number): number {
  if (i < 0 || i + 2 > b.length) return -1;
  return u8(b, i) | (u8(b, i + 1) << 8);
}

function le24(b: Uint8Array, i: number): number {
  if (i < 0 || i + 3 > b.length) return -1;
  return u8(b, i) | (u8(b, i + 1) << 8) | (u8(b, i + 2) << 16);
}

function be32(b: Uint8Array, i: number): number {
  if (i < 0 || i + 4 > b.length) return -1;
  return u8(b, i) * 0x1000000 + ((u8(b, i + 1) << 16) | (u8(b, i + 2) << 8) | u8(b, i + 3));
}

function le32(b: Uint8Array, i: number): number {
  if (i < 0 || i + 4 > b.length) return -1;
  return u8(b, i + 3) * 0x1000000 + ((u8(b, i + 2) << 16) | (u8(b, i + 1) << 8) | u8(b, i));
}

/** Signed little-endian 32-bit; null when out of range. */
function le32s(b: Uint8Array, i: number): number | null {
  const v = le32(b, i);
  if (v < 0) return null;
  return v >= 0x80000000 ? v - 0x100000000 : v;
}

function ascii(b: Uint8Array, i: number, text: string): boolean {
  if (i < 0 || i + text.length > b.length) return false;
  for (let k = 0; k < text.length; k++) {
    if (b[i + k] !== text.charCodeAt(k)) return false;
  }
  return true;
}

function fourcc(b: Uint8Array, i: number): string {
  if (i < 0 || i + 4 > b.length) return '';
  return String.fromCharCode(u8(b, i), u8(b, i + 1), u8(b, i + 2), u8(b, i + 3));
}

function startsWith(b: Uint8Array, bytes: readonly number[]): boolean {
  if (b.length < bytes.length) return false;
  return bytes.every((v, k) => b[k] === v);
}

function header(
  format: ImageFormat,
  width: number | null,
  height: number | null,
  orientation?: number,
): ImageHeader {
  const h: ImageHeader = {
    format,
    mime: MIME_BY_FORMAT[format],
    width: width !== null && width >= 0 ? width : null,
    height: height !== null && height >= 0 ? height : null,
  };
  if (orientation !== undefined) h.orientation = orientation;
  return h;
}

// ---------------------------------------------------------------------------------------------
// JPEG

/** SOF0..SOF15, excluding DHT (C4), JPG (C8) and DAC (CC), which share the range. */
function isSof(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/** Orientation (1-8) from an APP1 payload spanning [start, end), or undefined. */
function readExifOrientation(b: Uint8Array, start: number, end: number): number | undefined {
  if (!ascii(b, start, 'Exif') || u8(b, start + 4) !== 0) return undefined;
  const tiff = start + 6;
  let little: boolean;
  if (ascii(b, tiff, 'II')) little = true;
  else if (ascii(b, tiff, 'MM')) little = false;
  else return undefined;
  const r16 = (i: number): number => (i + 2 > end ? -1 : little ? le16(b, i) : be16(b, i));
  const r32 = (i: number): number => (i + 4 > end ? -1 : little ? le32(b, i) : be32(b, i));
  if (r16(tiff + 2) !== 42) return undefined;
  const ifdOffset = r32(tiff + 4);
  if (ifdOffset < 8) return undefined;
  const ifd = tiff + ifdOffset;
  const count = r16(ifd);
  if (count < 0) return undefined;
  for (let k = 0; k < count; k++) {
    const entry = ifd + 2 + k * 12;
    if (entry + 12 > end) break;
    if (r16(entry) !== 0x0112) continue;
    const type = r16(entry + 2);
    // SHORT is the standard type; tolerate LONG from sloppy writers.
    const value = type === 3 ? r16(entry + 8) : type === 4 ? r32(entry + 8) : -1;
    return value >= 1 && value <= 8 ? value : undefined;
  }
  return undefined;
}

function sniffJpeg(b: Uint8Array): ImageHeader {
  let width: number | null = null;
  let height: number | null = null;
  let orientation: number | undefined;
  let exifSeen = false;
  let pos = 2;
  const n = b.length;
  while (pos < n) {
    // Markers start with 0xFF; skip any stray bytes between segments.
    if (b[pos] !== 0xff) {
      pos++;
      continue;
    }
    // Any number of 0xFF fill bytes may precede the marker code.
    while (pos < n && b[pos] === 0xff) pos++;
    if (pos >= n) break;
    const marker = u8(b, pos);
    pos++;
    // Stuffed zero, TEM, RSTn and SOI carry no length field.
    if (marker === 0x00 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) continue;
    if (marker === 0xd9) break; // EOI
    const length = be16(b, pos);
    if (length < 2) break; // truncated slice or corrupt length
    const payload = pos + 2;
    const end = pos + length;
    if (isSof(marker)) {
      if (width === null) {
        const h = be16(b, payload + 1);
        const w = be16(b, payload + 3);
        if (h < 0 || w < 0) break; // SOF cut off by the end of the slice
        width = w;
        height = h;
      }
    } else if (marker === 0xe1 && !exifSeen && ascii(b, payload, 'Exif')) {
      exifSeen = true;
      orientation = readExifOrientation(b, payload, Math.min(end, n));
    } else if (marker === 0xda) {
      break; // SOS: the frame header and the metadata decoders honour all come before the scan
    }
    if (width !== null && exifSeen) break;
    pos = end;
  }
  if (orientation !== undefined && orientation >= 5 && width !== null) {
    return header('jpeg', height, width, orientation);
  }
  return header('jpeg', width, height, orientation);
}

// ---------------------------------------------------------------------------------------------
// PNG, GIF, WebP, BMP: fixed headers at the start of the file.

function sniffPng(b: Uint8Array): ImageHeader {
  // The first chunk must be IHDR: length 13, type, width, height (big-endian).
  if (!ascii(b, 12, 'IHDR')) return header('png', null, null);
  return header('png', be32(b, 16), be32(b, 20));
}

function sniffGif(b: Uint8Array): ImageHeader {
  return header('gif', le16(b, 6), le16(b, 8));
}

function sniffWebp(b: Uint8Array): ImageHeader {
  const chunk = fourcc(b, 12);
  const data = 20;
  if (chunk === 'VP8 ') {
    // Lossy: 3-byte frame tag, start code 9D 01 2A, then 14-bit width and height.
    if (u8(b, data + 3) !== 0x9d || u8(b, data + 4) !== 0x01 || u8(b, data + 5) !== 0x2a) {
      return header('webp', null, null);
    }
    const w = le16(b, data + 6);
    const h = le16(b, data + 8);
    return header('webp', w < 0 ? null : w & 0x3fff, h < 0 ? null : h & 0x3fff);
  }
  if (chunk === 'VP8L') {
    // Lossless: signature 0x2F, then (width - 1) and (height - 1) as 14-bit fields.
    if (u8(b, data) !== 0x2f) return header('webp', null, null);
    const bits = le32(b, data + 1);
    if (bits < 0) return header('webp', null, null);
    return header('webp', (bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
  }
  if (chunk === 'VP8X') {
    // Extended: flags, 3 reserved bytes, then 24-bit (canvas width - 1) and (canvas height - 1).
    const w = le24(b, data + 4);
    const h = le24(b, data + 7);
    return header('webp', w < 0 ? null : w + 1, h < 0 ? null : h + 1);
  }
  return header('webp', null, null);
}

const BMP_DIB_SIZES = new Set([12, 16, 40, 52, 56, 64, 108, 124]);

function sniffBmp(b: Uint8Array): ImageHeader | null {
  const dib = le32(b, 14);
  // "BM" alone is a weak signature: also require a known DIB header size.
  if (!BMP_DIB_SIZES.has(dib)) return null;
  if (dib === 12) return header('bmp', le16(b, 18), le16(b, 20)); // OS/2 BITMAPCOREHEADER
  const w = le32s(b, 18);
  const h = le32s(b, 22);
  // Negative height means a top-down bitmap; a negative width is invalid.
  return header('bmp', w === null ? null : Math.max(w, 0), h === null ? null : Math.abs(h));
}

// ---------------------------------------------------------------------------------------------
// ISO-BMFF (AVIF, HEIC): ftyp brands, then meta > iprp > ipco/ipma for the primary item's ispe.

interface Box {
  type: string;
  /** Offset of the payload (after the size/type header). */
  start: number;
  /** End of the box, clipped to the enclosing range. */
  end: number;
}

const MAX_BOXES = 4096;

function readBoxes(b: Uint8Array, from: number, to: number): Box[] {
  const boxes: Box[] = [];
  const limit = Math.min(to, b.length);
  let pos = from;
  while (pos + 8 <= limit && boxes.length < MAX_BOXES) {
    let size = be32(b, pos);
    const type = fourcc(b, pos + 4);
    let start = pos + 8;
    if (size === 1) {
      const hi = be32(b, pos + 8);
      const lo = be32(b, pos + 12);
      if (hi < 0 || lo < 0) break;
      size = hi * 0x100000000 + lo;
      start = pos + 16;
    } else if (size === 0) {
      size = to - pos; // extends to the end of the enclosing range
    }
    if (size < start - pos) break; // corrupt size: stop rather than loop
    const end = Math.min(pos + size, to);
    boxes.push({ type, start, end });
    pos = pos + size;
  }
  return boxes;
}

const AVIF_BRANDS = new Set(['avif', 'avis']);
const HEIC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx']);
const HEIF_BRANDS = new Set(['mif1', 'msf1']);

function ftypBrands(b: Uint8Array): string[] | null {
  if (!ascii(b, 4, 'ftyp')) return null;
  const size = be32(b, 0);
  if (size < 16) return null;
  const end = Math.min(size, b.length);
  const brands = [fourcc(b, 8)];
  for (let i = 16; i + 4 <= end; i += 4) brands.push(fourcc(b, i));
  return brands;
}

function isoDimensions(b: Uint8Array): { width: number; height: number } | null {
  const meta = readBoxes(b, 0, b.length).find((box) => box.type === 'meta');
  if (!meta) return null;
  const metaChildren = readBoxes(b, meta.start + 4, meta.end); // meta is a FullBox
  const pitm = metaChildren.find((box) => box.type === 'pitm');
  let primary = -1;
  if (pitm) primary = u8(b, pitm.start) === 0 ? be16(b, pitm.start + 4) : be32(b, pitm.start + 4);
  const iprp = metaChildren.find((box) => box.type === 'iprp');
  if (!iprp) return null;
  const iprpChildren = readBoxes(b, iprp.start, iprp.end);
  const ipco = iprpChildren.find((box) => box.type === 'ipco');
  if (!ipco) return null;
  const properties = readBoxes(b, ipco.start, ipco.end);

  // Property indices (1-based into ipco) associated with the primary item.
  const associated: number[] = [];
  const ipma = iprpChildren.find((box) => box.type === 'ipma');
  if (ipma && primary >= 0) {
    const version = u8(b, ipma.start);
    const wideIndex = (u8(b, ipma.start + 3) & 1) === 1;
    const entries = be32(b, ipma.start + 4);
    let p = ipma.start + 8;
    for (let e = 0; e < entries && p < ipma.end; e++) {
      const item = version < 1 ? be16(b, p) : be32(b, p);
      p += version < 1 ? 2 : 4;
      const count = u8(b, p);
      p += 1;
      if (item < 0 || count < 0) break;
      for (let a = 0; a < count; a++) {
        const raw = wideIndex ? be16(b, p) : u8(b, p);
        p += wideIndex ? 2 : 1;
        if (raw < 0) break;
        if (item === primary) associated.push(wideIndex ? raw & 0x7fff : raw & 0x7f);
      }
      if (item === primary) break;
    }
  }

  const readIspe = (box: Box): { width: number; height: number } | null => {
    const width = be32(b, box.start + 4);
    const height = be32(b, box.start + 8);
    return width < 0 || height < 0 || box.start + 12 > box.end ? null : { width, height };
  };

  let dims: { width: number; height: number } | null = null;
  let rotated = false;
  for (const index of associated) {
    const box = properties[index - 1];
    if (!box) continue;
    if (box.type === 'ispe' && !dims) dims = readIspe(box);
    if (box.type === 'irot') rotated = (u8(b, box.start) & 1) === 1; // 90 or 270 degrees
  }
  if (!dims) {
    // No usable association: take the largest ispe (thumbnails and alpha planes are smaller).
    for (const box of properties) {
      if (box.type !== 'ispe') continue;
      const d = readIspe(box);
      if (d && (!dims || d.width * d.height > dims.width * dims.height)) dims = d;
    }
  }
  if (!dims) return null;
  return rotated ? { width: dims.height, height: dims.width } : dims;
}

function sniffIso(b: Uint8Array): ImageHeader | null {
  const brands = ftypBrands(b);
  if (!brands || !brands.some((brand) => AVIF_BRANDS.has(brand))) return null;
  const dims = isoDimensions(b);
  return header('avif', dims ? dims.width : null, dims ? dims.height : null);
}

// ---------------------------------------------------------------------------------------------
// Public API

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] as const;

/**
 * Detects the image format of `head` (the first bytes of a file) and reads the pixel dimensions
 * from its header. Returns null when the bytes are not a supported image. Never throws.
 */
export function sniffImage(head: Uint8Array): ImageHeader | null {
  try {
    const b = head;
    if (u8(b, 0) === 0xff && u8(b, 1) === 0xd8 && u8(b, 2) === 0xff) return sniffJpeg(b);
    if (startsWith(b, PNG_SIGNATURE)) return sniffPng(b);
    if (ascii(b, 0, 'GIF87a') || ascii(b, 0, 'GIF89a')) return sniffGif(b);
    if (ascii(b, 0, 'RIFF') && ascii(b, 8, 'WEBP')) return sniffWebp(b);
    if (ascii(b, 0, 'BM')) return sniffBmp(b);
    if (ascii(b, 4, 'ftyp')) return sniffIso(b);
    return null;
  } catch {
    // Every read above is bounds-checked; this is a last line of defence, never the normal path.
    return null;
  }
}

/**
 * Names a recognised image format that is not supported (HEIC/HEIF, TIFF, JPEG XL, PSD, SVG),
 * so the caller can say "unsupported" rather than "not an image". Null otherwise. Never throws.
 */
export function sniffUnsupported(head: Uint8Array): UnsupportedImage | null {
  try {
    const b = head;
    const brands = ftypBrands(b);
    if (brands && !brands.some((brand) => AVIF_BRANDS.has(brand))) {
      if (brands.some((brand) => HEIC_BRANDS.has(brand))) {
        return { name: 'HEIC', mime: 'image/heic' };
      }
      if (brands.some((brand) => HEIF_BRANDS.has(brand))) {
        return { name: 'HEIF', mime: 'image/heif' };
      }
      if (brands.includes('jxl ')) return { name: 'JPEG XL', mime: 'image/jxl' };
    }
    if (startsWith(b, [0x49, 0x49, 0x2a, 0x00]) || startsWith(b, [0x4d, 0x4d, 0x00, 0x2a])) {
      return { name: 'TIFF', mime: 'image/tiff' };
    }
    if (
      startsWith(b, [0xff, 0x0a]) ||
      startsWith(b, [0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20, 0x0d, 0x0a, 0x87, 0x0a])
    ) {
      return { name: 'JPEG XL', mime: 'image/jxl' };
    }
    if (ascii(b, 0, '8BPS')) return { name: 'Photoshop', mime: 'image/vnd.adobe.photoshop' };
    if (looksLikeSvg(b)) return { name: 'SVG', mime: 'image/svg+xml' };
    return null;
  } catch {
    return null;
  }
}

function looksLikeSvg(b: Uint8Array): boolean {
  let i = 0;
  if (u8(b, 0) === 0xef && u8(b, 1) === 0xbb && u8(b, 2) === 0xbf) i = 3; // UTF-8 BOM
  while (i < b.length && (b[i] === 0x20 || b[i] === 0x09 || b[i] === 0x0a || b[i] === 0x0d)) i++;
  if (u8(b, i) !== 0x3c) return false; // '<'
  const end = Math.min(b.length, i + 4096);
  for (let k = i; k + 4 <= end; k++) {
    if (ascii(b, k, '<svg')) return true;
  }
  return false;
}
