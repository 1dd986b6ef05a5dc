/**
 * Where the `oauth2` plugin keeps its grants: the durable `oauth2` namespace of the runtime state
 * store, never the configuration file. Every token and code is stored under its SHA-256, so the
 * state holds no usable credential. Single use is decided by `setIfAbsent` (exactly one caller
 * wins, across processes and instances):
 *
 * - `code:<h>`: an authorization code's binding (client, user, redirect URI, scope, challenge), 60 s;
 * - `redeemed:<h>`: the code was exchanged, naming the grant (family) it started;
 * - `at:<h>` / `rt:<h>`: access and refresh tokens with their client, user, scope, route and family;
 * - `rotated:<h>`: the refresh token was rotated (with, during the grace period, the new pair and
 *   its scope sealed under a key derived from the old refresh token: only its holder can open it);
 * - `revoked:<family>`: every token of the grant is refused.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { RevocableCache, sha256Key } from '../../core/plugin-api.js';
import type {
  RevocationEpoch,
  StateNamespace,
  StateStore,
  StateWrite,
  CodeRecord,
  TokenRecord,
  Redemption,
  RotationRecord,
  SealedPair,
  StoredToken,
  GrantRecords,
} from '../../core/plugin-api.js';

export const NAMESPACE = 'oauth2';
export const CODE_TTL_MS = 60_000;
/** Access tokens kept in process (`LocalAccessTokens`): a bound on memory, not on correctness. */
export const LOCAL_TOKENS_MAX_ENTRIES = 10_000;
/** The longest an access token's record is used from the process's copy without reading the store again. */
export const LOCAL_TOKENS_MAX_AGE_MS = 60_000;

// The record shapes are the token authority's (core/oauth/records.ts): this store is its `GrantRecords`.
export type {
  CodeRecord,
  TokenRecord,
  Redemption,
  RotationRecord,
  TokenPair,
  SealedPair,
  StoredToken,
} from '../../core/plugin-api.js';
export { newToken } from '../../core/plugin-api.js';

export function tokenHash(token: string): string {
  return sha256Key(token);
}

/** A grant as operators see it: who, for whom, and its live tokens, by digest only. */
export interface GrantView {
  /** The family id (a client_credentials token, which has none, is listed under `token:<digest>`). */
  grant: string;
  clientId: string;
  userId: string | null;
  scope: string;
  route: string;
  tokens: Array<{ type: 'access_token' | 'refresh_token'; digest: string; iat: number; exp: number }>;
}

export class GrantStore implements GrantRecords {
  readonly #state: StateStore;
  readonly #epoch: RevocationEpoch | null;
  /**
   * Access tokens found before, by hash, with their revocation marker: a token presented on every
   * request reads the store once per `LOCAL_TOKENS_MAX_AGE_MS`, not twice per request. Dropped by
   * every revocation (the epoch); without an epoch, none.
   */
  readonly #accessTokens: RevocableCache<StoredToken> | null;
  #ns: StateNamespace | null = null;

  /** `epoch` is advanced by every revocation: caches of found tokens and introspection results drop what they hold. */
  constructor(state: StateStore, epoch: RevocationEpoch | null = null) {
    this.#state = state;
    this.#epoch = epoch;
    this.#accessTokens = epoch && new RevocableCache(epoch, LOCAL_TOKENS_MAX_ENTRIES, LOCAL_TOKENS_MAX_AGE_MS);
  }

  // Opened on first use: the state store opens after plugins are instantiated.
  get #store(): StateNamespace {
    return (this.#ns ??= this.#state.namespace(NAMESPACE, { durable: true }));
  }

  saveCode(code: string, record: CodeRecord): Promise<void> {
    return this.#store.set(`code:${tokenHash(code)}`, record, CODE_TTL_MS);
  }

  getCode(code: string): Promise<CodeRecord | undefined> {
    return this.#store.get<CodeRecord>(`code:${tokenHash(code)}`);
  }

