/**
 * The `JwtVerifier` entity: where a token is read, which keys verify it (HMAC secret, PEM, JWK,
 * JWKS URL, OIDC discovery, or the gateway's own key pairs), and what it must say (algorithms,
 * issuer, audience, leeway, age, `typ`, required claims). The same settings schema serves inline
 * verifiers in the plugin config.
 */
import { Type, type Static } from '@sinclair/typebox';
import {
  defineEntityKind,
  EntityId,
  EntityMeta,
  KEYPAIRS,
  MAX_LIST_ITEMS,
  MAX_MAP_ENTRIES,
  MAX_PATTERN_LENGTH,
  type EntityReference,
  regexProblem,
  TokenSourceSchema,
} from '../../core/plugin-api.js';
import type { EntityHooks, ErrorDetail } from '../../core/plugin-api.js';

export const JWT_VERIFIERS = 'jwt-verifiers';

export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;
export const ASYMMETRIC_ALGORITHMS = [
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
const ALGORITHM = Type.Union([...HMAC_ALGORITHMS, ...ASYMMETRIC_ALGORITHMS].map((a) => Type.Literal(a)));
const HTTP_URL = '^https?://[^\\s]+$';

const RemoteCache = {
  cacheTtlSeconds: Type.Integer({
    title: 'Cache TTL (seconds)',
    minimum: 1,
    maximum: 86_400,
    default: 600,
    description: 'Longest time a fetched document is used (a shorter Cache-Control max-age wins).',
  }),
  refetchCooldownSeconds: Type.Integer({
    title: 'Refetch cooldown (seconds)',
    minimum: 0,
    maximum: 3600,
    default: 30,
    description: 'A token with an unknown kid triggers a refetch at most this often.',
  }),
};

export const VerifierKeysSchema = Type.Union(
  [
    Type.Object(
      {
        kind: Type.Literal('hmac'),
        secret: Type.Optional(
          Type.String({
            title: 'Secret',
            minLength: 32,
            maxLength: 4096,
            format: 'password',
            description: 'Shared secret, at least 32 bytes; write-only.',
          }),
        ),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        kind: Type.Literal('pem'),
        pem: Type.String({
          title: 'PEM',
          minLength: 1,
          maxLength: 20_000,
          description: 'Public key (or certificate) in PEM.',
        }),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        kind: Type.Literal('jwk'),
        jwk: Type.Record(Type.String({ maxLength: 100 }), Type.Unknown(), {
          title: 'JWK',
          maxProperties: MAX_MAP_ENTRIES,
          description: 'Public JWK.',
        }),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        kind: Type.Literal('jwks'),
        url: Type.String({ title: 'URL', pattern: HTTP_URL, maxLength: 2000, description: 'JWKS URL.' }),
        ...RemoteCache,
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        kind: Type.Literal('oidc'),
        issuer: Type.String({
          title: 'Issuer',
          pattern: HTTP_URL,
          maxLength: 2000,
          description: 'Issuer; its /.well-known/openid-configuration gives the JWKS.',
        }),
        ...RemoteCache,
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        kind: Type.Literal('keypairs'),
        ids: Type.Optional(
          Type.Array(Type.String({ minLength: 1, maxLength: 200 }), {
            title: 'IDs',
            maxItems: MAX_LIST_ITEMS,
            description: "The gateway's key pairs to trust; all when absent.",
          }),
        ),
      },
      { additionalProperties: false },
    ),
  ],
  { description: 'The keys that verify signatures.' },
);
export type VerifierKeys = Static<typeof VerifierKeysSchema>;

export const ClaimRuleSchema = Type.Object(
  {
    equals: Type.Optional(Type.Unknown({ title: 'Equals', description: 'The claim equals this value.' })),
    oneOf: Type.Optional(
      Type.Array(Type.Unknown(), {
        title: 'One of',
        maxItems: MAX_LIST_ITEMS,
        description: 'The claim is one of these values.',
      }),
    ),
    regex: Type.Optional(
      Type.String({
        title: 'Regex',
        maxLength: MAX_PATTERN_LENGTH,
        description: 'The claim is a string matching this regular expression (anchored).',
      }),
    ),
    contains: Type.Optional(
      Type.Unknown({
        title: 'Contains',
        description: 'The claim is an array containing this value (or a space-separated string containing this word).',
      }),
    ),
  },
  { additionalProperties: false },
);

export const VerifierSettings = {
  source: Type.Optional({ title: 'Source', ...TokenSourceSchema }),
  keys: { title: 'Keys', ...VerifierKeysSchema },
  algorithms: Type.Array(ALGORITHM, {
    title: 'Algorithms',
    minItems: 1,
    maxItems: 13,
    description: 'Accepted algorithms; `none` never; HMAC only with an HMAC secret.',
  }),
  issuer: Type.Optional(
    Type.Union(
      [
        Type.String({ minLength: 1, maxLength: 2000 }),
        Type.Array(Type.String({ minLength: 1, maxLength: 2000 }), { minItems: 1, maxItems: MAX_LIST_ITEMS }),
      ],
      { title: 'Issuer', description: 'Accepted issuer (`iss`): one, or a list.' },
    ),
  ),
  audience: Type.Optional(
    Type.Union(
      [
        Type.String({ minLength: 1, maxLength: 2000 }),
        Type.Array(Type.String({ minLength: 1, maxLength: 2000 }), { minItems: 1, maxItems: MAX_LIST_ITEMS }),
      ],
      { title: 'Audience', description: 'Accepted audiences: the token must name one of them.' },
    ),
  ),
  leewaySeconds: Type.Integer({
    title: 'Leeway (seconds)',
    minimum: 0,
    maximum: 300,
    default: 30,
    description: 'Clock skew tolerated on exp/nbf/iat.',
  }),
  requireExp: Type.Boolean({
    title: 'Require exp',
    default: true,
    description: 'Refuse tokens without an expiration time (`exp`).',
  }),
  maxAgeSeconds: Type.Optional(
    Type.Integer({
      title: 'Max age (seconds)',
      minimum: 1,
      maximum: 366 * 86_400,
      description: 'Refuse tokens issued (iat) longer ago than this.',
    }),
  ),
  typ: Type.Optional(
    Type.String({ title: 'Typ', minLength: 1, maxLength: 200, description: 'Required `typ` header, e.g. `at+jwt`.' }),
  ),
  requiredClaims: Type.Record(Type.String({ maxLength: 200 }), ClaimRuleSchema, {
    title: 'Required claims',
    default: {},
    maxProperties: MAX_MAP_ENTRIES,
    description: 'Claims the token must carry, with a rule each.',
  }),
};

export const InlineVerifierSchema = Type.Object(VerifierSettings, { additionalProperties: false });
export type InlineVerifier = Static<typeof InlineVerifierSchema>;

export const JwtVerifierSchema = Type.Object(
  {
    id: { title: 'ID', ...EntityId },
    name: Type.String({ title: 'Name', minLength: 1, maxLength: 200 }),
    description: Type.String({ title: 'Description', default: '', maxLength: 2000 }),
    ...VerifierSettings,
    ...EntityMeta,
  },
  { additionalProperties: false },
);
export type JwtVerifier = Static<typeof JwtVerifierSchema>;

/** The gateway key pairs a verifier trusts by name (none when it trusts all of them). */
export function verifierKeyPairReferences(settings: InlineVerifier, prefix = ''): EntityReference[] {
  if (settings.keys.kind !== 'keypairs') return [];
  return (settings.keys.ids ?? []).map((id, i) => ({ kind: KEYPAIRS, id, path: `${prefix}/keys/ids/${i}` }));
}

export const JWT_VERIFIER_KIND = defineEntityKind({
  name: JWT_VERIFIERS,
  title: 'JWT verifier',
  schema: JwtVerifierSchema,
  idField: 'id',
  affectsPipelines: true,
  references: (verifier) => verifierKeyPairReferences(verifier),
});

/** Problems beyond the schema: algorithm/key consistency, claim regexes, a secret on creation. */
export function verifierProblems(settings: InlineVerifier, prefix = ''): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const hmac = settings.keys.kind === 'hmac';
  settings.algorithms.forEach((alg, i) => {
    const isHmac = (HMAC_ALGORITHMS as readonly string[]).includes(alg);
    if (hmac && !isHmac)
      problems.push({
        path: `${prefix}/algorithms/${i}`,
        message: `${alg} needs an asymmetric key; an HMAC secret only verifies HS256/384/512`,
      });
    if (!hmac && isHmac)
      problems.push({
        path: `${prefix}/algorithms/${i}`,
        message: `${alg} is an HMAC algorithm: never accepted with public keys (algorithm confusion)`,
      });
  });
  for (const [claim, rule] of Object.entries(settings.requiredClaims ?? {})) {
    if (rule.regex !== undefined) {
      const problem = regexProblem(rule.regex);
      if (problem) problems.push({ path: `${prefix}/requiredClaims/${claim}/regex`, message: problem });
    }
  }
  return problems;
}

function hideSecret(verifier: JwtVerifier): JwtVerifier {
  if (verifier.keys.kind !== 'hmac') return verifier;
  return { ...verifier, keys: { kind: 'hmac' } };
}

/** Hooks: validate, keep an HMAC secret write-only (a PUT without it keeps the stored one). */
export function jwtVerifierHooks(): EntityHooks<JwtVerifier> {
  return {
    check(verifier, ctx) {
      const problems = verifierProblems(verifier);
      const previous = ctx.previous;
      if (
        verifier.keys.kind === 'hmac' &&
        !verifier.keys.secret &&
        !(previous?.keys.kind === 'hmac' && previous.keys.secret)
      ) {
        problems.push({ path: '/keys/secret', message: 'An HMAC verifier needs a secret of at least 32 bytes' });
      }
      return problems;
    },
    prepare(verifier, ctx) {
      const previous = ctx.previous;
      if (verifier.keys.kind === 'hmac' && !verifier.keys.secret && previous?.keys.kind === 'hmac') {
        return { ...verifier, keys: { kind: 'hmac', secret: previous.keys.secret } };
      }
      return verifier;
    },
    present: hideSecret,
    export: (entity, options) => (options.includePrivateKeys ? entity : hideSecret(entity)),
  };
}
