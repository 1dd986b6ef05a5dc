/**
 * The `KeyPair` entity: a signing key managed by the gateway. The private key is stored as PKCS#8
 * PEM and never returned by the API (exports include it only on request); the public JWK and `kid`
 * (RFC 7638 thumbprint unless given) are derived from it. Rotation keeps the entity id (what
 * configuration refers to) and moves the previous public key to `previousKeys` until the tokens it
 * signed have expired.
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject, type JsonWebKey } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import {
  DateTime,
  defineEntityKind,
  EntityId,
  EntityMeta,
  MAX_LIST_ITEMS,
  MAX_MAP_ENTRIES,
} from '../config/entities.js';
import type { EntityHooks, ExportOptions } from '../config/entity-service.js';
import type { ErrorDetail } from '../errors.js';

export const KEYPAIRS = 'keypairs';
export const DEFAULT_KEYPAIR_ID = 'portcullis-jwt-signing';
export const SIGNING_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

const Jwk = Type.Record(Type.String({ maxLength: 100 }), Type.Unknown(), {
  maxProperties: MAX_MAP_ENTRIES,
  description: 'A JSON Web Key.',
});

export const PreviousKeySchema = Type.Object(
  {
    kid: Type.String({ title: 'Key ID', minLength: 1, maxLength: 200 }),
    alg: Type.Union(
      SIGNING_ALGORITHMS.map((a) => Type.Literal(a)),
      { title: 'Algorithm' },
    ),
    publicJwk: { title: 'Public JWK', ...Jwk },
    retiredAt: { title: 'Retired at', ...DateTime({ description: 'When it stopped signing.' }) },
    retireAt: {
      title: 'Retire at',
      ...DateTime({ description: 'When it leaves the JWKS: every token it signed has expired by then.' }),
    },
  },
  { additionalProperties: false },
);
export type PreviousKey = Static<typeof PreviousKeySchema>;

export const KeyPairSchema = Type.Object(
  {
    id: { title: 'ID', ...EntityId },
    name: Type.String({ title: 'Name', minLength: 1, maxLength: 200 }),
    description: Type.String({ title: 'Description', default: '', maxLength: 2000 }),
    alg: Type.Union(
      SIGNING_ALGORITHMS.map((a) => Type.Literal(a)),
      {
        title: 'Algorithm',
        default: 'RS256',
        description: 'Signing algorithm: RS256 (2048 bits), PS256, ES256, ES384, EdDSA (Ed25519)…',
      },
    ),
    kid: Type.Optional(
      Type.String({
        title: 'Key ID',
        minLength: 1,
        maxLength: 200,
        description: 'Key id; the RFC 7638 thumbprint unless given.',
      }),
    ),
    exposed: Type.Boolean({ title: 'Exposed', default: true, description: 'Publish the public key in the JWKS.' }),
    publicJwk: Type.Optional({ title: 'Public JWK', ...Jwk }),
    privateKeyPem: Type.Optional(
      Type.String({
        title: 'Private key PEM',
        format: 'password',
        minLength: 1,
        maxLength: 20_000,
        description: 'Write-only: PKCS#8 PEM private key (generated when absent on creation).',
      }),
    ),
    privateJwk: Type.Optional(
      Type.Record(Type.String({ maxLength: 100 }), Type.Unknown(), {
        title: 'Private JWK',
        maxProperties: MAX_MAP_ENTRIES,
        description: 'Write-only: the private key as a JWK, instead of PEM.',
      }),
    ),
    previousKeys: Type.Array(PreviousKeySchema, {
      title: 'Previous keys',
      default: [],
      maxItems: MAX_LIST_ITEMS,
      description: 'Read-only: rotated-out public keys still in the JWKS.',
    }),
    ...EntityMeta,
  },
  { additionalProperties: false },
);
export type KeyPair = Static<typeof KeyPairSchema>;

export const KEYPAIR_KIND = defineEntityKind({
  name: KEYPAIRS,
  title: 'key pair',
  schema: KeyPairSchema,
  idField: 'id',
  affectsPipelines: true,
});

/** The key type and parameters each algorithm needs. */
export function keyRequirement(alg: SigningAlgorithm): { type: 'rsa' | 'ec' | 'ed25519'; curve?: string } {
  if (alg.startsWith('RS') || alg.startsWith('PS')) return { type: 'rsa' };
  if (alg === 'ES256') return { type: 'ec', curve: 'prime256v1' };
  if (alg === 'ES384') return { type: 'ec', curve: 'secp384r1' };
  if (alg === 'ES512') return { type: 'ec', curve: 'secp521r1' };
  return { type: 'ed25519' };
}

