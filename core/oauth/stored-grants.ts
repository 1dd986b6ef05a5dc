/**
 * A token authority whose grants are stored (the `oauth2` plugin's): what the grant modules and
 * endpoints ask of it, configured once per route: where records live (`GrantRecords`), the access
 * token format, the scope policy, the lifetimes and the route binding. Every token it mints passes
 * `liveIssueTime` (the one liveness check) first; every stored token it finds is judged by the
 * caller with `storedGrant` facts.
 */
import type { RequestContext } from '../plugin-runtime/context.js';
import type { IndexedClient } from '../keys/clients.js';
import type { GrantFacts, GrantSources } from '../keys/grant-liveness.js';
import { TokensNotStoredError, UnauthorizedClientError } from '../errors.js';
import type { Exchange } from './endpoint.js';
import type { ClientCredentialsIssuer } from './grants/grant.js';
import { NO_STORE, checkTokenTypeHint } from './oauth-request.js';
import { liveIssueTime } from './issuance.js';
import type { ScopePolicy } from './scopes.js';
import type { GrantRecords, StoredToken, TokenPair, TokenRecord, TokenType } from './records.js';
import { newToken, type AccessTokenFormat } from './token-formats/opaque.js';

export interface StoredGrantsOptions {
  records: GrantRecords;
  format: AccessTokenFormat;
  sources: GrantSources;
  /** The issuer (`iss` of JWT access tokens). */
  issuer: string;
  /** The route binding of the tokens (`*` with global credentials). */
  routeKey: string;
  accessTtl: number;
  refreshTtl: number;
  grantedScope: ScopePolicy;
  matchesProvisionKey(presented: string): boolean;
  reuseRefreshToken: boolean;
  refreshGracePeriodSeconds: number;
  /** PKCE policy of the authorization code grant. */
  pkce: 'none' | 'lax' | 'strict';
}

/** The tokens of one issuance with the records stored for them. */
export interface Minted {
  pair: TokenPair;
  access: TokenRecord;
  refresh: TokenRecord;
  nowMs: number;
}

/** A new grant about to be issued: its client, user, scope and family (null: no refresh token). */
export interface Issuance {
  client: IndexedClient;
  userId: string | null;
  scope: string;
  family: string | null;
}

/** The facts `grantLiveness` judges of a stored token (a refresh token's own `iat`, not its pair's). */
export function storedGrant(found: StoredToken): GrantFacts {
  return {
    clientId: found.record.clientId,
    iat: found.record.iat,
    exp: found.record.exp,
    jti: found.record.jti ?? undefined,
    revoked: found.revoked,
  };
}

/** Whether `client` may use `grantType` (its registered grant types; none registered: any). */
export function mayUse(client: IndexedClient, grantType: string): boolean {
  return client.key.grantTypes === undefined || client.key.grantTypes.includes(grantType);
}

/** Answer a token request (RFC 6749 §5.1). */
export function respondTokens(
  ctx: RequestContext,
  tokens: TokenPair,
  grantScope: string,
  withRefresh: boolean,
  expiresIn: number,
): void {
  ctx.respond(
    200,
    {
      access_token: tokens.accessToken,
      token_type: 'Bearer',
      expires_in: expiresIn,
      ...(withRefresh ? { refresh_token: tokens.refreshToken } : {}),
      ...(grantScope ? { scope: grantScope } : {}),
    },
    NO_STORE,
  );
}

export class StoredGrants implements ClientCredentialsIssuer {
  readonly options: StoredGrantsOptions;
  readonly records: GrantRecords;
  /** A revoked grant must stay refused as long as any of its tokens could live. */
  readonly familyTtlMs: number;

  constructor(options: StoredGrantsOptions) {
    this.options = options;
    this.records = options.records;
    this.familyTtlMs = (Math.max(options.refreshTtl, options.accessTtl) + 60) * 1000;
  }

  get sources(): GrantSources {
    return this.options.sources;
  }

  /** The tokens of one issuance and the records kept for them, made before anything is stored. */
  async mint(issuance: Issuance, refreshToken = newToken()): Promise<Minted> {
    const { client, userId, scope, family } = issuance;
    const { iat, nowMs } = await liveIssueTime(client, this.options.sources);
    const { routeKey, accessTtl, refreshTtl, format, issuer } = this.options;
    const base = { clientId: client.key.clientId, userId, scope, routeKey, family, iat, jti: null };
    const access = await format.mint({ ...base, exp: iat + accessTtl }, issuer);
    return {
      pair: { accessToken: access.token, refreshToken },
      access: access.record,
      refresh: { ...base, exp: iat + refreshTtl },
      nowMs,
    };
  }

  /** Mint (unless given), store in one atomic write (both tokens or none), and answer. */
  async issue(ctx: RequestContext, issuance: Issuance, withRefresh: boolean, minted?: Minted): Promise<void> {
    minted ??= await this.mint(issuance);
    const { pair, nowMs } = minted;
    await this.#save(minted, withRefresh, nowMs);
    respondTokens(ctx, pair, issuance.scope, withRefresh, this.options.accessTtl);
  }

  /** An access token alone (the implicit grant): no refresh token, no family; in the route's token format. */
  async saveAccessToken(
    client: IndexedClient,
    userId: string,
    grantScope: string,
  ): Promise<{ accessToken: string; expiresIn: number }> {
    const minted = await this.mint({ client, userId, scope: grantScope, family: null });
    await this.#save(minted, false, minted.nowMs);
    return { accessToken: minted.pair.accessToken, expiresIn: this.options.accessTtl };
  }

  grantedScope(requested: string | undefined, client: IndexedClient): string {
    return this.options.grantedScope(requested, client);
  }

  /** Confidential clients registered for it (or for any grant type). */
  permitClientCredentials(client: IndexedClient): void {
    if (client.key.clientType === 'public')
      throw new UnauthorizedClientError('A public client cannot use client_credentials');
    if (!mayUse(client, 'client_credentials'))
      throw new UnauthorizedClientError('This client may not use client_credentials');
  }

  /** A client's own token: no user, no refresh token, no family. */
  issueClientToken(exchange: Exchange, client: IndexedClient, scope: string): Promise<void> {
    return this.issue(exchange.ctx, { client, userId: null, scope, family: null }, false);
  }

  /** A token of either type with its type, following the hint first (RFC 7009 §2.1, RFC 7662 §2.1). */
  async findToken(value: string, hint: string | undefined): Promise<(StoredToken & { type: TokenType }) | null> {
    checkTokenTypeHint(hint);
    const order: TokenType[] = hint === 'refresh_token' ? ['rt', 'at'] : ['at', 'rt'];
    for (const type of order) {
      const found = await this.records.findToken(type, value);
      if (found && found.record.routeKey === this.options.routeKey) return { type, ...found };
    }
    return null;
  }

  async #save(minted: Minted, withRefresh: boolean, nowMs: number): Promise<void> {
    const { pair } = minted;
    try {
      // No token leaves unless it is stored.
      await this.records.saveTokens(
        { token: pair.accessToken, record: minted.access },
        withRefresh ? { token: pair.refreshToken, record: minted.refresh } : null,
        nowMs,
      );
    } catch (error) {
      throw new TokensNotStoredError(error);
    }
  }
}
