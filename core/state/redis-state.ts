/**
 * The Redis runtime-state engine, for several gateway instances. Keys are
 * `<keyPrefix>state:<namespace>:<key>` (entries) and `<keyPrefix>state:<namespace>#<key>|<window>|<start>`
 * (quota counters), channels `<keyPrefix>state:<namespace>:<channel>`. Values are JSON strings.
 *
 * - TTLs are milliseconds everywhere (`SET … PX`, `PEXPIRE`): a seconds/milliseconds mix-up is how
 *   other gateways ended with counters living 1 000 times too long.
 * - `setIfAbsent` is `SET NX PX`: one round trip, one winner.
 * - `setAll` is one Lua script of `SET PX`: Redis runs a script whole, and a script refused (ACL,
 *   out of memory at its first write) writes nothing. Not `MULTI … EXEC`: when `MULTI` itself is
 *   refused, the queued `SET`s run one by one and the write is no longer atomic.
 * - A quota decision is one Lua script: it reads every window's counter, and only when each has
 *   room increments them all, giving a new counter its expiry (window end + skew, relative to the
 *   caller's clock so Redis's clock does not matter) in the same atomic step. Never
 *   read-then-increment from the client.
 * - Pub/sub goes through the dedicated subscriber connection of `RedisConnection`, which announces
 *   reconnections as resyncs.
 */
import type { RedisConnection } from './redis-connection.js';
import {
  openNamespace,
  checkTtl,
  checkWindows,
  counterKey,
  counterTtl,
  decide,
  DEFAULT_CLOCK_SKEW_MS,
  type ConsumeOptions,
  type MessageListener,
  type NamespaceOptions,
  type QuotaDecision,
  type QuotaWindow,
  type StateEntry,
  type StateNamespace,
  type StateStore,
  type StateValue,
  type StateWrite,
} from './state-store.js';

export interface RedisStateOptions {
  /** Prefix of every key and channel (default `portcullis:`), so several gateways can share a Redis. */
  keyPrefix?: string;
  /** Added to every quota counter's TTL (default 1 s). */
  clockSkewMs?: number;
}

/**
 * KEYS: the window counters. ARGV: cost, countRefused (0|1), then limit and TTL (ms) per window.
 * Returns the counts before this call; the caller derives the same decision from them.
 */
const CONSUME_SCRIPT = `
local cost = tonumber(ARGV[1])
local before = {}
local allowed = true
for i = 1, #KEYS do
  local count = tonumber(redis.call('GET', KEYS[i]) or '0')
  before[i] = count
  if count + cost > tonumber(ARGV[1 + 2 * i]) then allowed = false end
end
if allowed or ARGV[2] == '1' then
  for i = 1, #KEYS do
    local count = redis.call('INCRBY', KEYS[i], cost)
    if count == cost or redis.call('PTTL', KEYS[i]) == -1 then
      redis.call('PEXPIRE', KEYS[i], ARGV[2 + 2 * i])
    end
  end
end
return before
`;

/** KEYS: the entries. ARGV: value (JSON) and TTL (ms) per key, in order. */
const SET_ALL_SCRIPT = `
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], ARGV[2 * i - 1], 'PX', ARGV[2 * i])
end
return #KEYS
`;

type WithSetAll = { portcullisSetAll(numberOfKeys: number, ...args: Array<string | number>): Promise<number> };

/** The script as ioredis defines it on the client (`defineCommand` adds the method at run time). */
type WithConsume = { portcullisConsume(numberOfKeys: number, ...args: Array<string | number>): Promise<number[]> };

export class RedisStateStore implements StateStore {
  readonly kind = 'redis' as const;
  readonly connection: RedisConnection;
  readonly keyPrefix: string;
  readonly clockSkewMs: number;
  readonly #namespaces = new Map<string, RedisNamespace>();

  constructor(connection: RedisConnection, options: RedisStateOptions = {}) {
    this.connection = connection;
    this.keyPrefix = `${options.keyPrefix ?? 'portcullis:'}state:`;
    this.clockSkewMs = options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS;
    connection.client.defineCommand('portcullisConsume', { lua: CONSUME_SCRIPT });
    connection.client.defineCommand('portcullisSetAll', { lua: SET_ALL_SCRIPT });
  }

  get location(): string {
    return this.connection.location;
  }

  get ready(): boolean {
    return this.connection.ready;
  }

  onReadyChange(listener: (ready: boolean) => void): () => void {
    return this.connection.onReadyChange(listener);
  }

  open(): Promise<void> {
    return this.connection.open();
  }

