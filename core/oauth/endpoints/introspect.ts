/**
 * The introspection endpoint (RFC 7662): POST, transport, parameters, a confidential client
 * (introspection tells a token's user, not to anyone who asks), then the token described by the
 * authority's strategy: `{"active": false}` unless it is alive (`grantLiveness`).
 */
import { grantLiveness } from '../../keys/grant-liveness.js';
import { endpoint, step, type Endpoint, type Exchange } from '../endpoint.js';
import { NO_STORE, requireParam } from '../oauth-request.js';
import { storedGrant, type StoredGrants } from '../stored-grants.js';
import type { GatewayJwtFormat } from '../token-formats/gateway-jwt.js';
import { authenticatedPost, MANAGEMENT_PARAMS, type ClientEndpointOptions } from './shared.js';

/** The claims of an active token, or null for an inactive one. */
export type Introspection = (exchange: Exchange) => Promise<Record<string, unknown> | null>;

export interface IntrospectEndpointOptions extends ClientEndpointOptions {
  introspection: Introspection;
  /** Count an answer. */
  introspected(active: boolean): void;
}

export function introspectEndpoint(options: IntrospectEndpointOptions): Endpoint {
  return endpoint([
    ...authenticatedPost(options, MANAGEMENT_PARAMS),
    step('introspect', async (exchange) => {
      const claims = await options.introspection(exchange);
      options.introspected(claims !== null);
      exchange.ctx.respond(200, claims ?? { active: false }, NO_STORE);
    }),
  ]);
}

/** A stored grant's token of this route, of either type. */
export function storedIntrospection(authority: StoredGrants): Introspection {
  async function introspectStored(exchange: Exchange) {
    const found = await authority.findToken(
      requireParam(exchange.params, 'token'),
      exchange.params.get('token_type_hint'),
    );
    if (found === null || !grantLiveness(storedGrant(found), authority.sources).alive) return null;
    const { record } = found;
    return {
      active: true,
      client_id: record.clientId,
      token_type: found.type === 'at' ? 'Bearer' : 'refresh_token',
      exp: record.exp,
      iat: record.iat,
      ...(record.scope ? { scope: record.scope } : {}),
      ...(record.userId !== null ? { sub: record.userId, username: record.userId } : {}),
    };
  }
  return introspectStored;
}

/** A gateway JWT, verified statelessly. */
export function gatewayIntrospection(format: GatewayJwtFormat): Introspection {
  async function introspectGatewayToken(exchange: Exchange) {
    const result = await format.verify(requireParam(exchange.params, 'token'));
    if (!result.ok) return null;
    const { payload } = result;
    return {
      active: true,
      scope: payload.scope,
      client_id: payload.client_id,
      sub: payload.sub,
      aud: payload.aud,
      iss: payload.iss,
      exp: payload.exp,
      iat: payload.iat,
      jti: payload.jti,
      token_type: 'Bearer',
    };
  }
  return introspectGatewayToken;
}
