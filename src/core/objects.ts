/**
 * The one plain-object check of core: a `{...}` literal, a parsed JSON object or an
 * `Object.create(null)` map, as opposed to arrays, class instances, typed arrays and Blobs.
 */

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
