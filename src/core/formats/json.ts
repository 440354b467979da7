/**
 * JSON for archives: the JSON value types, a hardened parser (strict UTF-8, size cap, rejection of
 * prototype-polluting keys via a reviver, depth limit) and the serialiser used for every JSON entry
 * Loupe writes.
 */
import { isPlainObject } from '../objects';
import { ArchiveError } from './errors';

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** Keys that could reach `Object.prototype` through careless merging: refused anywhere in JSON. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set([
  '__proto__',
  'constructor',
  'prototype',
]);

/** Deepest nesting accepted in archive JSON (Loupe writes at most ~8 levels). */
export const MAX_JSON_DEPTH = 64;

export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return isPlainObject(value);
}

/** An own property (never one inherited from `Object.prototype`). */
export function own(object: JsonObject, key: string): JsonValue | undefined {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

const encoder = new TextEncoder();

export function jsonBytes(value: JsonValue): Uint8Array<ArrayBuffer> {
  return encoder.encode(JSON.stringify(value));
}

/**
 * Parses a JSON entry: rejects invalid UTF-8, more than `maxBytes`, forbidden keys and nesting
 * deeper than MAX_JSON_DEPTH, each with an ArchiveError naming `path`.
 */
export function parseJsonEntry(bytes: Uint8Array, path: string, maxBytes: number): JsonValue {
  if (bytes.length > maxBytes) {
    throw new ArchiveError(
      'json-too-large',
      `${path} is ${bytes.length} bytes; JSON entries are limited to ${maxBytes} bytes.`,
      path,
    );
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ArchiveError('bad-json', `${path} is not valid UTF-8 text.`, path);
  }
  let value: unknown;
  try {
    value = JSON.parse(text, (key: string, v: unknown) => {
      if (FORBIDDEN_KEYS.has(key)) throw new ForbiddenKey(key);
      return v;
    });
  } catch (error) {
    if (error instanceof ForbiddenKey) {
      throw new ArchiveError(
        'forbidden-key',
        `${path} contains the key "${error.key}", which Loupe never writes; the file was tampered with.`,
        path,
      );
    }
    const detail = error instanceof Error ? error.message : String(error);
    throw new ArchiveError('bad-json', `${path} is not valid JSON (${detail}).`, path);
  }
  checkDepth(value as JsonValue, path);
  return value as JsonValue;
}

class ForbiddenKey extends Error {
  constructor(readonly key: string) {
    super(key);
  }
}

function checkDepth(root: JsonValue, path: string): void {
  const stack: [JsonValue, number][] = [[root, 0]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop() as [JsonValue, number];
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= MAX_JSON_DEPTH) {
      throw new ArchiveError(
        'bad-json',
        `${path} nests deeper than ${MAX_JSON_DEPTH} levels; Loupe never writes that.`,
        path,
      );
    }
    const children = Array.isArray(value) ? value : Object.values(value);
    for (const child of children) stack.push([child, depth + 1]);
  }
}
