/**
 * Verification of access tokens issued by the gateway's client credentials service, shared by the
 * introspection and revocation endpoints, the `jwt` extractor of `apikeys` and `jwt-verifier`: signature by a live
 * gateway key with that key's algorithm, `typ: at+jwt`, `exp`/`nbf`, issuer when configured, not
 * revoked, and the API key behind it still enabled and unexpired.
 */
import type { JWTPayload } from 'jose';
import { TokenVerificationError, type KeyService } from './key-service.js';
import type { RevocationList } from './revocations.js';
import { isClientActive, type ClientDirectory, type IndexedClient } from './clients.js';

export interface GatewayTokenOptions {
  keys: KeyService;
  clients: ClientDirectory;
  revocations: RevocationList;
  /** Required `iss`, when set. */
  issuer?: string;
  /** Accept revoked tokens (revocation of an already revoked token is a no-op). */
  allowRevoked?: boolean;
  /** Accept tokens of disabled keys (a disabled client may still revoke). */
  allowDisabledClient?: boolean;
}

export type GatewayTokenResult =
  | { ok: true; payload: JWTPayload & { client_id?: string; scope?: string }; client: IndexedClient }
  | { ok: false; reason: string };

export async function verifyGatewayToken(token: string, options: GatewayTokenOptions): Promise<GatewayTokenResult> {
  try {
    const { payload } = await options.keys.verify(token, { typ: 'at+jwt', issuer: options.issuer, requiredClaims: ['exp', 'jti', 'client_id'] });
    const clientId = typeof payload.client_id === 'string' ? payload.client_id : undefined;
    const client = clientId === undefined ? undefined : options.clients.get(clientId);
    if (!client) return { ok: false, reason: 'The token belongs to no known client' };
    if (!options.allowDisabledClient && !isClientActive(client)) return { ok: false, reason: 'The client of this token is disabled or expired' };
    if (!options.allowRevoked && options.revocations.isRevoked(String(payload.jti))) return { ok: false, reason: 'The token has been revoked' };
    return { ok: true, payload: payload as JWTPayload & { client_id?: string; scope?: string }, client };
  } catch (error) {
    if (error instanceof TokenVerificationError) return { ok: false, reason: error.message };
    throw error;
  }
}
