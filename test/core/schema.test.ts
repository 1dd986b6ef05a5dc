import 'reflect-metadata';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Kind, Type, type TSchema } from '@sinclair/typebox';
import { compileValidator, forbiddenKeyPath, isDateTime } from '../../core/config/schema.js';
import { ValidationError } from '../../core/errors.js';
import { EntityRegistry } from '../../core/config/entities.js';
import { BootConfigSchema } from '../../core/config/boot-config.js';
import { KEYPAIR_KIND } from '../../core/keys/entity.js';
import { APIKEY_KIND } from '../../plugins/apikeys/entity.js';
import { JWT_VERIFIER_KIND } from '../../plugins/jwt-verifier/entity.js';
import { ApiKeysConfigSchema } from '../../plugins/apikeys/schema.js';
import { JwtVerifierConfigSchema } from '../../plugins/jwt-verifier/schema.js';
import { ClientCredentialsConfigSchema } from '../../plugins/client-credentials/schema.js';
import { OAuth2ConfigSchema } from '../../plugins/oauth2/schema.js';
import { OAuth2IntrospectionConfigSchema } from '../../plugins/oauth2-introspection/schema.js';
import { HeadersConfigSchema } from '../../plugins/headers/schema.js';
import { CorsConfigSchema } from '../../plugins/cors/schema.js';
import { IpRestrictionConfigSchema } from '../../plugins/ip-restriction/schema.js';

