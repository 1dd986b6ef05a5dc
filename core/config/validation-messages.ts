/**
 * Validation messages in words, for every client of the admin API (the back office shows them next
 * to the field): "at least 16 characters", "a whole number from 1 to 65535", "one of: a, b", instead
 * of TypeBox's "Expected string length greater or equal to 16". One place maps each kind of schema
 * error to a sentence; schema.ts registers it before any schema is compiled.
 */
import { ValueErrorType, DefaultErrorFunction, type ErrorFunctionParameter } from '@sinclair/typebox/errors';

type Schema = ErrorFunctionParameter['schema'];

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** "a whole number from 1 to 65535", "a number of at least 0": the whole range, whichever bound failed. */
function numberRange(schema: Schema, noun: string): string {
  const min =
    schema.minimum ?? (schema.exclusiveMinimum !== undefined ? `more than ${schema.exclusiveMinimum}` : undefined);
  const max =
    schema.maximum ?? (schema.exclusiveMaximum !== undefined ? `less than ${schema.exclusiveMaximum}` : undefined);
  if (typeof min === 'number' && typeof max === 'number') return `Must be ${noun} from ${min} to ${max}`;
  if (min !== undefined) return `Must be ${noun} of ${typeof min === 'number' ? `at least ${min}` : min}`;
  if (max !== undefined) return `Must be ${noun} of ${typeof max === 'number' ? `at most ${max}` : max}`;
  return `Must be ${noun}`;
}

/** The literal values of a union of literals ("one of: a, b"), or null for any other union. */
function literalChoices(schema: Schema): string | null {
  const variants = schema.anyOf as Schema[] | undefined;
  if (!variants || !variants.every((v) => v.const !== undefined)) return null;
  return variants.map((v) => String(v.const)).join(', ');
}

function stringMessage(error: ErrorFunctionParameter): string | null {
  const { schema } = error;
  switch (error.errorType) {
    case ValueErrorType.String:
      return 'Must be text';
    case ValueErrorType.StringMinLength:
      return schema.minLength === 1 ? 'Must not be empty' : `Must be at least ${plural(schema.minLength, 'character')}`;
    case ValueErrorType.StringMaxLength:
      return `Must be at most ${plural(schema.maxLength, 'character')}`;
    case ValueErrorType.StringPattern:
      return `Must match the pattern ${schema.pattern}`;
    case ValueErrorType.StringFormat:
      return `Must be a valid ${schema.format}`;
    default:
      return null;
  }
}

function numberMessage(error: ErrorFunctionParameter): string | null {
  switch (error.errorType) {
    case ValueErrorType.Integer:
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.IntegerMaximum:
    case ValueErrorType.IntegerExclusiveMinimum:
    case ValueErrorType.IntegerExclusiveMaximum:
      return numberRange(error.schema, 'a whole number');
    case ValueErrorType.Number:
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.NumberMaximum:
    case ValueErrorType.NumberExclusiveMinimum:
    case ValueErrorType.NumberExclusiveMaximum:
      return numberRange(error.schema, 'a number');
    case ValueErrorType.IntegerMultipleOf:
    case ValueErrorType.NumberMultipleOf:
      return `Must be a multiple of ${error.schema.multipleOf}`;
    default:
      return null;
  }
}

function structureMessage(error: ErrorFunctionParameter): string | null {
  const { schema } = error;
  switch (error.errorType) {
    case ValueErrorType.Boolean:
      return 'Must be true or false';
    case ValueErrorType.Array:
      return 'Must be a list';
    case ValueErrorType.ArrayMinItems:
      return `Must have at least ${plural(schema.minItems, 'item')}`;
    case ValueErrorType.ArrayMaxItems:
      return `Must have at most ${plural(schema.maxItems, 'item')}`;
    case ValueErrorType.ArrayUniqueItems:
      return 'Must not list the same item twice';
    case ValueErrorType.Object:
      return 'Must be an object';
    case ValueErrorType.ObjectRequiredProperty:
      return 'Required';
    case ValueErrorType.ObjectAdditionalProperties:
    case ValueErrorType.IntersectUnevaluatedProperties:
      return 'Not a known setting';
    case ValueErrorType.ObjectMinProperties:
      return `Must have at least ${plural(schema.minProperties, 'entry')}`;
    case ValueErrorType.ObjectMaxProperties:
      return `Must have at most ${plural(schema.maxProperties, 'entry')}`;
    case ValueErrorType.Literal:
      return `Must be ${String(schema.const)}`;
    case ValueErrorType.Null:
      return 'Must be empty';
    case ValueErrorType.Union: {
      const choices = literalChoices(schema);
      return choices === null ? 'Does not match any of the accepted forms' : `Must be one of: ${choices}`;
    }
    default:
      return null;
  }
}

/** The sentence for one schema error; TypeBox's own text for kinds JSON never carries (Date, bigint…). */
export function readableMessage(error: ErrorFunctionParameter): string {
  return stringMessage(error) ?? numberMessage(error) ?? structureMessage(error) ?? DefaultErrorFunction(error);
}
