/**
 * The embedded runtime-state engine, on LMDB (memory-mapped B+tree, one writer at a time across
 * every process on the machine, readers never blocked). Chosen over an append-only journal by
 * measurement (`bench/state-engines.ts`, docs/architecture.md "Runtime state"): O(1)-ish writes
 * with group commit, no compaction pass, instant reopen, and multi-process sharing for free.
 *
 * Layout: a directory (by default `<datafile>.state/`) holding two environments:
 * - `durable.mdb`: namespaces declared durable (revocations, refresh tokens). A write resolves
 *   once LMDB has fsynced the commit that carries it, so it survives `kill -9` and power loss.
 * - `volatile.mdb` (`noSync`): every other namespace, every quota counter and the pub/sub event
 *   log. Commits are visible to every process at once and survive a process crash (the pages are
 *   in the OS cache), but are not fsynced, so the environment is discarded after a reboot (see
 *   `openVolatileEnv`): sessions and counters start afresh, durable namespaces are kept.
 *
 * Each environment holds `entries` (key → `{v, e}`: value and expiry, epoch ms) and `expiry`
 * (`[expiresAt, key]` → null), the index a timer walks in small batches to purge what expired,
 * so there is never a stop-the-world pass; reads treat an expired entry as absent whether or not
 * it was purged yet. Atomic steps (set-if-absent, quota decisions, delete) run inside an LMDB
 * write transaction, which holds the environment's cross-process writer lock: exact across
 * processes without any coordination of our own.
 *
 * Pub/sub: LMDB has no notifications, so `publish` appends to an `events` log (sequence numbers
 * allocated inside the write transaction) and each process with subscribers polls it every
 * `pollIntervalMs` (50 ms: the delivery latency, well under the 1 s a revocation may take). The
 * processes of one gateway (`workers`) do not wait for it: a publication is acknowledged once every
 * sibling process has polled (core/state/event-barrier.ts).
 * Polling works the same for cluster workers, a CLI process and separately started gateways,
 * which Node cluster IPC would not cover. Events are kept `eventRetentionMs`; a process that
 * fell further behind is told to resync.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { StateUnavailableError } from '../errors.js';
import { answerSiblingPolls, pollSiblings } from './event-barrier.js';
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

export interface LmdbStateOptions {
  /** The directory holding the environments (created when missing). */
  path: string;
  /** How often this process purges expired entries (default 1 s). */
  purgeIntervalMs?: number;
  /** Entries purged per environment per pass (default 1 000), so a pass never stalls the loop. */
  purgeBatch?: number;
  /** How often subscribers poll the event log (default 50 ms). */
  pollIntervalMs?: number;
  /** How long published events stay readable (default 60 s). */
  eventRetentionMs?: number;
  /** Added to every quota counter's TTL (default 1 s). */
  clockSkewMs?: number;
}

/** What an entry holds: the value and when it expires. */
interface StoredRecord {
  v: StateValue;
  e: number;
}

interface StoredEvent {
  /** Namespace-qualified channel. */
  c: string;
  m: StateValue;
  t: number;
}

/** One LMDB environment and its databases. */
interface Env {
  root: RootDatabase;
  entries: Database<StoredRecord, string>;
  expiry: Database<null, [number, string]>;
}

/** Key of the events log's last sequence number (events are keyed 1, 2, 3…). */
const LAST_SEQUENCE = 0;

export class LmdbStateStore implements StateStore {
  readonly kind = 'embedded' as const;
  readonly location: string;
  readonly #options: Required<Omit<LmdbStateOptions, 'path'>>;
  readonly #namespaces = new Map<string, LmdbNamespace>();
  readonly #readyListeners = new Set<(ready: boolean) => void>();
  #durable: Env | null = null;
  #volatile: Env | null = null;
  #events: Database<StoredEvent | number, number> | null = null;
  #purgeTimer: NodeJS.Timeout | null = null;
  #pollTimer: NodeJS.Timeout | null = null;
  #lastSequence = 0;
  #stopAnsweringPolls: () => void = () => {};
  #purging: Promise<void> = Promise.resolve();
  /** Subscriptions by qualified channel. */
  readonly #subscribers = new Map<string, Set<MessageListener>>();
  readonly #resyncListeners = new Set<() => void>();

