/**
 * `tokenFormat: 'jwt'`: RFC 9068 access tokens (`typ: at+jwt`) signed by one of the gateway's key
 * pairs, so that `jwt-verifier` and anyone holding the gateway JWKS can verify them offline. The
 * route that issued them verifies them locally too and reads the grant's revocation marker (one
 * state-store read); the route then asks `grantLiveness` as for an opaque token (client standing,
 * admin cut-off, revoked `jti`, the grant's revocation), so a revoked grant or a replayed refresh
 * token takes effect at once on this route (external verifiers see the client's standing only, and
 * the grant's revocation when the token expires).
 *
 * Claims: `iss` (the route's issuer, from configuration: `routeIssuer` in core/oauth/issuer.ts), `aud` (the route binding, `urn:portcullis:oauth2:route:<id>`
 * or `urn:portcullis:oauth2:global` with `globalCredentials`), `sub` (the user, or the client for
 * client_credentials as RFC 9068 §2.2 says), `client_id`, `iat`, `exp`, `jti`, `scope` when not
 * empty, and `grant_id` (the grant a user token belongs to; absent for client_credentials).
 */
import { randomUUID } from 'node:crypto';
import type { JWTPayload } from 'jose';
import { TokenVerificationError, type KeyService } from '../../keys/key-service.js';
import type { StoredToken, TokenRecord } from '../records.js';
import type { AccessTokenFormat, MintedAccessToken } from './opaque.js';

export const ACCESS_TOKEN_TYP = 'at+jwt';
/** Private claim: the grant (refresh-token family) of a user's token. */
export const GRANT_CLAIM = 'grant_id';

/** The `aud` that binds a token to its route (or to every `globalCredentials` route). */
export function routeAudience(routeKey: string): string {
  return routeKey === '*' ? 'urn:portcullis:oauth2:global' : `urn:portcullis:oauth2:${routeKey}`;
}

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** A compact JWS has three dot-separated parts; the opaque tokens are base64url without dots. */
export function looksLikeJwt(token: string): boolean {
  return COMPACT_JWS.test(token);
}

export interface JwtAccessTokensOptions {
  keys: KeyService;
  /** The key pair that signs (checked at write time as a reference of the plugin's config). */
  keyPairId: string;
  routeKey: string;
  /** Whether the grant of `family` was revoked (a state-store read). */
  isGrantRevoked(family: string): Promise<boolean>;
}

/** A verified token as a stored one (its record and its grant's revocation), or why its signature or claims fail. */
export type JwtCheck = ({ ok: true } & StoredToken) | { ok: false; reason: string };

export class JwtAccessTokens implements AccessTokenFormat {
  readonly #options: JwtAccessTokensOptions;
  readonly #audience: string;

  constructor(options: JwtAccessTokensOptions) {
    this.#options = options;
    this.#audience = routeAudience(options.routeKey);
  }

  /** The format strategy: a new `jti`, and the token signed with it. */
  async mint(record: TokenRecord, issuer: string): Promise<MintedAccessToken> {
    const jti = randomUUID();
    const access = { ...record, jti };
    return { token: await this.sign(access, issuer), record: access };
  }

  /** Sign the access token of `record` (its iat, exp and jti are the token's). */
  sign(record: TokenRecord & { jti: string }, issuer: string): Promise<string> {
    const subject = record.userId ?? record.clientId;
    return this.#options.keys.sign(
      this.#options.keyPairId,
      {
        iss: issuer,
        aud: this.#audience,
        sub: subject,
        client_id: record.clientId,
        iat: record.iat,
        exp: record.exp,
        jti: record.jti,
        ...(record.scope ? { scope: record.scope } : {}),
        ...(record.family !== null && record.userId !== null ? { [GRANT_CLAIM]: record.family } : {}),
      },
      ACCESS_TOKEN_TYP,
    );
  }

  /**
   * Verify a token for this route: signature by a live gateway key with that key's own algorithm
   * (never `none`, never HS/RS confusion: KeyService pins it), `typ`, `exp`, the route's `aud`;
   * then the grant's revocation marker is read, for the caller's `grantLiveness`.
   */
  async verify(token: string): Promise<JwtCheck> {
    const { keys, isGrantRevoked } = this.#options;
    let payload: JWTPayload;
    try {
      ({ payload } = await keys.verify(token, {
        typ: ACCESS_TOKEN_TYP,
        audience: this.#audience,
        requiredClaims: ['exp', 'iat', 'jti', 'sub', 'client_id'],
      }));
    } catch (error) {
      if (error instanceof TokenVerificationError) return { ok: false, reason: error.message };
      throw error;
    }
    const family = typeof payload[GRANT_CLAIM] === 'string' ? payload[GRANT_CLAIM] : null;
    return {
      ok: true,
      revoked: family !== null && (await isGrantRevoked(family)),
      record: {
        clientId: payload.client_id as string,
        userId: family === null ? null : payload.sub!,
        scope: typeof payload.scope === 'string' ? payload.scope : '',
        routeKey: this.#options.routeKey,
        family,
        iat: payload.iat!,
        exp: payload.exp!,
        jti: payload.jti!,
      },
    };
  }
}
