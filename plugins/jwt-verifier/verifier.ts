/**
 * A verifier compiled from its settings: reads the token from its source, resolves the key (a
 * static key, a remote key set or the gateway's key pairs), checks the signature with the allowed
 * algorithms only, then the claims (an `exp` unless `requireExp` is off; `nbf` and `iat` not in the
 * future beyond the leeway). Built when configuration changes; reused by every request.
 */
import { createPublicKey, createSecretKey, type JsonWebKey } from 'node:crypto';
import { jwtVerify, decodeProtectedHeader, decodeJwt, type JWTPayload } from 'jose';
import type { Logger } from 'pino';
import type { RequestContext } from '../../core/plugin-api.js';
import {
  tokenErrorMessage,
  type KeyService,
  claimOf,
  tokenExtractor,
  DEFAULT_TOKEN_SOURCE,
  type TokenSource,
  RemoteKeySet,
  discoveredJwksUri,
  type JwksFetchCounter,
  type ResolvedKey,
} from '../../core/plugin-api.js';
import type { InlineVerifier } from './entity.js';

export interface VerifierDeps {
  keys: KeyService;
  log: Logger;
  label: string;
  /** Counts remote key-set fetches (metrics); null in tools without a gateway. */
  fetches?: JwksFetchCounter | null;
}

export class InvalidTokenError extends Error {
  override name = 'InvalidTokenError';
}

export interface VerifiedToken {
  payload: JWTPayload;
  /** Epoch ms when the token stops being valid (exp + leeway). */
  validUntil: number;
  /**
   * Whether one of the gateway's key pairs signed it: a token naming a `client_id` is then the
   * gateway's own, and its client's standing must be checked on every use.
   */
  gatewayKey: boolean;
}

type KeyResolver = (kid: string | undefined, alg: string) => Promise<ResolvedKey | null> | ResolvedKey | null;

export class CompiledVerifier {
  readonly settings: InlineVerifier;
  readonly source: TokenSource;
  readonly issuers: ReadonlySet<string> | null;
  readonly #resolve: KeyResolver;
  readonly #claimChecks: Array<(payload: JWTPayload) => string | null>;
  readonly #extract: (ctx: RequestContext) => string | null;

  constructor(settings: InlineVerifier, deps: VerifierDeps) {
    this.settings = settings;
    this.source = settings.source ?? DEFAULT_TOKEN_SOURCE;
    this.issuers = settings.issuer
      ? new Set(typeof settings.issuer === 'string' ? [settings.issuer] : settings.issuer)
      : null;
    this.#resolve = keyResolver(settings, deps);
    this.#claimChecks = Object.entries(settings.requiredClaims ?? {}).map(([claim, rule]) => claimCheck(claim, rule));
    this.#extract = tokenExtractor(this.source);
  }

  /** The raw token, or null when the request carries none. */
  extract(ctx: RequestContext): string | null {
    return this.#extract(ctx);
  }

  /** Whether this verifier is the one for a token with this (unverified) issuer. */
  accepts(token: string): boolean {
    if (!this.issuers) return true;
    try {
      return this.acceptsIssuer(decodeJwt(token).iss);
    } catch {
      return false;
    }
  }

  /** `accepts` for a token already decoded. */
  acceptsIssuer(iss: unknown): boolean {
    return !this.issuers || (typeof iss === 'string' && this.issuers.has(iss));
  }

  async verify(token: string): Promise<VerifiedToken> {
    let header;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new InvalidTokenError('The token is malformed');
    }
    const alg = header.alg;
    if (typeof alg !== 'string' || !(this.settings.algorithms as readonly string[]).includes(alg))
      throw new InvalidTokenError(`The token algorithm ${JSON.stringify(alg)} is not allowed`);
    const resolved = await this.#resolve(typeof header.kid === 'string' ? header.kid : undefined, alg);
    if (!resolved || (resolved.alg !== undefined && resolved.alg !== alg))
      throw new InvalidTokenError('The token is not signed by a known key');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, resolved.key, {
        algorithms: [alg],
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        clockTolerance: this.settings.leewaySeconds,
        maxTokenAge: this.settings.maxAgeSeconds,
        typ: this.settings.typ,
      }));
    } catch (error) {
      throw new InvalidTokenError(tokenErrorMessage(error));
    }
    // jose checks a present exp and nbf, and iat only with maxTokenAge.
    if (this.settings.requireExp !== false && payload.exp === undefined)
      throw new InvalidTokenError('The token has no expiration time (exp)');
    if (typeof payload.iat === 'number' && payload.iat > Math.floor(Date.now() / 1000) + this.settings.leewaySeconds)
      throw new InvalidTokenError('The token is issued in the future (iat)');
    for (const check of this.#claimChecks) {
      const problem = check(payload);
      if (problem) throw new InvalidTokenError(problem);
    }
    const exp =
      typeof payload.exp === 'number' ? (payload.exp + this.settings.leewaySeconds) * 1000 : Number.POSITIVE_INFINITY;
    return { payload, validUntil: exp, gatewayKey: this.settings.keys.kind === 'keypairs' };
  }
}

function keyResolver(settings: InlineVerifier, deps: VerifierDeps): KeyResolver {
  const keys = settings.keys;
  switch (keys.kind) {
    case 'hmac': {
      const secret: ResolvedKey = { key: createSecretKey(Buffer.from(keys.secret ?? '', 'utf8')) };
      return () => secret;
    }
    case 'pem': {
      const key: ResolvedKey = { key: createPublicKey(keys.pem) };
      return () => key;
    }
    case 'jwk': {
      const jwk = keys.jwk as JsonWebKey & { alg?: string };
      const key: ResolvedKey = { key: createPublicKey({ key: jwk, format: 'jwk' }), alg: jwk.alg };
      return () => key;
    }
    case 'jwks': {
      const set = new RemoteKeySet(keys.url, async () => keys.url, keys, deps.log, deps.fetches);
      return (kid) => set.resolve(kid);
    }
    case 'oidc': {
      const set = new RemoteKeySet(keys.issuer, discoveredJwksUri(keys.issuer, keys), keys, deps.log, deps.fetches);
      return (kid) => set.resolve(kid);
    }
    case 'keypairs': {
      const allowed = keys.ids ? new Set(keys.ids) : null;
      return (kid) => {
        const key = kid === undefined ? undefined : deps.keys.verificationKey(kid);
        if (!key || (allowed && !allowed.has(key.keyPairId))) return null;
        return { key: key.publicKey, alg: key.alg };
      };
    }
  }
}

function claimCheck(
  claim: string,
  rule: { equals?: unknown; oneOf?: unknown[]; regex?: string; contains?: unknown },
): (payload: JWTPayload) => string | null {
  const regex = rule.regex !== undefined ? new RegExp(`^(?:${rule.regex})$`) : null;
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  return (payload) => {
    const value = claimOf(payload, claim);
    if (value === undefined) return `The token lacks the claim "${claim}"`;
    if ('equals' in rule && rule.equals !== undefined && !same(value, rule.equals))
      return `The claim "${claim}" has an unexpected value`;
    if (rule.oneOf && !rule.oneOf.some((v) => same(v, value))) return `The claim "${claim}" has an unexpected value`;
    if (regex && (typeof value !== 'string' || !regex.test(value)))
      return `The claim "${claim}" has an unexpected value`;
    if (rule.contains !== undefined) {
      const list = Array.isArray(value) ? value : typeof value === 'string' ? value.split(' ') : [];
      if (!list.some((v) => same(v, rule.contains))) return `The claim "${claim}" does not contain the expected value`;
    }
    return null;
  };
}
