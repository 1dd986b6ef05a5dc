/**
 * Builds the derived indexes of a snapshot (the contract is `plugin-runtime/indexes.ts`): on a full
 * build every index; on one change only those derived from its kind, the others carried over as they
 * are. The result is a new set: the snapshot being replaced keeps its own.
 */
import type { ChangeEvent, Store } from '../config/store.js';
import type { IndexBuilder, IndexKey, IndexSet } from '../plugin-runtime/indexes.js';

export class BuiltIndexes implements IndexSet {
  static readonly EMPTY = new BuiltIndexes(new Map());
  readonly #values: ReadonlyMap<string, unknown>;

  constructor(values: ReadonlyMap<string, unknown>) {
    this.#values = values;
  }

  get<T>(key: IndexKey<T>): T | undefined {
    return this.#values.get(key.name) as T | undefined;
  }

  /** Whether a change of this kind concerns any of these builders. */
  static concern(builders: readonly IndexBuilder[], kind: string): boolean {
    return builders.some((builder) => builder.kinds.includes(kind));
  }

  /**
   * The indexes after `change` (null: a full build), built in declaration order. A builder that
   * throws keeps its previous index (reported to `onError`): one index never stops the others nor
   * the routes' compilation.
   */
  static build(
    builders: readonly IndexBuilder[],
    store: Store,
    previous: BuiltIndexes,
    change: ChangeEvent | null,
    onError: (name: string, error: unknown) => void,
  ): BuiltIndexes {
    const full = change === null || change.op === 'reset';
    const values = new Map<string, unknown>();
    for (const builder of builders) {
      const before = previous.#values.get(builder.key.name);
      let value = before;
      if (full || builder.kinds.includes(change.kind)) {
        try {
          value = builder.build(store, before, full ? null : change);
        } catch (error) {
          onError(builder.key.name, error);
        }
      }
      values.set(builder.key.name, value);
    }
    return new BuiltIndexes(values);
  }
}

/** Index names are keys of one snapshot: two builders of one name would overwrite each other. */
export function checkIndexNames(builders: readonly IndexBuilder[]): void {
  const seen = new Set<string>();
  for (const { key } of builders) {
    if (seen.has(key.name)) throw new Error(`Index ${key.name} is declared twice`);
    seen.add(key.name);
  }
}
