/**
 * `jwt-verifier` (validateAccess + transformRequest): bearer JWTs from the gateway or an external
 * identity provider, checked by verifier, then access rules per method and path with required
 * scopes (deny by default). Rule paths are relative to the route: they match `ctx.routePath`, the
 * normalized path the upstream receives (after stripPath, without the target's base path). Errors follow RFC 6750: 401 without a usable token (no error code when
 * there was none), 403 `insufficient_scope` with the scopes needed.
 */
import type { JWTPayload } from 'jose';
import type {
  IndexBuilder,
  InstanceScope,
  Plugin,
  PluginSteps,
  RequestContext,
  EntityReference,
  ErrorDetail,
} from '../../core/plugin-api.js';
import {
  listOf,
  KeyService,
  RevocationList,
  KEYPAIRS,
  type ClientDirectory,
  compileAccessPolicy,
  ruleProblems,
  type TokenSource,
} from '../../core/plugin-api.js';
import { JwtVerifierConfigSchema, type JwtVerifierConfig } from './schema.js';
import { JWT_VERIFIERS, verifierKeyPairReferences, verifierProblems } from './entity.js';
import { VerifierRegistry } from './verifier-registry.js';
import type { CompiledVerifier } from './verifier.js';
import { VerifiedTokenCache } from './token-cache.js';
import { admissionStep, type CacheEntry } from './admission.js';
import { upstreamStep } from './upstream.js';

declare module '../../core/plugin-api.js' {
  interface ContextAttributes {
    /** The verified token of `jwt-verifier`. */
    jwt?: { token: string; payload: JWTPayload; source: TokenSource };
  }
}

export class JwtVerifierPlugin implements Plugin<typeof JwtVerifierConfigSchema> {
  readonly id = 'jwt-verifier';
  readonly name = 'JWT verifier';
  readonly description =
    'Validates bearer JWTs (gateway key pairs, static keys, JWKS URL, OIDC discovery) and enforces scopes per method and path.';
  readonly configSchema = JwtVerifierConfigSchema;
  readonly steps = ['validateAccess', 'transformRequest'] as const;
  readonly indexes: readonly IndexBuilder[];
  readonly #registry: VerifierRegistry;
  readonly #keys: KeyService;
  readonly #revocations: RevocationList;
  readonly #clients: ClientDirectory;

  constructor(registry: VerifierRegistry, keys: KeyService, revocations: RevocationList, clients: ClientDirectory) {
    this.#registry = registry;
    this.indexes = [registry.indexBuilder()];
    this.#keys = keys;
    this.#revocations = revocations;
    this.#clients = clients;
  }

  checkConfig(config: JwtVerifierConfig): ErrorDetail[] {
    const problems: ErrorDetail[] = [];
    if (config.verifiers.length === 0 && !config.verifier)
      problems.push({ path: '/verifiers', message: 'Name at least one verifier (or give an inline `verifier`)' });
    if (config.verifier) {
      problems.push(...verifierProblems(config.verifier, '/verifier'));
      if (config.verifier.keys.kind === 'hmac' && !config.verifier.keys.secret)
        problems.push({ path: '/verifier/keys/secret', message: 'An HMAC verifier needs a secret' });
    }
    problems.push(...ruleProblems(config.rules));
    return problems;
  }

  references(config: JwtVerifierConfig): EntityReference[] {
    const refs: EntityReference[] = config.verifiers.map((id, i) => ({
      kind: JWT_VERIFIERS,
      id,
      path: `/verifiers/${i}`,
    }));
    if (config.verifier) refs.push(...verifierKeyPairReferences(config.verifier, '/verifier'));
    if (config.upstream.strategy === 're-sign')
      refs.push({ kind: KEYPAIRS, id: config.upstream.reSign.keyPair, path: '/upstream/reSign/keyPair' });
    return refs;
  }

  describe(config: JwtVerifierConfig): string {
    const by = [...config.verifiers, ...(config.verifier ? ['an inline verifier'] : [])];
    return `Bearer JWT checked by ${listOf(by, 'or') || 'no verifier'}; ${config.rules.length} access rule${config.rules.length === 1 ? '' : 's'}; upstream gets ${config.upstream.strategy}`;
  }

  instantiate(config: JwtVerifierConfig, scope: InstanceScope): PluginSteps {
    const registry = this.#registry;
    const inline = config.verifier ? registry.compile(config.verifier, 'inline verifier') : null;
    // Stored verifiers come from the index built in the same compile pass: editing one recompiles
    // the routes, so a request never reads the store. Read only, by every request.
    const candidates: readonly CompiledVerifier[] = [
      ...registry.stored(config.verifiers, scope.indexes),
      ...(inline ? [inline] : []),
    ];
    const policy = compileAccessPolicy(config.rules, {
      caseSensitive: scope.caseSensitive,
      scopeStrategy: config.scopeStrategy,
      scopeClaim: config.scopeClaim,
      realm: config.realm,
    });
    // The request's cache entry, for the upstream step of the same request.
    const entries = new WeakMap<RequestContext, CacheEntry>();
    const keepEntries = config.upstream.strategy === 're-sign' || config.upstream.strategy === 'claims-to-headers';
    return {
      validateAccess: admissionStep({
        candidates,
        policy,
        realm: config.realm,
        entries: keepEntries ? entries : null,
        cache: config.cache.enabled ? new VerifiedTokenCache<CacheEntry>(config.cache.maxEntries) : null,
        standing: { clients: this.#clients, revocations: this.#revocations },
      }),
      transformRequest: upstreamStep(config.upstream, this.#keys, entries),
    };
  }
}
