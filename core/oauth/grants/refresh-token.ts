/**
 * `grant_type=refresh_token` (RFC 6749 §6) with rotation (RFC 9700 §4.14.2): each refresh returns
 * a new pair and spends the old refresh token; within the grace period the same new pair again;
 * after it, a replay revokes the whole grant. The refresh token's own grant must still be alive
 * (`grantLiveness`, read after syncing the client's cut-off from the store).
 */
import { InvalidGrantError, UnauthorizedClientError } from '../../errors.js';
import { grantLiveness } from '../../keys/grant-liveness.js';
import { clientOf, type Exchange } from '../endpoint.js';
import { requireParam } from '../oauth-request.js';
import type { TokenRecord } from '../records.js';
import { narrowedScope } from '../scopes.js';
import { mayUse, respondTokens, storedGrant, type Issuance, type StoredGrants } from '../stored-grants.js';
import type { Grant } from './grant.js';

type FamilyRecord = TokenRecord & { family: string };

async function refreshTokenGrant(exchange: Exchange, authority: StoredGrants): Promise<void> {
  const client = clientOf(exchange);
  if (!mayUse(client, 'refresh_token')) throw new UnauthorizedClientError('This client may not use refresh tokens');
  const refreshToken = requireParam(exchange.params, 'refresh_token');
  const nowMs = Date.now();
  const found = await authority.records.findToken('rt', refreshToken);
  if (!found || found.record.routeKey !== authority.options.routeKey || found.record.family === null)
    throw new InvalidGrantError('The refresh token is unknown, expired or revoked');
  const record = found.record as FamilyRecord;
  if (record.clientId !== client.key.clientId)
    throw new InvalidGrantError('The refresh token was issued to another client');
  // The refresh token's own iat: a cut-off after it refuses it, in the grace period too (a sealed
  // pair is never handed out), and at once on every instance (the cut-off is read from the store).
  await authority.sources.revocations.syncClient(record.clientId);
  const verdict = grantLiveness(storedGrant(found), authority.sources, nowMs);
  if (!verdict.alive) throw new InvalidGrantError(`The refresh token is no longer valid: ${verdict.message}`);
  const issuance: Issuance = {
    client,
    userId: record.userId,
    scope: narrowedScope(exchange.params.get('scope'), record.scope),
    family: record.family,
  };
  if (authority.options.reuseRefreshToken) {
    await authority.issue(exchange.ctx, issuance, false, await authority.mint(issuance, refreshToken));
    return;
  }
  await rotate(exchange, authority, issuance, { refreshToken, record, nowMs });
}

/** Rotate the refresh token: the first caller gets a new pair; a later one the same pair in the grace period, else the grant is revoked. */
async function rotate(
  exchange: Exchange,
  authority: StoredGrants,
  issuance: Issuance,
  old: { refreshToken: string; record: FamilyRecord; nowMs: number },
): Promise<void> {
  const { records, options, familyTtlMs } = authority;
  const { refreshToken, record, nowMs } = old;
  const graceMs = options.refreshGracePeriodSeconds * 1000;
  const minted = await authority.mint(issuance);
  const rotationTtlMs = Math.max(1, record.exp * 1000 - nowMs);
  if (
    await records.claimRotation(
      refreshToken,
      record.family,
      graceMs > 0 ? { ...minted.pair, scope: issuance.scope } : null,
      nowMs,
      rotationTtlMs,
    )
  ) {
    return authority.issue(exchange.ctx, issuance, true, minted);
  }
  // Rotated already: within the grace period the same new pair again, else a replay.
  const rotation = await records.getRotation(refreshToken);
  if (rotation?.sealed && nowMs - rotation.at <= graceMs && !(await records.isRevoked(record.family))) {
    const elapsed = Math.floor((nowMs - rotation.at) / 1000);
    const sealed = records.unseal(rotation.sealed, refreshToken);
    // The scope of the pair handed out again (a narrowing refresh), not the old token's wider one.
    return respondTokens(
      exchange.ctx,
      { accessToken: sealed.accessToken, refreshToken: sealed.refreshToken },
      sealed.scope ?? record.scope,
      true,
      Math.max(1, options.accessTtl - elapsed),
    );
  }
  await records.revokeFamily(record.family, familyTtlMs);
  throw new InvalidGrantError('The refresh token was already used; the whole grant is revoked');
}

export const refreshToken: Grant<StoredGrants> = {
  grantType: 'refresh_token',
  parameters: ['refresh_token', 'scope'],
  handler: refreshTokenGrant,
};
