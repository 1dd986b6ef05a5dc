/**
 * Verification of access tokens issued by the gateway's client credentials service, shared by the
 * introspection and revocation endpoints and the `jwt` extractor of `apikeys`: signature by a live
 * gateway key with that key's algorithm, `typ: at+jwt`, `exp`/`nbf`, issuer when configured, not
 * revoked, and the API key behind it still enabled and unexpired.
 */
import type { JWTPayload } from 'jose';
import type { KeyService, RevocationList } from '../../core/keys/index.js';
import { TokenVerificationError } from '../../core/keys/index.js';
import type { ApiKeyIndex, IndexedKey } from './key-index.js';

export interface GatewayTokenOptions {
  keys: KeyService;
  apikeys: ApiKeyIndex;
  revocations: RevocationList;
  /** Required `iss`, when set. */
  issuer?: string;
  /** Accept revoked tokens (revocation of an already revoked token is a no-op). */
  allowRevoked?: boolean;
  /** Accept tokens of disabled keys (a disabled client may still revoke). */
  allowDisabledClient?: boolean;
}

export type GatewayTokenResult =
  | { ok: true; payload: JWTPayload & { client_id?: string; scope?: string }; apikey: IndexedKey }
  | { ok: false; reason: string };

export async function verifyGatewayToken(token: string, options: GatewayTokenOptions): Promise<GatewayTokenResult> {
  try {
    const { payload } = await options.keys.verify(token, { typ: 'at+jwt', issuer: options.issuer, requiredClaims: ['exp', 'jti', 'client_id'] });
    const clientId = typeof payload.client_id === 'string' ? payload.client_id : undefined;
    const apikey = clientId === undefined ? undefined : options.apikeys.get(clientId);
    if (!apikey) return { ok: false, reason: 'The token belongs to no known client' };
    if (!options.allowDisabledClient && (apikey.key.enabled === false || Date.now() > apikey.validUntil)) return { ok: false, reason: 'The client of this token is disabled or expired' };
    if (!options.allowRevoked && options.revocations.isRevoked(String(payload.jti))) return { ok: false, reason: 'The token has been revoked' };
    return { ok: true, payload: payload as JWTPayload & { client_id?: string; scope?: string }, apikey };
  } catch (error) {
    if (error instanceof TokenVerificationError) return { ok: false, reason: error.message };
    throw error;
  }
}
