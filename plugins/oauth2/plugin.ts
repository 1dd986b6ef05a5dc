/**
 * The `oauth2` route plugin, after Kong's: the route answers `…/oauth2/authorize` (called by the
 * API provider's own web app with the provision key, once it has logged the user in and got
 * consent), `…/oauth2/token` (authorization_code with PKCE, refresh_token with rotation,
 * client_credentials when enabled), `…/oauth2/revoke` (RFC 7009) and `…/oauth2/introspect`
 * (RFC 7662); every other path of the route needs a bearer token it issued, and the upstream is
 * told who the user is. Clients are API keys (the client directory); grants live in the runtime
 * state store (`grant-store.ts`). Whether a grant presented or about to be issued is alive is
 * `grantLiveness`'s decision (core), asked by every grant type, the protected route, introspection
 * and revocation.
 */
import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { inject, injectable } from 'tsyringe';
import type { Plugin, PluginSteps, InstanceScope, RequestContext, ErrorDetail, IndexedClient, ClientDirectory, EntityReference } from '../../core/plugin-api.js';
import { listOf, duration, headerValue } from '../../core/plugin-api.js';
import { InvalidRequestError, InvalidClientError, InvalidGrantError, InvalidScopeError, UnauthorizedClientError, UnsupportedGrantTypeError, InvalidBearerTokenError, UnauthorizedError, bearerChallenge, compileRules, findRule, grantsRule, insufficientScope, ruleProblems, scopeMatcher } from '../../core/plugin-api.js';
import { BOOT_CONFIG, CLIENT_DIRECTORY, CLIENT_KIND, LOGGER, METRICS, STATE_STORE, type BootConfig, RevocationList, RevocationEpoch, grantLiveness, isClientActive, safeEqual, secretMatcher, type GrantFacts, type GrantSources, type Metrics, type StateStore } from '../../core/plugin-api.js';
import { ClientAssertionVerifier, type AssertionAudience, type ClientAuthentication } from '../../core/plugin-api.js';
import type { Logger } from 'pino';
import { authenticateClient, readParams, requireMethod, requireParam, CLIENT_AUTH_PARAMS, NO_STORE } from '../../core/plugin-api.js';
import { KeyService, KEYPAIRS, TokensNotStoredError } from '../../core/plugin-api.js';
import { OAuth2ConfigSchema, type OAuth2Config } from './schema.js';
import { GrantStore, newToken, unseal, type StoredToken, type TokenRecord, type TokenPair } from './grant-store.js';
import { implicitRedirect, passwordGrant, type LegacyGrantSteps } from './legacy-grants.js';
import { httpsRequirement } from './transport.js';
import { passAnonymously } from './anonymous.js';
import { JwtAccessTokens, looksLikeJwt } from './jwt-tokens.js';
import { isMetadataRequest, metadataDocument, routeIssuer, JWKS_SUFFIX } from './metadata.js';
import { requireUserId } from './user-id.js';

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
/** RFC 7636 §4.1: 43 to 128 unreserved characters. */
const CODE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
/** An S256 challenge: the base64url SHA-256 (32 bytes, 43 characters, no padding). */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
/** Headers the upstream gets from the gateway only: any client-sent copy is removed first. */
const USER_HEADERS = ['x-consumer-id', 'x-consumer-username', 'x-authenticated-userid', 'x-authenticated-scope', 'x-anonymous-consumer'] as const;

const AUTHORIZE_PARAMS: ReadonlySet<string> = new Set(['client_id', 'response_type', 'scope', 'provision_key', 'authenticated_userid', 'redirect_uri', 'state', 'code_challenge', 'code_challenge_method']);
const TOKEN_PARAMS: ReadonlySet<string> = new Set(['grant_type', 'code', 'redirect_uri', 'code_verifier', 'refresh_token', 'scope', 'provision_key', 'authenticated_userid', ...CLIENT_AUTH_PARAMS]);
const MANAGEMENT_PARAMS: ReadonlySet<string> = new Set(['token', 'token_type_hint', ...CLIENT_AUTH_PARAMS]);

