/** Config schema of the `jwt-verifier` plugin. */
import { Type, type Static } from '@sinclair/typebox';
import { InlineVerifierSchema } from './entity.js';
import {
  AccessRulesSchema,
  ScopeClaimSchema,
  ScopeStrategySchema,
  MAX_LIST_ITEMS,
  MAX_MAP_ENTRIES,
  ADVANCED,
} from '../../core/plugin-api.js';

const HEADER_NAME = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";

export const JwtVerifierConfigSchema = Type.Object(
  {
    verifiers: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), {
      title: 'Verifiers',
      default: [],
      maxItems: MAX_LIST_ITEMS,
      description: 'JWT verifier ids; the first whose issuer matches the token is used.',
    }),
    verifier: Type.Optional({
      title: 'Verifier',
      ...InlineVerifierSchema,
      description: 'An inline verifier, tried after `verifiers`.',
    }),
    rules: { title: 'Rules', ...AccessRulesSchema },
    scopeClaim: { title: 'Scope claim', ...ScopeClaimSchema },
    scopeStrategy: { title: 'Scope strategy', ...ScopeStrategySchema },
    realm: Type.String({
      title: 'Realm',
      minLength: 1,
      maxLength: 200,
      pattern: '^[^"\\\\]+$',
      default: 'portcullis',
      description: 'Realm of the WWW-Authenticate challenge.',
      ...ADVANCED,
    }),
    upstream: Type.Object(
      {
        strategy: Type.Union(
          [
            Type.Literal('pass-through'),
            Type.Literal('strip'),
            Type.Literal('claims-to-headers'),
            Type.Literal('re-sign'),
          ],
          {
            title: 'Strategy',
            default: 'pass-through',
            description:
              'What the upstream receives: the token as is, nothing, claims as headers, or a new token signed by the gateway.',
          },
        ),
        claimsToHeaders: Type.Record(
          Type.String({ minLength: 1, maxLength: 200 }),
          Type.String({ pattern: HEADER_NAME, maxLength: 200 }),
          {
            title: 'Claims to headers',
            default: {},
            maxProperties: MAX_MAP_ENTRIES,
            description: 'Claim → header (claims-to-headers); client-sent headers of these names are removed first.',
          },
        ),
        reSign: Type.Object(
          {
            keyPair: Type.String({
              title: 'Key pair',
              minLength: 1,
              maxLength: 200,
              default: 'portcullis-jwt-signing',
              description: 'Key pair that signs the new token.',
            }),
            issuer: Type.String({
              title: 'Issuer',
              minLength: 1,
              maxLength: 2000,
              default: 'portcullis',
              description: '`iss` of the new token.',
            }),
            audience: Type.Optional(
              Type.String({ title: 'Audience', minLength: 1, maxLength: 2000, description: '`aud` of the new token.' }),
            ),
            claims: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), {
              title: 'Claims',
              maxItems: MAX_LIST_ITEMS,
              default: ['sub', 'scope', 'scp', 'client_id'],
              description: 'Claims copied from the verified token.',
            }),
            expirationSeconds: Type.Integer({
              title: 'Expiration (seconds)',
              minimum: 1,
              maximum: 3600,
              default: 300,
              description: 'Lifetime of the new token (never past the original).',
            }),
            header: Type.String({
              title: 'Header',
              pattern: HEADER_NAME,
              maxLength: 200,
              default: 'Authorization',
              description: 'Header carrying `Bearer <new token>`.',
            }),
          },
          { title: 'Re sign', additionalProperties: false, default: {} },
        ),
      },
      { title: 'Upstream', additionalProperties: false, default: {} },
    ),
    cache: Type.Object(
      {
        enabled: Type.Boolean({
          title: 'Enabled',
          default: true,
          description: 'Remember verified tokens (by hash) until they expire.',
        }),
        maxEntries: Type.Integer({ title: 'Max entries', minimum: 1, maximum: 1_000_000, default: 10_000 }),
      },
      { title: 'Cache', additionalProperties: false, default: {}, ...ADVANCED },
    ),
  },
  { additionalProperties: false },
);

export type JwtVerifierConfig = Static<typeof JwtVerifierConfigSchema>;