  /** Mark the code redeemed for `family` by `clientId`; true for the one caller that did it first. */
  async redeemCode(code: string, family: string, clientId: string, ttlMs: number): Promise<boolean> {
    const h = tokenHash(code);
    const won = await this.#store.setIfAbsent(`redeemed:${h}`, { family, clientId } satisfies Redemption, ttlMs);
    if (won) await this.#store.delete(`code:${h}`);
    return won;
  }

  /** The grant a code started and the client that redeemed it, when it was redeemed already. */
  async redemption(code: string): Promise<Redemption | undefined> {
    const stored = await this.#store.get<Redemption | string>(`redeemed:${tokenHash(code)}`);
    // Markers of earlier versions hold the family alone: their client is unknown.
    return typeof stored === 'string' ? { family: stored, clientId: null } : stored;
  }

  /**
   * Record an issuance as ONE atomic write: the access token and its refresh token are stored
   * together or not at all, so a failure never leaves half a grant, and the caller hands out
   * nothing unless this resolved.
   */
  saveTokens(
    access: { token: string; record: TokenRecord },
    refresh: { token: string; record: TokenRecord } | null,
    nowMs: number,
  ): Promise<void> {
    const writes: StateWrite[] = [
      { key: `at:${tokenHash(access.token)}`, value: access.record, ttlMs: access.record.exp * 1000 - nowMs },
    ];
    if (refresh)
      writes.push({
        key: `rt:${tokenHash(refresh.token)}`,
        value: refresh.record,
        ttlMs: refresh.record.exp * 1000 - nowMs,
      });
    return this.#store.setAll(writes);
  }

  /**
   * A stored token of the given type with its grant's revocation marker: whether it may be used is
   * `grantLiveness`'s decision (expiry, client, cut-off, revocation), never this store's.
   */
  findToken(type: 'at' | 'rt', token: string): Promise<StoredToken | undefined> {
    const key = `${type}:${tokenHash(token)}`;
    const local = type === 'at' ? this.#accessTokens : null;
    if (local === null) return this.#readToken(key);
    const found = local.get(key);
    return found !== undefined ? Promise.resolve(found) : this.#readAccessToken(local, key);
  }

  /** An access token's record as this process holds it (no storage access), or undefined: then `findToken`. */
  heldAccessToken(token: string): StoredToken | undefined {
    return this.#accessTokens?.get(`at:${tokenHash(token)}`);
  }

