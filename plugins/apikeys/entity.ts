/**
 * The `ApiKey` entity: its schema (stored shape; `clientSecret` is accepted on writes only and
 * stored as a salted SHA-256 hash), secret generation and verification, and the write hooks.
 *
 * Why salted SHA-256 and not scrypt: generated secrets carry 256 bits of entropy, so a slow hash
 * adds nothing against brute force while costing milliseconds on every request; secrets chosen by
 * a person must be at least 16 characters. The salt defeats precomputed tables.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import {
  clientAuthProblems,
  DateTime,
  defineEntityKind,
  EntityId,
  EntityMeta,
  MAX_LIST_ITEMS,
  MAX_MAP_ENTRIES,
  ROUTES,
  type EntityReference,
  JWT_SIGN_KEYPAIR,
  KEYPAIRS,
} from '../../core/plugin-api.js';
import type { EntityHooks } from '../../core/plugin-api.js';

export const APIKEYS = 'apikeys';
const SECRET_SCHEME = 'sha256';

/** A public JWK: string members (`kty`, `kid`, `n`, `e`, `crv`, `x`, `y`…) and string lists (`x5c`, `key_ops`). */
const Jwk = Type.Record(
  Type.String({ minLength: 1, maxLength: 64 }),
  Type.Union([Type.String({ maxLength: 16_384 }), Type.Array(Type.String({ maxLength: 16_384 }), { maxItems: 10 })]),
  { maxProperties: 30 },
);

