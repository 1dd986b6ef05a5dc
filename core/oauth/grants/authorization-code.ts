/**
 * `grant_type=authorization_code` (RFC 6749 §4.1.3) with PKCE (RFC 7636, S256): the code is
 * redeemed once across processes and instances; a code used twice by its client revokes the
 * tokens issued from it (§4.1.2); the grant it stood for must still be alive (`grantLiveness`).
 */
import { createHash, randomUUID } from 'node:crypto';
import { InvalidGrantError, UnauthorizedClientError } from '../../errors.js';
import type { IndexedClient } from '../../keys/clients.js';
import { grantLiveness } from '../../keys/grant-liveness.js';
import { safeEqual } from '../../admin/admin-auth.js';
import { clientOf, type Exchange } from '../endpoint.js';
import { requireParam } from '../oauth-request.js';
import type { CodeRecord } from '../records.js';
import { mayUse, type StoredGrants } from '../stored-grants.js';
import type { Grant } from './grant.js';

/** RFC 7636 §4.1: 43 to 128 unreserved characters. */
const CODE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
const CODE_REUSED = 'The authorization code was already used; the tokens issued from it are revoked';

async function authorizationCodeGrant(exchange: Exchange, authority: StoredGrants): Promise<void> {
  const client = clientOf(exchange);
  const { params } = exchange;
  if (!mayUse(client, 'authorization_code'))
    throw new UnauthorizedClientError('This client may not use the authorization code grant');
  const code = requireParam(params, 'code');
  const record = await authority.records.getCode(code);
  if (!record || record.routeKey !== authority.options.routeKey) return refuseUnknownCode(code, client, authority);
  // Before redeeming: a client presenting another client's code must not use it up (RFC 6749 §4.1.3).
  if (record.clientId !== client.key.clientId)
    throw new InvalidGrantError('The authorization code was issued to another client');
  await authority.sources.revocations.syncClient(record.clientId);
  const verdict = grantLiveness({ clientId: record.clientId, iat: record.iat }, authority.sources);
  if (!verdict.alive) throw new InvalidGrantError(`The authorization code is no longer valid: ${verdict.message}`);
  const family = randomUUID();
  await redeem(code, family, client, authority);
  if (params.get('redirect_uri') !== record.redirectUri)
    throw new InvalidGrantError('redirect_uri must be the one used in the authorization request');
  checkVerifier(params.get('code_verifier'), record, client);
  await authority.issue(
    exchange.ctx,
    { client, userId: record.userId, scope: record.scope, family },
    mayUse(client, 'refresh_token'),
  );
}

/**
 * A code used twice by its client: the tokens issued from it are revoked (RFC 6749 §4.1.2).
 * Another client presenting it (a leaked code) learns nothing and revokes nothing.
 */
async function refuseUnknownCode(code: string, client: IndexedClient, authority: StoredGrants): Promise<never> {
  const redeemed = await authority.records.redemption(code);
  if (redeemed !== undefined && (redeemed.clientId === null || redeemed.clientId === client.key.clientId)) {
    await authority.records.revokeFamily(redeemed.family, authority.familyTtlMs);
    throw new InvalidGrantError(CODE_REUSED);
  }
  throw new InvalidGrantError('The authorization code is unknown or expired');
}

/** One redemption wins, across processes and instances; the code is spent even if a later check fails. */
async function redeem(code: string, family: string, client: IndexedClient, authority: StoredGrants): Promise<void> {
  const { records, familyTtlMs } = authority;
  if (await records.redeemCode(code, family, client.key.clientId, familyTtlMs)) return;
  const winner = await records.redemption(code);
  if (winner !== undefined) await records.revokeFamily(winner.family, familyTtlMs);
  throw new InvalidGrantError(CODE_REUSED);
}

function checkVerifier(verifier: string | undefined, record: CodeRecord, client: IndexedClient): void {
  if (record.challenge === null) {
    // RFC 9700 §2.1.1: a verifier without a challenge is a PKCE downgrade attempt.
    if (verifier !== undefined) throw new InvalidGrantError('code_verifier sent but no code_challenge was');
    if (client.key.clientType === 'public') throw new InvalidGrantError('A public client must use PKCE');
    return;
  }
  if (verifier === undefined) throw new InvalidGrantError('code_verifier is required');
  if (!CODE_VERIFIER.test(verifier))
    throw new InvalidGrantError('code_verifier must be 43 to 128 unreserved characters (RFC 7636 §4.1)');
  if (!safeEqual(createHash('sha256').update(verifier).digest('base64url'), record.challenge))
    throw new InvalidGrantError('code_verifier does not match the code_challenge');
}

export const authorizationCode: Grant<StoredGrants> = {
  grantType: 'authorization_code',
  parameters: ['code', 'redirect_uri', 'code_verifier'],
  handler: authorizationCodeGrant,
};
