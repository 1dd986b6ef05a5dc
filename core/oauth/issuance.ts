/**
 * The issue time of a new grant, shared by every grant type of both authorities: right after an
 * admin cut-off of a client's tokens, a new token must come after it (iat has a one-second
 * resolution), so the issuer waits for it, at most a second; and no token leaves dead: a cut-off
 * further ahead than the wait (an imported one) refuses the grant (`grantLiveness`, the one check).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { InvalidGrantError } from '../errors.js';
import type { IndexedClient } from '../keys/clients.js';
import { grantLiveness, type GrantSources } from '../keys/grant-liveness.js';

/** The issue time (epoch s) of a new grant of `client`, after waiting out a fresh cut-off (at most 1 s). */
export async function issueSecond(client: IndexedClient, sources: GrantSources): Promise<number> {
  return issueSecondNow(client, sources) ?? waitedIssueSecond(client, sources);
}

/** The issue time of a new grant when no cut-off is to be waited out (the usual case), else null. */
function issueSecondNow(client: IndexedClient, sources: GrantSources): number | null {
  const now = Date.now();
  const wait = sources.revocations.clientNotBefore(client.key.clientId) * 1000 - now;
  return wait > 0 && wait <= 1000 ? null : Math.floor(now / 1000);
}

async function waitedIssueSecond(client: IndexedClient, sources: GrantSources): Promise<number> {
  const notBeforeMs = sources.revocations.clientNotBefore(client.key.clientId) * 1000;
  let wait = notBeforeMs - Date.now();
  // Again until the clock is there: a timer counts from the event loop's cached time, so it can
  // end a millisecond or two before `wait` has passed on Date.now(), still in the cut-off's second.
  while (wait > 0 && wait <= 1000) {
    await delay(wait);
    wait = notBeforeMs - Date.now();
  }
  return Math.floor(Date.now() / 1000);
}

/** `issueSecond`, then refused (400 invalid_grant) when a token issued then would be dead already. */
export async function liveIssueTime(
  client: IndexedClient,
  sources: GrantSources,
): Promise<{ iat: number; nowMs: number }> {
  const iat = issueSecondNow(client, sources) ?? (await waitedIssueSecond(client, sources));
  const nowMs = Date.now();
  const fresh = grantLiveness({ clientId: client.key.clientId, iat }, sources, nowMs);
  if (!fresh.alive) throw new InvalidGrantError(fresh.message);
  return { iat, nowMs };
}
