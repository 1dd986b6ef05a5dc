/**
 * The configuration store on Redis, for several gateway instances sharing one configuration.
 *
 * In Redis (keys under `<keyPrefix>config:`): one hash per entity kind (`kind:<kind>`, id → JSON),
 * `settings` (key → JSON), the set of kinds, and `version`, a counter bumped by every write. Each
 * write is one Lua script: it bumps the version, changes the hash and publishes the change, with
 * its version (and the entity, for a put), on the `changes` channel, all in one atomic step, so
 * the order of versions is the order of writes and no change is published without being stored.
 *
 * Each instance keeps the whole configuration in memory (reads never touch Redis, as with the
 * lowdb store) and follows the channel, applying changes in version order. A version gap (a lost
 * message), a `reset` (import) or a reconnection triggers a full resync: one script returns the
 * version and every hash atomically, and messages arriving meanwhile are applied after it.
 * A write resolves once Redis has run it and this instance's copy shows it (read-your-writes);
 * while Redis is unreachable, writes reject with `StateUnavailableError` (503) and reads keep
 * answering from the last copy.
 *
 * Works with a single Redis (or Sentinel); not with Redis Cluster (the snapshot script reads keys
 * it is not given).
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { DataFileError, kindName, staleWrite, type ChangeEvent, type Collections, type Store } from './store.js';
import type { EntityKind, EntityRegistry, StoredEntity } from './entities.js';
import type { RedisConnection } from '../state/redis-connection.js';

export interface RedisStoreOptions {
  /** Prefix of every key and channel (default `portcullis:`). */
  keyPrefix?: string;
  /**
   * How long a write waits for this instance's copy to show it when changes arrive out of order
   * (default 2 s): after that it resolves anyway (Redis has it; the copy catches up on resync).
   */
  applyTimeoutMs?: number;
}

type Message =
  | { version: number; op: 'put'; kind: string; id: string; entity: StoredEntity }
  | { version: number; op: 'delete'; kind: string; id: string }
  | { version: number; op: 'setting'; key: string; value: unknown }
  | { version: number; op: 'reset' };

const PUT_SCRIPT = `
if ARGV[6] ~= '' then
  local current = redis.call('HGET', KEYS[3], ARGV[2])
  local stored = 0
  if current then stored = cjson.decode(current).version or 0 end
  if stored ~= tonumber(ARGV[6]) then return -1 end
end
local version = redis.call('INCR', KEYS[1])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
redis.call('PUBLISH', ARGV[4], '{"version":' .. version .. ',' .. ARGV[5])
return version
`;

const DELETE_SCRIPT = `
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return 0 end
local version = redis.call('INCR', KEYS[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('PUBLISH', ARGV[2], '{"version":' .. version .. ',' .. ARGV[3])
return version
`;

const SETTING_SCRIPT = `
if ARGV[5] == '1' and redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return -1 end
local version = redis.call('INCR', KEYS[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('PUBLISH', ARGV[3], '{"version":' .. version .. ',' .. ARGV[4])
return version
`;

/** KEYS: version, kinds, then one hash per replaced kind. ARGV: channel, then per kind: name, n, id, json… */
const REPLACE_ALL_SCRIPT = `
local version = redis.call('INCR', KEYS[1])
local i = 2
local k = 3
while i <= #ARGV do
  local kind = ARGV[i]
  local n = tonumber(ARGV[i + 1])
  redis.call('DEL', KEYS[k])
  redis.call('SADD', KEYS[2], kind)
  for j = 0, n - 1 do redis.call('HSET', KEYS[k], ARGV[i + 2 + 2 * j], ARGV[i + 3 + 2 * j]) end
  i = i + 2 + 2 * n
  k = k + 1
end
redis.call('PUBLISH', ARGV[1], '{"version":' .. version .. ',"op":"reset"}')
return version
`;

/** KEYS: version, kinds, settings. ARGV: the kind hashes' key prefix. Returns version, settings, then kind, fields… */
const SNAPSHOT_SCRIPT = `
local result = { redis.call('GET', KEYS[1]) or '0', redis.call('HGETALL', KEYS[3]) }
for _, kind in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  table.insert(result, kind)
  table.insert(result, redis.call('HGETALL', ARGV[1] .. kind))
end
return result
`;

