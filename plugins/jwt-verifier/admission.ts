/**
 * The `jwt-verifier` access step: find the verifier whose source and issuer the bearer token
 * matches, verify it (or take it from the cache of verified tokens), check its standing (a gateway
 * client's liveness, a revoked id) and the access rules. Synchronous when the token is cached.
 */
import type { JWTPayload } from 'jose';
import type { AccessPolicy, RequestContext } from '../../core/plugin-api.js';
import {
  InvalidBearerTokenError,
  UnauthorizedError,
  bearerChallenge,
  gatewayTokenProblem,
  type GrantSources,
  type TokenSource,
} from '../../core/plugin-api.js';
import { InvalidTokenError, type CompiledVerifier } from './verifier.js';
import { VerifiedTokenCache } from './token-cache.js';

export interface CacheEntry {
  payload: JWTPayload;
  /** The compiled verifier that checked it: an edited verifier (new keys, new rules) checks again. */
  verifier: CompiledVerifier;
  /** Signed by a gateway key pair and naming a client: the client's standing is checked on every use. */
  gatewayClient: boolean;
  /** The scopes the payload grants, split on first use (not per request). */
  scopes?: readonly string[];
  /** The claims-to-headers values, computed on first use. */
  claimHeaders?: ReadonlyArray<readonly [string, string]>;
  resigned?: { token: string; until: number };
}

export interface Admission {
  readonly candidates: readonly CompiledVerifier[];
  readonly policy: AccessPolicy;
  readonly realm: string;
  readonly cache: VerifiedTokenCache<CacheEntry> | null;
  /** Where the request's entry is left for the upstream step (null: that step does not need it). */
  readonly entries: WeakMap<RequestContext, CacheEntry> | null;
  /** The clients and revocations a token's standing is read from. */
  readonly standing: GrantSources;
}

export function admissionStep(admission: Admission): (ctx: RequestContext) => void | Promise<void> {
  const { candidates, policy, cache, entries, standing } = admission;
  const challenge = bearerChallenge(admission.realm);
  const invalidToken = (reason: string) => new InvalidBearerTokenError(reason, admission.realm);

  /**
   * Synchronous when the token is in the cache (a SHA-256 and a Map lookup, no decoding, no
   * promise); a promise only when its signature must be checked.
   */
  function verify(ctx: RequestContext): void | Promise<void> {
    let token: string | null = null;
    let chosen: CompiledVerifier | null = null;
    let cacheKey = '';
    let entry: CacheEntry | undefined;
    for (let i = 0; i < candidates.length; i++) {
      const candidate = candidates[i]!;
      const found = candidate.extract(ctx);
      if (found === null) continue;
      if (token === null) {
        token = found;
        if (cache) entry = cache.get((cacheKey = VerifiedTokenCache.keyOf(token)));
      }
      if (found !== token) continue;
      // A cached payload is this very token decoded: its issuer needs no second parse.
      if (
        entry !== undefined
          ? entry.verifier === candidate || candidate.acceptsIssuer(entry.payload.iss)
          : candidate.accepts(found)
      ) {
        chosen = candidate;
        break;
      }
    }
    if (token === null) throw new UnauthorizedError('A bearer token is required', challenge);
    if (chosen === null) throw invalidToken('The token issuer is not trusted');
    if (entry === undefined || entry.verifier !== chosen) return verifyAndAdmit(ctx, chosen, token, cacheKey);
    admit(ctx, entry, token, chosen.source);
  }

  async function verifyAndAdmit(
    ctx: RequestContext,
    verifier: CompiledVerifier,
    token: string,
    cacheKey: string,
  ): Promise<void> {
    let verified;
    try {
      verified = await verifier.verify(token);
    } catch (error) {
      if (error instanceof InvalidTokenError) throw invalidToken(error.message);
      throw error;
    }
    const entry: CacheEntry = {
      payload: verified.payload,
      verifier,
      gatewayClient: verified.gatewayKey && verified.payload.client_id !== undefined,
    };
    cache?.set(cacheKey, entry, verified.validUntil);
    admit(ctx, entry, token, verifier.source);
  }

  function admit(ctx: RequestContext, entry: CacheEntry, token: string, source: TokenSource): void {
    // Checked on every request, cached or not (Map lookups): a disabled, deleted or cut-off
    // client, or a revoked token, is refused from the next request on.
    if (entry.gatewayClient) {
      const problem = gatewayTokenProblem(entry.payload, standing);
      if (problem !== null) throw invalidToken(problem);
    } else if (standing.revocations.isRevoked(typeof entry.payload.jti === 'string' ? entry.payload.jti : undefined)) {
      throw invalidToken('The token has been revoked');
    }
    policy.check(ctx.method, ctx.routePath, entry.payload, (entry.scopes ??= policy.scopes(entry.payload)));
    ctx.attrs.jwt = { token, payload: entry.payload, source };
    entries?.set(ctx, entry);
    const who = entry.payload.sub ?? entry.payload.client_id;
    if (typeof who === 'string') ctx.consumer = who;
  }

  return verify;
}