export const ApiKeySchema = Type.Object(
  {
    clientId: { title: 'Client ID', ...EntityId, description: 'Public identifier of the key (generated when absent).' },
    clientSecret: Type.Optional(
      Type.String({
        title: 'Client secret',
        format: 'password',
        minLength: 16,
        maxLength: 512,
        description:
          'Write-only: the secret (generated when absent on creation). Never returned except on creation and rotation.',
      }),
    ),
    clientSecretHash: Type.Optional(
      Type.String({
        title: 'Client secret hash',
        maxLength: 200,
        pattern: '^sha256\\$[A-Za-z0-9_-]+\\$[A-Za-z0-9_-]+$',
        description: 'Salted hash of the secret, as found in exports; kept when a write sends no secret.',
      }),
    ),
    clientName: Type.String({
      title: 'Client name',
      minLength: 1,
      maxLength: 200,
      pattern: '^[^\\x00-\\x1f\\x7f]+$',
      description: 'Name of the consumer, sent upstream in X-Consumer-Name.',
    }),
    description: Type.String({ title: 'Description', default: '', maxLength: 2000 }),
    enabled: Type.Boolean({ title: 'Enabled', default: true, description: 'A disabled key is refused everywhere.' }),
    authorizedEntities: Type.Array(
      Type.String({ pattern: '^(tag:.+|[A-Za-z0-9][A-Za-z0-9._~-]{0,127})$', maxLength: 200 }),
      {
        title: 'Authorized entities',
        default: [],
        maxItems: 1000,
        description: 'Route ids, and `tag:<name>` for every route tagged <name>.',
      },
    ),
    scopes: Type.Array(Type.String({ pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]+$', maxLength: 200 }), {
      title: 'Scopes',
      default: [],
      maxItems: MAX_LIST_ITEMS,
      description: 'Scopes this key may receive (OAuth2 scope tokens).',
    }),
    validUntil: Type.Optional(
      Type.Union([DateTime(), Type.Null()], {
        title: 'Valid until',
        description: 'Expiry (ISO 8601 date-time); null or absent: never.',
      }),
    ),
    allowClientIdOnly: Type.Boolean({
      title: 'Allow client ID only',
      default: false,
      description: 'Accept this key from its client id alone (the `clientId` extractor); for low-risk public clients.',
    }),
    throttlingQuota: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1, maximum: 1_000_000_000 }), Type.Null()], {
        title: 'Throttling quota',
        description: 'Calls per second; absent: unlimited.',
      }),
    ),
    dailyQuota: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }), Type.Null()], {
        title: 'Daily quota',
        description: 'Calls per UTC day; absent: unlimited.',
      }),
    ),
    monthlyQuota: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }), Type.Null()], {
        title: 'Monthly quota',
        description: 'Calls per UTC month; absent: unlimited.',
      }),
    ),
    // Optional, so that keys stored by earlier releases stay valid as they are (absent: none, confidential).
    redirectUris: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 2000, pattern: '^[A-Za-z][A-Za-z0-9+.-]*:[^\\s#]+$' }), {
        title: 'Redirect URIs',
        default: [],
        maxItems: MAX_LIST_ITEMS,
        description:
          'OAuth2 redirect URIs (absolute, no fragment), compared by exact string match (RFC 6749 §3.1.2, RFC 9700 §4.1).',
      }),
    ),
    clientType: Type.Optional(
      Type.Union([Type.Literal('confidential'), Type.Literal('public')], {
        title: 'Client type',
        default: 'confidential',
        description:
          'OAuth2 client type (RFC 6749 §2.1): a `public` client (a browser or mobile app) has no secret and must use PKCE.',
      }),
    ),
    grantTypes: Type.Optional(
      Type.Array(
        Type.Union([
          Type.Literal('authorization_code'),
          Type.Literal('refresh_token'),
          Type.Literal('client_credentials'),
          Type.Literal('password'),
          Type.Literal('implicit'),
        ]),
        {
          title: 'Grant types',
          maxItems: 5,
          uniqueItems: true,
          description:
            'OAuth2 grant types this client may use (`password` and `implicit` are legacy, see the oauth2 plugin); absent: every grant the route enables.',
        },
      ),
    ),
    tokenEndpointAuthMethod: Type.Optional(
      Type.Union(
        [
          Type.Literal('client_secret_basic'),
          Type.Literal('client_secret_post'),
          Type.Literal('private_key_jwt'),
          Type.Literal('none'),
        ],
        {
          title: 'Token endpoint auth method',
          description:
            'How the client authenticates at the token endpoints (RFC 7591 names); absent: its secret, by Basic or in the body. `private_key_jwt`: a JWT assertion signed with its own key (RFC 7523), checked against `jwksUri` or `jwks`, and no secret; `none`: a public client. Any other method is refused.',
        },
      ),
    ),
    jwksUri: Type.Optional(
      Type.String({
        title: 'JWKS URI',
        minLength: 1,
        maxLength: 2000,
        pattern: '^https?://[^\\s#]+$',
        description:
          "`private_key_jwt`: URL of the JWK Set holding the public keys of the client's assertions (cached; refetched on an unknown `kid`).",
      }),
    ),
    jwks: Type.Optional(
      Type.Union(
        [
          Type.Object(
            { keys: Type.Array(Jwk, { title: 'Keys', minItems: 1, maxItems: 20 }) },
            { additionalProperties: false },
          ),
          Type.String({
            minLength: 1,
            maxLength: 16_384,
            pattern: '-----BEGIN ',
            description: 'A PEM public key or X.509 certificate.',
          }),
        ],
        {
          title: 'JWKS',
          description:
            '`private_key_jwt`: the public keys of the client\'s assertions, registered here instead of a `jwksUri`: a JWK Set (`{"keys": [...]}`) or a PEM public key or certificate. Asymmetric keys only.',
        },
      ),
    ),
    metadata: Type.Record(Type.String({ minLength: 1, maxLength: 200 }), Type.String({ maxLength: 4000 }), {
      title: 'Metadata',
      default: {},
      maxProperties: MAX_MAP_ENTRIES,
      description: "Free string map; `jwt-sign-keypair` names the key pair that signs this key's tokens.",
    }),
    tags: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
      title: 'Tags',
      default: [],
      maxItems: MAX_LIST_ITEMS,
    }),
    ...EntityMeta,
  },
  { additionalProperties: false },
);
export type ApiKey = Static<typeof ApiKeySchema>;

export const APIKEY_KIND = defineEntityKind({
  name: APIKEYS,
  title: 'API key',
  schema: ApiKeySchema,
  idField: 'clientId',
  affectsPipelines: false,
  // A route it is authorized for (tags are groups, not references) and the key pair signing its tokens.
  references: (key) => {
    const refs: EntityReference[] = [];
    key.authorizedEntities.forEach((entity, i) => {
      if (!entity.startsWith('tag:')) refs.push({ kind: ROUTES.name, id: entity, path: `/authorizedEntities/${i}` });
    });
    const keyPair = Object.hasOwn(key.metadata, JWT_SIGN_KEYPAIR) ? key.metadata[JWT_SIGN_KEYPAIR] : undefined;
    if (keyPair !== undefined) refs.push({ kind: KEYPAIRS, id: keyPair, path: `/metadata/${JWT_SIGN_KEYPAIR}` });
    return refs;
  },
});

