/**
 * The runtime-state contract: short-lived, high-churn data (revoked `jti`s, quota windows,
 * back-office sessions, login-limiter counts; next: authorization codes, refresh-token families,
 * replay caches), kept apart from the configuration store. Two engines implement it: the embedded
 * one on LMDB (`lmdb-state.ts`, one machine, several processes) and Redis (`redis-state.ts`, many
 * instances). It offers what those users need and nothing more:
 *
 * - `get` / `set` with a TTL and `delete`: everything expires, nothing is kept forever;
 * - `setIfAbsent`: one-time codes and replay caches (exactly one caller wins);
 * - `setAll`: several entries written as one atomic step (an access token with its refresh token);
 * - `consume`: a quota decision over several windows as ONE atomic step;
 * - `publish` / `subscribe`: an instance hears of another's writes where a local cache depends on
 *   them (the revocation mirror), plus a `resync` signal when messages may have been missed;
 * - `entries`: a namespace's live entries, to (re)build such a local cache.
 *
 * Values are JSON values. Every user stores small records (a revocation's client and expiry, a
 * session's user and CSRF token, a code's claims); JSON is what Redis stores as a string without
 * a second encoding and what the back office and logs can show, and bytes are rare enough to be
 * base64url-encoded by their owner. Each engine copies values in and out: a caller never shares
 * an object with the store.
 */

/** A JSON value (what `JSON.stringify` round-trips). */
export type StateValue = string | number | boolean | null | StateValue[] | { [key: string]: StateValue };

/** The engine behind a StateStore, for start-up output and `/ready`. */
export type StateEngineKind = 'embedded' | 'redis';

export interface NamespaceOptions {
  /**
   * Whether an acknowledged write must survive a crash (`kill -9`, and on the embedded engine a
   * power loss: the write is fsynced before it resolves). Revocations and refresh tokens are
   * durable; quota counters, login-limiter counts and replay caches need not be (a lost counter
   * errs towards allowing a few more calls). Durability belongs to the namespace, declared once by
   * its owner: every process opening a namespace must use the same value. Default false.
   * With Redis, durability is Redis's own persistence (AOF) and the same for every namespace.
   */
  durable?: boolean;
}

/**
 * One fixed window of a quota: calls counted between `start` (inclusive) and `end` (exclusive),
 * epoch milliseconds, both computed by the caller (calendar windows such as a UTC month are the
 * caller's business; see `quota-windows.ts`). The counter's key includes `start`, so a new window
 * starts from zero without any reset step.
 */
export interface QuotaWindow {
  /** Short name, part of the counter key and echoed in the result: `second`, `day`, `month`. */
  name: string;
  /** Calls allowed in the window (a positive integer). */
  limit: number;
  start: number;
  end: number;
}

export interface ConsumeOptions {
  /** Units this call costs (default 1). */
  cost?: number;
  /**
   * Count the call even when it is refused (default false: a refused call costs nothing, so a
   * client hammering a closed window does not push its own reset further away).
   */
  countRefused?: boolean;
  /** The caller's clock (epoch ms) used for TTLs; default `Date.now()`. */
  now?: number;
}

export interface WindowUsage {
  name: string;
  limit: number;
  /** Calls counted in the window after this decision. */
  count: number;
  /** `max(0, limit - count)`. */
  remaining: number;
  /** When the window ends (epoch ms): `RateLimit-Reset` is `ceil((end - now) / 1000)`. */
  end: number;
}

export interface QuotaDecision {
  allowed: boolean;
  /** One entry per window, in the order given. */
  windows: WindowUsage[];
  /**
   * Index of the window that decides the headers: when refused, the exhausted window that ends
   * last (waiting for an earlier one to reset would not help); when allowed, the window with the
   * fewest calls remaining.
   */
  decisive: number;
  /** When refused: milliseconds until the call could succeed (`Retry-After`, rounded up). */
  retryAfterMs: number;
}

/** One entry of an atomic `setAll`. */
export interface StateWrite {
  key: string;
  value: StateValue;
  ttlMs: number;
}