describe('Core: schemas', () => {
  describe('date-time format', () => {
    it('accepts real RFC 3339 date-times, seconds optional, any offset, leap days of leap years', () => {
      for (const value of [
        '2030-01-31T00:00Z',
        '2030-12-31T23:59:59Z',
        '2024-02-29T12:00:00.123+02:00',
        '2000-02-29T00:00:00-05:30',
        '2030-04-30T10:00:00.000000001Z',
      ]) {
        assert.equal(isDateTime(value), true, value);
      }
    });

    it('refuses dates that are not on the calendar and times or offsets out of range', () => {
      for (const value of [
        '2020-13-01T00:00Z',
        '2020-00-10T00:00Z',
        '2021-02-29T00:00Z',
        '1900-02-29T00:00Z',
        '2020-04-31T00:00Z',
        '2020-01-00T00:00Z',
        '2020-01-01T24:00Z',
        '2020-01-01T23:60Z',
        '2020-01-01T23:59:61Z',
        '2020-01-01T00:00+24:00',
        '2020-01-01T00:00+01:60',
        '2020-01-01',
        '2020-01-01T00:00',
        'tomorrow',
      ]) {
        assert.equal(isDateTime(value), false, value);
      }
    });

    it('is what `format: date-time` means in every compiled schema (validUntil of an API key)', () => {
      const validator = APIKEY_KIND.validator;
      const key = {
        clientId: 'k',
        clientName: 'k',
        enabled: true,
        description: '',
        authorizedEntities: [],
        scopes: [],
        allowClientIdOnly: false,
        metadata: {},
        tags: [],
      };
      assert.equal(validator.check({ ...key, validUntil: '2030-01-01T00:00Z' }), true);
      assert.equal(validator.check({ ...key, validUntil: '2020-13-01T00:00Z' }), false);
    });
  });

  describe('prototype keys', () => {
    it('finds a __proto__ key at any depth, in objects and arrays, and nothing in plain data', () => {
      assert.equal(forbiddenKeyPath(JSON.parse('{"a":{"b":[{"__proto__":{"x":1}}]}}')), '/a/b/0/__proto__');
      assert.equal(forbiddenKeyPath(JSON.parse('{"__proto__":{}}')), '/__proto__');
      assert.equal(forbiddenKeyPath({ constructor: 'x', toString: 'y', list: [1, 'a', null] }), null);
    });
  });

  describe('bounds', () => {
    /** Paths of unbounded strings, integers, numbers, arrays and records in a schema. */
    function unbounded(schema: TSchema, path: string, out: string[]): string[] {
      const kind = schema[Kind];
      if (kind === 'String' && schema.maxLength === undefined) out.push(`${path}: string without maxLength`);
      if ((kind === 'Integer' || kind === 'Number') && schema.maximum === undefined)
        out.push(`${path}: number without maximum`);
      if (kind === 'Array') {
        if (schema.maxItems === undefined) out.push(`${path}: array without maxItems`);
        unbounded(schema.items, `${path}/items`, out);
      }
      if (kind === 'Record') {
        if (schema.maxProperties === undefined) out.push(`${path}: record without maxProperties`);
        for (const [pattern, value] of Object.entries(schema.patternProperties ?? {}))
          unbounded(value as TSchema, `${path}/${pattern}`, out);
      }
      if (kind === 'Object')
        for (const [name, value] of Object.entries(schema.properties ?? {}))
          unbounded(value as TSchema, `${path}/${name}`, out);
      if (kind === 'Union') (schema.anyOf as TSchema[]).forEach((s, i) => unbounded(s, `${path}/anyOf/${i}`, out));
      return out;
    }

    it('bound every string, number, list and map a client or the data file can send', () => {
      const registry = new EntityRegistry();
      const schemas: Array<[string, TSchema]> = [
        ...registry.all().map((k) => [k.name, k.schema] as [string, TSchema]),
        ['keypairs', KEYPAIR_KIND.schema],
        ['apikeys', APIKEY_KIND.schema],
        ['jwt-verifiers', JWT_VERIFIER_KIND.schema],
        ['apikeys config', ApiKeysConfigSchema],
        ['jwt-verifier config', JwtVerifierConfigSchema],
        ['client-credentials config', ClientCredentialsConfigSchema],
        ['oauth2 config', OAuth2ConfigSchema],
        ['oauth2-introspection config', OAuth2IntrospectionConfigSchema],
        ['headers config', HeadersConfigSchema],
        ['cors config', CorsConfigSchema],
        ['ip-restriction config', IpRestrictionConfigSchema],
        ['boot config', BootConfigSchema],
      ];
      const problems = schemas.flatMap(([name, schema]) => unbounded(schema, name, []));
      assert.deepEqual(problems, []);
    });

    it('turns an absurd number into a 400-style validation error, not an exception', () => {
      const errors = compileValidator(APIKEY_KIND.schema).errors({
        clientId: 'k',
        clientName: 'k',
        throttlingQuota: 1e308,
      });
      assert.ok(errors.some((e) => e.path === '/throttlingQuota'));
    });
  });

  // Found by the WebSocket fuzz: TypeBox's Value.Default turned `{"plugins": {"constructor": null}}`
  // into an array carrying a `constructor` key, which then threw in Array.prototype.map (a 500).
  it('never lets defaults turn a given value of the wrong kind into a valid one', () => {
    const validator = compileValidator(
      Type.Object({
        plugins: Type.Array(Type.Object({ plugin: Type.String(), tags: Type.Array(Type.String(), { default: [] }) }), {
          default: [],
        }),
        name: Type.String({ default: 'x' }),
      }),
    );
    const cases: Array<[unknown, string, string]> = [
      [{ plugins: { constructor: null } }, '/plugins', 'Expected array'],
      [{ plugins: { a: 1 } }, '/plugins', 'Expected array'],
      [{ plugins: {} }, '/plugins', 'Expected array'],
      [{ plugins: [{ plugin: 'p', tags: { 0: 'a' } }] }, '/plugins/0/tags', 'Expected array'],
    ];
    for (const [value, path, message] of cases) {
      assert.throws(
        () => validator.parse(value, 'thing'),
        (error: unknown) => {
          assert.ok(error instanceof ValidationError);
          assert.deepEqual(error.details, [{ path, message }]);
          return true;
        },
        JSON.stringify(value),
      );
    }
    assert.deepEqual(validator.parse({}, 'thing'), { plugins: [], name: 'x' });
    assert.deepEqual(validator.parse({ plugins: [{ plugin: 'p' }] }, 'thing'), {
      plugins: [{ plugin: 'p', tags: [] }],
      name: 'x',
    });
  });
});
