/**
 * The client credentials service, composed from the core's token authority: one grant
 * (`client_credentials`), tokens in the gateway JWT format (signed per client key pair, verified
 * statelessly: no records), the client's own scopes, and the issuer of configuration (or, with
 * `issuerFromHost`, of the request's host among those `domain` lists).
 */
import type { Logger } from 'pino';
import type {
  BootConfig,
  ClientAuthentication,
  ClientCredentialsIssuer,
  ClientDirectory,
  Endpoint,
  Exchange,
  IndexedClient,
  KeyService,
  Metrics,
  RequestContext,
  RevocationList,
  StateStore,
} from '../../core/plugin-api.js';
import {
  ClientAssertionVerifier,
  GatewayJwtFormat,
  assertionAudience,
  NO_STORE,
  clientCredentials,
  clientScopePolicy,
  confidentialClient,
  gatewayIntrospection,
  gatewayRevocation,
  hostIssuer,
  introspectEndpoint,
  jwksEndpoint,
  liveIssueTime,
  metadataEndpoint,
  recordConsumer,
  revokeEndpoint,
  serviceMetadata,
  tokenEndpoint,
  transportRule,
  withoutTrailingSlash,
} from '../../core/plugin-api.js';
import type { ClientCredentialsConfig } from './schema.js';

export const METADATA_PATH = '/.well-known/oauth-authorization-server';
const PLUGIN_ID = 'client-credentials';

export interface ServiceParts {
  keys: KeyService;
  clients: ClientDirectory;
  revocations: RevocationList;
  boot: BootConfig;
  state: StateStore;
  log: Logger;
  metrics: Metrics;
}

/** Where the issuer and the endpoints of a request's authorization server are. */
export interface Issuers {
  issuerOf(ctx: RequestContext): string;
  /** Where the endpoints are published: under the issuer's origin. */
  originOf(ctx: RequestContext): string;
}

export function issuers(config: ClientCredentialsConfig, boot: BootConfig): Issuers {
  // The sink only answers hosts matching `domain` (never `*` here, see checkConfig), so a client
  // can only pick among the issuers the operator listed.
  if (config.issuerFromHost) return { issuerOf: hostIssuer, originOf: hostIssuer };
  // Read per request: the default public URL is only known once the proxy listens. The issuer and
  // its origin are derived again only when that setting has changed.
  let setting: string | undefined;
  let issuer = '';
  let origin: string | undefined;
  const configured = () => {
    const now = config.issuer ?? boot.proxy.publicUrl ?? `http://${boot.proxy.host}:${boot.proxy.port}`;
    if (now !== setting) {
      issuer = withoutTrailingSlash(now);
      origin = undefined;
      setting = now;
    }
    return issuer;
  };
  const originOf = () => {
    const current = configured();
    origin ??= new URL(current).origin;
    return origin;
  };
  return { issuerOf: configured, originOf };
}

/** `NO_STORE` and the JSON type: the headers of the token answer, written as JSON text. */
const TOKEN_ANSWER_HEADERS = { ...NO_STORE, 'content-type': 'application/json; charset=utf-8' };

/** The token answer (RFC 6749 §5.1) as the JSON text `JSON.stringify` would write, without the object. */
export function tokenAnswer(accessToken: string, ttlSeconds: number, scope: string): string {
  // The token is base64url and dots: nothing to escape.
  const scoped = scope ? `,"scope":${JSON.stringify(scope)}` : '';
  return `{"access_token":"${accessToken}","token_type":"Bearer","expires_in":${ttlSeconds}${scoped}}`;
}