/** A new secret: 32 random bytes, URL-safe. */
export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** A new client id: 16 random bytes, URL-safe (no ambiguity with route ids or tags). */
export function generateClientId(): string {
  return randomBytes(16)
    .toString('base64url')
    .replace(/^[-_]+/, 'k');
}

export function hashSecret(secret: string): string {
  const salt = randomBytes(16);
  const digest = createHash('sha256').update(salt).update(secret, 'utf8').digest();
  return `${SECRET_SCHEME}$${salt.toString('base64url')}$${digest.toString('base64url')}`;
}

/** A stored hash, decoded once so that a request only computes one digest. */
export interface SecretVerifier {
  verify(secret: string): boolean;
}

export function secretVerifier(stored: string | undefined): SecretVerifier {
  const [scheme, salt, digest] = (stored ?? '').split('$');
  if (scheme !== SECRET_SCHEME || !salt || !digest) return NEVER;
  return new StoredSecret(Buffer.from(salt, 'base64url'), Buffer.from(digest, 'base64url'));
}

/** Salt and digest in one buffer, no closure: this object exists once per API key (100 000 of them). */
class StoredSecret implements SecretVerifier {
  readonly #material: Buffer;
  readonly #saltLength: number;

  constructor(salt: Buffer, digest: Buffer) {
    this.#material = Buffer.concat([salt, digest]);
    this.#saltLength = salt.length;
  }

  verify(secret: string): boolean {
    const actual = createHash('sha256')
      .update(this.#material.subarray(0, this.#saltLength))
      .update(secret, 'utf8')
      .digest();
    const expected = this.#material.subarray(this.#saltLength);
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }
}

/** Verifies nothing, at the cost of a real comparison (so unknown ids take as long as known ones). */
const DUMMY = secretVerifier(hashSecret(generateSecret()));
const NEVER: SecretVerifier = {
  verify: (secret) => {
    DUMMY.verify(secret);
    return false;
  },
};
export const UNKNOWN_KEY_VERIFIER = NEVER;

/** Whether the key authenticates without a secret: a public client, or one signing assertions. */
export function hasNoSecret(key: Pick<ApiKey, 'clientType' | 'tokenEndpointAuthMethod'>): boolean {
  return (
    key.clientType === 'public' ||
    key.tokenEndpointAuthMethod === 'none' ||
    key.tokenEndpointAuthMethod === 'private_key_jwt'
  );
}

/** Hooks that turn a written key into its stored form. */
export function apiKeyHooks(): EntityHooks<ApiKey> {
  return {
    generateId: generateClientId,
    check(key, ctx) {
      const authProblems = clientAuthProblems(key);
      if (authProblems.length > 0) return authProblems;
      if (hasNoSecret(key)) {
        // A public client cannot keep a secret (RFC 6749 §2.1): accepting one would pretend it can.
        // A private_key_jwt client has none either: a secret beside its key would be a second, weaker door.
        if (key.clientSecret !== undefined || key.clientSecretHash !== undefined)
          return [
            {
              path: '/clientSecret',
              message:
                key.tokenEndpointAuthMethod === 'private_key_jwt'
                  ? 'A private_key_jwt client has no secret'
                  : 'A public client has no secret',
            },
          ];
        return [];
      }
      if (!ctx.previous && !key.clientSecret && !key.clientSecretHash)
        return [
          {
            path: '/clientSecret',
            message: 'A secret is required (send none to the create endpoint to have one generated)',
          },
        ];
      return [];
    },
    prepare({ clientSecret, ...rest }, ctx) {
      if (hasNoSecret(rest)) {
        const { clientSecretHash: _none, ...withoutSecret } = rest;
        return rest.tokenEndpointAuthMethod === 'none' ? { ...withoutSecret, clientType: 'public' } : withoutSecret;
      }
      const clientSecretHash =
        clientSecret !== undefined
          ? hashSecret(clientSecret)
          : (rest.clientSecretHash ?? ctx.previous?.clientSecretHash);
      return { ...rest, clientSecretHash };
    },
    present({ clientSecretHash: _hidden, ...shown }) {
      return shown;
    },
  };
}
