/**
 * Schema helpers: one TypeBox declaration gives the JSON Schema (admin API, back-office forms),
 * the TypeScript type (`Static<>`) and, compiled once here, the validator.
 */
import { type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { ValidationError, type ErrorDetail } from '../errors.js';

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

/** Compile `schema` once; call at module or configuration time, never per request. */
export function compileValidator<T extends TSchema>(schema: T): Validator<T> {
  const compiled: TypeCheck<T> = TypeCompiler.Compile(schema);
  const errors = (value: unknown, prefix = ''): ErrorDetail[] => {
    const out: ErrorDetail[] = [];
    for (const error of compiled.Errors(value)) {
      out.push({ path: prefix + (error.path || '') || '/', message: error.message });
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
      if (compiled.Check(withDefaults)) return withDefaults as Static<T>;
      throw new ValidationError(`Invalid ${what}`, errors(withDefaults, prefix));
    },
  };
}

/** A deep copy of `value` with the schema's defaults filled in where properties are missing. */
export function applyDefaults<T extends TSchema>(schema: T, value: unknown): unknown {
  return Value.Default(schema, structuredCloneSafe(value));
}

function structuredCloneSafe(value: unknown): unknown {
  return value === undefined ? undefined : structuredClone(value);
}