type Scripts = {
  configPut(keys: 3, ...args: string[]): Promise<number>;
  configDelete(keys: 2, ...args: string[]): Promise<number>;
  configSetting(keys: 2, ...args: string[]): Promise<number>;
  configReplaceAll(keys: number, ...args: string[]): Promise<number>;
  configSnapshot(keys: 3, ...args: string[]): Promise<[string, string[], ...Array<string | string[]>]>;
};

const MAX_REPORTED_PROBLEMS = 10;

export class RedisConfigStore implements Store {
  readonly location: string;
  readonly #connection: RedisConnection;
  readonly #registry: EntityRegistry;
  readonly #applyTimeoutMs: number;
  readonly #keys: { version: string; kinds: string; settings: string; kindPrefix: string; channel: string };
  readonly #listeners = new Set<(event: ChangeEvent) => void>();
  #entities = new Map<string, Map<string, StoredEntity>>();
  #settings = new Map<string, unknown>();
  /** The version of the local copy: every change up to it is applied. */
  #version = 0;
  /** Messages that arrived during a resync, applied after it. */
  #buffered: Message[] | null = null;
  #resyncAgain = false;
  /** A resync failed: the copy may be behind until the next one succeeds. */
  #stale = false;
  #waiters: Array<{ version: number; resolve: () => void }> = [];
  #unsubscribe: Array<() => void> = [];