/** The facts `grantLiveness` judges of a stored token (a refresh token's own `iat`, not its pair's). */
function storedGrant(found: StoredToken): GrantFacts {
  return { clientId: found.record.clientId, iat: found.record.iat, exp: found.record.exp, jti: found.record.jti ?? undefined, revoked: found.revoked };
}

/** The tokens of one issuance with the records stored for them. */
interface Minted { pair: TokenPair; access: TokenRecord; refresh: TokenRecord; nowMs: number }

/** An error for the client, sent back through its redirect URI (RFC 6749 §4.1.2.1). */
class RedirectedError extends Error {
  constructor(readonly code: string, message: string) { super(message); }
}

@injectable()
export class OAuth2Plugin implements Plugin<typeof OAuth2ConfigSchema> {
  readonly id = 'oauth2';
  readonly name = 'OAuth 2.0 (users)';
  readonly description = 'Delegated user access after Kong\'s oauth2 plugin: authorization code with PKCE, rotating refresh tokens, revocation and introspection on the route, and the rest of the route protected by the tokens it issued.';
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

  constructor(@inject(CLIENT_DIRECTORY) clients: ClientDirectory, @inject(STATE_STORE) state: StateStore, revocations: RevocationList, keys: KeyService, epoch: RevocationEpoch, @inject(LOGGER) log: Logger, @inject(METRICS) metrics: Metrics, @inject(BOOT_CONFIG) boot: BootConfig) {
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
    if (config.anonymous !== undefined) references.push({ kind: CLIENT_KIND, id: config.anonymous, path: '/anonymous' });
    return references;
  }

  checkConfig(config: OAuth2Config): ErrorDetail[] {
    const problems: ErrorDetail[] = [];
    if (config.mandatoryScope && config.scopes.length === 0) problems.push({ path: '/mandatoryScope', message: 'mandatoryScope needs at least one entry in scopes' });
    problems.push(...ruleProblems(config.scopeRules, 'scopeRules'));
    if (config.issuer !== undefined && !URL.canParse(config.issuer)) problems.push({ path: '/issuer', message: 'Not a URL' });
    return problems;
  }

  describe(config: OAuth2Config): string {
    const grants = [config.enableAuthorizationCode && `authorization code (PKCE ${config.pkce})`, config.enableClientCredentials && 'client credentials', config.enablePasswordGrant && 'password', config.enableImplicitGrant && 'implicit'].filter((g): g is string => typeof g === 'string');
    return `OAuth2 for users: ${listOf(grants) || 'no grant enabled'}; ${config.tokenFormat} tokens for ${duration(config.tokenExpirationSeconds)}${config.requireHttps ? '; HTTPS only' : ''}`;
  }

