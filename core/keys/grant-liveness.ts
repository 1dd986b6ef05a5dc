/**
 * The one decision whether a grant is still alive: an authorization code, a refresh token or an
 * access token (opaque or JWT), of the `oauth2` plugin or the client credentials service. Every
 * path that issues or accepts a gateway token asks it (the grant types, the protected routes,
 * `jwt-verifier` and `apikeys` through `gatewayTokenProblem`, introspection, revocation), each
 * answering in its own protocol (`invalid_grant` at a token endpoint, 401 `invalid_token` on a
 * route, `active: false` at introspection), so that a revocation that reaches one reaches all.
 *
 * Synchronous, map lookups only: the hot path and verifiers that cache verified tokens ask it on
 * every request. What needs a state-store read (an `oauth2` grant's revocation marker) is looked
 * up by the caller and handed over as `revoked`.
 */
import type { RevocationList } from './revocations.js';
import { isClientActive, type ClientDirectory, type IndexedClient } from './clients.js';

/** What is known of a grant when it is presented or about to be issued. */
export interface GrantFacts {
  /** The client the grant was issued to. */
  readonly clientId: unknown;
  /**
   * When the grant being used was issued (epoch seconds): for a refresh token the refresh token
   * record's own `iat`, not that of the tokens it is exchanged for. Not a number: the grant cannot
   * prove it came after a cut-off or after its client was created.
   */
  readonly iat: unknown;
  /** Expiry (epoch seconds), when the grant carries one. */
  readonly exp?: unknown;
  /** A JWT's id, refused once revoked by id (RFC 7009 on a JWT access token). */
  readonly jti?: unknown;
  /** The grant's own revocation, read by the caller (the `oauth2` family marker). */
  readonly revoked?: boolean;
}

/** Where the standing of a grant's client is read. */
export interface GrantSources {
  readonly clients: ClientDirectory;
  readonly revocations: RevocationList;
}

/** Why a grant is dead, for callers that answer differently per reason, and logs. */
export type GrantDeath = 'unknown_client' | 'client_inactive' | 'revoked' | 'cut_off' | 'earlier_client' | 'expired';

export type GrantLiveness =
  | { readonly alive: true; readonly client: IndexedClient }
  | { readonly alive: false; readonly reason: GrantDeath; readonly message: string };

const DEAD: Readonly<Record<GrantDeath, GrantLiveness & { alive: false }>> = {
  unknown_client: { alive: false, reason: 'unknown_client', message: 'The token belongs to no known client' },
  client_inactive: {
    alive: false,
    reason: 'client_inactive',
    message: 'The client of this token is disabled or expired',
  },
  revoked: { alive: false, reason: 'revoked', message: 'The token has been revoked' },
  cut_off: {
    alive: false,
    reason: 'cut_off',
    message: 'The tokens of this client issued before a revocation are revoked',
  },
  earlier_client: {
    alive: false,
    reason: 'earlier_client',
    message: 'The token was issued to an earlier client of the same id',
  },
  expired: { alive: false, reason: 'expired', message: 'The token has expired' },
};

/**
 * Whether the grant may still be used: its client exists and is enabled and unexpired, the grant
 * was issued after the client's last cut-off (the admin's revoke-all) and after the client was
 * (re)created, it is revoked neither by id nor as a grant, and it has not expired.
 *
 * @example
 * const verdict = grantLiveness({ clientId: record.clientId, iat: record.iat, exp: record.exp, revoked }, { clients, revocations });
 * if (!verdict.alive) throw new InvalidGrantError(verdict.message);
 */
export function grantLiveness(grant: GrantFacts, sources: GrantSources, nowMs = Date.now()): GrantLiveness {
  const client = typeof grant.clientId === 'string' ? sources.clients.get(grant.clientId) : undefined;
  if (!client) return DEAD.unknown_client;
  if (!isClientActive(client, nowMs)) return DEAD.client_inactive;
  if (grant.revoked === true || (typeof grant.jti === 'string' && sources.revocations.isRevoked(grant.jti)))
    return DEAD.revoked;
  if (sources.revocations.isIssuedBeforeCutoff(client.key.clientId, grant.iat)) return DEAD.cut_off;
  if (issuedBeforeClient(client, grant.iat, nowMs)) return DEAD.earlier_client;
  if (grant.exp !== undefined && (typeof grant.exp !== 'number' || grant.exp * 1000 <= nowMs)) return DEAD.expired;
  return { alive: true, client };
}

/** Creation second of each indexed client, parsed once (a client object is replaced when it changes). */
const createdSeconds = new WeakMap<IndexedClient, number>();

/** A client deleted and created again under the same id does not inherit the old client's grants. */
function issuedBeforeClient(client: IndexedClient, iat: unknown, nowMs: number): boolean {
  let created = createdSeconds.get(client);
  if (created === undefined) {
    const ms = client.key.createdAt === undefined ? Number.NaN : Date.parse(client.key.createdAt);
    // iat has a one-second resolution: a token of the second the client was created is its own.
    // Never later than now: an imported createdAt from a clock ahead must not refuse new tokens,
    // and every token of an earlier client of this id was issued before this one existed.
    created = Number.isFinite(ms) ? Math.min(Math.floor(ms / 1000), Math.floor(nowMs / 1000)) : 0;
    createdSeconds.set(client, created);
  }
  return created > 0 && (typeof iat !== 'number' || iat < created);
}
