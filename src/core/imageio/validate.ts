/**
 * File admission rules for imported images: size and pixel limits, checked from the file's
 * metadata and header bytes before anything is decoded (so a decompression bomb never reaches the
 * decoder), the post-decode dimension check, and the short human-readable rejection reasons.
 */
import { MIME_BY_FORMAT, sniffImage, sniffUnsupported } from './sniff';
import type { ImageFormat, ImageHeader } from './sniff';

export const MAX_FILE_BYTES = 40 * 1024 * 1024;
export const MAX_PIXELS = 100_000_000;

export type RejectCode =
  'empty' | 'too-large' | 'not-an-image' | 'unsupported' | 'too-many-pixels' | 'corrupt';

export interface Rejection {
  ok: false;
  reason: string;
  code: RejectCode;
}

export type FileCheck = { ok: true; header: ImageHeader } | Rejection;
export type DecodedCheck = { ok: true } | Rejection;

export interface FileCheckInput {
  name: string;
  size: number;
  type: string;
  /** The first bytes of the file (256 KB is plenty); may be the whole file. */
  head: Uint8Array;
}

const CORRUPT_HEADER = 'corrupt or truncated image header';
const DECODE_FAILED = 'could not decode image (corrupt or truncated)';
const SUPPORTED_HINT = 'convert to JPEG, PNG or WebP';

/** Formats whose dimensions always sit within the first few dozen bytes. */
const FIXED_HEADER_FORMATS: ReadonlySet<ImageFormat> = new Set(['png', 'gif', 'webp', 'bmp']);
const FIXED_HEADER_BYTES = 64;

const SUPPORTED_MIMES: ReadonlySet<string> = new Set([
  ...Object.values(MIME_BY_FORMAT),
  'image/jpg',
  'image/pjpeg',
  'image/x-png',
  'image/x-ms-bmp',
]);

/** Extensions of image formats we recognise but cannot import. */
const UNSUPPORTED_IMAGE_EXTENSIONS: ReadonlySet<string> = new Set([
  'heic',
  'heif',
  'tif',
  'tiff',
  'jxl',
  'psd',
  'svg',
  'ico',
  'cur',
  'jp2',
  'dng',
  'cr2',
  'cr3',
  'nef',
  'arw',
  'orf',
  'rw2',
  'raf',
]);

function reject(code: RejectCode, reason: string): Rejection {
  return { ok: false, code, reason };
}

function trimZero(text: string): string {
  return text.replace(/\.0+$/, '');
}

/** Human file size with binary units: "0 bytes", "512 bytes", "1.5 KB", "52.3 MB". */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 1024) {
    const whole = Number.isFinite(n) ? Math.round(n) : n;
    return `${whole} ${whole === 1 ? 'byte' : 'bytes'}`;
  }
  const units = ['KB', 'MB', 'GB', 'TB'] as const;
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  let text = trimZero(value.toFixed(1));
  if (text === '1024' && unit < units.length - 1) {
    text = '1';
    unit++;
  }
  return `${text} ${units[unit] ?? 'TB'}`;
}

/** Megapixels for messages, precise enough that a just-over-the-limit image never reads "100". */
function formatMegapixels(pixels: number): string {
  const mp = pixels / 1e6;
  const limit = MAX_PIXELS / 1e6;
  for (const digits of [1, 2, 3]) {
    const text = trimZero(mp.toFixed(digits));
    if (mp <= limit || Number(text) > limit) return text;
  }
  return mp.toString();
}

function tooManyPixels(width: number, height: number): Rejection {
  return reject(
    'too-many-pixels',
    `image is ${width} × ${height} px (${formatMegapixels(width * height)} MP); ` +
      `the limit is ${MAX_PIXELS / 1e6} megapixels`,
  );
}

function extensionOf(name: string): string {
  const base = name.slice(name.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : '';
}

/** Rejection for bytes that matched no supported signature. */
function unrecognised(input: FileCheckInput): Rejection {
  const known = sniffUnsupported(input.head);
  if (known) {
    return reject('unsupported', `${known.name} images are not supported; ${SUPPORTED_HINT}`);
  }
  const type = input.type.trim().toLowerCase();
  const ext = extensionOf(input.name);
  if (type.startsWith('image/')) {
    if (SUPPORTED_MIMES.has(type)) {
      return reject('not-an-image', `not an image (contents do not match ${type})`);
    }
    return reject('unsupported', `unsupported image format (${type}); ${SUPPORTED_HINT}`);
  }
  if (!type && UNSUPPORTED_IMAGE_EXTENSIONS.has(ext)) {
    return reject('unsupported', `unsupported image format (.${ext}); ${SUPPORTED_HINT}`);
  }
  const label = type || (ext ? `.${ext}` : 'unknown type');
  return reject('not-an-image', `not an image (${label})`);
}

/**
 * Admission check from the file's size, browser-reported type, name and head bytes, without
 * decoding. Order: empty, too large, format signature, pixel count, zero/missing dimensions.
 */
export function checkFile(input: FileCheckInput): FileCheck {
  const { size, head } = input;
  if (size <= 0) return reject('empty', 'empty file (0 bytes)');
  if (size > MAX_FILE_BYTES) {
    return reject(
      'too-large',
      `file is ${formatBytes(size)}; the limit is ${formatBytes(MAX_FILE_BYTES)}`,
    );
  }
  const header = sniffImage(head);
  if (!header) return unrecognised(input);
  const { width, height } = header;
  if (width !== null && height !== null) {
    if (width * height > MAX_PIXELS) return tooManyPixels(width, height);
    if (width === 0 || height === 0) return reject('corrupt', CORRUPT_HEADER);
    return { ok: true, header };
  }
  // Dimensions not found. That is corrupt when the whole file was in hand, or when the format
  // keeps them at a fixed spot near the start; otherwise (a JPEG with a huge EXIF block, an AVIF
  // with its meta box late) the decoder decides and checkDecoded applies the limits afterwards.
  const wholeFile = head.length >= size;
  const fixed = FIXED_HEADER_FORMATS.has(header.format) && head.length >= FIXED_HEADER_BYTES;
  if (wholeFile || fixed) return reject('corrupt', CORRUPT_HEADER);
  return { ok: true, header };
}

/** Check the dimensions a decoder actually produced. */
export function checkDecoded(width: number, height: number): DecodedCheck {
  if (!Number.isFinite(width) || !Number.isFinite(height) || width <= 0 || height <= 0) {
    return reject('corrupt', DECODE_FAILED);
  }
  if (width * height > MAX_PIXELS) return tooManyPixels(width, height);
  return { ok: true };
}

/** Message for a failed decode (createImageBitmap rejects with an opaque DOMException). */
export function describeDecodeError(err: unknown): string {
  let text = typeof err === 'string' ? err : '';
  if (typeof err === 'object' && err !== null) {
    // DOMException is an Error in current engines, but read the fields structurally regardless.
    const { name, message } = err as { name?: unknown; message?: unknown };
    text = `${typeof name === 'string' ? name : ''} ${typeof message === 'string' ? message : ''}`;
  }
  if (/memory|allocat/i.test(text)) {
    return 'not enough memory to decode image; try a smaller image';
  }
  return DECODE_FAILED;
}
