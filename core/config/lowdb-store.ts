/**
 * The embedded store: lowdb holding the data in memory over a data file and an append-only journal.
 * Reads come from memory; writes mutate memory and are grouped into one durable append to the
 * journal (group commit: one fsync for every change that arrived meanwhile), each caller acknowledged
 * once the append that carries its change is on disk. A failed write undoes the changes it carried.
 *
 * The data file is rewritten whole (temporary file, fsync, rename) only on a first start, an import,
 * a clean stop with journaled changes, after a failed append, and by the compaction: once the journal
 * passes half the data file's size, a new journal is started and the data file rewritten in the
 * background while writes go on to the new journal (`journal-chain.ts` says why a crash at any
 * instant loses no acknowledged change). Start-up reads the data file, then replays the chain.
 */
import { Low } from 'lowdb';
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Static, TSchema } from '@sinclair/typebox';
import { DurableJsonFile, syncDirectory } from './durable-json-file.js';
import { JournalWriter, type JournalRecord } from './journal-file.js';
import {
  deleteJournals,
  journalFiles,
  journalPath,
  newJournalId,
  readChain,
  type ChainLink,
  type JournalChain,
} from './journal-chain.js';
import { SharedValues } from './shared-values.js';
import { LARGE_DATA_FILE_BYTES, releaseHeapWhenQuiet } from './heap-after-load.js';
import {
  DataFileError,
  emptyRecord,
  kindName,
  staleWrite,
  type ChangeEvent,
  type Collections,
  type Store,
} from './store.js';
import type { EntityKind, EntityRegistry, StoredEntity } from './entities.js';

export const DATA_SCHEMA_VERSION = 1;

/**
 * Entities by kind (a prototype-free record), then by id in a Map: with 100 000 entities of a kind,
 * listing a Map's values costs a fraction of `Object.values` over an object that large (a dictionary
 * whose enumeration V8 sorts), and the file's order is the Map's insertion order.
 */
type EntityMaps = Record<string, Map<string, StoredEntity>>;

interface DataFile {
  schemaVersion: number;
  settings: Record<string, unknown>;
  entities: EntityMaps;
}

/** One slot of the data (an entity of a collection, a setting, the entities themselves) before and after a change. */
interface Change {
  readonly target: Record<string, unknown> | Map<string, unknown>;
  readonly key: string;
  readonly before: Slot;
  readonly after: Slot;
}

interface Slot {
  readonly present: boolean;
  readonly value: unknown;
}

interface Batch {
  changes: Change[];
  records: JournalRecord[];
  /** The batch rewrites the data file instead of appending to the journal (import, first start). */
  rewrite: boolean;
  events: ChangeEvent[];
  done: Promise<void>;
}

export interface LowdbStoreOptions {
  /** The journal is compacted once it is this share of the data file's size… */
  compactRatio?: number;
  /** …and at least this many bytes. */
  compactMinBytes?: number;
}

const MAX_REPORTED_PROBLEMS = 10;

export class LowdbStore implements Store {
  readonly location: string;
  readonly #db: Low<DataFile>;
  readonly #file: DurableJsonFile<DataFile>;
  readonly #registry: EntityRegistry;
  readonly #listeners = new Set<(event: ChangeEvent) => void>();
  readonly #log: Logger | null;
  readonly #compactRatio: number;
  readonly #compactMinBytes: number;
  #open = false;
  /** The batch collecting changes for the next write, and the write in progress. */
  #nextBatch: Batch | null = null;
  #writing: Promise<void> = Promise.resolve();
  /** The journal appends go to (null: created on the first append) and its id (null: the data file names none yet). */
  #journal: JournalWriter | null = null;
  #journalId: string | null = null;
  /** An append failed: the journal's tail cannot be trusted, the next write rewrites the data file. */
  #journalBroken = false;
  #dataFileBytes = 0;
  /** What the first write does before appending: reopen the chain's last journal (its torn tail cut off), delete stale ones. */
  #resume: { last: ChainLink | null; stale: string[] } | null = null;
  /** The compaction under way, and its data file write (an import waits for it: one temporary file). */
  #compaction: Promise<void> | null = null;
  #dataFileWrite: Promise<void> = Promise.resolve();
  /** The registry's fingerprint when the store opened: what the loaded entities were validated against. */
  #openFingerprint: string | null = null;