/** Why `key` cannot sign with `alg`, or null. */
export function keyProblem(key: KeyObject, alg: SigningAlgorithm): string | null {
  const need = keyRequirement(alg);
  if (key.asymmetricKeyType !== need.type)
    return `${alg} needs a ${need.type.toUpperCase()} key, got ${key.asymmetricKeyType ?? 'a symmetric key'}`;
  if (need.type === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048)
    return 'RSA keys must have at least 2048 bits';
  if (need.curve && key.asymmetricKeyDetails?.namedCurve !== need.curve) return `${alg} needs the curve ${need.curve}`;
  return null;
}

/** RFC 7638 thumbprint (SHA-256, base64url) of a public JWK. */
export function jwkThumbprint(jwk: JsonWebKey): string {
  const members =
    jwk.kty === 'RSA'
      ? { e: jwk.e, kty: jwk.kty, n: jwk.n }
      : jwk.kty === 'EC'
        ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }
        : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

/** The public JWK as published: key members plus `kid`, `alg`, `use`. */
export function publicJwkOf(
  privateKey: KeyObject,
  kid: string | undefined,
  alg: SigningAlgorithm,
): JsonWebKey & { kid: string } {
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  return { ...jwk, kid: kid ?? jwkThumbprint(jwk), alg, use: 'sig' };
}

function parsePrivateKey(pair: KeyPair): { key: KeyObject } | { problem: ErrorDetail } {
  try {
    if (pair.privateJwk) return { key: createPrivateKey({ key: pair.privateJwk as JsonWebKey, format: 'jwk' }) };
    return { key: createPrivateKey(pair.privateKeyPem!) };
  } catch (error) {
    return {
      problem: {
        path: pair.privateJwk ? '/privateJwk' : '/privateKeyPem',
        message: `Not a usable private key: ${(error as Error).message}`,
      },
    };
  }
}

/** Hooks that derive the public part from the private key and protect the key material. */
/**
 * `kidOwner(kid, id)`: the other key pair that publishes `kid` (as its key or a retired one), if
 * any. Tokens name their key by `kid`: two pairs sharing one would verify each other's tokens.
 */
export function keyPairHooks(kidOwner: (kid: string, id: string) => string | undefined): EntityHooks<KeyPair> {
  return {
    check(pair, ctx) {
      const previous = ctx.previous;
      if (!pair.privateKeyPem && !pair.privateJwk) {
        if (previous?.privateKeyPem)
          return pair.alg !== previous.alg
            ? [{ path: '/alg', message: 'The algorithm of a key pair cannot change; create a new key pair' }]
            : [];
        return [
          {
            path: '/privateKeyPem',
            message: 'A private key is required (send none to the create endpoint to have one generated)',
          },
        ];
      }
      const parsed = parsePrivateKey(pair);
      if ('problem' in parsed) return [parsed.problem];
      const problem = keyProblem(parsed.key, pair.alg);
      if (problem) return [{ path: '/alg', message: problem }];
      const kid = publicJwkOf(parsed.key, pair.kid, pair.alg).kid;
      const owner = ctx.importing ? undefined : kidOwner(kid, pair.id);
      return owner === undefined
        ? []
        : [
            {
              path: pair.kid === undefined ? '/privateKeyPem' : '/kid',
              message: `The key id "${kid}" is already published by key pair "${owner}"; key ids must be unique`,
            },
          ];
    },
    prepare(entity, ctx) {
      const { privateJwk: _jwk, ...pair } = entity;
      const previous = ctx.previous;
      if (!entity.privateKeyPem && !entity.privateJwk && previous) {
        // An edit of name, description or exposure: the key material stays as it is.
        return {
          ...pair,
          kid: previous.kid,
          publicJwk: previous.publicJwk,
          privateKeyPem: previous.privateKeyPem,
          previousKeys: previous.previousKeys,
        };
      }
      const parsed = parsePrivateKey(entity) as { key: KeyObject };
      const publicJwk = publicJwkOf(parsed.key, pair.kid, pair.alg);
      const privateKeyPem = parsed.key.export({ format: 'pem', type: 'pkcs8' }).toString();
      return {
        ...pair,
        kid: publicJwk.kid,
        publicJwk,
        privateKeyPem,
        previousKeys: ctx.importing ? pair.previousKeys : (previous?.previousKeys ?? []),
      };
    },
    present({ privateKeyPem: _hidden, ...shown }) {
      return shown;
    },
    export(entity, options: ExportOptions) {
      if (options.includePrivateKeys) return entity;
      const { privateKeyPem: _hidden, ...shown } = entity;
      return shown;
    },
  };
}
