/**
 * Entry names inside zips: the safety check every name read from an archive must pass, and the
 * sanitiser that turns ids, label names and file names into portable, unique entry names.
 */
import { ArchiveError } from './errors';

const MAX_ENTRY_NAME = 1024;

/**
 * Throws 'unsafe-path' for names that could escape an extraction folder or confuse tools: empty,
 * absolute (`/x`, `C:x`), backslashes, `.` / `..` / empty segments, control characters, over-long.
 * Directory entries (ending in `/`) are allowed.
 */
export function assertSafeEntryName(name: string): void {
  const fail = (why: string): never => {
    throw new ArchiveError(
      'unsafe-path',
      `The archive contains an unsafe file name ${JSON.stringify(name.slice(0, 200))} (${why}); it was not made by Loupe.`,
      name,
    );
  };
  if (name.length === 0) fail('empty');
  if (name.length > MAX_ENTRY_NAME) fail('too long');
  if (name.includes('\\')) fail('backslash');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) fail('control character');
  if (name.startsWith('/')) fail('absolute path');
  if (/^[A-Za-z]:/.test(name)) fail('drive letter');
  const segments = name.endsWith('/') ? name.slice(0, -1).split('/') : name.split('/');
  for (const segment of segments) {
    if (segment === '..') fail('parent directory');
    if (segment === '.' || segment === '') fail('empty or "." path segment');
  }
}

const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

/**
 * A file or folder name safe on Windows, macOS and Linux: no separators, reserved characters,
 * control characters, leading/trailing dots or spaces, or reserved device names; at most
 * `maxLength` characters; `fallback` when nothing is left.
 */
export function sanitizeSegment(raw: string, fallback = '_', maxLength = 100): string {
  let name = raw
    .normalize('NFC')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f<>:"/\\|?*]/g, '_')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^[.\s]+|[.\s]+$/g, '');
  if (name.length > maxLength) name = name.slice(0, maxLength).trim();
  if (name.length === 0) return fallback;
  if (WINDOWS_RESERVED.test(name)) name = `_${name}`;
  return name;
}

/** Splits "photo.final.JPG" into ["photo.final", ".JPG"]; no extension gives [name, ""]. */
export function splitExtension(name: string): [string, string] {
  const dot = name.lastIndexOf('.');
  if (dot <= 0 || dot === name.length - 1) return [name, ''];
  return [name.slice(0, dot), name.slice(dot)];
}

/**
 * Hands out names unique within one namespace, case-insensitively (so the zip extracts cleanly on
 * case-insensitive file systems): "a.png", then "a-2.png", "a-3.png", ...
 */
export class UniqueNames {
  private readonly taken = new Set<string>();

  claim(name: string): string {
    const [stem, ext] = splitExtension(name);
    let candidate = name;
    for (let n = 2; this.taken.has(candidate.toLowerCase()); n++) candidate = `${stem}-${n}${ext}`;
    this.taken.add(candidate.toLowerCase());
    return candidate;
  }
}

const EXTENSION_BY_MIME: Readonly<Record<string, string>> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/bmp': 'bmp',
  'image/avif': 'avif',
};

/** File extension (no dot) for an image MIME type, `fallback` when unknown. */
export function extensionForMime(mime: string, fallback = 'bin'): string {
  return EXTENSION_BY_MIME[mime.toLowerCase()] ?? fallback;
}