  constructor(file: string, registry: EntityRegistry, log?: Logger, options: LowdbStoreOptions = {}) {
    this.location = resolve(file);
    this.#registry = registry;
    this.#log = log ?? null;
    this.#compactRatio = options.compactRatio ?? 0.5;
    this.#compactMinBytes = options.compactMinBytes ?? 1 << 20;
    this.#file = new DurableJsonFile<DataFile>(this.location, { collectionsAsMaps: true });
    this.#db = new Low<DataFile>(this.#file, emptyData());
  }

  async open(): Promise<void> {
    // Read through the adapter directly: lowdb keeps its default data when the file is missing,
    // and we need to know that to create the file.
    // Only a missing file means a first start: anything else that is not a store stops start-up.
    const content = await this.#file.readContent();
    if (!content.found) {
      this.#openFingerprint = this.#registry.fingerprint();
      this.#db.data = emptyData();
      this.#open = true;
      return this.#commit([], [], [], true);
    }
    // A file sealed with the fingerprint of today's schemas and untouched since holds only entities
    // validated when written (or when loaded by an earlier start): validating 100 000 again costs ~0.3 s.
    this.#openFingerprint = this.#registry.fingerprint();
    const data = this.#validate(content.data, content.seal === this.#openFingerprint);
    const first = (content.data as { journal?: unknown }).journal;
    const chain = await readChain(this.location, typeof first === 'string' ? first : null);
    this.#replay(data, chain);
    shareValues(data, this.#registry);
    this.#db.data = data;
    this.#dataFileBytes = (await stat(this.location)).size;
    if (this.#dataFileBytes >= LARGE_DATA_FILE_BYTES) releaseHeapWhenQuiet();
    const last = chain.links.at(-1);
    this.#journalId = last ? last.content.header.journal : typeof first === 'string' ? first : null;
    // Left as they are until the first write: a reader (`portcullis export`, which takes no lock) changes nothing.
    this.#resume = { last: last ?? null, stale: chain.stale };
    this.#open = true;
  }

  get<S extends TSchema>(kind: EntityKind<S>, id: string): Static<S> | undefined;
  get(kind: string, id: string): StoredEntity | undefined;
  get(kind: string | EntityKind, id: string): StoredEntity | undefined {
    return this.#collection(kindName(kind)).get(id);
  }

  list<S extends TSchema>(kind: EntityKind<S>): Static<S>[];
  list(kind: string): StoredEntity[];
  list(kind: string | EntityKind): StoredEntity[] {
    return [...this.#collection(kindName(kind)).values()];
  }

  count(kind: string): number {
    return this.#collection(kind).size;
  }

  put(kind: string, id: string, entity: StoredEntity, expectedVersion?: number): Promise<void> {
    const collection = this.#collectionForWrite(kind);
    const previous = collection.get(id);
    if (expectedVersion !== undefined && (previous?.version ?? 0) !== expectedVersion)
      return Promise.reject(staleWrite(kind, id));
    const change = setSlot(collection, id, { present: true, value: entity });
    return this.#commit([change], [{ op: 'put', kind, id, entity }], [{ op: 'put', kind, id }]);
  }

  async delete(kind: string, id: string): Promise<boolean> {
    const collection = this.#collectionForWrite(kind);
    if (!collection.has(id)) return false;
    const change = setSlot(collection, id, { present: false, value: undefined });
    await this.#commit([change], [{ op: 'delete', kind, id }], [{ op: 'delete', kind, id }]);
    return true;
  }

  replaceAll(collections: Collections): Promise<void> {
    const data = this.#db.data;
    const next = emptyRecord<Map<string, StoredEntity>>();
    Object.assign(next, data.entities);
    for (const [kind, collection] of Object.entries(collections)) next[kind] = new Map(Object.entries(collection));
    const change = setSlot(data as unknown as Record<string, unknown>, 'entities', { present: true, value: next });
    return this.#commit([change], [], [{ op: 'reset' }], true);
  }

  getSetting<T>(key: string): T | undefined {
    return this.#db.data.settings[key] as T | undefined;
  }

  putSetting(key: string, value: unknown): Promise<void> {
    const change = setSlot(this.#db.data.settings, key, { present: true, value });
    return this.#commit([change], [{ op: 'setting', key, value }], []);
  }

  async putSettingIfAbsent(key: string, value: unknown): Promise<boolean> {
    if (Object.hasOwn(this.#db.data.settings, key)) return false;
    await this.putSetting(key, value);
    return true;
  }

  onChange(listener: (event: ChangeEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Wait for pending writes; then, when the journal holds changes, fold them into the data file, so
   * that a stopped gateway leaves one self-contained file (what a copy of the file as a backup expects).
   */
  async close(): Promise<void> {
    await (this.#nextBatch?.done ?? this.#writing).catch(() => {});
    await this.#compaction;
    if (this.#open && this.#journal?.hasRecords === true)
      await this.#commit([], [], [], true).catch((error: unknown) => {
        this.#log?.warn({ err: error }, 'the journal could not be folded into the data file; it is kept');
      });
    const journal = this.#journal;
    this.#journal = null;
    await journal?.close();
    // A journal a compaction started that nothing was appended to: the data file holds everything
    // (it names the journal; a named journal that is missing is an empty one).
    if (journal !== null && !journal.hasRecords) await deleteJournals([journal.path]);
  }

  #collection(kind: string): ReadonlyMap<string, StoredEntity> {
    return this.#db.data.entities[kind] ?? EMPTY;
  }

  #collectionForWrite(kind: string): Map<string, StoredEntity> {
    if (!this.#open) throw new Error('Store is not open');
    return (this.#db.data.entities[kind] ??= new Map());
  }

  /** Join the next write; the promise settles when that write is durable (then listeners are told). */
  #commit(changes: Change[], records: JournalRecord[], events: ChangeEvent[], rewrite = false): Promise<void> {
    let batch = this.#nextBatch;
    if (!batch) {
      const created: Batch = { changes: [], records: [], rewrite: false, events: [], done: Promise.resolve() };
      created.done = this.#writing
        .catch(() => {})
        .then(async () => {
          this.#nextBatch = null;
          try {
            await this.#write(created);
          } catch (error) {
            for (let i = created.changes.length - 1; i >= 0; i--) restore(created.changes[i]!, 'before');
            throw error;
          }
          for (const event of created.events) this.#emit(event);
        });
      this.#writing = created.done;
      this.#nextBatch = batch = created;
    }
    batch.changes.push(...changes);
    batch.records.push(...records);
    batch.events.push(...events);
    batch.rewrite ||= rewrite;
    return batch.done;
  }

  /** One batch on disk: appended to the journal, or the whole data file when it must be. */
  async #write(batch: Batch): Promise<void> {
    if (batch.rewrite || this.#journalId === null || this.#journalBroken) return this.#rewrite();
    if (batch.records.length === 0) return;
    if (this.#resume !== null) {
      const { last, stale } = this.#resume;
      if (last !== null) this.#journal = await JournalWriter.reopen(last.path, last.content);
      await deleteJournals(stale);
      this.#resume = null;
    }
    if (this.#journal === null) {
      const path = journalPath(this.location, this.#journalId);
      this.#journal = await JournalWriter.create(path, { journal: this.#journalId, follows: null });
      await syncDirectory(dirname(this.location));
    }
    try {
      await this.#journal.append(batch.records);
    } catch (error) {
      this.#journalBroken = true;
      throw error;
    }
    const threshold = Math.max(this.#compactMinBytes, this.#dataFileBytes * this.#compactRatio);
    if (this.#journal.size > threshold && this.#compaction === null) {
      this.#compaction = this.#compact()
        .catch((error: unknown) => this.#log?.error({ err: error }, 'journal compaction failed; the journal is kept'))
        .finally(() => {
          this.#compaction = null;
        });
    }
  }

  /** The whole data file, naming a new (empty) journal; every older journal is then stale. */
  async #rewrite(): Promise<void> {
    await this.#dataFileWrite.catch(() => {});
    const id = newJournalId();
    const written = this.#writeDataFile(id);
    this.#dataFileWrite = written;
    await written;
    const previous = this.#journal;
    this.#journal = null;
    this.#resume = null;
    this.#journalId = id;
    this.#journalBroken = false;
    await previous?.close();
    await deleteJournals(await journalFiles(this.location));
  }

  /**
   * Start a new journal following the current one (in the write chain: no append in flight), then
   * rewrite the data file naming it, while writes go on to the new journal; the old one is then stale.
   */
  async #compact(): Promise<void> {
    let written: Promise<void> = Promise.resolve();
    const rotated = this.#writing
      .catch(() => {})
      .then(async () => {
        if (this.#journalId === null || this.#journalBroken) return;
        await this.#dataFileWrite.catch(() => {});
        const id = newJournalId();
        const path = journalPath(this.location, id);
        const next = await JournalWriter.create(path, { journal: id, follows: this.#journalId });
        await syncDirectory(dirname(this.location));
        const previous = this.#journal;
        this.#journal = next;
        this.#journalId = id;
        written = this.#dataFileWrite = this.#writeDataFile(id);
        await previous?.close();
      });
    this.#writing = rotated;
    await rotated;
    await written;
    const current = this.#journal?.path;
    await deleteJournals((await journalFiles(this.location)).filter((path) => path !== current));
  }

  /**
   * Write the data file naming journal `id`, as the durable state is now: the changes of the batch
   * still collecting (not yet durable, maybe never) are left out. The containers are captured before
   * this returns; the file is written after.
   */
  async #writeDataFile(id: string): Promise<void> {
    const pending = this.#nextBatch?.changes ?? [];
    for (let i = pending.length - 1; i >= 0; i--) restore(pending[i]!, 'before');
    let written: Promise<void>;
    try {
      const data = this.#db.data;
      const document = {
        schemaVersion: data.schemaVersion,
        journal: id,
        settings: data.settings,
        entities: data.entities,
      };
      written = this.#file.write(document as unknown as DataFile, this.#seal());
    } finally {
      for (const change of pending) restore(change, 'after');
    }
    await written;
    this.#dataFileBytes = (await stat(this.location)).size;
  }

  /**
   * Tell every listener. The write is durable and its callers are acknowledged whatever a listener
   * does: one that throws is logged and the others still hear of the change.
   */
  #emit(event: ChangeEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#log?.error({ err: error, change: event }, 'a change listener failed; the change is stored');
      }
    }
  }

  /** Apply the journals' records over the data file's content, each entity validated as the file's are. */
  #replay(data: DataFile, chain: JournalChain): void {
    const problems: string[] = [];
    for (const { path, content } of chain.links) {
      for (const record of content.records) {
        if (record.op === 'setting') {
          data.settings[record.key] = record.value;
          continue;
        }
        const collection = (data.entities[record.kind] ??= new Map());
        if (record.op === 'delete') {
          collection.delete(record.id);
          continue;
        }
        const kind = this.#registry.get(record.kind);
        if (kind && !kind.validator.check(record.entity) && problems.length < MAX_REPORTED_PROBLEMS)
          for (const error of kind.validator.errors(record.entity, `${path}: ${kind.name}/${record.id}`))
            problems.push(`${error.path}: ${error.message}`);
        collection.set(record.id, record.entity);
      }
    }
    if (problems.length > 0) {
      throw new DataFileError(
        `Data file ${this.location} has a journal that does not validate; fix or move them away, they will not be overwritten:\n  ${problems.join('\n  ')}`,
      );
    }
  }

  /**
   * The seal of a data file written now: the registry's fingerprint, when it is the one the loaded
   * entities were validated against (a kind registered after `open` had its stored entities loaded
   * unvalidated: the file is then written unsealed, and the next start validates it).
   */
  #seal(): string | undefined {
    const now = this.#registry.fingerprint();
    return now === this.#openFingerprint ? now : undefined;
  }

  #validate(data: unknown, trusted: boolean): DataFile {
    const where = this.location;
    const unreadable = (why: string) =>
      new DataFileError(`Data file ${where} ${why}; fix or move it away, it will not be overwritten`);
    if (!isPlainObject(data)) throw unreadable(`does not hold a Portcullis store (found ${describeJson(data)})`);
    if (data.schemaVersion !== DATA_SCHEMA_VERSION) {
      throw unreadable(
        `has schemaVersion ${JSON.stringify(data.schemaVersion)}; this Portcullis reads version ${DATA_SCHEMA_VERSION}`,
      );
    }
    const settings = data.settings === undefined ? {} : data.settings;
    if (!isPlainObject(settings)) throw unreadable('has "settings" that is not an object');
    const entities = data.entities === undefined ? {} : data.entities;
    if (!isPlainObject(entities)) throw unreadable('has "entities" that is not an object');
    const problems: string[] = [];
    const loaded = emptyRecord<Map<string, StoredEntity>>();
    for (const [name, collection] of Object.entries(entities)) {
      const kind = this.#registry.get(name);
      if (!isPlainObject(collection)) {
        problems.push(`${name}: must be an object keyed by id`);
        continue;
      }
      const entries = collectionMap(collection);
      loaded[name] = entries;
      if (!kind || trusted) continue; // a kind of a plugin not installed now: kept as it is
      for (const [id, entity] of entries) {
        if (kind.validator.check(entity)) continue; // the error walker is slow: only for the invalid ones
        for (const error of kind.validator.errors(entity, `${kind.name}/${id}`))
          problems.push(`${error.path}: ${error.message}`);
        if (problems.length >= MAX_REPORTED_PROBLEMS) break;
      }
      if (problems.length >= MAX_REPORTED_PROBLEMS) break;
    }
    if (problems.length > 0) {
      throw new DataFileError(
        `Data file ${where} does not validate; fix or move it away, it will not be overwritten:\n  ${problems.join('\n  ')}`,
      );
    }
    return {
      schemaVersion: DATA_SCHEMA_VERSION,
      settings: Object.setPrototypeOf(settings, null) as Record<string, unknown>,
      entities: loaded,
    };
  }
}

const EMPTY: ReadonlyMap<string, StoredEntity> = new Map();

/** A collection as read: a Map already (the framed reader's), or the object a whole-text parse made. */
function collectionMap(collection: Record<string, unknown> | Map<string, StoredEntity>): Map<string, StoredEntity> {
  if (collection instanceof Map) return collection;
  const entries = new Map<string, StoredEntity>();
  // own keys only: a parsed object inherits no enumerable key, and `__proto__` is refused when parsed
  for (const id in collection) entries.set(id, collection[id] as StoredEntity);
  return entries;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** Set one slot; the change, to undo or redo it. */
function setSlot(target: Record<string, unknown> | Map<string, unknown>, key: string, after: Slot): Change {
  const before =
    target instanceof Map
      ? { present: target.has(key), value: target.get(key) }
      : { present: Object.hasOwn(target, key), value: target[key] };
  const change = { target, key, before, after };
  restore(change, 'after');
  return change;
}

function restore(change: Change, which: 'before' | 'after'): void {
  const { target, key } = change;
  const slot = change[which];
  if (target instanceof Map) {
    if (slot.present) target.set(key, slot.value);
    else target.delete(key);
  } else if (slot.present) target[key] = slot.value;
  else delete target[key];
}

/** Equal small values of loaded entities shared (`shared-values.ts`), each entity's id one string with its key. */
function shareValues(data: DataFile, registry: EntityRegistry): void {
  const shared = new SharedValues();
  for (const name in data.entities) {
    const kind = registry.get(name);
    if (!kind) continue;
    for (const [id, entity] of data.entities[name]!) shared.compact(entity, kind.idField, id);
  }
}

function emptyData(): DataFile {
  return { schemaVersion: DATA_SCHEMA_VERSION, settings: emptyRecord(), entities: emptyRecord() };
}
