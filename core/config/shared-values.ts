/**
 * Loaded entities share their equal small values. With 100 000 API keys, most name the same route,
 * the same scopes, no tag and similar metadata: one frozen list or map for all of them instead of
 * one each is a third of the memory the keys take. Only the top-level properties of an entity are
 * shared, and only lists of strings, numbers or booleans and flat maps of them; they are frozen, so
 * code that edited one in place would fail loudly instead of changing every entity that shares it
 * (writes replace entities, they never edit them).
 */
import type { StoredEntity } from './entities.js';

/** Values with a longer identity are left alone: sharing pays for small, repeated ones. */
const MAX_SHARED_KEY = 512;

export class SharedValues {
  readonly #values = new Map<string, unknown>();

  /** Replace, in place, the top-level lists and flat maps of `entity` by shared equal ones; the id by `id`. */
  compact(entity: StoredEntity, idField: string, id: string): void {
    if (entity[idField] === id) entity[idField] = id; // the collection's key: one string, not two
    for (const name in entity) {
      const value = entity[name];
      if (typeof value !== 'object' || value === null) continue;
      const key = identity(value);
      if (key === null) continue;
      const shared = this.#values.get(key);
      if (shared !== undefined) entity[name] = shared;
      else this.#values.set(key, Object.freeze(value));
    }
  }
}

/**
 * A string equal for two values exactly when they are equal lists (or maps, same key order) of
 * equal primitives; null for anything else or anything too long. Strings are length-prefixed, so no
 * content can imitate a separator.
 */
function identity(value: object): string | null {
  let key: string;
  if (Array.isArray(value)) {
    key = 'a';
    for (let i = 0; i < value.length; i++) {
      const item = primitiveIdentity(value[i]);
      if (item === null) return null;
      key += item;
      if (key.length > MAX_SHARED_KEY) return null;
    }
    return key;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return null;
  key = 'o';
  for (const name in value) {
    const item = primitiveIdentity((value as Record<string, unknown>)[name]);
    if (item === null) return null;
    key += `${name.length}:${name}${item}`;
    if (key.length > MAX_SHARED_KEY) return null;
  }
  return key;
}

function primitiveIdentity(value: unknown): string | null {
  switch (typeof value) {
    case 'string':
      return `s${value.length}:${value}`;
    case 'number':
      return Object.is(value, -0) ? 'n-0;' : `n${value};`;
    case 'boolean':
      return value ? 't' : 'f';
    default:
      return null;
  }
}
