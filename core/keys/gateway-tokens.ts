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
import { grantLiveness, type GrantSources } from './grant-liveness.js';
import type { IndexedClient } from './clients.js';

/** What can revoke a gateway token after it was issued (the sources of `grantLiveness`). */
export type TokenStanding = GrantSources;

export interface GatewayTokenOptions extends TokenStanding {
  keys: KeyService;
  /** Required `iss`, when set. */
  issuer?: string;
}

export type GatewayTokenPayload = JWTPayload & { client_id?: string; scope?: string };

export type GatewayTokenResult =
  { ok: true; payload: GatewayTokenPayload; client: IndexedClient } | { ok: false; reason: string };

export async function verifyGatewayToken(token: string, options: GatewayTokenOptions): Promise<GatewayTokenResult> {
  let payload: JWTPayload;
  try {
    ({ payload } = await options.keys.verify(token, {
      typ: 'at+jwt',
      issuer: options.issuer,
      requiredClaims: ['exp', 'jti', 'client_id'],
    }));
  } catch (error) {
    if (error instanceof TokenVerificationError) return { ok: false, reason: error.message };
    throw error;
  }
  const verdict = grantLiveness(payloadGrant(payload), options);
  if (!verdict.alive) return { ok: false, reason: verdict.message };
  return { ok: true, payload: payload as GatewayTokenPayload, client: verdict.client };
}

/**
 * Why a verified gateway token may no longer be used, or null: `grantLiveness` on its claims.
 * Map lookups only, so verifiers that cache verified tokens run it on every
 * request: disabling, deleting or cutting off a client takes effect on the next request, cache or not.
 */
export function gatewayTokenProblem(payload: JWTPayload, standing: TokenStanding): string | null {
  const verdict = grantLiveness(payloadGrant(payload), standing);
  return verdict.alive ? null : verdict.message;
}

/** The grant a JWT stands for (its signature and `exp` were verified already). */
function payloadGrant(payload: JWTPayload) {
  return { clientId: payload.client_id, iat: payload.iat, exp: payload.exp, jti: payload.jti };
}
