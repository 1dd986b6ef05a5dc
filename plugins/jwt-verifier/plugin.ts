/**
 * `jwt-verifier` (validateAccess + transformRequest): bearer JWTs from the gateway or an external
 * identity provider, checked by verifier, then access rules per method and path with required
 * scopes (deny by default). Rule paths are relative to the route: they match `ctx.routePath`, the
 * normalized path the upstream receives (after stripPath, without the target's base path). Errors follow RFC 6750: 401 without a usable token (no error code when
 * there was none), 403 `insufficient_scope` with the scopes needed.
 */
import { randomUUID } from 'node:crypto';
import { inject, injectable } from 'tsyringe';
import type { JWTPayload } from 'jose';
import type { IndexBuilder, InstanceScope, Plugin, PluginSteps } from '../../core/plugin-api.js';
import { claimHeaderValue, listOf } from '../../core/plugin-api.js';
import type { RequestContext } from '../../core/plugin-api.js';
import { InvalidBearerTokenError, UnauthorizedError, bearerChallenge, type EntityReference, type ErrorDetail } from '../../core/plugin-api.js';
import { KeyService, RevocationList, KEYPAIRS } from '../../core/plugin-api.js';
import { CLIENT_DIRECTORY, gatewayTokenProblem, type ClientDirectory } from '../../core/plugin-api.js';
import { claimOf, compileAccessPolicy, ruleProblems, removeToken, type TokenSource } from '../../core/plugin-api.js';
import { JwtVerifierConfigSchema, type JwtVerifierConfig } from './schema.js';
import { JWT_VERIFIERS, verifierKeyPairReferences, verifierProblems } from './entity.js';
import { VerifierRegistry } from './verifier-registry.js';
import { InvalidTokenError, type CompiledVerifier } from './verifier.js';
import { VerifiedTokenCache } from './token-cache.js';

declare module '../../core/plugin-api.js' {
  interface ContextAttributes {
    /** The verified token of `jwt-verifier`. */
    jwt?: { token: string; payload: JWTPayload; source: TokenSource };
  }
}

interface CacheEntry {
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

@injectable()
export class JwtVerifierPlugin implements Plugin<typeof JwtVerifierConfigSchema> {
  readonly id = 'jwt-verifier';
  readonly name = 'JWT verifier';
  readonly description = 'Validates bearer JWTs (gateway key pairs, static keys, JWKS URL, OIDC discovery) and enforces scopes per method and path.';
  readonly configSchema = JwtVerifierConfigSchema;
  readonly steps = ['validateAccess', 'transformRequest'] as const;
  readonly indexes: readonly IndexBuilder[];
  readonly #registry: VerifierRegistry;
  readonly #keys: KeyService;
  readonly #revocations: RevocationList;
  readonly #clients: ClientDirectory;

  constructor(registry: VerifierRegistry, keys: KeyService, revocations: RevocationList, @inject(CLIENT_DIRECTORY) clients: ClientDirectory) {
    this.#registry = registry;
    this.indexes = [registry.indexBuilder()];
    this.#keys = keys;
    this.#revocations = revocations;
    this.#clients = clients;
  }

  checkConfig(config: JwtVerifierConfig): ErrorDetail[] {
    const problems: ErrorDetail[] = [];
    if (config.verifiers.length === 0 && !config.verifier) problems.push({ path: '/verifiers', message: 'Name at least one verifier (or give an inline `verifier`)' });
    if (config.verifier) {
      problems.push(...verifierProblems(config.verifier, '/verifier'));
      if (config.verifier.keys.kind === 'hmac' && !config.verifier.keys.secret) problems.push({ path: '/verifier/keys/secret', message: 'An HMAC verifier needs a secret' });
    }
    problems.push(...ruleProblems(config.rules));
    return problems;
  }

  references(config: JwtVerifierConfig): EntityReference[] {
    const refs: EntityReference[] = config.verifiers.map((id, i) => ({ kind: JWT_VERIFIERS, id, path: `/verifiers/${i}` }));
    if (config.verifier) refs.push(...verifierKeyPairReferences(config.verifier, '/verifier'));
    if (config.upstream.strategy === 're-sign') refs.push({ kind: KEYPAIRS, id: config.upstream.reSign.keyPair, path: '/upstream/reSign/keyPair' });
    return refs;
  }

  describe(config: JwtVerifierConfig): string {
    const by = [...config.verifiers, ...(config.verifier ? ['an inline verifier'] : [])];
    return `Bearer JWT checked by ${listOf(by, 'or') || 'no verifier'}; ${config.rules.length} access rule${config.rules.length === 1 ? '' : 's'}; upstream gets ${config.upstream.strategy}`;
  }