  constructor(connection: RedisConnection, registry: EntityRegistry, options: RedisStoreOptions = {}) {
    const base = `${options.keyPrefix ?? 'portcullis:'}config:`;
    this.location = `${connection.location} (keys ${base}*)`;
    this.#connection = connection;
    this.#registry = registry;
    this.#applyTimeoutMs = options.applyTimeoutMs ?? 2000;
    this.#keys = {
      version: `${base}version`,
      kinds: `${base}kinds`,
      settings: `${base}settings`,
      kindPrefix: `${base}kind:`,
      channel: `${base}changes`,
    };
    const client = connection.client;
    client.defineCommand('configPut', { lua: PUT_SCRIPT });
    client.defineCommand('configDelete', { lua: DELETE_SCRIPT });
    client.defineCommand('configSetting', { lua: SETTING_SCRIPT });
    client.defineCommand('configReplaceAll', { lua: REPLACE_ALL_SCRIPT });
    client.defineCommand('configSnapshot', { lua: SNAPSHOT_SCRIPT });
  }

  /** False while Redis cannot be reached or the last resync failed (`/ready` reports it). */
  get reachable(): boolean {
    return this.#connection.ready && !this.#stale;
  }

  /** The version of this instance's copy (tests and `/ready` diagnostics). */
  get version(): number {
    return this.#version;
  }

  async open(): Promise<void> {
    await this.#connection.open();
    // Subscribe before the snapshot, buffering, so no change falls between the two.
    this.#buffered = [];
    this.#unsubscribe.push(this.#connection.subscribe(this.#keys.channel, (text) => this.#receive(text)));
    this.#unsubscribe.push(this.#connection.onResync(() => this.#resyncSoon()));
    // A resync that failed (Redis went away again) is retried as soon as Redis is back.
    this.#unsubscribe.push(
      this.#connection.onReadyChange((ready) => {
        if (ready && this.#stale) this.#resyncSoon();
      }),
    );
    const problems = await this.#load();
    if (problems.length > 0) {
      throw new DataFileError(`The configuration in ${this.location} does not validate:\n  ${problems.join('\n  ')}`);
    }
  }

  get<S extends TSchema>(kind: EntityKind<S>, id: string): Static<S> | undefined;
  get(kind: string, id: string): StoredEntity | undefined;
  get(kind: string | EntityKind, id: string): StoredEntity | undefined {
    return this.#entities.get(kindName(kind))?.get(id);
  }

  list<S extends TSchema>(kind: EntityKind<S>): Static<S>[];
  list(kind: string): StoredEntity[];
  list(kind: string | EntityKind): StoredEntity[] {
    const collection = this.#entities.get(kindName(kind));
    return collection ? [...collection.values()] : [];
  }

  count(kind: string): number {
    return this.#entities.get(kind)?.size ?? 0;
  }

  async put(kind: string, id: string, entity: StoredEntity, expectedVersion?: number): Promise<void> {
    const json = JSON.stringify(entity);
    const tail = `"op":"put","kind":${JSON.stringify(kind)},"id":${JSON.stringify(id)},"entity":${json}}`;
    const expected = expectedVersion === undefined ? '' : String(expectedVersion);
    const version = await this.#run((s) =>
      s.configPut(
        3,
        this.#keys.version,
        this.#keys.kinds,
        this.#keys.kindPrefix + kind,
        kind,
        id,
        json,
        this.#keys.channel,
        tail,
        expected,
      ),
    );
    if (version === -1) throw staleWrite(kind, id);
    await this.#applied(version, { version, op: 'put', kind, id, entity: JSON.parse(json) });
  }

  async delete(kind: string, id: string): Promise<boolean> {
    const tail = `"op":"delete","kind":${JSON.stringify(kind)},"id":${JSON.stringify(id)}}`;
    const version = await this.#run((s) =>
      s.configDelete(2, this.#keys.version, this.#keys.kindPrefix + kind, id, this.#keys.channel, tail),
    );
    if (version === 0) return false;
    await this.#applied(version, { version, op: 'delete', kind, id });
    return true;
  }

  async replaceAll(collections: Collections): Promise<void> {
    const kinds = Object.keys(collections);
    const keys = [this.#keys.version, this.#keys.kinds, ...kinds.map((kind) => this.#keys.kindPrefix + kind)];
    const args = [this.#keys.channel];
    for (const kind of kinds) {
      const entries = Object.entries(collections[kind]!);
      args.push(kind, String(entries.length));
      for (const [id, entity] of entries) args.push(id, JSON.stringify(entity));
    }
    const version = await this.#run((s) => s.configReplaceAll(keys.length, ...keys, ...args));
    if (this.#version === version - 1 && this.#buffered === null) {
      // Our copy is just behind this write: apply it here rather than reloading everything.
      for (const kind of kinds) this.#entities.set(kind, new Map(Object.entries(structuredClone(collections[kind]!))));
      this.#advance(version, { op: 'reset' });
    }
    await this.#reached(version);
  }

  getSetting<T>(key: string): T | undefined {
    return this.#settings.get(key) as T | undefined;
  }

  async putSetting(key: string, value: unknown): Promise<void> {
    await this.#putSetting(key, value, false);
  }

  putSettingIfAbsent(key: string, value: unknown): Promise<boolean> {
    return this.#putSetting(key, value, true);
  }

  async #putSetting(key: string, value: unknown, ifAbsent: boolean): Promise<boolean> {
    const json = JSON.stringify(value);
    const tail = `"op":"setting","key":${JSON.stringify(key)},"value":${json}}`;
    const version = await this.#run((s) =>
      s.configSetting(
        2,
        this.#keys.version,
        this.#keys.settings,
        key,
        json,
        this.#keys.channel,
        tail,
        ifAbsent ? '1' : '0',
      ),
    );
    if (version === -1) {
      // Another instance wrote it first (perhaps a moment ago): read it now rather than wait for its message.
      await this.resync();
      return false;
    }
    await this.#applied(version, { version, op: 'setting', key, value: JSON.parse(json) });
    return true;
  }

  onChange(listener: (event: ChangeEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stop following; the connection belongs to whoever created it. */
  async close(): Promise<void> {
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    this.#unsubscribe = [];
    for (const waiter of this.#waiters) waiter.resolve();
    this.#waiters = [];
  }

  /**
   * Reload everything from Redis (after a reconnection, a gap or an import) and tell listeners
   * with one `reset`. Concurrent calls coalesce into one more reload.
   */
  async resync(): Promise<void> {
    if (this.#buffered !== null) {
      this.#resyncAgain = true;
      return;
    }
    this.#buffered = [];
    await this.#load();
  }

  async #load(): Promise<string[]> {
    let problems: string[] = [];
    try {
      do {
        this.#resyncAgain = false;
        const [versionText, settings, ...rest] = await this.#run((s) =>
          s.configSnapshot(3, this.#keys.version, this.#keys.kinds, this.#keys.settings, this.#keys.kindPrefix),
        );
        const entities = new Map<string, Map<string, StoredEntity>>();
        for (let i = 0; i < rest.length; i += 2) {
          const fields = rest[i + 1] as string[];
          const collection = new Map<string, StoredEntity>();
          for (let j = 0; j < fields.length; j += 2) collection.set(fields[j]!, JSON.parse(fields[j + 1]!));
          entities.set(rest[i] as string, collection);
        }
        const settingsMap = new Map<string, unknown>();
        for (let j = 0; j < settings.length; j += 2) settingsMap.set(settings[j]!, JSON.parse(settings[j + 1]!));
        problems = this.#validate(entities);
        this.#entities = entities;
        this.#settings = settingsMap;
        this.#version = Number(versionText);
      } while (this.#resyncAgain);
    } finally {
      const buffered = this.#buffered ?? [];
      this.#buffered = null;
      for (const message of buffered) this.#apply(message);
    }
    this.#emit({ op: 'reset' });
    this.#settle();
    return problems;
  }

  #resyncSoon(): void {
    this.resync().then(
      () => {
        this.#stale = false;
      },
      () => {
        this.#stale = true;
      },
    );
  }

  #receive(text: string): void {
    let message: Message;
    try {
      message = JSON.parse(text) as Message;
    } catch {
      return; // not ours
    }
    if (this.#buffered !== null) this.#buffered.push(message);
    else this.#apply(message);
  }

  /** Apply the next change in version order; a gap or an import means a full resync. */
  #apply(message: Message): void {
    if (message.version <= this.#version) return;
    if (message.version > this.#version + 1 || message.op === 'reset') {
      this.#resyncSoon();
      return;
    }
    switch (message.op) {
      case 'put': {
        let collection = this.#entities.get(message.kind);
        if (!collection) this.#entities.set(message.kind, (collection = new Map()));
        collection.set(message.id, message.entity);
        this.#advance(message.version, { op: 'put', kind: message.kind, id: message.id });
        break;
      }
      case 'delete':
        this.#entities.get(message.kind)?.delete(message.id);
        this.#advance(message.version, { op: 'delete', kind: message.kind, id: message.id });
        break;
      case 'setting':
        this.#settings.set(message.key, message.value);
        this.#advance(message.version, null);
        break;
    }
  }

  #advance(version: number, event: ChangeEvent | null): void {
    this.#version = version;
    if (event) this.#emit(event);
    this.#settle();
  }

  /**
   * After our own write: apply it at once when our copy is right behind it; otherwise the changes
   * before it are still on their way (the channel delivers in version order), so wait for them.
   */
  async #applied(version: number, message: Message): Promise<void> {
    if (this.#buffered === null && version === this.#version + 1) this.#apply(message);
    await this.#reached(version);
  }

  #reached(version: number): Promise<void> {
    if (this.#version >= version) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#resyncSoon();
        resolve();
      }, this.#applyTimeoutMs);
      timer.unref();
      this.#waiters.push({
        version,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  #settle(): void {
    if (this.#waiters.length === 0) return;
    const still: Array<{ version: number; resolve: () => void }> = [];
    for (const waiter of this.#waiters) {
      if (waiter.version <= this.#version) waiter.resolve();
      else still.push(waiter);
    }
    this.#waiters = still;
  }

  #emit(event: ChangeEvent): void {
    for (const listener of this.#listeners) listener(event);
  }

  #run<T>(script: (scripts: Scripts) => Promise<T>): Promise<T> {
    return this.#connection.run((client) => script(client as unknown as Scripts));
  }

  #validate(entities: Map<string, Map<string, StoredEntity>>): string[] {
    const problems: string[] = [];
    for (const kind of this.#registry.all()) {
      for (const [id, entity] of entities.get(kind.name) ?? []) {
        if (kind.validator.check(entity)) continue;
        for (const error of kind.validator.errors(entity, `${kind.name}/${id}`))
          problems.push(`${error.path}: ${error.message}`);
        if (problems.length >= MAX_REPORTED_PROBLEMS) return problems;
      }
    }
    return problems;
  }
}
