/** Config schema of the `oauth2` route plugin (Kong's `oauth2` names are mapped in README.md). */
import { Type, type Static } from '@sinclair/typebox';
import {
  ClientAssertionSettingsSchema,
  DEFAULT_KEYPAIR_ID,
  MAX_GRANT_LIFETIME_SECONDS,
  MAX_LIST_ITEMS,
  MAX_PATTERN_LENGTH,
  writeOnlySecret,
  ADVANCED,
  HTTPS_ONLY,
} from '../../core/plugin-api.js';

const DAY = 86_400;

export const OAuth2ConfigSchema = Type.Object(
  {
    provisionKey: {
      title: 'Provision key',
      ...writeOnlySecret({
        description:
          "Secret the provider's own web app sends as `provision_key` to `/oauth2/authorize` (and to the token endpoint for the password grant). Write-only: generated when absent and shown once in the response of that write, kept when a later write omits it, stored as its SHA-256, never shown; rotate it with `POST /api/routes/{id}/plugins/oauth2/provision-key`, or set your own (at least 32 characters).",
      }),
    },
    scopes: Type.Array(Type.String({ pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]+$', maxLength: 200 }), {
      title: 'Scopes',
      default: [],
      maxItems: MAX_LIST_ITEMS,
      description:
        "Scopes that may be granted; a requested scope outside this list (or outside the API key's own `scopes`, when it has some) is refused.",
    }),
    mandatoryScope: Type.Boolean({
      title: 'Mandatory scope',
      default: false,
      description: 'Refuse authorization and token requests that ask for no scope.',
    }),
    tokenExpirationSeconds: Type.Integer({
      title: 'Token expiration (seconds)',
      minimum: 1,
      maximum: DAY,
      default: 7200,
      description: 'Access token lifetime in seconds.',
    }),
    refreshTokenTtlSeconds: Type.Integer({
      title: 'Refresh token TTL (seconds)',
      minimum: 60,
      maximum: MAX_GRANT_LIFETIME_SECONDS,
      default: 14 * DAY,
      description: 'Refresh token lifetime in seconds (each rotation starts a new one).',
    }),
    reuseRefreshToken: Type.Boolean({
      title: 'Reuse refresh token',
      default: false,
      description:
        'Keep the same refresh token on refresh (no rotation). Default false: every refresh returns a new pair and kills the old refresh token.',
    }),
    refreshGracePeriodSeconds: Type.Integer({
      title: 'Refresh grace period (seconds)',
      minimum: 0,
      maximum: 300,
      default: 0,
      description:
        'Window after a rotation in which the old refresh token returns the same new pair again (lost response, parallel workers); after it, or with 0, a replay revokes the whole grant.',
      ...ADVANCED,
    }),
    pkce: Type.Union([Type.Literal('none'), Type.Literal('lax'), Type.Literal('strict')], {
      title: 'PKCE',
      default: 'lax',
      description:
        'PKCE (RFC 7636, S256 only) requirement: `none` never required (a challenge sent is still enforced), `lax` required for public clients, `strict` required for every client.',
    }),
    enableAuthorizationCode: Type.Boolean({
      title: 'Enable authorization code',
      default: true,
      description: 'Offer the authorization code grant (`/oauth2/authorize` and `grant_type=authorization_code`).',
    }),
    enableClientCredentials: Type.Boolean({
      title: 'Enable client credentials',
      default: false,
      description: 'Offer `grant_type=client_credentials` to confidential clients (no refresh token, no user).',
    }),
    enablePasswordGrant: Type.Boolean({
      title: 'Enable password grant',
      default: false,
      description:
        "Legacy (RFC 9700 §2.4: must not be used): offer `grant_type=password` the Kong way, where the provider's backend vouches for the user with `provision_key` and `authenticated_userid` (plus client authentication).",
    }),
    enableImplicitGrant: Type.Boolean({
      title: 'Enable implicit grant',
      default: false,
      description:
        "Legacy (RFC 9700 §2.1.2: should not be used): offer `response_type=token` at `/oauth2/authorize`, the access token returned in the redirect URI's fragment (no refresh token).",
    }),
    anonymous: Type.Optional(
      Type.String({
        title: 'Anonymous',
        pattern: '^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$',
        maxLength: 128,
        description:
          'Client id of an API key: requests to the protected route without a token pass as that consumer (`X-Anonymous-Consumer: true`); an invalid token is still refused.',
      }),
    ),
    acceptHttpIfAlreadyTerminated: Type.Boolean({
      title: 'Accept HTTP if already terminated',
      default: false,
      description:
        "Kong's `accept_http_if_already_terminated`: with `requireHttps`, also accept plain HTTP from a trusted proxy (`proxy.trustedProxies`) that says `X-Forwarded-Proto: https` (it terminated TLS).",
      ...ADVANCED,
    }),
    globalCredentials: Type.Boolean({
      title: 'Global credentials',
      default: false,
      description:
        'Tokens issued here are accepted by every other route whose `oauth2` plugin also has `globalCredentials`, and vice versa; otherwise a token works on its own route only.',
    }),
    hideCredentials: Type.Boolean({
      title: 'Hide credentials',
      default: false,
      description: 'Remove the `Authorization` header before the request goes upstream.',
    }),
    requireHttps: Type.Boolean({
      title: 'Require HTTPS',
      default: true,
      ...HTTPS_ONLY,
      description:
        'Serve the endpoints and the protected route over TLS connections to the gateway only (see `acceptHttpIfAlreadyTerminated` behind a TLS-terminating proxy); false for plain HTTP in development.',
    }),
    tokenFormat: Type.Union([Type.Literal('opaque'), Type.Literal('jwt')], {
      title: 'Token format',
      default: 'opaque',
      description:
        "Access tokens: `opaque` random tokens checked against the runtime state store (where only their SHA-256 is kept); `jwt` RFC 9068 JWTs (`typ: at+jwt`) signed by `keyPair`, verifiable by `jwt-verifier` and the gateway JWKS, checked on this route locally plus one read of the grant's revocation marker. Refresh tokens are opaque either way.",
    }),
    keyPair: Type.String({
      title: 'Key pair',
      minLength: 1,
      maxLength: 200,
      default: DEFAULT_KEYPAIR_ID,
      description:
        "With `tokenFormat: jwt`, the key pair that signs access tokens (must exist; it cannot be deleted while used); default: the gateway's default key pair.",
    }),
    scopeRules: Type.Array(
      Type.Object(
        {
          path: Type.String({
            title: 'Path',
            minLength: 1,
            maxLength: MAX_PATTERN_LENGTH,
            description: 'Regular expression (anchored) on the path relative to the route.',
          }),
          methods: Type.Array(Type.String({ pattern: '^[A-Z]{1,16}$', maxLength: 16 }), {
            title: 'Methods',
            default: [],
            maxItems: 16,
            description: 'HTTP methods the rule applies to; empty: every method.',
          }),
          scopes: Type.Array(Type.String({ pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]+$', maxLength: 200 }), {
            title: 'Scopes',
            minItems: 1,
            maxItems: MAX_LIST_ITEMS,
            description: 'Scopes the token must all carry.',
          }),
        },
        { additionalProperties: false },
      ),
      {
        title: 'Scope rules',
        default: [],
        maxItems: MAX_LIST_ITEMS,
        description:
          'Scopes required on the protected route, per path and method; the first matching rule decides (403 insufficient_scope), and a request no rule matches needs a valid token only.',
      },
    ),
    issuer: Type.Optional(
      Type.String({
        title: 'Issuer',
        maxLength: 2000,
        pattern: '^https?://[^\\s/?#]+(/[^\\s?#]*)?$',
        description:
          "The route's issuer URL (RFC 8414): `iss` of JWT access tokens, the metadata's `issuer` and endpoints, and the `aud` client assertions (`private_key_jwt`) must name, e.g. `https://api.example.com/v1` (the URL clients reach the route at, its path prefix included). Default: `proxy.publicUrl` followed by the route's path prefix, else, for a route with one fixed host, `https://<host><prefix>` (`http` with `requireHttps: false`); a route with several or wildcard hosts and neither is refused. Never taken from a request.",
      }),
    ),
    clientAssertion: { title: 'Client assertion', ...ClientAssertionSettingsSchema },
    realm: Type.String({
      title: 'Realm',
      minLength: 1,
      maxLength: 200,
      pattern: '^[^"\\\\\\x00-\\x1f\\x7f]+$',
      default: 'portcullis',
      description: 'Realm of the `WWW-Authenticate: Bearer` challenges.',
      ...ADVANCED,
    }),
  },
  { additionalProperties: false },
);

export type OAuth2Config = Static<typeof OAuth2ConfigSchema>;
