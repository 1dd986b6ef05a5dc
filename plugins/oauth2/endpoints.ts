/**
 * The `oauth2` route's authorization server, composed from the core's token authority: the
 * endpoints under `…/oauth2/` and the metadata, over one `StoredGrants` (records in the
 * `GrantStore`, the route's token format and scope policy). Public clients (`none`) may use the
 * token and revocation endpoints; introspection is for confidential clients.
 */
import type {
  ClientAuthentication,
  Endpoint,
  Metrics,
  RequestContext,
  StoredGrants,
  TransportRule,
  ClientDirectory,
  Grant,
} from '../../core/plugin-api.js';
import {
  assertionAudience,
  authorizeEndpoint,
  authorizationCode,
  clientCredentials,
  confidentialClient,
  confidentialOrPublicClient,
  introspectEndpoint,
  jwksEndpoint,
  metadataEndpoint,
  password,
  recordConsumer,
  refreshToken,
  revokeEndpoint,
  routeMetadata,
  storedIntrospection,
  storedRevocation,
  tokenEndpoint,
  JWKS_SUFFIX,
  METADATA_SUFFIX,
  type KeyService,
} from '../../core/plugin-api.js';
import type { Logger } from 'pino';
import type { OAuth2Config } from './schema.js';

const PLUGIN_ID = 'oauth2';
const GRANTS: ReadonlyArray<Grant<StoredGrants>> = [authorizationCode, refreshToken, password, clientCredentials];

export interface RouteServerParts {
  issuer: string;
  authority: StoredGrants;
  transport: TransportRule;
  clients: ClientDirectory;
  auth: ClientAuthentication;
  keys: KeyService;
  log: Logger;
  metrics: Metrics;
}

export interface RouteServer {
  /** The endpoint a request names, or null for the protected route. */
  endpointOf(ctx: RequestContext): Endpoint | null;
}

/** Whether the request asks for the route's metadata (the path after the route's prefix). */
export function isMetadataRequest(ctx: RequestContext): boolean {
  return ctx.path.length === ctx.routePrefix.length + METADATA_SUFFIX.length && ctx.path.endsWith(METADATA_SUFFIX);
}

/** Which grants answer at the token endpoint (refresh tokens come from codes and passwords). */
function grantEnabled(config: OAuth2Config): (grantType: string) => boolean {
  const enabled = new Set([
    ...(config.enableAuthorizationCode ? ['authorization_code', 'refresh_token'] : []),
    ...(config.enablePasswordGrant ? ['password', 'refresh_token'] : []),
    ...(config.enableClientCredentials ? ['client_credentials'] : []),
  ]);
  return (grantType) => enabled.has(grantType);
}

export function routeServer(config: OAuth2Config, parts: RouteServerParts): RouteServer {
  const { issuer, authority, transport, auth, metrics } = parts;
  const audience = (endpoint: string) =>
    assertionAudience(issuer, `${issuer}/oauth2/token`, `${issuer}/oauth2/${endpoint}`);
  const [tokenAudience, revokeAudience, introspectAudience] = [
    audience('token'),
    audience('revoke'),
    audience('introspect'),
  ];
  const token = tokenEndpoint({
    transport,
    authenticate: [confidentialOrPublicClient(auth, () => tokenAudience), recordConsumer],
    grants: GRANTS,
    isEnabled: grantEnabled(config),
    authority,
    unsupported: (grantType) => `The grant type "${grantType}" is not enabled on this route`,
    issued: (grantType) => metrics.tokenIssued(PLUGIN_ID, grantType),
  });
  const authorize = authorizeEndpoint({
    transport,
    clients: parts.clients,
    authority,
    enableAuthorizationCode: config.enableAuthorizationCode,
    enableImplicitGrant: config.enableImplicitGrant,
  });
  const revoke = revokeEndpoint({
    transport,
    authenticate: [confidentialOrPublicClient(auth, () => revokeAudience)],
    revocation: storedRevocation(authority, parts.log),
    revoked: () => metrics.tokenRevoked(PLUGIN_ID),
  });
  const introspect = introspectEndpoint({
    transport,
    authenticate: [confidentialClient(auth, () => introspectAudience)],
    introspection: storedIntrospection(authority),
    introspected: (active) => metrics.tokenIntrospected(PLUGIN_ID, active),
  });
  // The same document whatever the request's Host: the issuer is the route's, from configuration.
  const document = { body: routeMetadata(issuer, config), headers: { 'cache-control': 'public, max-age=300' } };
  const metadata = metadataEndpoint(transport, () => document);
  const jwks = config.tokenFormat === 'jwt' ? jwksEndpoint({ keys: parts.keys, transport, maxAgeSeconds: 300 }) : null;
  return {
    endpointOf(ctx) {
      const path = ctx.path;
      if (path.endsWith('/oauth2/token')) return token;
      if (path.endsWith('/oauth2/authorize')) return authorize;
      if (path.endsWith('/oauth2/revoke')) return revoke;
      if (path.endsWith('/oauth2/introspect')) return introspect;
      if (isMetadataRequest(ctx)) return metadata;
      if (jwks !== null && path.endsWith(JWKS_SUFFIX)) return jwks;
      return null;
    },
  };
}
