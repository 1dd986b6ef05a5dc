/**
 * Schema helpers: one TypeBox declaration gives the JSON Schema (admin API, back-office forms),
 * the TypeScript type (`Static<>`) and, compiled once here, the validator.
 */
import { FormatRegistry, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { SetErrorFunction } from '@sinclair/typebox/errors';
import { ValidationError, type ErrorDetail } from '../errors.js';
import { readableMessage } from './validation-messages.js';

export interface Validator<T extends TSchema> {
  readonly schema: T;
  /** True when `value` conforms; defaults are not applied. */
  check(value: unknown): value is Static<T>;
  /** Every error, as `{ path, message }`, with `prefix` prepended to the paths. */
  errors(value: unknown, prefix?: string): ErrorDetail[];
  /** Clone `value`, fill defaults, validate; throws a 400 ValidationError listing every problem. */
  parse(value: unknown, what: string, prefix?: string): Static<T>;
}

const MAX_REPORTED_ERRORS = 20;

/** The positions of `YYYY-MM-DDTHH:MM:SS.sssZ` that hold a digit (the others are its separators). */
const CANONICAL_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22];
const CANONICAL_SEPARATORS: ReadonlyArray<[number, number]> = [
  [4, 45],
  [7, 45],
  [10, 84],
  [13, 58],
  [16, 58],
  [19, 46],
];

/**
 * The form every stored date has (`Date.prototype.toISOString`), checked by character codes: start-up
 * checks two dates per entity, 200 000 with 100 000 API keys, and the regular expression's match
 * array and `Date.parse` were a tenth of the start's CPU. Null when the text is not in that form
 * (the general check decides).
 */
function isCanonicalDateTime(value: string): boolean | null {
  for (const at of CANONICAL_DIGITS) {
    const c = value.charCodeAt(at);
    if (c < 48 || c > 57) return null;
  }
  for (const [at, code] of CANONICAL_SEPARATORS) if (value.charCodeAt(at) !== code) return null;
  const field = (at: number) => (value.charCodeAt(at) - 48) * 10 + value.charCodeAt(at + 1) - 48;
  const year = field(0) * 100 + field(2);
  const month = field(5);
  const day = field(8);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return false;
  return field(11) <= 23 && field(14) <= 59 && field(17) <= 59; // as the general check: Date.parse refuses a leap second
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?([Zz]|([+-])(\d{2}):(\d{2}))$/;

/**
 * Whether `value` is a real RFC 3339 date-time (seconds optional, as people write them): month
 * 1–12, a day that exists in that month (leap years included), hours, minutes, seconds and offset
 * in range. A regular expression alone lets `2020-13-01T00:00Z` through, which `Date.parse` turns
 * into NaN (an expiry that never comes).
 */
export function isDateTime(value: string): boolean {
  if (value.length === 24 && value.charCodeAt(23) === 90 /* Z */) {
    const canonical = isCanonicalDateTime(value);
    if (canonical !== null) return canonical;
  }
  const m = DATE_TIME.exec(value);
  if (!m) return false;
  // Field by field, no array: every stored entity has dates, and start-up checks them all.
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(Number(m[1]), month)) return false;
  if (Number(m[4]) > 23 || Number(m[5]) > 59 || (m[6] !== undefined && Number(m[6]) > 60)) return false; // 60: a leap second
  if (m[9] !== undefined && (Number(m[10]) > 23 || Number(m[11]) > 59)) return false;
  return !Number.isNaN(Date.parse(value));
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

// Registered once, before any schema is compiled: every `format: 'date-time'` means a real date.
FormatRegistry.Set('date-time', isDateTime);
// `password` (OpenAPI's) only marks a secret for forms, which mask it; any string is one
FormatRegistry.Set('password', () => true);
// Validation messages in words, for every client (validation-messages.ts)
SetErrorFunction(readableMessage);

/** Longest accepted date-time string (with nanoseconds and an offset). */
export const DATE_TIME_MAX_LENGTH = 40;

/**
 * Keys that would reach an object's prototype when copied with plain assignment. User objects
 * (request bodies, imported documents, the data file) may not carry them at any depth.
 */
const FORBIDDEN_KEYS = new Set(['__proto__']);

/**
 * The gadget of every deep-merge pollution: a walk along `constructor.prototype` (or a
 * `prototype` object) reaches a class's prototype (`target.constructor.prototype.x = …`). Refused
 * in an entity: `prototype` holding an object, and `constructor` holding an object that has a
 * `prototype` key. A claim or metadata entry merely named `constructor` (`{"constructor": {}}` as a
 * required claim, `"constructor": "team-a"` as metadata) is data, and kept.
 */
function isGadget(key: string, child: unknown): boolean {
  if (typeof child !== 'object' || child === null || Array.isArray(child)) return false;
  return key === 'prototype' || (key === 'constructor' && Object.hasOwn(child, 'prototype'));
}

/**
 * The path of the first forbidden key in `value` (depth-first), or null: `__proto__` anywhere, and
 * the `constructor.prototype` gadget.
 */
export function forbiddenKeyPath(value: unknown, path = ''): string | null {
  if (typeof value !== 'object' || value === null) return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = forbiddenKeyPath(value[i], `${path}/${i}`);
      if (found !== null) return found;
    }
    return null;
  }
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_KEYS.has(key)) return `${path}/${key}`;
    const child = (value as Record<string, unknown>)[key];
    if (isGadget(key, child)) return `${path}/${key}`;
    const found = forbiddenKeyPath(child, `${path}/${key}`);
    if (found !== null) return found;
  }
  return null;
}