/** A live entry of a namespace. */
export interface StateEntry {
  key: string;
  value: StateValue;
  /** Epoch ms after which the entry is gone. */
  expiresAt: number;
}

export type MessageListener = (message: StateValue) => void;

/**
 * The data of one use (`revocations`, `quotas`, `sessions`…): keys are private to the namespace.
 * Every method rejects with `StateUnavailableError` (503) when the engine cannot be reached, and
 * never hangs waiting for it. Keys are strings of at most 400 bytes (LMDB's key limit, with room
 * for the namespace and a quota window's suffix): hash anything longer.
 */
export interface StateNamespace {
  readonly name: string;
  readonly durable: boolean;

  /** The value, or undefined when absent or expired. A read sees every write acknowledged before it, from any process or instance. */
  get<T extends StateValue = StateValue>(key: string): Promise<T | undefined>;

  /**
   * Create or replace, expiring `ttlMs` (> 0) milliseconds from now. Resolves once the write is
   * visible to every process or instance (and, in a durable namespace, once it survives a crash).
   */
  set(key: string, value: StateValue, ttlMs: number): Promise<void>;

  /**
   * Create only when the key is absent (or expired); resolves true for the one caller that
   * created it, false for everyone else, across processes and instances. The entry expires in
   * `ttlMs`. Same durability as `set`.
   */
  setIfAbsent(key: string, value: StateValue, ttlMs: number): Promise<boolean>;

  /**
   * Create or replace every entry as ONE atomic write: a reader (in any process or instance) sees
   * all of them or none, and a failure (engine unreachable) leaves none written. Same visibility
   * and durability as `set` once it resolves. Each entry has its own TTL (> 0).
   */
  setAll(entries: readonly StateWrite[]): Promise<void>;

  /** Remove; resolves true when a live entry was removed. */
  delete(key: string): Promise<boolean>;

  /**
   * The quota decision for `key` over every window as one atomic step: the call is allowed only
   * when each window has room for `cost`, and then (only then, unless `countRefused`) every window
   * is incremented. Exact under any concurrency across processes and instances: N concurrent
   * calls against a limit L allow exactly min(N, L). Each counter expires at most its window's end
   * plus the engine's clock-skew allowance (1 s by default) after it was written; counters are
   * never fsynced, even in a durable namespace.
   */
  consume(key: string, windows: readonly QuotaWindow[], options?: ConsumeOptions): Promise<QuotaDecision>;

  /** The live entries (a local cache's full rebuild; not for the hot path). */
  entries(): Promise<StateEntry[]>;

  /**
   * Send `message` to every subscriber of `channel` in this namespace, in every process or
   * instance (including this one). At most once, in publish order per publisher; a subscriber
   * that may have missed messages (disconnection, falling behind) is told through `onResync`.
   */
  publish(channel: string, message: StateValue): Promise<void>;

  /** Listen to `channel`; returns the unsubscribe function. */
  subscribe(channel: string, listener: MessageListener): () => void;

  /**
   * Called when messages may have been lost (after a reconnection, or when this process fell too
   * far behind): the owner of a local cache rebuilds it from `entries()`. Returns the unsubscribe
   * function.
   */
  onResync(listener: () => void): () => void;
}

export interface StateStore {
  readonly kind: StateEngineKind;
  /** Where the state lives (a directory, or the Redis URL without credentials), for start-up output. */
  readonly location: string;
  /** Whether the engine is reachable now (`/ready`). The embedded engine is ready from open to close. */
  readonly ready: boolean;
  /** Told on every change of `ready`; returns the unsubscribe function. */
  onReadyChange(listener: (ready: boolean) => void): () => void;
  /** Open (create) the store; rejects with StateUnavailableError when it cannot be reached. */
  open(): Promise<void>;
  /** The namespace `name` (letters, digits, `-` and `_`); the same object for the same name. */
  namespace(name: string, options?: NamespaceOptions): StateNamespace;
  /** Stop timers and subscriptions, wait for pending writes, release the engine. */
  close(): Promise<void>;
}

