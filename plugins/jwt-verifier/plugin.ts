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
import type { InstanceScope, Plugin, PluginSteps } from '../../core/plugin-api.js';
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
  verifierIndex: number;
  /** Signed by a gateway key pair and naming a client: the client's standing is checked on every use. */
  gatewayClient: boolean;
  resigned?: { token: string; until: number };
}

@injectable()
export class JwtVerifierPlugin implements Plugin<typeof JwtVerifierConfigSchema> {
  readonly id = 'jwt-verifier';
  readonly name = 'JWT verifier';
  readonly description = 'Validates bearer JWTs (gateway key pairs, static keys, JWKS URL, OIDC discovery) and enforces scopes per method and path.';
  readonly configSchema = JwtVerifierConfigSchema;
  readonly steps = ['validateAccess', 'transformRequest'] as const;
  readonly #registry: VerifierRegistry;
  readonly #keys: KeyService;
  readonly #revocations: RevocationList;
  readonly #clients: ClientDirectory;

  constructor(registry: VerifierRegistry, keys: KeyService, revocations: RevocationList, @inject(CLIENT_DIRECTORY) clients: ClientDirectory) {
    this.#registry = registry;
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

  instantiate(config: JwtVerifierConfig, scope: InstanceScope): PluginSteps {
    const registry = this.#registry;
    const keys = this.#keys;
    const revocations = this.#revocations;
    const standing = { clients: this.#clients, revocations };
    const inline = config.verifier ? registry.compile(config.verifier, 'inline verifier') : null;
    // Stored verifiers are looked up at request time through the registry (a cheap version check),
    // so editing a verifier takes effect without recompiling routes.
    const verifiers = (): CompiledVerifier[] => {
      const list: CompiledVerifier[] = [];
      for (const id of config.verifiers) { const v = registry.get(id); if (v) list.push(v); }
      if (inline) list.push(inline);
      return list;
    };
    const policy = compileAccessPolicy(config.rules, { caseSensitive: scope.caseSensitive, scopeStrategy: config.scopeStrategy, scopeClaim: config.scopeClaim, realm: config.realm });
    const challenge = bearerChallenge(config.realm);
    const cache = config.cache.enabled ? new VerifiedTokenCache<CacheEntry>(config.cache.maxEntries) : null;
    const upstream = config.upstream;
    const mapped = Object.entries(upstream.claimsToHeaders).map(([claim, header]) => [claim, header.toLowerCase()] as const);
    const reSign = upstream.reSign;

    const entries = new WeakMap<RequestContext, CacheEntry>();
    const invalidToken = (reason: string) => new InvalidBearerTokenError(reason, config.realm);

    async function verify(ctx: RequestContext): Promise<void> {
      const candidates = verifiers();
      let token: string | null = null;
      let chosen = -1;
      for (let i = 0; i < candidates.length; i++) {
        const found = candidates[i]!.extract(ctx);
        if (found === null) continue;
        token ??= found;
        if (found === token && candidates[i]!.accepts(found)) { chosen = i; break; }
      }
      if (token === null) throw new UnauthorizedError('A bearer token is required', challenge);
      if (chosen === -1) throw invalidToken('The token issuer is not trusted');
      const cacheKey = cache ? VerifiedTokenCache.keyOf(token) : '';
      let entry = cache?.get(cacheKey);
      if (!entry || entry.verifierIndex !== chosen) {
        let verified;
        try {
          verified = await candidates[chosen]!.verify(token);
        } catch (error) {
          if (error instanceof InvalidTokenError) throw invalidToken(error.message);
          throw error;
        }
        entry = { payload: verified.payload, verifierIndex: chosen, gatewayClient: verified.gatewayKey && verified.payload.client_id !== undefined };
        cache?.set(cacheKey, entry, verified.validUntil);
      }
      // Checked on every request, cached or not (Map lookups): a disabled, deleted or cut-off
      // client, or a revoked token, is refused from the next request on.
      if (entry.gatewayClient) {
        const problem = gatewayTokenProblem(entry.payload, standing);
        if (problem !== null) throw invalidToken(problem);
      } else if (revocations.isRevoked(typeof entry.payload.jti === 'string' ? entry.payload.jti : undefined)) {
        throw invalidToken('The token has been revoked');
      }
      policy.check(ctx.method, ctx.routePath, entry.payload);
      ctx.attrs.jwt = { token, payload: entry.payload, source: candidates[chosen]!.source };
      entries.set(ctx, entry);
      const who = entry.payload.sub ?? entry.payload.client_id;
      if (typeof who === 'string') ctx.consumer = who;
    }

    async function resign(entry: CacheEntry): Promise<string> {
      const now = Date.now();
      if (entry.resigned && entry.resigned.until - 5_000 > now) return entry.resigned.token;
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
      async transformRequest(ctx) {
        const headers = ctx.upstreamHeaders;
        for (const [, header] of mapped) delete headers[header]; // never trust the client's versions
        const jwt = ctx.attrs.jwt;
        if (!jwt) return;
        switch (upstream.strategy) {
          case 'pass-through':
            return;
          case 'strip':
            removeToken(ctx, jwt.source);
            return;
          case 'claims-to-headers':
            for (const [claim, header] of mapped) {
              const value = claimOf(jwt.payload, claim);
              if (value === undefined) continue;
              headers[header] = typeof value === 'string' ? value : Array.isArray(value) ? value.join(' ') : JSON.stringify(value);
            }
            return;
          case 're-sign': {
            const entry = entries.get(ctx)!;
            removeToken(ctx, jwt.source);
            headers[reSign.header.toLowerCase()] = `Bearer ${await resign(entry)}`;
          }
        }
      },
    };
  }
}