/** The service as a `ClientCredentialsIssuer`: any authenticated client, its scopes, a gateway JWT. */
function gatewayIssuer(
  format: GatewayJwtFormat,
  parts: ServiceParts,
  issuerOf: (ctx: RequestContext) => string,
): ClientCredentialsIssuer {
  const sources = { clients: parts.clients, revocations: parts.revocations };
  return {
    permitClientCredentials: () => {},
    grantedScope: clientScopePolicy,
    async issueClientToken(exchange: Exchange, client: IndexedClient, scope: string) {
      const keyPairId = format.keyPairOf(client);
      const issuer = issuerOf(exchange.ctx);
      const { iat } = await liveIssueTime(client, sources);
      const accessToken = await format.sign(keyPairId, { clientId: client.key.clientId, issuer, iat, scope });
      exchange.ctx.respond(200, tokenAnswer(accessToken, format.ttlSeconds, scope), TOKEN_ANSWER_HEADERS);
    },
  };
}

/** The service's endpoints by path. */
export function clientCredentialsService(config: ClientCredentialsConfig, parts: ServiceParts): Map<string, Endpoint> {
  const { keys, clients, revocations, metrics } = parts;
  const base = config.basePath;
  const paths = {
    jwks: `${base}/jwks.json`,
    token: `${base}/token`,
    introspect: `${base}/token/introspect`,
    revoke: `${base}/token/revoke`,
  };
  const { issuerOf, originOf } = issuers(config, parts.boot);
  const format = new GatewayJwtFormat({
    keys,
    clients,
    revocations,
    defaultKeyPair: config.defaultKeyPair,
    audience: config.audience,
    fixedIssuer: config.issuer,
    ttlSeconds: Math.floor(config.expiration / 1000),
  });
  const auth: ClientAuthentication = {
    clients,
    assertions: new ClientAssertionVerifier({ clients, state: parts.state, log: parts.log }, config.clientAssertion),
  };
  // RFC 7523 §3: an assertion is addressed to the token endpoint or the issuer; the endpoint
  // receiving it (introspection, revocation) is accepted too, as real clients send either.
  const audienceOf = ({ ctx }: Exchange) => {
    const origin = originOf(ctx);
    return assertionAudience(issuerOf(ctx), origin + paths.token, origin + ctx.path);
  };
  const authenticate = [confidentialClient(auth, audienceOf), recordConsumer];
  const transport = transportRule({ requireHttps: config.secure, acceptHttpIfAlreadyTerminated: true });
  const client = { transport, authenticate };
  const maxAge = `public, max-age=${config.jwksMaxAgeSeconds}`;
  return new Map<string, Endpoint>([
    [
      paths.token,
      tokenEndpoint({
        ...client,
        grants: [clientCredentials],
        isEnabled: () => true,
        authority: gatewayIssuer(format, parts, issuerOf),
        unsupported: (grantType) => `The grant type "${grantType}" is not supported; use client_credentials`,
        issued: (grantType) => metrics.tokenIssued(PLUGIN_ID, grantType),
      }),
    ],
    [
      paths.introspect,
      introspectEndpoint({
        ...client,
        introspection: gatewayIntrospection(format),
        introspected: (active) => metrics.tokenIntrospected(PLUGIN_ID, active),
      }),
    ],
    [
      paths.revoke,
      revokeEndpoint({
        ...client,
        revocation: gatewayRevocation(format, revocations, parts.log),
        revoked: () => metrics.tokenRevoked(PLUGIN_ID),
      }),
    ],
    [paths.jwks, jwksEndpoint({ keys, transport: null, maxAgeSeconds: config.jwksMaxAgeSeconds })],
    [
      METADATA_PATH,
      metadataEndpoint(null, (ctx) => {
        const origin = originOf(ctx);
        const body = serviceMetadata(issuerOf(ctx), {
          token: origin + paths.token,
          jwks: origin + paths.jwks,
          introspect: origin + paths.introspect,
          revoke: origin + paths.revoke,
        });
        // A shared cache must not serve one host's document to another.
        return { body, headers: { 'cache-control': maxAge, ...(config.issuerFromHost ? { vary: 'Host' } : {}) } };
      }),
    ],
  ]);
}
