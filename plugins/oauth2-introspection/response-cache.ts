/**
 * Introspection responses kept in the runtime state store (namespace `oauth2-introspection`:
 * LMDB shared by the processes of one machine, or Redis shared by every instance), so a token is
 * introspected once per cache period, not once per request, process or instance.
 *
 * - The key is a SHA-256 of the provider and the token (never the token), prefixed by the core's
 *   revocation epoch: when the gateway revokes anything, every cached response turns into a miss
 *   on every instance (within the state store's delivery latency).
 * - The raw response is kept, and judged again on every use (`active`, `exp`, issuer, audience,
 *   rules): a cached entry never skips a check.
 * - An active response lives min(`ttlSeconds`, `exp` − now), an inactive one `negativeTtlSeconds`.
 * - Bounded: at most `maxEntries` writes per cache period, counted in the state store itself.
 * - Concurrent lookups of one key in a process share one introspection.
 * - The state store is an accelerator here: unreachable, it is skipped (each request introspects).
 * - In front of it, each process keeps its own copy of the responses it read or wrote
 *   (`RevocableCache`, at most `maxEntries`): a warm token costs no storage access per request.
 *   A copy expires when the stored entry does (the entry carries its expiry), and the whole copy is
 *   dropped when the revocation epoch moves, as the stored entries are.
 */
import type { Logger } from 'pino';
import { RevocableCache, sha256Key } from '../../core/plugin-api.js';
import type { StateNamespace, StateStore, StateValue, RevocationEpoch } from '../../core/plugin-api.js';
import type { IntrospectionResponse } from './introspection-client.js';

export const NAMESPACE = 'oauth2-introspection';
const WRITES_KEY = 'writes';
/** The stored entry's shape version, part of its key: entries of another shape are never read. */
const ENTRY_VERSION = 'r2';

/** A stored entry: the response and when it expires (epoch ms), so a process's copy expires with it. */
interface StoredResponse {
  response: IntrospectionResponse;
  until: number;
}

export interface CacheOptions {
  ttlSeconds: number;
  negativeTtlSeconds: number;
  maxEntries: number;
}

export class ResponseCache {
  readonly #state: StateStore;
  readonly #epoch: RevocationEpoch;
  readonly #provider: string;
  readonly #options: CacheOptions;
  readonly #log: Logger | null;
  readonly #pending = new Map<string, Promise<IntrospectionResponse>>();
  readonly #local: RevocableCache<IntrospectionResponse>;
  #namespace: StateNamespace | null = null;

  /** `provider` names the server and client whose answers these are: another route's provider never shares them. */
  constructor(state: StateStore, epoch: RevocationEpoch, provider: string, options: CacheOptions, log: Logger | null) {
    this.#state = state;
    this.#epoch = epoch;
    this.#provider = provider;
    this.#options = options;
    this.#log = log;
    const longestMs = Math.max(options.ttlSeconds, options.negativeTtlSeconds) * 1000;
    this.#local = new RevocableCache(epoch, options.maxEntries, longestMs);
  }

  // Opened on first use: the state store opens after plugins are instantiated.
  get #ns(): StateNamespace {
    return (this.#namespace ??= this.#state.namespace(NAMESPACE));
  }

  /** The cache key of a token under the current epoch. */
  keyOf(token: string): string {
    return `${ENTRY_VERSION}:${this.#epoch.current}:${sha256Key(`${this.#provider}\0${token}`)}`;
  }

  /** The process's copy of the response under `key`, if any: no storage access, no promise. */
  held(key: string): IntrospectionResponse | undefined {
    return this.#local.get(key);
  }

  /** The token's response: cached, already being fetched by this process, or fetched by `introspect`. */
  lookup(
    token: string,
    introspect: (token: string) => Promise<IntrospectionResponse>,
    key = this.keyOf(token),
  ): Promise<IntrospectionResponse> {
    const local = this.#local.get(key);
    if (local !== undefined) return Promise.resolve(local);
    let pending = this.#pending.get(key);
    if (pending === undefined) {
      pending = this.#resolve(key, token, introspect).finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    return pending;
  }

  async #resolve(
    key: string,
    token: string,
    introspect: (token: string) => Promise<IntrospectionResponse>,
  ): Promise<IntrospectionResponse> {
    const epoch = this.#local.epoch; // before the read: a revocation meanwhile leaves no copy behind
    const cached = await this.#read(key);
    if (cached !== undefined) {
      this.#local.set(key, Object.freeze(cached.response), cached.until, epoch);
      return cached.response;
    }
    const response = await introspect(token);
    const nowMs = Date.now();
    const ttlMs = this.#ttlOf(response, nowMs);
    // Kept in the process only when stored: past `maxEntries`, or with the store unreachable, each request introspects.
    if (ttlMs > 0 && (await this.#write(key, { response, until: nowMs + ttlMs }, ttlMs)))
      this.#local.set(key, Object.freeze(response), nowMs + ttlMs, epoch);
    return response;
  }

  /** min(ttl, exp − now) for an active response (0 when it has expired), the negative TTL otherwise. */
  #ttlOf(response: IntrospectionResponse, nowMs: number): number {
    if (response.active !== true) return this.#options.negativeTtlSeconds * 1000;
    const ttlMs = this.#options.ttlSeconds * 1000;
    return typeof response.exp === 'number' ? Math.min(ttlMs, response.exp * 1000 - nowMs) : ttlMs;
  }

  async #read(key: string): Promise<StoredResponse | undefined> {
    try {
      return await this.#ns.get<StoredResponse & StateValue>(key);
    } catch (error) {
      this.#log?.warn({ err: error }, 'introspection cache unreachable; introspecting');
      return undefined;
    }
  }

  /** Whether the entry was stored. */
  async #write(key: string, entry: StoredResponse, ttlMs: number): Promise<boolean> {
    try {
      const nowMs = Date.now();
      const period = Math.max(this.#options.ttlSeconds, this.#options.negativeTtlSeconds, 1) * 1000;
      const start = Math.floor(nowMs / period) * period;
      const room = await this.#ns.consume(
        WRITES_KEY,
        [{ name: 'period', limit: this.#options.maxEntries, start, end: start + period }],
        { now: nowMs },
      );
      if (!room.allowed) return false;
      await this.#ns.set(key, entry as StoredResponse & StateValue, ttlMs);
      return true;
    } catch (error) {
      this.#log?.warn({ err: error }, 'introspection response not cached');
      return false;
    }
  }
}
