/**
 * The revocation endpoint (RFC 7009): POST, transport, parameters, the client, then the token
 * revoked by the authority's strategy, and 200 whatever it was: an unknown or dead token is fine
 * (§2.2: the client's goal is reached), and another client's token is answered alike, untouched (a
 * different answer would tell whether it is live).
 */
import type { Logger } from 'pino';
import { grantLiveness } from '../../keys/grant-liveness.js';
import type { RevocationList } from '../../keys/revocations.js';
import { clientOf, endpoint, step, type Endpoint, type Exchange } from '../endpoint.js';
import { NO_STORE, checkTokenTypeHint, requireParam } from '../oauth-request.js';
import { storedGrant, type StoredGrants } from '../stored-grants.js';
import type { GatewayJwtFormat } from '../token-formats/gateway-jwt.js';
import { authenticatedPost, MANAGEMENT_PARAMS, type ClientEndpointOptions } from './shared.js';

export type Revocation = (exchange: Exchange) => Promise<void>;

export interface RevokeEndpointOptions extends ClientEndpointOptions {
  revocation: Revocation;
  /** Count an answer. */
  revoked(): void;
}

export function revokeEndpoint(options: RevokeEndpointOptions): Endpoint {
  return endpoint([
    ...authenticatedPost(options, MANAGEMENT_PARAMS),
    step('revoke', async (exchange) => {
      await options.revocation(exchange);
      exchange.ctx.respond(200, undefined, NO_STORE);
      options.revoked();
    }),
  ]);
}

function ignored(log: Logger, clientId: string, owner: unknown): void {
  log.debug({ clientId, owner }, "revocation of another client's token ignored");
}

/** A stored grant's token: a refresh token ends its grant, access tokens included (§2.1). */
export function storedRevocation(authority: StoredGrants, log: Logger): Revocation {
  const { records, familyTtlMs } = authority;
  const revocations = authority.sources.revocations;
  async function revokeStored(exchange: Exchange) {
    const client = clientOf(exchange);
    const value = requireParam(exchange.params, 'token');
    const found = await authority.findToken(value, exchange.params.get('token_type_hint'));
    const live = found !== null && grantLiveness(storedGrant(found), authority.sources).alive;
    if (!found || !live) return;
    if (found.record.clientId !== client.key.clientId) return ignored(log, client.key.clientId, found.record.clientId);
    if (found.type === 'rt' && found.record.family !== null)
      await records.revokeFamily(found.record.family, familyTtlMs);
    else await records.deleteToken(found.type, value);
    // A JWT is verified without the store: its jti is refused from now on.
    if (found.type === 'at' && typeof found.record.jti === 'string')
      await revocations.revoke(found.record.jti, found.record.clientId, found.record.exp);
  }
  return revokeStored;
}

/** A gateway JWT: its `jti` is refused from now on. */
export function gatewayRevocation(format: GatewayJwtFormat, revocations: RevocationList, log: Logger): Revocation {
  async function revokeGatewayToken(exchange: Exchange) {
    const clientId = clientOf(exchange).key.clientId;
    checkTokenTypeHint(exchange.params.get('token_type_hint'));
    const result = await format.verify(requireParam(exchange.params, 'token'));
    if (!result.ok) return;
    if (result.payload.client_id !== clientId) return ignored(log, clientId, result.payload.client_id);
    await revocations.revoke(String(result.payload.jti), clientId, Number(result.payload.exp));
  }
  return revokeGatewayToken;
}
