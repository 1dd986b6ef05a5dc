/**
 * The persistence contract. A store keeps every entity of every kind, answers reads from memory,
 * acknowledges a write only once it is durable, and reports each change on its feed so that the
 * in-memory State can follow. The embedded implementation is `lowdb-store.ts`.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import type { EntityKind, StoredEntity } from './entities.js';
import { ConflictError } from '../errors.js';

export type ChangeEvent =
  { op: 'put'; kind: string; id: string } | { op: 'delete'; kind: string; id: string } | { op: 'reset' };

/**
 * Entities by kind, then by id. Ids are chosen by users (`constructor`, `toString` are valid ids),
 * so every level is a prototype-free object (`Object.create(null)`), never a plain `{}`.
 */
export type Collections = Record<string, Record<string, StoredEntity>>;

/** A prototype-free record, for anything keyed by a user-chosen string. */
export function emptyRecord<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

export interface Store {
  /** Load (or create) the data; throws a clear error when the data cannot be trusted. */
  open(): Promise<void>;
  /** Typed by the kind when given one: `store.get(ROUTES, id)` is a `Route`. */
  get<S extends TSchema>(kind: EntityKind<S>, id: string): Static<S> | undefined;
  get(kind: string, id: string): StoredEntity | undefined;
  list<S extends TSchema>(kind: EntityKind<S>): Static<S>[];
  list(kind: string): StoredEntity[];
  count(kind: string): number;
  /**
   * Create or replace; resolves once durable, then the change is reported. With `expectedVersion`
   * the write is a compare-and-set: it is refused (409, nothing written) unless the stored entity's
   * version is that one (0: none may exist). The check and the write are one atomic step in the
   * store, so writers on several instances cannot overwrite each other's changes unseen.
   */
  put(kind: string, id: string, entity: StoredEntity, expectedVersion?: number): Promise<void>;
  /** Resolves false when there was nothing to delete. */
  delete(kind: string, id: string): Promise<boolean>;
  /** Replace every collection at once (import); one durable write, one `reset` change. */
  replaceAll(collections: Collections): Promise<void>;
  /** Gateway settings that are not entities (the admin password hash). */
  getSetting<T>(key: string): T | undefined;
  putSetting(key: string, value: unknown): Promise<void>;
  /**
   * Write a setting only when no instance has written it yet (one atomic check-and-set where instances
   * share the store): first-start values such as the generated admin password. False when one was there.
   */
  putSettingIfAbsent(key: string, value: unknown): Promise<boolean>;
  /** Subscribe to changes; returns the unsubscribe function. */
  onChange(listener: (event: ChangeEvent) => void): () => void;
  /** Wait for pending writes. */
  close(): Promise<void>;
  /** Where the data lives, for start-up output. */
  readonly location: string;
  /** False while the store cannot be reached (a remote store); `/ready` reports it. Absent: always reachable. */
  readonly reachable?: boolean;
}

/** The data file could not be read or does not validate: start-up must stop, the file stays untouched. */
export class DataFileError extends Error {
  override name = 'DataFileError';
}

/** The collection name of a kind given by name or by its declaration. */
export function kindName(kind: string | EntityKind): string {
  return typeof kind === 'string' ? kind : kind.name;
}

/** The refusal of a compare-and-set write (`Store.put` with `expectedVersion`). */
export function staleWrite(kind: string, id: string): ConflictError {
  return new ConflictError(
    `The ${kind} entity "${id}" was changed by another write since it was read; reload it and apply the change again`,
  );
}
