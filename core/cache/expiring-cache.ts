/**
 * The one in-process cache of the gateway's request path: bounded, each entry dropped at its own
 * expiry, the oldest entry evicted first (insertion order) when full. Keys are digests made by
 * `sha256Key` or `VerifiedSecrets` (never a token or secret in clear). Used for verified JWTs
 * (`jwt-verifier`), verified API key secrets (`verified-secrets.ts`) and, through
 * `RevocableCache`, for reads of the runtime state store (opaque `oauth2` tokens, introspection
 * responses).
 */
import * as crypto from 'node:crypto';
import { createHash } from 'node:crypto';

/** `crypto.hash` where the runtime has it (Node ≥ 20.12; the engines field allows older 20.x). */
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: 'base64url') => string }).hash;

/** The SHA-256 of `text`, base64url: the one-shot digest (Node ≥ 20.12) makes no Hash object. */
export function sha256Key(text: string): string {
  return oneShotHash ? oneShotHash('sha256', text, 'base64url') : createHash('sha256').update(text).digest('base64url');
}

export class ExpiringCache<T> {
  readonly #entries = new Map<string, { value: T; until: number }>();
  readonly #max: number;

  constructor(maxEntries: number) {
    this.#max = maxEntries;
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

  /** Keep `value` until `until` (epoch ms); an entry already expired is not kept. */
  set(key: string, value: T, until: number): void {
    if (until <= Date.now() || this.#max < 1) return;
    this.#entries.delete(key); // a replaced entry moves to the end
    if (this.#entries.size >= this.#max) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, { value, until });
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }
}
