/**
 * An in-process copy of verdicts read from the runtime state store (an `oauth2` access token's
 * record, an introspection response), so a hot token costs no storage access per request. Correct
 * under revocation through the revocation epoch (`core/keys/revocation-epoch.ts`), which every
 * revocation advances:
 *
 * - the whole cache is dropped the first time it is used under a newer epoch: in the revoking
 *   process at once (the epoch moves before the revocation's answer), elsewhere within the state
 *   store's delivery latency (50 ms embedded, Redis pub/sub), or at the next resync when a message
 *   was lost;
 * - an entry read under an older epoch than the current one is never kept (`epochAtRead`, taken
 *   before the store was read): a lookup racing a revocation cannot bring the revoked record back.
 *
 * Each entry expires no later than what it copies (the caller's `until`), and at most
 * `maxAgeMs` after it was read.
 */
import { ExpiringCache } from './expiring-cache.js';

/** What the cache reads of the revocation epoch (`RevocationEpoch`, a layer above this one). */
export interface EpochSource {
  readonly current: string;
}

export class RevocableCache<T> {
  readonly #entries: ExpiringCache<T>;
  readonly #epoch: EpochSource;
  readonly #maxAgeMs: number;
  #seen: string;

  constructor(epoch: EpochSource, maxEntries: number, maxAgeMs: number) {
    this.#entries = new ExpiringCache(maxEntries);
    this.#epoch = epoch;
    this.#seen = epoch.current;
    this.#maxAgeMs = maxAgeMs;
  }

  /** The epoch to pass to `set` for a value about to be read from the store. */
  get epoch(): string {
    return this.#epoch.current;
  }

  get(key: string, now = Date.now()): T | undefined {
    const epoch = this.#epoch.current;
    if (epoch !== this.#seen) {
      this.#entries.clear();
      this.#seen = epoch;
      return undefined;
    }
    return this.#entries.get(key, now);
  }

  /** Keep `value`, read under `epochAtRead`, until `until` (epoch ms) or `maxAgeMs` from now. */
  set(key: string, value: T, until: number, epochAtRead: string, now = Date.now()): void {
    if (epochAtRead !== this.#epoch.current || epochAtRead !== this.#seen) return;
    this.#entries.set(key, value, Math.min(until, now + this.#maxAgeMs));
  }

  get size(): number {
    return this.#entries.size;
  }
}