  constructor(options: LmdbStateOptions) {
    this.location = resolve(options.path);
    this.#options = {
      purgeIntervalMs: options.purgeIntervalMs ?? 1000,
      purgeBatch: options.purgeBatch ?? 1000,
      pollIntervalMs: options.pollIntervalMs ?? 50,
      eventRetentionMs: options.eventRetentionMs ?? 60_000,
      clockSkewMs: options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS,
    };
  }

  get ready(): boolean {
    return this.#volatile !== null;
  }

  onReadyChange(listener: (ready: boolean) => void): () => void {
    this.#readyListeners.add(listener);
    return () => this.#readyListeners.delete(listener);
  }

  async open(): Promise<void> {
    if (this.#volatile) return;
    mkdirSync(this.location, { recursive: true });
    // overlappingSync: the fsync happens after the writer lock is released, so a durable commit
    // does not hold up other processes; we wait for `flushed` before acknowledging.
    this.#durable = openEnv(join(this.location, 'durable.mdb'), { overlappingSync: true });
    this.#volatile = openVolatileEnv(join(this.location, 'volatile.mdb'));
    this.#events = this.#volatile.root.openDB<StoredEvent | number, number>({ name: 'events' });
    this.#lastSequence = (this.#events.get(LAST_SEQUENCE) as number | undefined) ?? 0;
    this.#purgeTimer = setInterval(() => {
      this.#purging = this.#purging
        .then(() => this.purgeExpired())
        .then(
          () => {},
          () => {},
        );
    }, this.#options.purgeIntervalMs);
    this.#purgeTimer.unref();
    // Sibling processes (workers) publishing ask this one to poll at once (core/state/event-barrier.ts).
    this.#stopAnsweringPolls = answerSiblingPolls(() => this.pollEvents());
    for (const listener of this.#readyListeners) listener(true);
  }

  namespace(name: string, options: NamespaceOptions = {}): StateNamespace {
    return openNamespace(this.#namespaces, name, options, (durable) => new LmdbNamespace(this, name, durable));
  }

  async close(): Promise<void> {
    if (!this.#volatile) return;
    if (this.#purgeTimer) clearInterval(this.#purgeTimer);
    if (this.#pollTimer) clearInterval(this.#pollTimer);
    this.#purgeTimer = this.#pollTimer = null;
    this.#stopAnsweringPolls();
    await this.#purging;
    const durable = this.#durable!,
      volatile = this.#volatile;
    this.#durable = this.#volatile = this.#events = null;
    await Promise.all([durable.root.close(), volatile.root.close()]);
    for (const listener of this.#readyListeners) listener(false);
  }

  /**
   * Purge up to `purgeBatch` expired entries per environment, and events past their retention.
   * Runs on a timer; exposed for tests. Each index entry removes its record only when the record
   * still carries that expiry (a later `set` may have extended it).
   */
  async purgeExpired(now = Date.now()): Promise<number> {
    let purged = 0;
    for (const env of [this.#durable, this.#volatile]) {
      if (!env) continue;
      env.root.resetReadTxn();
      const due = [...env.expiry.getKeys({ end: [now + 1], limit: this.#options.purgeBatch, snapshot: false })];
      if (due.length === 0) continue;
      purged += await env.root.transaction(() => {
        let removed = 0;
        for (const indexKey of due) {
          const [expiresAt, key] = indexKey;
          const record = env.entries.get(key);
          if (record && record.e === expiresAt) {
            void env.entries.remove(key);
            removed++;
          }
          void env.expiry.remove(indexKey);
        }
        return removed;
      });
    }
    const events = this.#events;
    if (events) {
      const cutoff = now - this.#options.eventRetentionMs;
      const old: number[] = [];
      for (const { key, value } of events.getRange({ start: 1, limit: this.#options.purgeBatch, snapshot: false })) {
        if ((value as StoredEvent).t >= cutoff) break;
        old.push(key);
      }
      if (old.length > 0)
        await this.#volatile!.root.transaction(() => {
          for (const key of old) void events.remove(key);
        });
    }
    return purged;
  }

  /** The expiry recorded for a quota counter and whether the purge index holds it (tests inspect counter TTLs). */
  inspectCounter(
    namespace: string,
    key: string,
    window: QuotaWindow,
  ): { expiresAt: number; indexed: boolean } | undefined {
    const env = this.env(false);
    env.root.resetReadTxn();
    const qualified = `${namespace}#${counterKey(key, window)}`;
    const record = env.entries.get(qualified);
    if (!record) return undefined;
    return { expiresAt: record.e, indexed: env.expiry.doesExist([record.e, qualified]) };
  }

  /** @internal The environment a namespace writes to; rejects once the store is closed. */
  env(durable: boolean): Env {
    const env = durable ? this.#durable : this.#volatile;
    if (!env) throw new StateUnavailableError('The embedded state store is closed');
    return env;
  }

  get clockSkewMs(): number {
    return this.#options.clockSkewMs;
  }

  async publish(channel: string, message: StateValue): Promise<void> {
    const events = this.#events;
    if (!events) throw new StateUnavailableError('The embedded state store is closed');
    const event: StoredEvent = { c: channel, m: message, t: Date.now() };
    await this.env(false).root.transaction(() => {
      const sequence = ((events.get(LAST_SEQUENCE) as number | undefined) ?? 0) + 1;
      void events.put(LAST_SEQUENCE, sequence);
      void events.put(sequence, event);
    });
    // Acknowledged once every process of this gateway has heard it, not within a poll interval.
    await pollSiblings();
  }

  subscribe(channel: string, listener: MessageListener): () => void {
    let listeners = this.#subscribers.get(channel);
    if (!listeners) this.#subscribers.set(channel, (listeners = new Set()));
    listeners.add(listener);
    if (!this.#pollTimer && this.#events) {
      // Start from now: a subscriber hears what is published after it subscribed.
      this.#events.resetReadTxn();
      this.#lastSequence = (this.#events.get(LAST_SEQUENCE) as number | undefined) ?? 0;
      this.#pollTimer = setInterval(() => this.pollEvents(), this.#options.pollIntervalMs);
      this.#pollTimer.unref();
    }
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0) this.#subscribers.delete(channel);
      if (this.#subscribers.size === 0 && this.#pollTimer) {
        clearInterval(this.#pollTimer);
        this.#pollTimer = null;
      }
    };
  }

  onResync(listener: () => void): () => void {
    this.#resyncListeners.add(listener);
    return () => this.#resyncListeners.delete(listener);
  }

  /** Deliver the events published since the last poll (runs on a timer while anyone subscribes; exposed for tests). */
  pollEvents(): void {
    const events = this.#events;
    if (!events) return;
    events.resetReadTxn();
    const last = (events.get(LAST_SEQUENCE) as number | undefined) ?? 0;
    if (last <= this.#lastSequence) return;
    let expected = this.#lastSequence + 1;
    let missed = false;
    for (const { key, value } of events.getRange({ start: expected, end: last + 1 })) {
      if (key !== expected) missed = true;
      expected = key + 1;
      const event = value as StoredEvent;
      const listeners = this.#subscribers.get(event.c);
      if (listeners) for (const listener of listeners) deliver(listener, event.m);
    }
    if (expected <= last) missed = true;
    this.#lastSequence = last;
    if (missed) for (const listener of this.#resyncListeners) listener();
  }
}

class LmdbNamespace implements StateNamespace {
  readonly #store: LmdbStateStore;
  readonly #prefix: string;

  constructor(
    store: LmdbStateStore,
    readonly name: string,
    readonly durable: boolean,
  ) {
    this.#store = store;
    this.#prefix = `${name}:`;
  }

  async get<T extends StateValue = StateValue>(key: string): Promise<T | undefined> {
    const env = this.#store.env(this.durable);
    env.root.resetReadTxn(); // see other processes' latest commits, not this turn's snapshot
    const record = env.entries.get(this.#prefix + key);
    return record && record.e > Date.now() ? (record.v as T) : undefined;
  }

  async set(key: string, value: StateValue, ttlMs: number): Promise<void> {
    const env = this.#store.env(this.durable);
    const qualified = this.#prefix + key;
    const expiresAt = Date.now() + checkTtl(ttlMs);
    // Both puts join the same commit (same event turn).
    await this.#acknowledge(
      env,
      Promise.all([
        env.entries.put(qualified, { v: value, e: expiresAt }),
        env.expiry.put([expiresAt, qualified], null),
      ]),
    );
  }

  async setIfAbsent(key: string, value: StateValue, ttlMs: number): Promise<boolean> {
    const env = this.#store.env(this.durable);
    const qualified = this.#prefix + key;
    const ttl = checkTtl(ttlMs);
    const created = env.root.transaction(() => {
      const now = Date.now();
      const record = env.entries.get(qualified);
      if (record && record.e > now) return false;
      void env.entries.put(qualified, { v: value, e: now + ttl });
      void env.expiry.put([now + ttl, qualified], null);
      return true;
    });
    return this.#acknowledge(env, created);
  }

  async setAll(entries: readonly StateWrite[]): Promise<void> {
    const env = this.#store.env(this.durable);
    const writes = entries.map((e) => ({ qualified: this.#prefix + e.key, value: e.value, ttl: checkTtl(e.ttlMs) }));
    // One LMDB transaction: one commit, so every entry or none (and one fsync when durable).
    await this.#acknowledge(
      env,
      env.root.transaction(() => {
        const now = Date.now();
        for (const w of writes) {
          void env.entries.put(w.qualified, { v: w.value, e: now + w.ttl });
          void env.expiry.put([now + w.ttl, w.qualified], null);
        }
      }),
    );
  }

  async delete(key: string): Promise<boolean> {
    const env = this.#store.env(this.durable);
    const qualified = this.#prefix + key;
    const removed = env.root.transaction(() => {
      const record = env.entries.get(qualified);
      if (!record) return false;
      void env.entries.remove(qualified);
      void env.expiry.remove([record.e, qualified]);
      return record.e > Date.now();
    });
    return this.#acknowledge(env, removed);
  }

  async consume(key: string, windows: readonly QuotaWindow[], options: ConsumeOptions = {}): Promise<QuotaDecision> {
    const cost = options.cost ?? 1;
    checkWindows(windows, cost);
    const env = this.#store.env(false); // counters are never fsynced
    const skew = this.#store.clockSkewMs;
    // `<name>#…`: outside the `<name>:` range that `entries()` lists.
    const keys = windows.map((w) => `${this.name}#${counterKey(key, w)}`);
    // An asynchronous transaction: decisions of the same event turn share one commit (5× the
    // throughput of transactionSync under 100 concurrent callers, measured), and the main thread
    // never blocks on another process holding the writer lock.
    return env.root.transaction(() => {
      const now = options.now ?? Date.now();
      const records = keys.map((k) => {
        const record = env.entries.get(k);
        return record && record.e > now ? record : undefined;
      });
      const decision = decide(
        windows,
        records.map((r) => (r ? (r.v as number) : 0)),
        cost,
        options.countRefused ?? false,
        now,
      );
      if (decision.allowed || options.countRefused) {
        for (let i = 0; i < keys.length; i++) {
          const previous = records[i];
          // A counter keeps the expiry it got when created: its window's end plus the skew.
          const expiresAt = previous ? previous.e : now + counterTtl(windows[i]!, now, skew);
          void env.entries.put(keys[i]!, { v: decision.windows[i]!.count, e: expiresAt });
          if (!previous) void env.expiry.put([expiresAt, keys[i]!], null);
        }
      }
      return decision;
    });
  }

  async entries(): Promise<StateEntry[]> {
    const env = this.#store.env(this.durable);
    env.root.resetReadTxn();
    const now = Date.now();
    const live: StateEntry[] = [];
    // `;` sorts right after `:`, so this range is exactly the namespace's keys.
    for (const { key, value } of env.entries.getRange({ start: this.#prefix, end: `${this.name};` })) {
      if (value.e > now) live.push({ key: key.slice(this.#prefix.length), value: value.v, expiresAt: value.e });
    }
    return live;
  }

  publish(channel: string, message: StateValue): Promise<void> {
    return this.#store.publish(this.#prefix + channel, message);
  }

  subscribe(channel: string, listener: MessageListener): () => void {
    return this.#store.subscribe(this.#prefix + channel, listener);
  }

  onResync(listener: () => void): () => void {
    return this.#store.onResync(listener);
  }

  /** Resolve once committed and, in a durable namespace, once the commit is on disk. */
  async #acknowledge<T>(env: Env, write: Promise<T>): Promise<T> {
    const result = await write;
    if (this.durable) await env.root.flushed;
    return result;
  }
}

/**
 * The volatile environment is not fsynced (one-at-a-time quota decisions: ~2 000/s instead of ~150/s
 * with fsync, measured), so after an OS crash or power loss its file may be inconsistent, and LMDB
 * may crash the process opening it. What it holds is expendable (counters, sessions, events; anything
 * that must outlive a reboot is declared durable), so it is discarded whenever the machine booted
 * since it was last opened: the boot id (Linux) is kept next to it. The check runs under an
 * exclusive lock file so that several workers starting together discard it at most once.
 */
function openVolatileEnv(path: string): Env {
  const bootId = currentBootId();
  if (bootId !== null) {
    withLockFile(`${path}.boot-lock`, () => {
      const marker = `${path}.boot-id`;
      const previous = existsSync(marker) ? readFileSync(marker, 'utf8') : null;
      if (previous !== bootId) {
        for (const suffix of ['', '-lock']) rmSync(path + suffix, { force: true });
        writeFileSync(marker, bootId);
      }
    });
  }
  return openEnv(path, { noSync: true });
}

function currentBootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return null; // not Linux: no reboot detection
  }
}

/** Run `action` holding an exclusive lock file (taken over when older than 10 s: its holder died). */
function withLockFile(lock: string, action: () => void): void {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx'));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 10_000 || Date.now() > deadline) rmSync(lock, { force: true });
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10); // start-up only: a short synchronous pause
    }
  }
  try {
    action();
  } finally {
    rmSync(lock, { force: true });
  }
}

function openEnv(path: string, options: { noSync?: boolean; overlappingSync?: boolean }): Env {
  const root = open<unknown, string>({ path, maxDbs: 8, ...options });
  return {
    root: root as RootDatabase,
    entries: root.openDB<StoredRecord, string>({ name: 'entries' }),
    expiry: root.openDB<null, [number, string]>({ name: 'expiry' }),
  };
}

/** A listener that throws must not stop the others (nor the poll loop). */
function deliver(listener: MessageListener, message: StateValue): void {
  try {
    listener(message);
  } catch {
    // the listener's owner logs its own failures
  }
}
