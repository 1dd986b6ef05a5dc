/**
 * RFC 8414 metadata of a route's authorization server. The issuer is the route's base URL, from
 * configuration only (`routeIssuer`: the plugin's `issuer`, `proxy.publicUrl` plus the route's
 * prefix, or the route's one fixed host, e.g. `https://stepon.test/v1` for `stepon.test/v1`); the
 * endpoints are the issuer followed by `/oauth2/authorize`, `/oauth2/token`, `/oauth2/revoke`,
 * `/oauth2/introspect` and, for JWT access tokens, `/oauth2/jwks`, which the plugin answers.
 *
 * The document is served at `{issuer}/.well-known/oauth-authorization-server`. For a route without
 * a path prefix this is exactly the RFC 8414 §3 URL, which `openid-client`'s
 * `discovery(issuer, …, { algorithm: 'oauth2' })` requests and checks the issuer of. For a route
 * with a prefix, RFC 8414 §3 inserts the well-known segment before the path
 * (`/.well-known/oauth-authorization-server/v1`), a URL outside the route that the core would
 * have to route by its tail; clients give discovery the metadata URL itself instead.
 */
import type { RequestContext, RouteDomain } from '../../core/plugin-api.js';
import { ASSERTION_SIGNING_ALGORITHMS } from '../../core/plugin-api.js';
import type { OAuth2Config } from './schema.js';

export const METADATA_SUFFIX = '/.well-known/oauth-authorization-server';

/** Whether the request asks for the route's metadata (the path after the route's prefix). */
export function isMetadataRequest(ctx: RequestContext): boolean {
  return ctx.path.length === ctx.routePrefix.length + METADATA_SUFFIX.length && ctx.path.endsWith(METADATA_SUFFIX);
}

/** The route's issuer, or why it has none (a write-time refusal naming the setting to give). */
export type IssuerChoice = { issuer: string; problem?: undefined } | { issuer?: undefined; problem: string };

/**
 * The issuer of the route's authorization server, from configuration only (never from a request):
 * the plugin's `issuer`; else `proxy.publicUrl` (as configured, not the listener's address) plus
 * the route's path prefix; else, for a route with exactly one fixed host, `https://<host><prefix>`
 * (`http` when `requireHttps` is off). A global instance (no domains) is decided on each route.
 */
export function routeIssuer(config: Pick<OAuth2Config, 'issuer' | 'requireHttps'>, domains: readonly RouteDomain[] | undefined, publicUrl: string | undefined): IssuerChoice {
  if (config.issuer !== undefined) return { issuer: withoutTrailingSlash(config.issuer) };
  if (domains === undefined) return { problem: 'a global instance has no route' };
  const prefixes = [...new Set(domains.map((d) => d.prefix))];
  if (prefixes.length !== 1) return { problem: `the route's domains have different path prefixes (${prefixes.map((p) => p || '/').join(', ')}): set the plugin's \`issuer\` to the one clients use` };
  const prefix = prefixes[0]!;
  if (publicUrl !== undefined) return { issuer: withoutTrailingSlash(publicUrl) + prefix };
  const hosts = [...new Set(domains.map((d) => d.host))];
  if (hosts.length === 1 && !hosts[0]!.startsWith('*')) return { issuer: `${config.requireHttps ? 'https' : 'http'}://${hosts[0]}${prefix}` };
  return { problem: `the route answers ${hosts.length === 1 ? `the wildcard host ${hosts[0]}` : `several hosts (${hosts.join(', ')})`}, so it has no issuer of its own: set the plugin's \`issuer\`, or \`proxy.publicUrl\` in the boot configuration (PORTCULLIS_PUBLIC_URL)` };
}

function withoutTrailingSlash(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url;
}

/** Where the route publishes the public keys of its JWT access tokens (RFC 8414 `jwks_uri`). */
export const JWKS_SUFFIX = '/oauth2/jwks';

/** Grant and response types the config enables (the legacy grants once the schema has them). */
export function enabledFlows(config: OAuth2Config & { enablePasswordGrant?: boolean; enableImplicitGrant?: boolean }): { grantTypes: string[]; responseTypes: string[] } {
  const grantTypes: string[] = [];
  const responseTypes: string[] = [];
  if (config.enableAuthorizationCode) {
    grantTypes.push('authorization_code', 'refresh_token');
    responseTypes.push('code');
  }
  if (config.enableClientCredentials) grantTypes.push('client_credentials');
  if (config.enablePasswordGrant) grantTypes.push('password');
  if (config.enableImplicitGrant) {
    grantTypes.push('implicit');
    responseTypes.push('token');
  }
  return { grantTypes, responseTypes };
}

/** Confidential clients authenticate by their secret or by a signed assertion (RFC 7523, `private_key_jwt`). */
const CLIENT_AUTH = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];

/** The metadata document (RFC 8414 §2) for `issuer`. */
export function metadataDocument(issuer: string, config: OAuth2Config): Record<string, unknown> {
  const { grantTypes, responseTypes } = enabledFlows(config);
  return {
    issuer,
    ...(responseTypes.length > 0 ? { authorization_endpoint: `${issuer}/oauth2/authorize` } : {}),
    token_endpoint: `${issuer}/oauth2/token`,
    // RFC 9068 validators (oauth4webapi's validateJwtAccessToken) find the signing keys here only.
    ...(config.tokenFormat === 'jwt' ? { jwks_uri: issuer + JWKS_SUFFIX } : {}),
    revocation_endpoint: `${issuer}/oauth2/revoke`,
    introspection_endpoint: `${issuer}/oauth2/introspect`,
    ...(config.scopes.length > 0 ? { scopes_supported: config.scopes } : {}),
    response_types_supported: responseTypes,
    grant_types_supported: grantTypes,
    code_challenge_methods_supported: ['S256'],
    // Public clients name themselves by client_id alone (`none`) at the token and revocation endpoints.
    token_endpoint_auth_methods_supported: [...CLIENT_AUTH, 'none'],
    revocation_endpoint_auth_methods_supported: [...CLIENT_AUTH, 'none'],
    introspection_endpoint_auth_methods_supported: CLIENT_AUTH,
    // RFC 8414 §2: required with private_key_jwt; the assertion algorithms the endpoints accept.
    token_endpoint_auth_signing_alg_values_supported: [...ASSERTION_SIGNING_ALGORITHMS],
    revocation_endpoint_auth_signing_alg_values_supported: [...ASSERTION_SIGNING_ALGORITHMS],
    introspection_endpoint_auth_signing_alg_values_supported: [...ASSERTION_SIGNING_ALGORITHMS],
  };
}
