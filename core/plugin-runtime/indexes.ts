/**
 * Derived indexes: the views of configuration a request needs besides its route (API keys by client
 * id, key pairs by kid, compiled JWT verifiers). A plugin (`Plugin.indexes`) or the core declares how
 * to build one; the compile step (`core/compiler/`) builds every index in the same pass as the routes,
 * on every configuration change that concerns it, and swaps them in with the routes, so a request
 * reads one consistent snapshot and never the store.
 */
import type { ChangeEvent, Store } from '../config/store.js';

/** What an index is built from: the stored entities, read-only. */
export type EntitySource = Pick<Store, 'get' | 'list'>;

/** A typed name for an index: the key under which the snapshot holds it. */
export interface IndexKey<T> {
  readonly name: string;
  /** Never set: carries the index's type. */
  readonly type?: T;
}

export function indexKey<T>(name: string): IndexKey<T> {
  return Object.freeze({ name });
}

/** The indexes of one snapshot. */
export interface IndexSet {
  get<T>(key: IndexKey<T>): T | undefined;
}

export interface IndexBuilder<T = unknown> {
  readonly key: IndexKey<T>;
  /** The entity kinds it is derived from: a change to any other kind keeps it as it is. */
  readonly kinds: readonly string[];
  /**
   * The index for the store's current content. `change` is null for a full build (start, reset);
   * otherwise it is the one change since `previous`, which a large index patches rather than rebuilds.
   */
  build(store: EntitySource, previous: T | undefined, change: ChangeEvent | null): T;
}
