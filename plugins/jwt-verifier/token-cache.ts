/**
 * A bounded cache of verified tokens, keyed by a SHA-256 of the token (the token itself is never
 * kept), each entry dropped at the token's expiry: a hot client pays one signature check, not one
 * per request. When full, the oldest entry goes (insertion order).
 */
import * as crypto from 'node:crypto';
import { createHash } from 'node:crypto';

/** `crypto.hash` where the runtime has it (Node ≥ 20.12; the engines field allows older 20.x). */
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: 'base64url') => string }).hash;

export class VerifiedTokenCache<T> {
  readonly #entries = new Map<string, { value: T; until: number }>();
  readonly #max: number;

  constructor(maxEntries: number) {
    this.#max = maxEntries;
  }

  static keyOf(token: string): string {
    // The one-shot digest (Node ≥ 20.12) makes no Hash object: half the cost for a token's size.
    return oneShotHash
      ? oneShotHash('sha256', token, 'base64url')
      : createHash('sha256').update(token).digest('base64url');
  }

  get(key: string, now = Date.now()): T | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.until <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: T, until: number): void {
    if (until <= Date.now()) return;
    if (this.#entries.size >= this.#max) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, { value, until });
  }

  get size(): number {
    return this.#entries.size;
  }
}