/** A `JSON.parse` reviver refusing `__proto__` keys (the caller turns the throw into a 400). */
export function rejectForbiddenKeys(key: string, value: unknown): unknown {
  if (FORBIDDEN_KEYS.has(key)) throw new SyntaxError(`the key "${key}" is not allowed`);
  return value;
}

/** Compile `schema` once; call at module or configuration time, never per request. */
export function compileValidator<T extends TSchema>(schema: T): Validator<T> {
  const compiled: TypeCheck<T> = TypeCompiler.Compile(schema);
  const errors = (value: unknown, prefix = ''): ErrorDetail[] => {
    const out: ErrorDetail[] = [];
    for (const error of compiled.Errors(value)) {
      const path = prefix + (error.path || '') || '/';
      // One message per field: a missing one is "Required", not also "Must be text"
      if (out.some((e) => e.path === path)) continue;
      out.push({ path, message: error.message });
      if (out.length >= MAX_REPORTED_ERRORS) break;
    }
    return out;
  };
  return {
    schema,
    check: (value): value is Static<T> => compiled.Check(value),
    errors,
    parse(value, what, prefix = '') {
      const withDefaults = applyDefaults(schema, value);
      // Defaults fill what is missing, never what was given: TypeBox's Value.Default turns an object
      // given for an array into an empty array (keeping its keys as array properties).
      const replaced = replacedGivenValue(value, withDefaults);
      if (replaced !== null)
        throw new ValidationError(`Invalid ${what}`, [
          { path: prefix + replaced.path, message: `Expected ${replaced.expected}` },
        ]);
      if (compiled.Check(withDefaults)) return withDefaults as Static<T>;
      throw new ValidationError(`Invalid ${what}`, errors(withDefaults, prefix));
    },
  };
}

type JsonKind = 'null' | 'array' | 'object' | 'string' | 'number' | 'boolean' | 'other';

function jsonKind(value: unknown): JsonKind {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  const type = typeof value;
  return type === 'object' || type === 'string' || type === 'number' || type === 'boolean' ? type : 'other';
}

/** The first value given in `given` that `defaulted` holds as another kind (JSON pointer and that kind), or null. */
export function replacedGivenValue(
  given: unknown,
  defaulted: unknown,
  path = '',
): { path: string; expected: JsonKind } | null {
  if (given === undefined) return null;
  const kind = jsonKind(defaulted);
  if (jsonKind(given) !== kind) return { path: path || '/', expected: kind };
  if (kind === 'array') {
    const items = given as unknown[];
    for (let i = 0; i < items.length; i++) {
      const found = replacedGivenValue(items[i], (defaulted as unknown[])[i], `${path}/${i}`);
      if (found !== null) return found;
    }
  } else if (kind === 'object') {
    for (const key of Object.keys(given as object)) {
      const found = replacedGivenValue(
        (given as Record<string, unknown>)[key],
        (defaulted as Record<string, unknown>)[key],
        `${path}/${key}`,
      );
      if (found !== null) return found;
    }
  }
  return null;
}

/** A deep copy of `value` with the schema's defaults filled in where properties are missing. */
export function applyDefaults<T extends TSchema>(schema: T, value: unknown): unknown {
  return Value.Default(schema, structuredCloneSafe(value));
}

function structuredCloneSafe(value: unknown): unknown {
  return value === undefined ? undefined : structuredClone(value);
}