  instantiate(config: OAuth2Config, scope: InstanceScope): PluginSteps {
    const clients = this.#clients;
    const grants = this.#grants;
    const revocations = this.#revocations;
    const sources: GrantSources = { clients, revocations };
    const log = this.#log;
    const metrics = this.#metrics;
    const id = this.id;
    const keys = this.#keys;
    // One issuer per route, from configuration; a route without one is refused when written (the
    // dry run instantiates it). A global instance runs only in each route's own scope.
    const chosen = routeIssuer(config, scope.domains, this.#publicUrl);
    if (chosen.problem !== undefined && scope.domains !== undefined) throw new Error(`No issuer: ${chosen.problem}`);
    const issuer = chosen.issuer ?? '';
    const metadataBody = metadataDocument(issuer, config);
    /** RFC 7523 §3: an assertion names the route's token endpoint, the endpoint receiving it, or the issuer. */
    const audienceOf = (endpoint: 'token' | 'introspect' | 'revoke'): AssertionAudience => ({ audiences: [`${issuer}/oauth2/token`, `${issuer}/oauth2/${endpoint}`, issuer] });
    const audiences = { token: audienceOf('token'), introspect: audienceOf('introspect'), revoke: audienceOf('revoke') };
    /** Count the tokens a grant issued, once it has answered. */
    const counted = async (grantType: string, grant: Promise<void>): Promise<void> => {
      await grant;
      metrics.tokenIssued(id, grantType);
    };
    // Tokens are bound to their route; global credentials share one key between such routes.
    const routeKey = config.globalCredentials ? '*' : `route:${scope.routeId ?? '*'}`;
    const accessTtl = config.tokenExpirationSeconds;
    const refreshTtl = config.refreshTokenTtlSeconds;
    // A revoked grant must stay refused as long as any of its tokens could live.
    const familyTtlMs = (Math.max(refreshTtl, accessTtl) + 60) * 1000;
    const realm = config.realm;
    const allowedScopes = new Set(config.scopes);
    const auth: ClientAuthentication = { clients, assertions: new ClientAssertionVerifier({ clients, state: this.#state, log: this.#log }, config.clientAssertion) };
    // The core's access rules (as jwt-verifier's), every scope of the rule required, exact match.
    const scopeRules = compileRules(config.scopeRules.map((rule) => ({ methods: rule.methods, path: rule.path, requiredScopes: rule.scopes, match: 'all' as const })), scope.caseSensitive ?? true);
    const exactScopes = scopeMatcher('exact');
    const matchesProvisionKey = secretMatcher(config.provisionKey);
    const requireSecure = httpsRequirement(config);
    // JWT access tokens are verified whatever this route issues: a globalCredentials peer may issue them.
    const jwts = new JwtAccessTokens({ keys: this.#keys, keyPairId: config.keyPair, routeKey, isGrantRevoked: (family) => grants.isRevoked(family) });

    /** The scope granted: each asked token allowed here and for the client; none asked is '' unless mandatory. */
    function grantedScope(requested: string | undefined, client: IndexedClient): string {
      const asked = requested === undefined ? [] : requested.split(' ').filter(Boolean);
      if (requested !== undefined && (asked.length === 0 || asked.some((s) => !SCOPE_TOKEN.test(s)))) throw new InvalidScopeError('The scope parameter is malformed');
      if (asked.length === 0) {
        if (config.mandatoryScope) throw new InvalidScopeError('A scope is required');
        return '';
      }
      const clientScopes = client.key.scopes ?? [];
      const refused = asked.filter((s) => !allowedScopes.has(s) || (clientScopes.length > 0 && !clientScopes.includes(s)));
      if (refused.length > 0) throw new InvalidScopeError(`Scope not allowed: ${refused.join(' ')}`);
      return [...new Set(asked)].join(' ');
    }

    function mayUse(client: IndexedClient, grantType: string): boolean {
      return client.key.grantTypes === undefined || client.key.grantTypes.includes(grantType);
    }

    /**
     * The client of a token-endpoint request: confidential clients authenticate (Basic or post);
     * a public client names itself by `client_id` alone (it has no secret; PKCE protects it).
     */
    async function requestingClient(ctx: RequestContext, params: Map<string, string>, audience: AssertionAudience): Promise<IndexedClient> {
      if (ctx.req.headers.authorization !== undefined || params.has('client_secret') || params.has('client_assertion') || params.has('client_assertion_type')) {
        return (await authenticateClient(ctx.req, params, auth, audience)).key;
      }
      const clientId = params.get('client_id');
      if (clientId === undefined) throw new InvalidClientError('Client authentication is required (client_secret_basic or client_secret_post, or client_id for a public client)');
      const client = clients.get(clientId);
      if (!client || client.key.clientType !== 'public' || !isClientActive(client)) throw new InvalidClientError('Client authentication failed');
      return client;
    }

    /**
     * The issue time (epoch s) of a new grant of `client`: right after an admin cut-off of its
     * tokens, after waiting for it (at most 1 s), since iat has a one-second resolution.
     */
    async function issueSecond(client: IndexedClient): Promise<number> {
      const wait = revocations.clientNotBefore(client.key.clientId) * 1000 - Date.now();
      if (wait > 0 && wait <= 1000) await delay(wait);
      return Math.floor(Date.now() / 1000);
    }

    /** The tokens of one issuance and the records kept for them, made before anything is stored. */
    async function mint(client: IndexedClient, userId: string | null, grantScope: string, family: string | null, refreshToken = newToken()): Promise<Minted> {
      const iat = await issueSecond(client);
      const nowMs = Date.now();
      // No token leaves dead: a cut-off further ahead than the wait (an imported one) refuses the grant.
      const fresh = grantLiveness({ clientId: client.key.clientId, iat }, sources, nowMs);
      if (!fresh.alive) throw new InvalidGrantError(fresh.message);
      const base = { clientId: client.key.clientId, userId, scope: grantScope, routeKey, family, iat, jti: null };
      const jti = config.tokenFormat === 'jwt' ? randomUUID() : null;
      const access: TokenRecord = { ...base, exp: iat + accessTtl, jti };
      const accessToken = jti !== null ? await jwts.sign({ ...access, jti }, issuer) : newToken();
      return { pair: { accessToken, refreshToken }, access, refresh: { ...base, exp: iat + refreshTtl }, nowMs };
    }

    async function issue(ctx: RequestContext, client: IndexedClient, userId: string | null, grantScope: string, family: string | null, withRefresh: boolean, minted?: Minted): Promise<void> {
      minted ??= await mint(client, userId, grantScope, family);
      const { pair, nowMs } = minted;
      try {
        // One atomic write: both tokens or none, and no token leaves unless it is stored.
        await grants.saveTokens({ token: pair.accessToken, record: minted.access }, withRefresh ? { token: pair.refreshToken, record: minted.refresh } : null, nowMs);
      } catch (error) {
        throw new TokensNotStoredError(error);
      }
      respondTokens(ctx, pair, grantScope, withRefresh, accessTtl);
    }

    function respondTokens(ctx: RequestContext, tokens: TokenPair, grantScope: string, withRefresh: boolean, expiresIn: number): void {
      ctx.respond(200, {
        access_token: tokens.accessToken, token_type: 'Bearer', expires_in: expiresIn,
        ...(withRefresh ? { refresh_token: tokens.refreshToken } : {}),
        ...(grantScope ? { scope: grantScope } : {}),
      }, NO_STORE);
    }

    /** An access token alone (the implicit grant): no refresh token, no family; in the route's token format. */
    async function saveAccessToken(client: IndexedClient, userId: string, grantScope: string): Promise<{ accessToken: string; expiresIn: number }> {
      const minted = await mint(client, userId, grantScope, null);
      try {
        await grants.saveTokens({ token: minted.pair.accessToken, record: minted.access }, null, minted.nowMs);
      } catch (error) {
        throw new TokensNotStoredError(error);
      }
      return { accessToken: minted.pair.accessToken, expiresIn: accessTtl };
    }

    const legacy: LegacyGrantSteps = { matchesProvisionKey, grantedScope, mayUse, issue, saveAccessToken };

    // ── POST …/oauth2/authorize ────────────────────────────────────────────
    async function authorize(ctx: RequestContext): Promise<void> {
      requireMethod(ctx, ['POST']);
      requireSecure(ctx);
      const params = await readParams(ctx.req, AUTHORIZE_PARAMS);
      // Errors the provider's backend made, or that must not reach an unverified redirect URI: 400 JSON.
      const provisionKey = params.get('provision_key');
      if (provisionKey === undefined || !matchesProvisionKey(provisionKey)) throw new InvalidRequestError('Invalid provision_key');
      const userId = requireUserId(params);
      const client = clients.get(requireParam(params, 'client_id'));
      if (!client || !isClientActive(client)) throw new InvalidRequestError('Unknown or disabled client_id');
      const registered = client.key.redirectUris ?? [];
      const asked = params.get('redirect_uri');
      const redirectUri = asked ?? (registered.length === 1 ? registered[0]! : undefined);
      if (redirectUri === undefined) throw new InvalidRequestError('redirect_uri is required: the client has no single registered redirect URI');
      if (!registered.includes(redirectUri)) throw new InvalidRequestError('redirect_uri is not registered for this client');
      if (params.get('response_type') === 'token') {
        const location = await implicitRedirect(params, client, redirectUri, userId, config.enableImplicitGrant, legacy);
        return ctx.respond(200, { redirect_uri: location.href }, NO_STORE);
      }
      const state = params.get('state');
      let location: URL;
      try {
        const code = newToken();
        const challenge = checkChallenge(params, client);
        if (params.get('response_type') !== 'code' || !config.enableAuthorizationCode) throw new RedirectedError('unsupported_response_type', 'Only response_type=code is supported');
        if (!mayUse(client, 'authorization_code')) throw new RedirectedError('unauthorized_client', 'This client may not use the authorization code grant');
        let grantScope: string;
        try {
          grantScope = grantedScope(params.get('scope'), client);
        } catch (error) {
          throw new RedirectedError('invalid_scope', (error as Error).message);
        }
        await grants.saveCode(code, { clientId: client.key.clientId, userId, redirectUri, scope: grantScope, challenge, routeKey, iat: await issueSecond(client) });
        location = new URL(redirectUri);
        location.searchParams.set('code', code);
      } catch (error) {
        if (!(error instanceof RedirectedError)) throw error;
        location = new URL(redirectUri);
        location.searchParams.set('error', error.code);
        location.searchParams.set('error_description', error.message);
      }
      if (state !== undefined) location.searchParams.set('state', state);
      ctx.respond(200, { redirect_uri: location.href }, NO_STORE);
    }

    /** The S256 challenge, or null when none is sent and the PKCE policy allows it. */
    function checkChallenge(params: Map<string, string>, client: IndexedClient): string | null {
      const challenge = params.get('code_challenge');
      const method = params.get('code_challenge_method');
      if (challenge === undefined) {
        if (method !== undefined) throw new RedirectedError('invalid_request', 'code_challenge_method without code_challenge');
        const required = config.pkce === 'strict' || (config.pkce === 'lax' && client.key.clientType === 'public');
        if (required) throw new RedirectedError('invalid_request', 'PKCE is required: send code_challenge with code_challenge_method=S256');
        return null;
      }
      // RFC 7636 defaults the method to `plain`, which offers no protection against a stolen code: refused.
      if (method !== 'S256') throw new RedirectedError('invalid_request', 'code_challenge_method must be S256');
      if (!S256_CHALLENGE.test(challenge)) throw new RedirectedError('invalid_request', 'code_challenge is not a base64url SHA-256');
      return challenge;
    }

    // ── POST …/oauth2/token ────────────────────────────────────────────────
    async function token(ctx: RequestContext): Promise<void> {
      requireMethod(ctx, ['POST']);
      requireSecure(ctx);
      const params = await readParams(ctx.req, TOKEN_PARAMS);
      const client = await requestingClient(ctx, params, audiences.token);
      ctx.consumer = client.key.clientId;
      const grantType = requireParam(params, 'grant_type');
      if (grantType === 'authorization_code' && config.enableAuthorizationCode) return counted(grantType, authorizationCodeGrant(ctx, params, client));
      if (grantType === 'refresh_token' && (config.enableAuthorizationCode || config.enablePasswordGrant)) return counted(grantType, refreshTokenGrant(ctx, params, client));
      if (grantType === 'password' && config.enablePasswordGrant) return counted(grantType, passwordGrant(ctx, params, client, legacy));
      if (grantType === 'client_credentials' && config.enableClientCredentials) {
        if (client.key.clientType === 'public') throw new UnauthorizedClientError('A public client cannot use client_credentials');
        if (!mayUse(client, 'client_credentials')) throw new UnauthorizedClientError('This client may not use client_credentials');
        return counted(grantType, issue(ctx, client, null, grantedScope(params.get('scope'), client), null, false));
      }
      throw new UnsupportedGrantTypeError(`The grant type "${grantType}" is not enabled on this route`);
    }

    async function authorizationCodeGrant(ctx: RequestContext, params: Map<string, string>, client: IndexedClient): Promise<void> {
      if (!mayUse(client, 'authorization_code')) throw new UnauthorizedClientError('This client may not use the authorization code grant');
      const code = requireParam(params, 'code');
      const record = await grants.getCode(code);
      if (!record || record.routeKey !== routeKey) {
        // A code used twice by its client: the tokens issued from it are revoked (RFC 6749 §4.1.2).
        // Another client presenting it (a leaked code) learns nothing and revokes nothing.
        const redeemed = await grants.redemption(code);
        if (redeemed !== undefined && (redeemed.clientId === null || redeemed.clientId === client.key.clientId)) {
          await grants.revokeFamily(redeemed.family, familyTtlMs);
          throw new InvalidGrantError('The authorization code was already used; the tokens issued from it are revoked');
        }
        throw new InvalidGrantError('The authorization code is unknown or expired');
      }
      // Before redeeming: a client presenting another client's code must not use it up (RFC 6749 §4.1.3).
      if (record.clientId !== client.key.clientId) throw new InvalidGrantError('The authorization code was issued to another client');
      await revocations.syncClient(record.clientId);
      const verdict = grantLiveness({ clientId: record.clientId, iat: record.iat }, sources);
      if (!verdict.alive) throw new InvalidGrantError(`The authorization code is no longer valid: ${verdict.message}`);
      const family = randomUUID();
      // One redemption wins, across processes and instances; the code is spent even if a check below fails.
      if (!await grants.redeemCode(code, family, client.key.clientId, familyTtlMs)) {
        const winner = await grants.redemption(code);
        if (winner !== undefined) await grants.revokeFamily(winner.family, familyTtlMs);
        throw new InvalidGrantError('The authorization code was already used; the tokens issued from it are revoked');
      }
      if (params.get('redirect_uri') !== record.redirectUri) throw new InvalidGrantError('redirect_uri must be the one used in the authorization request');
      const verifier = params.get('code_verifier');
      if (record.challenge === null) {
        // RFC 9700 §2.1.1: a verifier without a challenge is a PKCE downgrade attempt.
        if (verifier !== undefined) throw new InvalidGrantError('code_verifier sent but no code_challenge was');
        if (client.key.clientType === 'public') throw new InvalidGrantError('A public client must use PKCE');
      } else {
        if (verifier === undefined) throw new InvalidGrantError('code_verifier is required');
        if (!CODE_VERIFIER.test(verifier)) throw new InvalidGrantError('code_verifier must be 43 to 128 unreserved characters (RFC 7636 §4.1)');
        if (!safeEqual(createHash('sha256').update(verifier).digest('base64url'), record.challenge)) throw new InvalidGrantError('code_verifier does not match the code_challenge');
      }
      await issue(ctx, client, record.userId, record.scope, family, mayUse(client, 'refresh_token'));
    }

    async function refreshTokenGrant(ctx: RequestContext, params: Map<string, string>, client: IndexedClient): Promise<void> {
      if (!mayUse(client, 'refresh_token')) throw new UnauthorizedClientError('This client may not use refresh tokens');
      const refreshToken = requireParam(params, 'refresh_token');
      const nowMs = Date.now();
      const found = await grants.findToken('rt', refreshToken);
      if (!found || found.record.routeKey !== routeKey || found.record.family === null) throw new InvalidGrantError('The refresh token is unknown, expired or revoked');
      const record = found.record as TokenRecord & { family: string };
      if (record.clientId !== client.key.clientId) throw new InvalidGrantError('The refresh token was issued to another client');
      // The refresh token's own iat: a cut-off after it refuses it, in the grace period too (a sealed
      // pair is never handed out), and at once on every instance (the cut-off is read from the store).
      await revocations.syncClient(record.clientId);
      const verdict = grantLiveness(storedGrant(found), sources, nowMs);
      if (!verdict.alive) throw new InvalidGrantError(`The refresh token is no longer valid: ${verdict.message}`);
      const grantScope = narrowedScope(params.get('scope'), record);
      if (config.reuseRefreshToken) {
        await issue(ctx, client, record.userId, grantScope, record.family, false, await mint(client, record.userId, grantScope, record.family, refreshToken));
        return;
      }
      const minted = await mint(client, record.userId, grantScope, record.family);
      const rotationTtlMs = Math.max(1, record.exp * 1000 - nowMs);
      if (await grants.claimRotation(refreshToken, record.family, config.refreshGracePeriodSeconds > 0 ? { ...minted.pair, scope: grantScope } : null, nowMs, rotationTtlMs)) {
        return issue(ctx, client, record.userId, grantScope, record.family, true, minted);
      }
      // Rotated already: within the grace period the same new pair again, else a replay.
      const rotation = await grants.getRotation(refreshToken);
      if (rotation?.sealed && nowMs - rotation.at <= config.refreshGracePeriodSeconds * 1000 && !await grants.isRevoked(record.family)) {
        const elapsed = Math.floor((nowMs - rotation.at) / 1000);
        const sealed = unseal(rotation.sealed, refreshToken);
        // The scope of the pair handed out again (a narrowing refresh), not the old token's wider one.
        return respondTokens(ctx, { accessToken: sealed.accessToken, refreshToken: sealed.refreshToken }, sealed.scope ?? record.scope, true, Math.max(1, accessTtl - elapsed));
      }
      await grants.revokeFamily(record.family, familyTtlMs);
      throw new InvalidGrantError('The refresh token was already used; the whole grant is revoked');
    }

    /** RFC 6749 §6: a refresh may narrow the scope, never widen it. */
    function narrowedScope(requested: string | undefined, record: TokenRecord): string {
      if (requested === undefined) return record.scope;
      const granted = new Set(record.scope.split(' ').filter(Boolean));
      const asked = requested.split(' ').filter(Boolean);
      if (asked.length === 0 || asked.some((s) => !SCOPE_TOKEN.test(s))) throw new InvalidScopeError('The scope parameter is malformed');
      const outside = asked.filter((s) => !granted.has(s));
      if (outside.length > 0) throw new InvalidScopeError(`Scope beyond the original grant: ${outside.join(' ')}`);
      return [...new Set(asked)].join(' ');
    }

    /** A token of either type with its type, following the hint first (RFC 7009 §2.1, RFC 7662 §2.1). */
    async function findToken(value: string, hint: string | undefined): Promise<(StoredToken & { type: 'at' | 'rt' }) | null> {
      if (hint !== undefined && hint !== 'access_token' && hint !== 'refresh_token') throw new InvalidRequestError('token_type_hint must be access_token or refresh_token');
      const order: Array<'at' | 'rt'> = hint === 'refresh_token' ? ['rt', 'at'] : ['at', 'rt'];
      for (const type of order) {
        const found = await grants.findToken(type, value);
        if (found && found.record.routeKey === routeKey) return { type, ...found };
      }
      return null;
    }

    // ── POST …/oauth2/revoke (RFC 7009) ────────────────────────────────────
    async function revoke(ctx: RequestContext): Promise<void> {
      requireMethod(ctx, ['POST']);
      requireSecure(ctx);
      const params = await readParams(ctx.req, MANAGEMENT_PARAMS);
      const client = await requestingClient(ctx, params, audiences.revoke);
      const value = requireParam(params, 'token');
      const found = await findToken(value, params.get('token_type_hint'));
      // §2.2: an unknown or dead token is fine (the client's goal is reached), and another client's
      // token is answered alike, untouched: a different answer would tell whether it is live.
      const live = found !== null && grantLiveness(storedGrant(found), sources).alive;
      if (found && live && found.record.clientId !== client.key.clientId) {
        log.debug({ clientId: client.key.clientId, owner: found.record.clientId }, 'revocation of another client\'s token ignored');
      } else if (found && live) {
        // Revoking a refresh token ends its grant, access tokens included (§2.1).
        if (found.type === 'rt' && found.record.family !== null) await grants.revokeFamily(found.record.family, familyTtlMs);
        else await grants.deleteToken(found.type, value);
        // A JWT is verified without the store: its jti is refused from now on.
        if (found.type === 'at' && typeof found.record.jti === 'string') await revocations.revoke(found.record.jti, found.record.clientId, found.record.exp);
      }
      ctx.respond(200, undefined, NO_STORE);
      metrics.tokenRevoked(id);
    }

    // ── POST …/oauth2/introspect (RFC 7662) ────────────────────────────────
    async function introspect(ctx: RequestContext): Promise<void> {
      requireMethod(ctx, ['POST']);
      requireSecure(ctx);
      const params = await readParams(ctx.req, MANAGEMENT_PARAMS);
      // Confidential clients only: introspection tells a token's user, not for anyone who asks.
      await authenticateClient(ctx.req, params, auth, audiences.introspect);
      const found = await findToken(requireParam(params, 'token'), params.get('token_type_hint'));
      const active = found !== null && grantLiveness(storedGrant(found), sources).alive;
      metrics.tokenIntrospected(id, active);
      if (!active || !found) return ctx.respond(200, { active: false }, NO_STORE);
      const { record } = found;
      ctx.respond(200, {
        active: true, client_id: record.clientId, token_type: found.type === 'at' ? 'Bearer' : 'refresh_token',
        exp: record.exp, iat: record.iat,
        ...(record.scope ? { scope: record.scope } : {}),
        ...(record.userId !== null ? { sub: record.userId, username: record.userId } : {}),
      }, NO_STORE);
    }

    // ── GET {issuer}/.well-known/oauth-authorization-server (RFC 8414) ─────
    function metadata(ctx: RequestContext): void {
      requireMethod(ctx, ['GET', 'HEAD']);
      requireSecure(ctx);
      // The same document whatever the request's Host: the issuer is the route's, from configuration.
      ctx.respond(200, metadataBody, { 'cache-control': 'public, max-age=300' });
    }

    // ── GET {issuer}/oauth2/jwks: the keys that verify its JWT access tokens (RFC 8414 jwks_uri) ──
    function jwks(ctx: RequestContext): void {
      requireMethod(ctx, ['GET', 'HEAD']);
      requireSecure(ctx);
      ctx.respond(200, keys.jwksJson(), { 'content-type': 'application/jwk-set+json', 'cache-control': 'public, max-age=300' });
    }

    // ── The protected route (RFC 6750) ─────────────────────────────────────
    /** A bearer token as found: a JWT verified locally, an opaque one read from the store. */
    async function accessToken(value: string): Promise<StoredToken | undefined> {
      if (!looksLikeJwt(value)) return value === '' ? undefined : grants.findToken('at', value);
      const checked = await jwts.verify(value);
      if (!checked.ok) throw new InvalidBearerTokenError(checked.reason, realm);
      return checked;
    }

    async function protect(ctx: RequestContext): Promise<void> {
      requireSecure(ctx);
      const header = ctx.req.headers.authorization;
      // A request no rule matches needs a valid token only (unlike jwt-verifier's deny by default).
      const rule = findRule(scopeRules, ctx.method, ctx.routePath);
      if (header === undefined || !/^bearer /i.test(header)) {
        for (const name of USER_HEADERS) delete ctx.upstreamHeaders[name];
        // Anonymous access stops where a scope is required: that takes a token.
        if (!rule && passAnonymously(ctx, clients, config.anonymous)) return;
        throw new UnauthorizedError('A bearer token is required', bearerChallenge(realm));
      }
      const found = await accessToken(header.slice(7).trim());
      if (!found || found.record.routeKey !== routeKey) throw new InvalidBearerTokenError('The access token is unknown, expired or revoked', realm);
      const verdict = grantLiveness(storedGrant(found), sources);
      if (!verdict.alive) throw new InvalidBearerTokenError(verdict.message, realm);
      const { record } = found;
      const client = verdict.client;
      if (rule && !grantsRule(rule, record.scope.split(' ').filter(Boolean), exactScopes)) throw insufficientScope(rule, realm);
      const headers = ctx.upstreamHeaders;
      for (const name of USER_HEADERS) delete headers[name];
      if (config.hideCredentials) delete headers.authorization;
      headers['x-consumer-id'] = client.key.clientId;
      headers['x-consumer-username'] = headerValue(client.key.clientName);
      // Ids refused at authorize since issue 21; grants made before may still hold one.
      if (record.userId !== null) headers['x-authenticated-userid'] = headerValue(record.userId);
      if (record.scope) headers['x-authenticated-scope'] = record.scope;
      ctx.consumer = client.key.clientId;
    }

    return {
      async validateAccess(ctx) {
        const path = ctx.path;
        if (path.endsWith('/oauth2/token')) return token(ctx);
        if (path.endsWith('/oauth2/authorize')) return authorize(ctx);
        if (path.endsWith('/oauth2/revoke')) return revoke(ctx);
        if (path.endsWith('/oauth2/introspect')) return introspect(ctx);
        if (isMetadataRequest(ctx)) return metadata(ctx);
        if (config.tokenFormat === 'jwt' && path.endsWith(JWKS_SUFFIX)) return jwks(ctx);
        return protect(ctx);
      },
    };
  }
}
