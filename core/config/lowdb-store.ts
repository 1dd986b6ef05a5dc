/**
 * The embedded store: one JSON file through lowdb. Reads come from memory; writes mutate memory and
 * are grouped into one durable file write (group commit), each caller acknowledged once the write
 * that carries its change is on disk. A failed write undoes the changes it carried.
 */
import { Low } from 'lowdb';
import { resolve } from 'node:path';
import { DurableJsonFile } from './durable-json-file.js';
import { DataFileError, type ChangeEvent, type Collections, type Store } from './store.js';
import type { EntityRegistry, StoredEntity } from './entities.js';

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
  #open = false;
  /** The batch collecting changes for the next write, and the write in progress. */
  #nextBatch: Batch | null = null;
  #writing: Promise<void> = Promise.resolve();

  constructor(file: string, registry: EntityRegistry) {
    this.location = resolve(file);
    this.#registry = registry;
    this.#file = new DurableJsonFile<DataFile>(this.location);
    this.#db = new Low<DataFile>(this.#file, emptyData());
  }

  async open(): Promise<void> {
    // Read through the adapter directly: lowdb keeps its default data when the file is missing,
    // and we need to know that to create the file.
    const raw = await this.#file.read();
    this.#db.data = this.#validate(raw);
    this.#open = true;
    if (raw === null) await this.#commit(() => {}, []);
  }

  get(kind: string, id: string): StoredEntity | undefined {
    return this.#collection(kind)[id];
  }

  list(kind: string): StoredEntity[] {
    return Object.values(this.#collection(kind));
  }

  count(kind: string): number {
    return Object.keys(this.#collection(kind)).length;
  }

  put(kind: string, id: string, entity: StoredEntity): Promise<void> {
    const collection = this.#collectionForWrite(kind);
    const had = Object.hasOwn(collection, id);
    const previous = collection[id];
    collection[id] = entity;
    return this.#commit(() => { if (had) collection[id] = previous!; else delete collection[id]; }, [{ op: 'put', kind, id }]);
  }

  async delete(kind: string, id: string): Promise<boolean> {
    const collection = this.#collectionForWrite(kind);
    if (!Object.hasOwn(collection, id)) return false;
    const previous = collection[id]!;
    delete collection[id];
    await this.#commit(() => { collection[id] = previous; }, [{ op: 'delete', kind, id }]);
    return true;
  }

  replaceAll(collections: Collections): Promise<void> {
    const data = this.#db.data;
    const previous = data.entities;
    data.entities = { ...previous, ...collections };
    return this.#commit(() => { data.entities = previous; }, [{ op: 'reset' }]);
  }

  getSetting<T>(key: string): T | undefined {
    return this.#db.data.settings[key] as T | undefined;
  }

  putSetting(key: string, value: unknown): Promise<void> {
    const settings = this.#db.data.settings;
    const had = Object.hasOwn(settings, key);
    const previous = settings[key];
    settings[key] = value;
    return this.#commit(() => { if (had) settings[key] = previous; else delete settings[key]; }, []);
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
    return (this.#db.data.entities[kind] ??= {});
  }

  /** Join the next write; the promise settles when that write is durable (then listeners are told). */
  #commit(undo: () => void, events: ChangeEvent[]): Promise<void> {
    let batch = this.#nextBatch;
    if (!batch) {
      const created: Batch = { undo: [], events: [], done: Promise.resolve() };
      created.done = this.#writing.catch(() => {}).then(async () => {
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

  #emit(event: ChangeEvent): void {
    for (const listener of this.#listeners) listener(event);
  }

  #validate(data: unknown): DataFile {
    if (data === null) return emptyData();
    const where = this.location;
    if (typeof data !== 'object' || Array.isArray(data)) throw new DataFileError(`Data file ${where} must hold a JSON object`);
    const file = data as Partial<DataFile>;
    if (file.schemaVersion !== DATA_SCHEMA_VERSION) {
      throw new DataFileError(`Data file ${where} has schemaVersion ${JSON.stringify(file.schemaVersion)}; this Portcullis reads version ${DATA_SCHEMA_VERSION}`);
    }
    const problems: string[] = [];
    const entities = file.entities ?? {};
    if (typeof entities !== 'object' || Array.isArray(entities)) throw new DataFileError(`Data file ${where}: "entities" must be an object`);
    for (const kind of this.#registry.all()) {
      const collection = entities[kind.name];
      if (collection === undefined) continue;
      if (typeof collection !== 'object' || collection === null || Array.isArray(collection)) {
        problems.push(`${kind.name}: must be an object keyed by id`);
        continue;
      }
      for (const [id, entity] of Object.entries(collection)) {
        if (kind.validator.check(entity)) continue; // the error walker is slow: only for the invalid ones
        for (const error of kind.validator.errors(entity, `${kind.name}/${id}`)) problems.push(`${error.path}: ${error.message}`);
        if (problems.length >= MAX_REPORTED_PROBLEMS) break;
      }
      if (problems.length >= MAX_REPORTED_PROBLEMS) break;
    }
    if (problems.length > 0) {
      throw new DataFileError(`Data file ${where} does not validate; fix or move it away, it will not be overwritten:\n  ${problems.join('\n  ')}`);
    }
    return { schemaVersion: DATA_SCHEMA_VERSION, settings: file.settings ?? {}, entities };
  }
}

const EMPTY: Record<string, StoredEntity> = Object.freeze({}) as Record<string, StoredEntity>;

function emptyData(): DataFile {
  return { schemaVersion: DATA_SCHEMA_VERSION, settings: {}, entities: {} };
}
