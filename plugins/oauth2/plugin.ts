/**
 * The `oauth2` route plugin, after Kong's: the route answers `…/oauth2/authorize` (called by the
 * API provider's own web app with the provision key, once it has logged the user in and got
 * consent), `…/oauth2/token` (authorization_code with PKCE, refresh_token with rotation,
 * client_credentials when enabled), `…/oauth2/revoke` (RFC 7009) and `…/oauth2/introspect`
 * (RFC 7662); every other path of the route needs a bearer token it issued, and the upstream is
 * told who the user is. Clients are API keys (the client directory); grants live in the runtime
 * state store (`grant-store.ts`). The endpoints and grants are the core's token authority
 * (`core/oauth/`), configured per route in `endpoints.ts`; the protected route is `protect.ts`.
 */
import type {
  Plugin,
  PluginSteps,
  InstanceScope,
  ErrorDetail,
  ClientDirectory,
  EntityReference,
  ClientAuthentication,
} from '../../core/plugin-api.js';
import {
  listOf,
  duration,
  ruleProblems,
  secretMatcher,
  routeIssuer,
  routeScopePolicy,
  transportRule,
  opaqueTokens,
  StoredGrants,
  JwtAccessTokens,
  ClientAssertionVerifier,
  CLIENT_KIND,
  type BootConfig,
  RevocationList,
  RevocationEpoch,
  type GrantSources,
  type Metrics,
  type StateStore,
  KeyService,
  KEYPAIRS,
} from '../../core/plugin-api.js';
import type { Logger } from 'pino';
import { OAuth2ConfigSchema, type OAuth2Config } from './schema.js';
import { GrantStore } from './grant-store.js';
import { protectedRoute } from './protect.js';
import { routeServer } from './endpoints.js';

export class OAuth2Plugin implements Plugin<typeof OAuth2ConfigSchema> {
  readonly id = 'oauth2';
  readonly name = 'OAuth 2.0 (users)';
  readonly description =
    "Delegated user access after Kong's oauth2 plugin: authorization code with PKCE, rotating refresh tokens, revocation and introspection on the route, and the rest of the route protected by the tokens it issued.";
  readonly configSchema = OAuth2ConfigSchema;
  readonly steps = ['validateAccess'] as const;
  readonly #clients: ClientDirectory;
  readonly #grants: GrantStore;
  readonly #revocations: RevocationList;
  readonly #state: StateStore;
  readonly #log: Logger;
  readonly #keys: KeyService;

  readonly #metrics: Metrics;
  /** `proxy.publicUrl` as configured: read here, before the listener fills in its own address. */
  readonly #publicUrl: string | undefined;

  constructor(
    clients: ClientDirectory,
    state: StateStore,
    revocations: RevocationList,
    keys: KeyService,
    epoch: RevocationEpoch,
    log: Logger,
    metrics: Metrics,
    boot: BootConfig,
  ) {
    this.#publicUrl = boot.proxy.publicUrl;
    this.#metrics = metrics;
    this.#clients = clients;
    this.#grants = new GrantStore(state, epoch);
    this.#revocations = revocations;
    this.#state = state;
    this.#log = log;
    this.#keys = keys;
  }

  references(config: OAuth2Config): EntityReference[] {
    const references: EntityReference[] = [];
    if (config.tokenFormat === 'jwt') references.push({ kind: KEYPAIRS, id: config.keyPair, path: '/keyPair' });
    if (config.anonymous !== undefined)
      references.push({ kind: CLIENT_KIND, id: config.anonymous, path: '/anonymous' });
    return references;
  }

  checkConfig(config: OAuth2Config): ErrorDetail[] {
    const problems: ErrorDetail[] = [];
    if (config.mandatoryScope && config.scopes.length === 0)
      problems.push({ path: '/mandatoryScope', message: 'mandatoryScope needs at least one entry in scopes' });
    problems.push(...ruleProblems(config.scopeRules, 'scopeRules'));
    if (config.issuer !== undefined && !URL.canParse(config.issuer))
      problems.push({ path: '/issuer', message: 'Not a URL' });
    return problems;
  }

  describe(config: OAuth2Config): string {
    const grants = [
      config.enableAuthorizationCode && `authorization code (PKCE ${config.pkce})`,
      config.enableClientCredentials && 'client credentials',
      config.enablePasswordGrant && 'password',
      config.enableImplicitGrant && 'implicit',
    ].filter((g): g is string => typeof g === 'string');
    return `OAuth2 for users: ${listOf(grants) || 'no grant enabled'}; ${config.tokenFormat} tokens for ${duration(config.tokenExpirationSeconds)}${config.requireHttps ? '; HTTPS only' : ''}`;
  }

  instantiate(config: OAuth2Config, scope: InstanceScope): PluginSteps {
    const clients = this.#clients;
    const sources: GrantSources = { clients, revocations: this.#revocations };
    const issuer = this.#issuer(config, scope);
    // Tokens are bound to their route; global credentials share one key between such routes.
    const routeKey = config.globalCredentials ? '*' : `route:${scope.routeId ?? '*'}`;
    const records = this.#grants;
    // JWT access tokens are verified whatever this route issues: a globalCredentials peer may issue them.
    const jwts = new JwtAccessTokens({
      keys: this.#keys,
      keyPairId: config.keyPair,
      routeKey,
      isGrantRevoked: (family) => records.isRevoked(family),
    });
    const authority = new StoredGrants({
      records,
      format: config.tokenFormat === 'jwt' ? jwts : opaqueTokens,
      sources,
      issuer,
      routeKey,
      accessTtl: config.tokenExpirationSeconds,
      refreshTtl: config.refreshTokenTtlSeconds,
      grantedScope: routeScopePolicy(config.scopes, config.mandatoryScope),
      matchesProvisionKey: secretMatcher(config.provisionKey),
      reuseRefreshToken: config.reuseRefreshToken,
      refreshGracePeriodSeconds: config.refreshGracePeriodSeconds,
      pkce: config.pkce,
    });
    const transport = transportRule(config);
    const auth: ClientAuthentication = {
      clients,
      assertions: new ClientAssertionVerifier({ clients, state: this.#state, log: this.#log }, config.clientAssertion),
    };
    const server = routeServer(config, {
      issuer,
      authority,
      transport,
      clients,
      auth,
      keys: this.#keys,
      log: this.#log,
      metrics: this.#metrics,
    });
    const protect = protectedRoute({
      config,
      clients,
      sources,
      records,
      transport,
      jwts,
      routeKey,
      caseSensitive: scope.caseSensitive ?? true,
    });
    return {
      validateAccess(ctx) {
        const endpoint = server.endpointOf(ctx);
        return endpoint === null ? protect(ctx) : endpoint(ctx);
      },
    };
  }

  /**
   * One issuer per route, from configuration; a route without one is refused when written (the
   * dry run instantiates it). A global instance runs only in each route's own scope.
   */
  #issuer(config: OAuth2Config, scope: InstanceScope): string {
    const chosen = routeIssuer(config, scope.domains, this.#publicUrl);
    if (chosen.problem !== undefined && scope.domains !== undefined) throw new Error(`No issuer: ${chosen.problem}`);
    return chosen.issuer ?? '';
  }
}
