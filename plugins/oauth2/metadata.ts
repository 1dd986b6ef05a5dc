/**
 * RFC 8414 metadata of a route's authorization server. The issuer is the route's base URL: the
 * scheme and Host the client used (the route's domains bound which hosts can appear) and the
 * prefix of the route's domain (`https://stepon.test/v1` for `stepon.test/v1`); the endpoints are
 * the issuer followed by `/oauth2/authorize`, `/oauth2/token`, `/oauth2/revoke`,
 * `/oauth2/introspect`, which the plugin answers.
 *
 * The document is served at `{issuer}/.well-known/oauth-authorization-server`. For a route without
 * a path prefix this is exactly the RFC 8414 §3 URL, which `openid-client`'s
 * `discovery(issuer, …, { algorithm: 'oauth2' })` requests and checks the issuer of. For a route
 * with a prefix, RFC 8414 §3 inserts the well-known segment before the path
 * (`/.well-known/oauth-authorization-server/v1`), a URL outside the route that the core would
 * have to route by its tail; clients give discovery the metadata URL itself instead.
 */
import type { RequestContext } from '../../core/plugin-api.js';
import type { OAuth2Config } from './schema.js';

export const METADATA_SUFFIX = '/.well-known/oauth-authorization-server';

/** Whether the request asks for the route's metadata (the path after the route's prefix). */
export function isMetadataRequest(ctx: RequestContext): boolean {
  return ctx.path.length === ctx.routePrefix.length + METADATA_SUFFIX.length && ctx.path.endsWith(METADATA_SUFFIX);
}

/**
 * The issuer of the route's authorization server for this request: `<scheme>://<host>[:<port>]`
 * plus the route's prefix, where the port is the Host header's when it is not the scheme's default.
 */
export function routeIssuer(ctx: RequestContext): string {
  const header = ctx.req.headers.host ?? '';
  const port = /:(\d{1,5})$/.exec(header.startsWith('[') ? header.slice(header.indexOf(']')) : header)?.[1];
  const portNumber = port === undefined ? 0 : Number(port);
  const defaultPort = ctx.scheme === 'https' ? 443 : 80;
  const suffix = portNumber > 0 && portNumber <= 65535 && portNumber !== defaultPort ? `:${portNumber}` : '';
  const host = ctx.host.includes(':') && !ctx.host.startsWith('[') ? `[${ctx.host}]` : ctx.host;
  return `${ctx.scheme}://${host}${suffix}${ctx.routePrefix}`;
}

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

const CLIENT_AUTH = ['client_secret_basic', 'client_secret_post'];

/** The metadata document (RFC 8414 §2) for `issuer`. */
export function metadataDocument(issuer: string, config: OAuth2Config): Record<string, unknown> {
  const { grantTypes, responseTypes } = enabledFlows(config);
  return {
    issuer,
    ...(responseTypes.length > 0 ? { authorization_endpoint: `${issuer}/oauth2/authorize` } : {}),
    token_endpoint: `${issuer}/oauth2/token`,
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
  };
}