  instantiate(config: JwtVerifierConfig, scope: InstanceScope): PluginSteps {
    const registry = this.#registry;
    const keys = this.#keys;
    const revocations = this.#revocations;
    const standing = { clients: this.#clients, revocations };
    const inline = config.verifier ? registry.compile(config.verifier, 'inline verifier') : null;
    // Stored verifiers come from the index built in the same compile pass: editing one recompiles
    // the routes, so a request never reads the store. Read only, by every request.
    const candidates: readonly CompiledVerifier[] = [...registry.stored(config.verifiers, scope.indexes), ...(inline ? [inline] : [])];
    const policy = compileAccessPolicy(config.rules, { caseSensitive: scope.caseSensitive, scopeStrategy: config.scopeStrategy, scopeClaim: config.scopeClaim, realm: config.realm });
    const challenge = bearerChallenge(config.realm);
    const cache = config.cache.enabled ? new VerifiedTokenCache<CacheEntry>(config.cache.maxEntries) : null;
    const upstream = config.upstream;
    const mapped = Object.entries(upstream.claimsToHeaders).map(([claim, header]) => [claim, header.toLowerCase()] as const);
    const reSign = upstream.reSign;
    const reSignHeader = reSign.header.toLowerCase();

    const entries = new WeakMap<RequestContext, CacheEntry>();
    const invalidToken = (reason: string) => new InvalidBearerTokenError(reason, config.realm);

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
          if (cache) entry = cache.get(cacheKey = VerifiedTokenCache.keyOf(token));
        }
        if (found !== token) continue;
        // A cached payload is this very token decoded: its issuer needs no second parse.
        if (entry !== undefined ? entry.verifier === candidate || candidate.acceptsIssuer(entry.payload.iss) : candidate.accepts(found)) { chosen = candidate; break; }
      }
      if (token === null) throw new UnauthorizedError('A bearer token is required', challenge);
      if (chosen === null) throw invalidToken('The token issuer is not trusted');
      if (entry === undefined || entry.verifier !== chosen) return verifyAndAdmit(ctx, chosen, token, cacheKey);
      admit(ctx, entry, token, chosen.source);
    }

    async function verifyAndAdmit(ctx: RequestContext, verifier: CompiledVerifier, token: string, cacheKey: string): Promise<void> {
      let verified;
      try {
        verified = await verifier.verify(token);
      } catch (error) {
        if (error instanceof InvalidTokenError) throw invalidToken(error.message);
        throw error;
      }
      const entry: CacheEntry = { payload: verified.payload, verifier, gatewayClient: verified.gatewayKey && verified.payload.client_id !== undefined };
      cache?.set(cacheKey, entry, verified.validUntil);
      admit(ctx, entry, token, verifier.source);
    }

    function admit(ctx: RequestContext, entry: CacheEntry, token: string, source: TokenSource): void {
      // Checked on every request, cached or not (Map lookups): a disabled, deleted or cut-off
      // client, or a revoked token, is refused from the next request on.
      if (entry.gatewayClient) {
        const problem = gatewayTokenProblem(entry.payload, standing);
        if (problem !== null) throw invalidToken(problem);
      } else if (revocations.isRevoked(typeof entry.payload.jti === 'string' ? entry.payload.jti : undefined)) {
        throw invalidToken('The token has been revoked');
      }
      policy.check(ctx.method, ctx.routePath, entry.payload, (entry.scopes ??= policy.scopes(entry.payload)));
      ctx.attrs.jwt = { token, payload: entry.payload, source };
      if (upstream.strategy === 're-sign' || upstream.strategy === 'claims-to-headers') entries.set(ctx, entry);
      const who = entry.payload.sub ?? entry.payload.client_id;
      if (typeof who === 'string') ctx.consumer = who;
    }

    /** The headers a payload maps to, computed once per verified token. */
    function claimHeaders(payload: JWTPayload): Array<readonly [string, string]> {
      const out: Array<readonly [string, string]> = [];
      for (const [claim, header] of mapped) {
        const value = claimOf(payload, claim);
        if (value === undefined) continue;
        out.push([header, claimHeaderValue(value)]);
      }
      return out;
    }

    /** The re-signed token, from the entry while it has more than 5 s to live (no promise then). */
    function resign(entry: CacheEntry): string | Promise<string> {
      const now = Date.now();
      if (entry.resigned && entry.resigned.until - 5_000 > now) return entry.resigned.token;
      return signAgain(entry, now);
    }

    async function signAgain(entry: CacheEntry, now: number): Promise<string> {
      const original = entry.payload;
      const seconds = Math.floor(now / 1000);
      const exp = Math.min(seconds + reSign.expirationSeconds, typeof original.exp === 'number' ? original.exp : Number.POSITIVE_INFINITY);
      const claims: JWTPayload = {};
      for (const name of reSign.claims) if (original[name] !== undefined) claims[name] = original[name];
      const token = await keys.sign(reSign.keyPair, {
        ...claims, iss: reSign.issuer, ...(reSign.audience ? { aud: reSign.audience } : {}),
        iat: seconds, exp, jti: randomUUID(), ...(typeof original.iss === 'string' ? { original_iss: original.iss } : {}),
      }, 'JWT');
      entry.resigned = { token, until: exp * 1000 };
      return token;
    }

    return {
      validateAccess: verify,
      transformRequest(ctx: RequestContext): void | Promise<void> {
        const headers = ctx.upstreamHeaders;
        // Never trust the client's versions; undefined rather than \`delete\`, which would make the
        // header object a slow dictionary (undici skips undefined headers).
        for (let i = 0; i < mapped.length; i++) if (headers[mapped[i]![1]] !== undefined) headers[mapped[i]![1]] = undefined;
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
            const values = entry ? (entry.claimHeaders ??= claimHeaders(entry.payload)) : claimHeaders(jwt.payload);
            for (let i = 0; i < values.length; i++) headers[values[i]![0]] = values[i]![1];
            return;
          }
          case 're-sign': {
            const entry = entries.get(ctx)!;
            removeToken(ctx, jwt.source);
            const token = resign(entry);
            if (typeof token === 'string') headers[reSignHeader] = `Bearer ${token}`;
            else return token.then((signed) => { headers[reSignHeader] = `Bearer ${signed}`; });
          }
        }
      },
    };
  }
}
