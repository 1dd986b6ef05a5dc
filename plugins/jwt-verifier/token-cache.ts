/**
 * A bounded cache of verified tokens, keyed by a SHA-256 of the token (the token itself is never
 * kept), each entry dropped at the token's expiry: a hot client pays one signature check, not one
 * per request. The core's one in-process cache (`core/cache/expiring-cache.ts`).
 */
import { ExpiringCache, sha256Key } from '../../core/plugin-api.js';

export class VerifiedTokenCache<T> extends ExpiringCache<T> {
  static keyOf(token: string): string {
    return sha256Key(token);
  }
}