  namespace(name: string, options: NamespaceOptions = {}): StateNamespace {
    return openNamespace(this.#namespaces, name, options, (durable) => new RedisNamespace(this, name, durable));
  }

  /** The connection belongs to whoever created it (it may be shared with the configuration store). */
  async close(): Promise<void> {}
}

class RedisNamespace implements StateNamespace {
  readonly #store: RedisStateStore;
  readonly #connection: RedisConnection;
  /** `<prefix>state:<name>:` for entries and channels. */
  readonly #prefix: string;
  /** `<prefix>state:<name>#` for quota counters, outside the entries' key space. */
  readonly #counterPrefix: string;

  constructor(
    store: RedisStateStore,
    readonly name: string,
    readonly durable: boolean,
  ) {
    this.#store = store;
    this.#connection = store.connection;
    this.#prefix = `${store.keyPrefix}${name}:`;
    this.#counterPrefix = `${store.keyPrefix}${name}#`;
  }

  async get<T extends StateValue = StateValue>(key: string): Promise<T | undefined> {
    const text = await this.#connection.run((redis) => redis.get(this.#prefix + key));
    return text === null ? undefined : (JSON.parse(text) as T);
  }

  async set(key: string, value: StateValue, ttlMs: number): Promise<void> {
    const ttl = checkTtl(ttlMs);
    const text = JSON.stringify(value);
    await this.#connection.run((redis) => redis.set(this.#prefix + key, text, 'PX', ttl));
  }

  async setIfAbsent(key: string, value: StateValue, ttlMs: number): Promise<boolean> {
    const ttl = checkTtl(ttlMs);
    const text = JSON.stringify(value);
    const reply = await this.#connection.run((redis) => redis.set(this.#prefix + key, text, 'PX', ttl, 'NX'));
    return reply === 'OK';
  }

  async setAll(entries: readonly StateWrite[]): Promise<void> {
    if (entries.length === 0) return;
    const args: Array<string | number> = entries.map((e) => this.#prefix + e.key);
    for (const e of entries) args.push(JSON.stringify(e.value), checkTtl(e.ttlMs));
    await this.#connection.run((redis) => (redis as unknown as WithSetAll).portcullisSetAll(entries.length, ...args));
  }

  async delete(key: string): Promise<boolean> {
    return (await this.#connection.run((redis) => redis.del(this.#prefix + key))) === 1;
  }

  async consume(key: string, windows: readonly QuotaWindow[], options: ConsumeOptions = {}): Promise<QuotaDecision> {
    const cost = options.cost ?? 1;
    checkWindows(windows, cost);
    const now = options.now ?? Date.now();
    const countRefused = options.countRefused ?? false;
    const args: Array<string | number> = windows.map((w) => this.#counterPrefix + counterKey(key, w));
    args.push(cost, countRefused ? 1 : 0);
    for (const w of windows) args.push(w.limit, counterTtl(w, now, this.#store.clockSkewMs));
    const before = await this.#connection.run((redis) =>
      (redis as unknown as WithConsume).portcullisConsume(windows.length, ...args),
    );
    return decide(windows, before.map(Number), cost, countRefused, now);
  }

  async entries(): Promise<StateEntry[]> {
    const pattern = `${escapeGlob(this.#prefix)}*`;
    const now = Date.now();
    const live: StateEntry[] = [];
    await this.#connection.run(async (redis) => {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
        cursor = next;
        if (keys.length === 0) continue;
        const pipeline = redis.pipeline();
        for (const k of keys) pipeline.get(k).pttl(k);
        const replies = (await pipeline.exec()) ?? [];
        keys.forEach((k, i) => {
          const [getError, text] = replies[2 * i]!;
          const [ttlError, ttl] = replies[2 * i + 1]!;
          if (getError || ttlError || text === null || typeof ttl !== 'number' || ttl === -2) return; // gone meanwhile
          live.push({
            key: k.slice(this.#prefix.length),
            value: JSON.parse(text as string),
            expiresAt: ttl < 0 ? Number.MAX_SAFE_INTEGER : now + ttl,
          });
        });
      } while (cursor !== '0');
    });
    return live;
  }

  publish(channel: string, message: StateValue): Promise<void> {
    return this.#connection.publish(this.#prefix + channel, JSON.stringify(message));
  }

  subscribe(channel: string, listener: MessageListener): () => void {
    return this.#connection.subscribe(this.#prefix + channel, (text) => listener(JSON.parse(text)));
  }

  onResync(listener: () => void): () => void {
    return this.#connection.onResync(listener);
  }
}

/** Redis glob metacharacters in a prefix are matched literally. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
