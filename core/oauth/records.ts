/**
 * Where the records of stored grants live, as the grant modules see it: codes, token pairs,
 * redemptions, rotations and grant revocations. The `oauth2` plugin keeps them in the runtime state
 * store (its `GrantStore`); the `client-credentials` sink keeps none (its tokens are verified
 * statelessly). The record shapes are the store's.
 */
import type { StateValue } from '../state/state-store.js';

/** A code's binding; `iat` (epoch s) is missing from the codes of earlier versions (they lived 60 s; `grantLiveness` refuses them after a cut-off). */
export interface CodeRecord {
  [k: string]: StateValue;
  clientId: string;
  userId: string;
  redirectUri: string;
  scope: string;
  challenge: string | null;
  routeKey: string;
  iat: number;
}
/** A token's record; `jti` is the JWT id of a JWT access token (`tokenFormat: jwt`), else null or absent (records of earlier versions). */
export interface TokenRecord {
  [k: string]: StateValue;
  clientId: string;
  userId: string | null;
  scope: string;
  routeKey: string;
  family: string | null;
  iat: number;
  exp: number;
  jti: string | null;
}
/** A redeemed code: the grant it started and its client (null in markers of earlier versions). */
export interface Redemption {
  [k: string]: StateValue;
  family: string;
  clientId: string | null;
}
export interface RotationRecord {
  [k: string]: StateValue;
  family: string;
  at: number;
  sealed: string | null;
}
export interface TokenPair {
  accessToken: string;
  refreshToken: string;
}
/** A pair kept for the refresh grace period, with the scope it was issued for (absent: sealed by an earlier version). */
export interface SealedPair extends TokenPair {
  scope?: string;
}
/** A stored token as found: its record and whether its grant was revoked, for `grantLiveness` to judge. */
export interface StoredToken {
  record: TokenRecord;
  revoked: boolean;
}
export type TokenType = 'at' | 'rt';

/** The store of a token authority's grants (implemented by `oauth2`'s GrantStore). */
export interface GrantRecords {
  saveCode(code: string, record: CodeRecord): Promise<void>;
  getCode(code: string): Promise<CodeRecord | undefined>;
  /** Whether this caller redeemed the code (exactly one wins). */
  redeemCode(code: string, family: string, clientId: string, ttlMs: number): Promise<boolean>;
  redemption(code: string): Promise<Redemption | undefined>;
  /** Both tokens or none, in one write. */
  saveTokens(
    access: { token: string; record: TokenRecord },
    refresh: { token: string; record: TokenRecord } | null,
    nowMs: number,
  ): Promise<void>;
  findToken(type: TokenType, token: string): Promise<StoredToken | undefined>;
  deleteToken(type: TokenType, token: string): Promise<boolean>;
  isRevoked(family: string): Promise<boolean>;
  revokeFamily(family: string, ttlMs: number): Promise<void>;
  /** Whether this caller rotated the refresh token (exactly one wins); `pair` is kept sealed for the grace period. */
  claimRotation(
    refreshToken: string,
    family: string,
    pair: SealedPair | null,
    nowMs: number,
    ttlMs: number,
  ): Promise<boolean>;
  getRotation(refreshToken: string): Promise<RotationRecord | undefined>;
  /** The pair a rotation sealed, opened with the old refresh token. */
  unseal(sealed: string, refreshToken: string): SealedPair;
}
