/**
 * Verification of access tokens issued by the gateway's client credentials service, shared by the
 * introspection and revocation endpoints, the `jwt` extractor of `apikeys` and `jwt-verifier`: signature by a live
 * gateway key with that key's algorithm, `typ: at+jwt`, `exp`/`nbf`, issuer when configured, then
 * the checks that can change after issuance (`gatewayTokenProblem`): the API key behind it still
 * exists, is enabled and unexpired, and the token is neither revoked nor issued before its
 * client's cut-off or before the client was (re)created.
 */
import type { JWTPayload } from 'jose';
import { TokenVerificationError, type KeyService } from './key-service.js';
import type { RevocationList } from './revocations.js';
import { isClientActive, type ClientDirectory, type IndexedClient } from './clients.js';

/** What can revoke a gateway token after it was issued. */
export interface TokenStanding {
  clients: ClientDirectory;
  revocations: RevocationList;
  /** Accept revoked tokens (revocation of an already revoked token is a no-op). */
  allowRevoked?: boolean;
  /** Accept tokens of disabled keys (a disabled client may still revoke). */
  allowDisabledClient?: boolean;
}

export interface GatewayTokenOptions extends TokenStanding {
  keys: KeyService;
  /** Required `iss`, when set. */
  issuer?: string;
}

export type GatewayTokenPayload = JWTPayload & { client_id?: string; scope?: string };

export type GatewayTokenResult =
  | { ok: true; payload: GatewayTokenPayload; client: IndexedClient }
  | { ok: false; reason: string };

export async function verifyGatewayToken(token: string, options: GatewayTokenOptions): Promise<GatewayTokenResult> {
  let payload: JWTPayload;
  try {
    ({ payload } = await options.keys.verify(token, { typ: 'at+jwt', issuer: options.issuer, requiredClaims: ['exp', 'jti', 'client_id'] }));
  } catch (error) {
    if (error instanceof TokenVerificationError) return { ok: false, reason: error.message };
    throw error;
  }
  const standing = gatewayTokenStanding(payload, options);
  return 'reason' in standing ? { ok: false, reason: standing.reason } : { ok: true, payload: payload as GatewayTokenPayload, client: standing.client };
}

/**
 * The checks of a verified gateway token that can change after issuance. Map lookups only, so
 * verifiers that cache verified tokens run it on every request: disabling, deleting or cutting
 * off a client takes effect on the next request, cache or not.
 */
export function gatewayTokenStanding(payload: JWTPayload, standing: TokenStanding): { client: IndexedClient } | { reason: string } {
  const clientId = typeof payload.client_id === 'string' ? payload.client_id : undefined;
  const client = clientId === undefined ? undefined : standing.clients.get(clientId);
  if (!client) return { reason: 'The token belongs to no known client' };
  if (!standing.allowDisabledClient && !isClientActive(client)) return { reason: 'The client of this token is disabled or expired' };
  if (standing.allowRevoked) return { client };
  if (standing.revocations.isRevoked(typeof payload.jti === 'string' ? payload.jti : undefined)) return { reason: 'The token has been revoked' };
  if (standing.revocations.isIssuedBeforeCutoff(client.key.clientId, payload.iat)) return { reason: 'The tokens of this client issued before a revocation are revoked' };
  if (issuedBeforeClient(client, payload.iat)) return { reason: 'The token was issued to an earlier client of the same id' };
  return { client };
}

/** A client deleted and created again under the same id does not inherit the old client's tokens. */
function issuedBeforeClient(client: IndexedClient, iat: unknown): boolean {
  if (client.key.createdAt === undefined) return false;
  const created = Date.parse(client.key.createdAt);
  // iat has a one-second resolution: a token of the second the client was created is its own.
  return Number.isFinite(created) && (typeof iat !== 'number' || iat < Math.floor(created / 1000));
}
