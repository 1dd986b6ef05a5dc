import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Type } from '@sinclair/typebox';
import { compileValidator } from '../../../core/config/schema.js';
import { ValidationError } from '../../../core/errors.js';

/** The messages of the 400 a value gets, by path. */
function messages(schema: Parameters<typeof compileValidator>[0], value: unknown): Record<string, string> {
  try {
    compileValidator(schema).parse(value, 'thing');
  } catch (error) {
    assert.ok(error instanceof ValidationError);
    return Object.fromEntries((error.details ?? []).map((d) => [d.path, d.message]));
  }
  assert.fail('the value was accepted');
}

describe('Core: validation messages in words', () => {
  const schema = Type.Object({
    secret: Type.String({ minLength: 16, maxLength: 64 }),
    name: Type.String({ minLength: 1 }),
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    weight: Type.Integer({ minimum: 0 }),
    mode: Type.Union([Type.Literal('a'), Type.Literal('b')]),
    tags: Type.Array(Type.String(), { maxItems: 2 }),
    enabled: Type.Boolean(),
  });
  const valid = { secret: 'x'.repeat(16), name: 'n', port: 80, weight: 1, mode: 'a', tags: [], enabled: true };

  it('says what a string, a whole number, a choice, a list and a flag must be', () => {
    assert.deepEqual(
      messages(schema, {
        ...valid,
        secret: 'short',
        name: '',
        port: 70000,
        weight: -1,
        mode: 'c',
        tags: ['a', 'b', 'c'],
        enabled: 'yes',
      }),
      {
        '/secret': 'Must be at least 16 characters',
        '/name': 'Must not be empty',
        '/port': 'Must be a whole number from 1 to 65535',
        '/weight': 'Must be a whole number of at least 0',
        '/mode': 'Must be one of: a, b',
        '/tags': 'Must have at most 2 items',
        '/enabled': 'Must be true or false',
      },
    );
  });

  it('names a missing field as required and a wrong kind in words, never TypeBox\'s "Expected …"', () => {
    const { secret: _secret, ...missing } = valid;
    const found = messages(schema, { ...missing, port: 'eighty', secret2: 1 });
    assert.equal(found['/secret'], 'Required');
    assert.equal(found['/port'], 'Must be a whole number from 1 to 65535');
    for (const message of Object.values(found)) assert.doesNotMatch(message, /Expected|greater or equal/);
  });
});
