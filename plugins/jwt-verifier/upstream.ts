/**
 * The `jwt-verifier` upstream step: what the upstream receives of a verified token, by strategy
 * (`pass-through`, `strip`, `claims-to-headers`, `re-sign`). Claim headers and re-signed tokens are
 * kept on the cache entry, so a cached token costs no new work.
 */
import { randomUUID } from 'node:crypto';
import type { JWTPayload } from 'jose';
import type { KeyService, RequestContext } from '../../core/plugin-api.js';
import { claimHeaderValue, claimOf, removeToken } from '../../core/plugin-api.js';
import type { JwtVerifierConfig } from './schema.js';
import type { CacheEntry } from './admission.js';

type Mapped = ReadonlyArray<readonly [claim: string, header: string]>;
type ReSign = JwtVerifierConfig['upstream']['reSign'];

export function upstreamStep(
  upstream: JwtVerifierConfig['upstream'],
  keys: KeyService,
  entries: WeakMap<RequestContext, CacheEntry>,
): (ctx: RequestContext) => void | Promise<void> {
  const mapped: Mapped = Object.entries(upstream.claimsToHeaders).map(
    ([claim, header]) => [claim, header.toLowerCase()] as const,
  );
  const reSign = upstream.reSign;
  const reSignHeader = reSign.header.toLowerCase();

  return function transformRequest(ctx: RequestContext): void | Promise<void> {
    const headers = ctx.upstreamHeaders;
    // Never trust the client's versions; undefined rather than `delete`, which would make the
    // header object a slow dictionary (undici skips undefined headers).
    for (let i = 0; i < mapped.length; i++)
      if (headers[mapped[i]![1]] !== undefined) headers[mapped[i]![1]] = undefined;
    const jwt = ctx.attrs.jwt;
    if (!jwt) return;
    switch (upstream.strategy) {
      case 'pass-through':
        return;
      case 'strip':
        removeToken(ctx, jwt.source);
        return;
      case 'claims-to-headers': {
        const entry = entries.get(ctx);
        const values = entry
          ? (entry.claimHeaders ??= claimHeaders(mapped, entry.payload))
          : claimHeaders(mapped, jwt.payload);
        for (let i = 0; i < values.length; i++) headers[values[i]![0]] = values[i]![1];
        return;
      }
      case 're-sign': {
        const entry = entries.get(ctx)!;
        removeToken(ctx, jwt.source);
        const token = resign(entry, reSign, keys);
        if (typeof token === 'string') headers[reSignHeader] = `Bearer ${token}`;
        else
          return token.then((signed) => {
            headers[reSignHeader] = `Bearer ${signed}`;
          });
      }
    }
  };
}

/** The headers a payload maps to, computed once per verified token. */
function claimHeaders(mapped: Mapped, payload: JWTPayload): Array<readonly [string, string]> {
  const out: Array<readonly [string, string]> = [];
  for (const [claim, header] of mapped) {
    const value = claimOf(payload, claim);
    if (value === undefined) continue;
    out.push([header, claimHeaderValue(value)]);
  }
  return out;
}

/** The re-signed token, from the entry while it has more than 5 s to live (no promise then). */
function resign(entry: CacheEntry, reSign: ReSign, keys: KeyService): string | Promise<string> {
  const now = Date.now();
  if (entry.resigned && entry.resigned.until - 5_000 > now) return entry.resigned.token;
  return signAgain(entry, now, reSign, keys);
}

async function signAgain(entry: CacheEntry, now: number, reSign: ReSign, keys: KeyService): Promise<string> {
  const original = entry.payload;
  const seconds = Math.floor(now / 1000);
  const exp = Math.min(
    seconds + reSign.expirationSeconds,
    typeof original.exp === 'number' ? original.exp : Number.POSITIVE_INFINITY,
  );
  const claims: JWTPayload = {};
  for (const name of reSign.claims) if (original[name] !== undefined) claims[name] = original[name];
  const token = await keys.sign(
    reSign.keyPair,
    {
      ...claims,
      iss: reSign.issuer,
      ...(reSign.audience ? { aud: reSign.audience } : {}),
      iat: seconds,
      exp,
      jti: randomUUID(),
      ...(typeof original.iss === 'string' ? { original_iss: original.iss } : {}),
    },
    'JWT',
  );
  entry.resigned = { token, until: exp * 1000 };
  return token;
}
