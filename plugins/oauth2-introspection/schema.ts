/** Config schema of the `oauth2-introspection` route plugin. */
import { Type, type Static } from '@sinclair/typebox';
import {
  AccessRulesSchema,
  ScopeClaimSchema,
  ScopeStrategySchema,
  TokenSourceSchema,
  MAX_LIST_ITEMS,
  MAX_MAP_ENTRIES,
  ADVANCED,
} from '../../core/plugin-api.js';

const HTTP_URL = '^https?://[^\\s]+$';
const HEADER_NAME = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";
const OneOrMany = (description: string) =>
  Type.Optional(
    Type.Union(
      [
        Type.String({ minLength: 1, maxLength: 2000 }),
        Type.Array(Type.String({ minLength: 1, maxLength: 2000 }), { minItems: 1, maxItems: MAX_LIST_ITEMS }),
      ],
      { description },
    ),
  );

export const OAuth2IntrospectionConfigSchema = Type.Object(
  {
    introspectionUrl: Type.Optional(
      Type.String({
        title: 'Introspection URL',
        pattern: HTTP_URL,
        maxLength: 2000,
        description: 'The RFC 7662 introspection endpoint. Give this or `issuer`.',
      }),
    ),
    issuer: Type.Optional(
      Type.String({
        title: 'Issuer',
        pattern: HTTP_URL,
        maxLength: 2000,
        description:
          "The authorization server's issuer, to discover its `introspection_endpoint` from `/.well-known/oauth-authorization-server` (RFC 8414), else `/.well-known/openid-configuration`; the document's `issuer` must be this value.",
      }),
    ),
    discoveryTtlSeconds: Type.Integer({
      title: 'Discovery TTL (seconds)',
      minimum: 1,
      maximum: 86_400,
      default: 3600,
      description: 'How long a discovered endpoint is used before the metadata is fetched again.',
      ...ADVANCED,
    }),
    clientId: Type.String({
      title: 'Client ID',
      minLength: 1,
      maxLength: 500,
      description: "The gateway's client id at the authorization server (introspection is for authenticated clients).",
    }),
    clientSecret: Type.String({
      title: 'Client secret',
      minLength: 1,
      maxLength: 2000,
      format: 'password',
      description: 'Its client secret.',
    }),
    clientAuthMethod: Type.Union([Type.Literal('client_secret_basic'), Type.Literal('client_secret_post')], {
      title: 'Client auth method',
      default: 'client_secret_basic',
      description:
        'How the gateway authenticates to the introspection endpoint: HTTP Basic, or `client_id`/`client_secret` in the form.',
      ...ADVANCED,
    }),
    tokenTypeHint: Type.String({
      title: 'Token type hint',
      maxLength: 200,
      default: 'access_token',
      description: '`token_type_hint` sent with each introspection; empty: none.',
      ...ADVANCED,
    }),
    source: Type.Optional({ title: 'Source', ...TokenSourceSchema }),
    requiredIssuer: {
      title: 'Required issuer',
      ...OneOrMany('Accepted `iss` of the introspection response: one, or a list (absent: not checked).'),
    },
    requiredAudience: {
      title: 'Required audience',
      ...OneOrMany("Accepted audiences: the response's `aud` must name one of them (absent: not checked)."),
    },
    rules: { title: 'Rules', ...AccessRulesSchema },
    scopeClaim: { title: 'Scope claim', ...ScopeClaimSchema },
    scopeStrategy: { title: 'Scope strategy', ...ScopeStrategySchema },
    realm: Type.String({
      title: 'Realm',
      minLength: 1,
      maxLength: 200,
      pattern: '^[^"\\\\\\x00-\\x1f\\x7f]+$',
      default: 'portcullis',
      description: 'Realm of the `WWW-Authenticate: Bearer` challenges.',
      ...ADVANCED,
    }),
    timeoutMs: Type.Integer({
      title: 'Timeout (ms)',
      minimum: 50,
      maximum: 30_000,
      default: 3000,
      description: 'Longest wait for the introspection (or discovery) answer; after it, 503 (fail closed).',
      ...ADVANCED,
    }),
    cache: Type.Object(
      {
        ttlSeconds: Type.Integer({
          title: 'TTL (seconds)',
          minimum: 0,
          maximum: 86_400,
          default: 60,
          description:
            "How long an active token's introspection response is reused, never past its `exp`; 0: no cache. A token revoked at the provider stays accepted up to this long.",
        }),
        negativeTtlSeconds: Type.Integer({
          title: 'Negative TTL (seconds)',
          minimum: 0,
          maximum: 3600,
          default: 10,
          description: 'How long an inactive answer is reused (unknown, expired, revoked tokens); 0: not cached.',
        }),
        maxEntries: Type.Integer({
          title: 'Max entries',
          minimum: 1,
          maximum: 1_000_000,
          default: 10_000,
          description:
            'At most this many responses are cached per cache period (`ttlSeconds`); beyond, tokens are introspected on every request.',
        }),
      },
      { title: 'Cache', additionalProperties: false, default: {}, ...ADVANCED },
    ),
    anonymous: Type.Optional(
      Type.String({
        title: 'Anonymous',
        minLength: 1,
        maxLength: 200,
        description:
          'Consumer name for requests without a token: they pass when the matching rule requires no scope. An invalid token is still refused.',
      }),
    ),
    upstream: Type.Object(
      {
        claimsToHeaders: Type.Record(
          Type.String({ minLength: 1, maxLength: 200 }),
          Type.String({ pattern: HEADER_NAME, maxLength: 200 }),
          {
            title: 'Claims to headers',
            default: {},
            maxProperties: MAX_MAP_ENTRIES,
            description:
              'Introspection response member → upstream header; client-sent headers of these names are removed first.',
          },
        ),
        hideCredentials: Type.Boolean({
          title: 'Hide credentials',
          default: false,
          description: 'Remove the token from the request (header, query parameter or cookie) before it goes upstream.',
        }),
      },
      { title: 'Upstream', additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);

export type OAuth2IntrospectionConfig = Static<typeof OAuth2IntrospectionConfigSchema>;
