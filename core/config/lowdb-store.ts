/**
 * The embedded store: one JSON file through lowdb. Reads come from memory; writes mutate memory and
 * are grouped into one durable file write (group commit), each caller acknowledged once the write
 * that carries its change is on disk. A failed write undoes the changes it carried.
 */
import { Low } from 'lowdb';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Static, TSchema } from '@sinclair/typebox';
import { DurableJsonFile } from './durable-json-file.js';
import { SharedValues } from './shared-values.js';
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

interface DataFile {
  schemaVersion: number;
  settings: Record<string, unknown>;
  entities: Collections;
}

interface Batch {
  undo: Array<() => void>;
  events: ChangeEvent[];
  done: Promise<void>;
}

const MAX_REPORTED_PROBLEMS = 10;

export class LowdbStore implements Store {
  readonly location: string;
  readonly #db: Low<DataFile>;
  readonly #file: DurableJsonFile<DataFile>;
  readonly #registry: EntityRegistry;
  readonly #listeners = new Set<(event: ChangeEvent) => void>();
  readonly #log: Logger | null;
  #open = false;
  /** The batch collecting changes for the next write, and the write in progress. */
  #nextBatch: Batch | null = null;
  #writing: Promise<void> = Promise.resolve();

  constructor(file: string, registry: EntityRegistry, log?: Logger) {
    this.location = resolve(file);
    this.#registry = registry;
    this.#log = log ?? null;
    this.#file = new DurableJsonFile<DataFile>(this.location);
    this.#db = new Low<DataFile>(this.#file, emptyData());
  }

  async open(): Promise<void> {
    // Read through the adapter directly: lowdb keeps its default data when the file is missing,
    // and we need to know that to create the file.
    // Only a missing file means a first start: anything else that is not a store stops start-up.
    const content = await this.#file.readContent();
    this.#db.data = content.found ? this.#validate(content.data) : emptyData();
    this.#open = true;
    if (!content.found) await this.#commit(() => {}, []);
  }

  get<S extends TSchema>(kind: EntityKind<S>, id: string): Static<S> | undefined;
  get(kind: string, id: string): StoredEntity | undefined;
  get(kind: string | EntityKind, id: string): StoredEntity | undefined {
    return this.#collection(kindName(kind))[id];
  }

  list<S extends TSchema>(kind: EntityKind<S>): Static<S>[];
  list(kind: string): StoredEntity[];
  list(kind: string | EntityKind): StoredEntity[] {
    return Object.values(this.#collection(kindName(kind)));
  }

  count(kind: string): number {
    return Object.keys(this.#collection(kind)).length;
  }

  put(kind: string, id: string, entity: StoredEntity, expectedVersion?: number): Promise<void> {
    const collection = this.#collectionForWrite(kind);
    const had = Object.hasOwn(collection, id);
    const previous = collection[id];
    if (expectedVersion !== undefined && (previous?.version ?? 0) !== expectedVersion)
      return Promise.reject(staleWrite(kind, id));
    collection[id] = entity;
    return this.#commit(() => {
      if (had) collection[id] = previous!;
      else delete collection[id];
    }, [{ op: 'put', kind, id }]);
  }

  async delete(kind: string, id: string): Promise<boolean> {
    const collection = this.#collectionForWrite(kind);
    if (!Object.hasOwn(collection, id)) return false;
    const previous = collection[id]!;
    delete collection[id];
    await this.#commit(() => {
      collection[id] = previous;
    }, [{ op: 'delete', kind, id }]);
    return true;
  }

  replaceAll(collections: Collections): Promise<void> {
    const data = this.#db.data;
    const previous = data.entities;
    const next = emptyRecord<Record<string, StoredEntity>>();
    Object.assign(next, previous);
    for (const [kind, collection] of Object.entries(collections))
      next[kind] = Object.assign(emptyRecord<StoredEntity>(), collection);
    data.entities = next;
    return this.#commit(() => {
      data.entities = previous;
    }, [{ op: 'reset' }]);
  }

  getSetting<T>(key: string): T | undefined {
    return this.#db.data.settings[key] as T | undefined;
  }

  putSetting(key: string, value: unknown): Promise<void> {
    const settings = this.#db.data.settings;
    const had = Object.hasOwn(settings, key);
    const previous = settings[key];
    settings[key] = value;
    return this.#commit(() => {
      if (had) settings[key] = previous;
      else delete settings[key];
    }, []);
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

  async close(): Promise<void> {
    await (this.#nextBatch?.done ?? this.#writing).catch(() => {});
  }

  #collection(kind: string): Record<string, StoredEntity> {
    return this.#db.data.entities[kind] ?? EMPTY;
  }

  #collectionForWrite(kind: string): Record<string, StoredEntity> {
    if (!this.#open) throw new Error('Store is not open');
    return (this.#db.data.entities[kind] ??= emptyRecord());
  }

  /** Join the next write; the promise settles when that write is durable (then listeners are told). */
  #commit(undo: () => void, events: ChangeEvent[]): Promise<void> {
    let batch = this.#nextBatch;
    if (!batch) {
      const created: Batch = { undo: [], events: [], done: Promise.resolve() };
      created.done = this.#writing
        .catch(() => {})
        .then(async () => {
          this.#nextBatch = null;
          try {
            await this.#db.write();
          } catch (error) {
            for (const undoOne of created.undo.reverse()) undoOne();
            throw error;
          }
          for (const event of created.events) this.#emit(event);
        });
      this.#writing = created.done;
      this.#nextBatch = batch = created;
    }
    batch.undo.push(undo);
    batch.events.push(...events);
    return batch.done;
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

  #validate(data: unknown): DataFile {
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
    const loaded = emptyRecord<Record<string, StoredEntity>>();
    for (const [name, collection] of Object.entries(entities)) {
      const kind = this.#registry.get(name);
      if (!isPlainObject(collection)) {
        problems.push(`${name}: must be an object keyed by id`);
        continue;
      }
      // The parsed object becomes the collection, made prototype-free in place: a copy of 100 000
      // entries would cost time and, for a moment, twice the memory.
      loaded[name] = Object.setPrototypeOf(collection, null) as Record<string, StoredEntity>;
      if (!kind) continue; // a kind of a plugin not installed now: kept as it is
      for (const id in collection) {
        // own keys only: the collection has no prototype by now
        const entity = collection[id];
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
    const shared = new SharedValues();
    for (const name in loaded) {
      const kind = this.#registry.get(name);
      if (!kind) continue;
      const collection = loaded[name]!;
      for (const id in collection) shared.compact(collection[id]!, kind.idField, id);
    }
    return {
      schemaVersion: DATA_SCHEMA_VERSION,
      settings: Object.setPrototypeOf(settings, null) as Record<string, unknown>,
      entities: loaded,
    };
  }
}

const EMPTY: Record<string, StoredEntity> = Object.freeze(emptyRecord<StoredEntity>());

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function emptyData(): DataFile {
  return { schemaVersion: DATA_SCHEMA_VERSION, settings: emptyRecord(), entities: emptyRecord() };
}
