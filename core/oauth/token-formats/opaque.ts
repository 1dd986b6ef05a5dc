/**
 * Token formats are strategies of the token authority: how an access token is minted for a grant's
 * record. `opaque`: a random 256-bit token, looked up in the grant records (where only its SHA-256
 * is kept); `jwt.ts`: RFC 9068 JWTs; `gateway-jwt.ts`: the client credentials service's JWTs,
 * signed per client key pair and verified statelessly.
 */
import { randomBytes } from 'node:crypto';
import type { TokenRecord } from '../records.js';

/** An access token and the record kept for it. */
export interface MintedAccessToken {
  token: string;
  record: TokenRecord;
}

export interface AccessTokenFormat {
  /** The access token of `record` (iat, exp, scope set; `jti` null until the format gives one). */
  mint(record: TokenRecord, issuer: string): Promise<MintedAccessToken>;
}

/** A random token (refresh tokens always, access tokens in the opaque format, codes). */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export const opaqueTokens: AccessTokenFormat = {
  mint: (record) => Promise.resolve({ token: newToken(), record }),
};