/** Default allowance for clock differences between instances, added to every counter's TTL. */
export const DEFAULT_CLOCK_SKEW_MS = 1000;

const NAMESPACE_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Throws on a name that could collide with another namespace's keys. */
export function checkNamespaceName(name: string): void {
  if (!NAMESPACE_NAME.test(name)) throw new TypeError(`Invalid state namespace name ${JSON.stringify(name)}`);
}

/**
 * The namespace `name` of an engine, made once: a second opening gets the same object, and must
 * declare the same durability (every process and caller agrees on it).
 */
export function openNamespace<N extends StateNamespace>(
  opened: Map<string, N>,
  name: string,
  options: NamespaceOptions,
  create: (durable: boolean) => N,
): N {
  checkNamespaceName(name);
  const durable = options.durable ?? false;
  const existing = opened.get(name);
  if (existing) {
    if (existing.durable !== durable)
      throw new TypeError(`State namespace ${name} was opened with durable=${existing.durable}`);
    return existing;
  }
  const created = create(durable);
  opened.set(name, created);
  return created;
}

/** TTLs are whole positive milliseconds; anything else is a programming error, caught early. */
export function checkTtl(ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0)
    throw new RangeError(`State TTL must be a positive number of milliseconds, got ${ttlMs}`);
  return Math.ceil(ttlMs);
}

/** Validate windows once, the same way for both engines. */
export function checkWindows(windows: readonly QuotaWindow[], cost: number): void {
  if (windows.length === 0) throw new RangeError('A quota decision needs at least one window');
  if (!Number.isInteger(cost) || cost < 1) throw new RangeError(`Quota cost must be a positive integer, got ${cost}`);
  const names = new Set<string>();
  for (const w of windows) {
    if (!Number.isInteger(w.limit) || w.limit < 0)
      throw new RangeError(`Quota window ${w.name}: limit must be a non-negative integer`);
    if (!(w.end > w.start)) throw new RangeError(`Quota window ${w.name}: end must be after start`);
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(w.name) || names.has(w.name))
      throw new RangeError(`Quota window name ${JSON.stringify(w.name)} is invalid or repeated`);
    names.add(w.name);
  }
}

/**
 * The decision from the counts read before this call (`before[i]` for `windows[i]`): shared by
 * both engines so they answer identically (the Redis Lua script applies the same rule).
 */
export function decide(
  windows: readonly QuotaWindow[],
  before: readonly number[],
  cost: number,
  countRefused: boolean,
  now: number,
): QuotaDecision {
  let allowed = true;
  for (let i = 0; i < windows.length; i++) if (before[i]! + cost > windows[i]!.limit) allowed = false;
  const counted = allowed || countRefused;
  const usage: WindowUsage[] = windows.map((w, i) => {
    const count = before[i]! + (counted ? cost : 0);
    return { name: w.name, limit: w.limit, count, remaining: Math.max(0, w.limit - count), end: w.end };
  });
  let decisive = 0;
  let retryAfterMs = 0;
  if (allowed) {
    for (let i = 1; i < usage.length; i++) if (usage[i]!.remaining < usage[decisive]!.remaining) decisive = i;
  } else {
    decisive = -1;
    for (let i = 0; i < windows.length; i++) {
      if (before[i]! + cost <= windows[i]!.limit) continue;
      if (decisive === -1 || windows[i]!.end > windows[decisive]!.end) decisive = i;
    }
    retryAfterMs = Math.max(0, windows[decisive]!.end - now);
  }
  return { allowed, windows: usage, decisive, retryAfterMs };
}

/** The counter's key for one window (the window's start makes each window a fresh counter). */
export function counterKey(key: string, window: QuotaWindow): string {
  return `${key}|${window.name}|${window.start}`;
}

/** How long a window's counter lives: until the window ends, plus the clock-skew allowance. */
export function counterTtl(window: QuotaWindow, now: number, skewMs: number): number {
  return Math.max(1, Math.ceil(window.end - now + skewMs));
}
