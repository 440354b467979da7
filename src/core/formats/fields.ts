/**
 * Field validation for archive records: typed access to one decoded JSON object (`Fields`) whose
 * errors name the document and the record, plus the checks every reader shares (ids, names,
 * duplicates) and the size limits of record fields. Throws ArchiveError; touches no storage.
 */
import { isPlainObject } from '../objects';
import { ArchiveError, type ArchiveLimits } from './errors';
import { assertSafeEntryName } from './paths';

export type Obj = Record<string, unknown>;

export const MAX_ID_LENGTH = 200;
export const MAX_EMBEDDING_DIM = 1 << 20;

/** An own property (never one inherited from `Object.prototype`). */
export function ownValue(object: Obj, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

/** A value as short JSON for messages. */
export function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Typed field access on one decoded record, with errors that say where. */
export class Fields {
  constructor(
    readonly obj: Obj,
    readonly doc: string,
    readonly where: string,
  ) {}

  invalid(message: string): ArchiveError {
    return new ArchiveError('invalid-record', `${this.doc}: ${this.where} ${message}.`, this.doc);
  }

  has(key: string): boolean {
    return Object.hasOwn(this.obj, key);
  }

  string(key: string, max = 4096): string {
    const v = ownValue(this.obj, key);
    if (typeof v !== 'string') throw this.invalid(`needs a text "${key}"`);
    if (v.length > max) throw this.invalid(`has a "${key}" longer than ${max} characters`);
    return v;
  }

  id(key: string): string {
    const v = this.string(key, MAX_ID_LENGTH);
    if (!isId(v)) throw this.invalid(`has an invalid "${key}"`);
    return v;
  }

  /** A list of ids (label ids, sample ids). */
  ids(key: string): string[] {
    const list = this.array(key);
    if (!list.every(isId)) throw this.invalid(`needs a list of ids in "${key}"`);
    return list;
  }

  number(key: string): number {
    const v = ownValue(this.obj, key);
    if (typeof v !== 'number' || !Number.isFinite(v)) throw this.invalid(`needs a number "${key}"`);
    return v;
  }

  count(key: string): number {
    const v = this.number(key);
    if (!Number.isSafeInteger(v) || v < 0) throw this.invalid(`needs a whole number "${key}"`);
    return v;
  }

  array(key: string): unknown[] {
    const v = ownValue(this.obj, key);
    if (!Array.isArray(v)) throw this.invalid(`needs a list "${key}"`);
    return v;
  }

  object(key: string): Obj {
    const v = ownValue(this.obj, key);
    if (!isPlainObject(v)) throw this.invalid(`needs an object "${key}"`);
    return v;
  }

  /** The field as `Fields` of its own (an object), named `where.key` in errors. */
  fields(key: string): Fields {
    return new Fields(this.object(key), this.doc, `${this.where}.${key}`);
  }

  path(key: string): string {
    const v = this.string(key, 1024);
    assertSafeEntryName(v);
    return v;
  }

  /** Every field except `known`. */
  rest(...known: string[]): Obj {
    const out: Obj = {};
    for (const [key, value] of Object.entries(this.obj)) if (!known.includes(key)) out[key] = value;
    return out;
  }
}

/** A non-empty id of at most MAX_ID_LENGTH characters without control characters. */
export function isId(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= MAX_ID_LENGTH &&
    // eslint-disable-next-line no-control-regex
    !/[\u0000-\u001f\u007f]/.test(value)
  );
}

export function fieldsOf(value: unknown, doc: string, where: string): Fields {
  if (!isPlainObject(value)) {
    throw new ArchiveError('invalid-record', `${doc}: ${where} must be an object.`, doc);
  }
  return new Fields(value, doc, where);
}

export function duplicate(doc: string, what: string, id: string): ArchiveError {
  return new ArchiveError('duplicate-id', `${doc}: two ${what} share the id ${quote(id)}.`, doc);
}

/** Checks a label or project name: too long or empty is an error; markup is neutralised. */
export function checkName(
  raw: string,
  what: string,
  limits: ArchiveLimits,
  warnings: string[],
  doc: string,
): string {
  if (raw.length > limits.maxNameLength) {
    throw new ArchiveError(
      'bad-label',
      `${doc}: a ${what} name is ${raw.length} characters long; names are limited to ${limits.maxNameLength}.`,
      doc,
    );
  }
  // eslint-disable-next-line no-control-regex
  let name = raw.replace(/[\u0000-\u001f\u007f]/g, ' ');
  if (/[<>]/.test(name)) {
    name = name.replace(/</g, '‹').replace(/>/g, '›');
    warnings.push(
      `The ${what} name ${quote(raw)} contained "<" or ">"; it was renamed ${quote(name)}.`,
    );
  }
  name = name.replace(/\s+/g, ' ').trim();
  if (name.length === 0) {
    throw new ArchiveError('bad-label', `${doc}: a ${what} has an empty name.`, doc);
  }
  return name;
}
