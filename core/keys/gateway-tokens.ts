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
  const reason = gatewayTokenProblem(payload, options);
  if (reason !== null) return { ok: false, reason };
  return { ok: true, payload: payload as GatewayTokenPayload, client: options.clients.get(payload.client_id as string)! };
}

/**
 * Why a verified gateway token may no longer be used, or null: the checks that can change after
 * issuance. Map lookups and no allocation, so verifiers that cache verified tokens run it on every
 * request: disabling, deleting or cutting off a client takes effect on the next request, cache or not.
 */
export function gatewayTokenProblem(payload: JWTPayload, standing: TokenStanding): string | null {
  const clientId = typeof payload.client_id === 'string' ? payload.client_id : undefined;
  const client = clientId === undefined ? undefined : standing.clients.get(clientId);
  if (!client) return 'The token belongs to no known client';
  if (!standing.allowDisabledClient && !isClientActive(client)) return 'The client of this token is disabled or expired';
  if (standing.allowRevoked) return null;
  if (standing.revocations.isRevoked(typeof payload.jti === 'string' ? payload.jti : undefined)) return 'The token has been revoked';
  if (standing.revocations.isIssuedBeforeCutoff(client.key.clientId, payload.iat)) return 'The tokens of this client issued before a revocation are revoked';
  if (issuedBeforeClient(client, payload.iat)) return 'The token was issued to an earlier client of the same id';
  return null;
}

/** Creation second of each indexed client, parsed once (a client object is replaced when it changes). */
const createdSeconds = new WeakMap<IndexedClient, number>();

/** A client deleted and created again under the same id does not inherit the old client's tokens. */
function issuedBeforeClient(client: IndexedClient, iat: unknown): boolean {
  let created = createdSeconds.get(client);
  if (created === undefined) {
    const ms = client.key.createdAt === undefined ? Number.NaN : Date.parse(client.key.createdAt);
    // iat has a one-second resolution: a token of the second the client was created is its own.
    // Never later than now: an imported createdAt from a clock ahead must not refuse new tokens,
    // and every token of an earlier client of this id was issued before this one existed.
    created = Number.isFinite(ms) ? Math.min(Math.floor(ms / 1000), Math.floor(Date.now() / 1000)) : 0;
    createdSeconds.set(client, created);
  }
  return created > 0 && (typeof iat !== 'number' || iat < created);
}
