/**
 * The metadata endpoint (RFC 8414): GET or HEAD, the authority's transport rule where it has one,
 * then its document. A route's authorization server (`oauth2`) has one document, made once from
 * configuration (`routeMetadata`); the client credentials service has one per issuer
 * (`serviceMetadata`, per host with `issuerFromHost`).
 *
 * `oauth2` serves it at `{issuer}/.well-known/oauth-authorization-server`. For a route without a
 * path prefix this is exactly the RFC 8414 §3 URL, which `openid-client`'s
 * `discovery(issuer, …, { algorithm: 'oauth2' })` requests and checks the issuer of. For a route
 * with a prefix, RFC 8414 §3 inserts the well-known segment before the path
 * (`/.well-known/oauth-authorization-server/v1`), a URL outside the route that the core would
 * have to route by its tail; clients give discovery the metadata URL itself instead.
 */
import type { RequestContext } from '../../plugin-runtime/context.js';
import { ASSERTION_SIGNING_ALGORITHMS } from '../../keys/client-assertions.js';
import { endpoint, step, type Endpoint, type Step } from '../endpoint.js';
import { methodStep } from '../steps/require-method.js';
import { transportStep, type TransportRule } from '../steps/transport.js';

export const METADATA_SUFFIX = '/.well-known/oauth-authorization-server';
/** Where a route publishes the public keys of its JWT access tokens (RFC 8414 `jwks_uri`). */
export const JWKS_SUFFIX = '/oauth2/jwks';

/** A metadata answer: the document and its headers. */
export type MetadataAnswer = (ctx: RequestContext) => {
  body: Record<string, unknown>;
  headers: Record<string, string>;
};

export function metadataEndpoint(transport: TransportRule | null, answer: MetadataAnswer): Endpoint {
  const steps: Step[] = [methodStep(['GET', 'HEAD'])];
  if (transport) steps.push(transportStep(transport));
  steps.push(
    step('metadata', ({ ctx }) => {
      const { body, headers } = answer(ctx);
      ctx.respond(200, body, headers);
    }),
  );
  return endpoint(steps);
}

/** What a route's document says: the flows its configuration enables. */
export interface RouteFlows {
  enableAuthorizationCode: boolean;
  enableClientCredentials: boolean;
  enablePasswordGrant?: boolean;
  enableImplicitGrant?: boolean;
  tokenFormat: 'opaque' | 'jwt';
  scopes: readonly string[];
}

/** Grant and response types the config enables. */
export function enabledFlows(config: RouteFlows): { grantTypes: string[]; responseTypes: string[] } {
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

/** A route's document (RFC 8414 §2) for `issuer`. */
export function routeMetadata(issuer: string, config: RouteFlows): Record<string, unknown> {
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

/** The client credentials service's endpoints, as absolute URLs. */
export interface ServiceEndpoints {
  token: string;
  jwks: string;
  introspect: string;
  revoke: string;
}

/** The client credentials service's document for `issuer`. */
export function serviceMetadata(issuer: string, endpoints: ServiceEndpoints): Record<string, unknown> {
  const methods = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];
  const algorithms = [...ASSERTION_SIGNING_ALGORITHMS];
  return {
    issuer,
    token_endpoint: endpoints.token,
    jwks_uri: endpoints.jwks,
    introspection_endpoint: endpoints.introspect,
    revocation_endpoint: endpoints.revoke,
    grant_types_supported: ['client_credentials'],
    response_types_supported: [],
    token_endpoint_auth_methods_supported: methods,
    token_endpoint_auth_signing_alg_values_supported: algorithms,
    introspection_endpoint_auth_methods_supported: methods,
    introspection_endpoint_auth_signing_alg_values_supported: algorithms,
    revocation_endpoint_auth_methods_supported: methods,
    revocation_endpoint_auth_signing_alg_values_supported: algorithms,
  };
}