  /** Read through the process's copy; kept until the token's own expiry at the latest. */
  async #readAccessToken(local: RevocableCache<StoredToken>, key: string): Promise<StoredToken | undefined> {
    const epoch = local.epoch; // before the read: a revocation meanwhile leaves nothing behind
    const found = await this.#readToken(key);
    if (found)
      local.set(
        key,
        Object.freeze({ record: Object.freeze(found.record), revoked: found.revoked }),
        found.record.exp * 1000,
        epoch,
      );
    return found;
  }

  async #readToken(key: string): Promise<StoredToken | undefined> {
    const record = await this.#store.get<TokenRecord>(key);
    if (!record) return undefined;
    return { record, revoked: record.family !== null && (await this.isRevoked(record.family)) };
  }

  /** Revoke one token (RFC 7009). */
  async deleteToken(type: 'at' | 'rt', token: string): Promise<boolean> {
    const deleted = await this.#store.delete(`${type}:${tokenHash(token)}`);
    await this.#epoch?.advance();
    return deleted;
  }

  async isRevoked(family: string): Promise<boolean> {
    return (await this.#store.get(`revoked:${family}`)) !== undefined;
  }

  /** Refuse every token of the grant from now on, for as long as any of them could live. */
  async revokeFamily(family: string, ttlMs: number): Promise<void> {
    await this.#store.set(`revoked:${family}`, true, ttlMs);
    await this.#epoch?.advance();
  }

  /**
   * Claim the rotation of a refresh token; true for the one caller that rotates it. With a grace
   * period, `pair` is kept sealed under the old refresh token for that long.
   */
  claimRotation(
    refreshToken: string,
    family: string,
    pair: SealedPair | null,
    nowMs: number,
    ttlMs: number,
  ): Promise<boolean> {
    const sealed = pair ? seal(pair, refreshToken) : null;
    return this.#store.setIfAbsent(`rotated:${tokenHash(refreshToken)}`, { family, at: nowMs, sealed }, ttlMs);
  }

  /**
   * The live grants, optionally of one client and/or one user (an operator's listing: it reads the
   * whole namespace, never on the request path).
   */
  /**
   * The live grants (tokens unexpired and unrevoked), optionally of one client or user. `isAlive`
   * adds the decisions that need more than this store (the client's standing, its cut-off, a JWT's
   * revoked id): the caller passes the one liveness check, so a grant listed live is one a route accepts.
   */
  async listGrants(
    filter: { clientId?: string; userId?: string } = {},
    isAlive: (record: TokenRecord) => boolean = () => true,
    nowMs = Date.now(),
  ): Promise<GrantView[]> {
    const entries = await this.#store.entries();
    const revoked = new Set(
      entries.filter((e) => e.key.startsWith('revoked:')).map((e) => e.key.slice('revoked:'.length)),
    );
    const grants = new Map<string, GrantView>();
    for (const entry of entries) {
      const type = entry.key.startsWith('at:') ? 'access_token' : entry.key.startsWith('rt:') ? 'refresh_token' : null;
      if (type === null) continue;
      const record = entry.value as TokenRecord;
      if (record.exp * 1000 <= nowMs || (record.family !== null && revoked.has(record.family))) continue;
      if (filter.clientId !== undefined && record.clientId !== filter.clientId) continue;
      if (filter.userId !== undefined && record.userId !== filter.userId) continue;
      if (!isAlive(record)) continue;
      const digest = entry.key.slice(3);
      const id = record.family ?? `token:${digest}`;
      let grant = grants.get(id);
      if (!grant)
        grants.set(
          id,
          (grant = {
            grant: id,
            clientId: record.clientId,
            userId: record.userId,
            scope: record.scope,
            route: record.routeKey,
            tokens: [],
          }),
        );
      grant.tokens.push({ type, digest, iat: record.iat, exp: record.exp });
    }
    return [...grants.values()];
  }

  /**
   * Revoke a listed grant: its family, or the single token it stands for. Returns that single
   * token's record when it is a JWT, whose `jti` the caller must revoke too (a JWT is verified
   * without this store).
   */
  async revokeGrant(grant: GrantView, nowMs = Date.now()): Promise<TokenRecord | null> {
    if (grant.grant.startsWith('token:')) {
      const key = `at:${grant.grant.slice('token:'.length)}`;
      const record = await this.#store.get<TokenRecord>(key);
      await this.#store.delete(key);
      await this.#epoch?.advance();
      return typeof record?.jti === 'string' ? record : null;
    }
    const lastExp = Math.max(...grant.tokens.map((t) => t.exp));
    await this.revokeFamily(grant.grant, Math.max(1, lastExp * 1000 - nowMs) + 60_000);
    return null;
  }

  getRotation(refreshToken: string): Promise<RotationRecord | undefined> {
    return this.#store.get<RotationRecord>(`rotated:${tokenHash(refreshToken)}`);
  }

  unseal(sealed: string, refreshToken: string): SealedPair {
    return unseal(sealed, refreshToken);
  }
}

/** The sealing key: a different digest of the old refresh token than its lookup hash. */
function sealingKey(refreshToken: string): Buffer {
  return createHash('sha256').update('portcullis-oauth2-rotation\0').update(refreshToken).digest();
}

function seal(pair: SealedPair, refreshToken: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', sealingKey(refreshToken), iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(pair), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

export function unseal(sealed: string, refreshToken: string): SealedPair {
  const raw = Buffer.from(sealed, 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', sealingKey(refreshToken), raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  return JSON.parse(
    Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8'),
  ) as SealedPair;
}
