/**
 * Loaded entities share their equal small values. With 100 000 API keys, most name the same route,
 * the same scopes, no tag and similar metadata: one frozen list or map for all of them instead of
 * one each is a third of the memory the keys take. Only the top-level properties of an entity are
 * shared, and only lists of strings, numbers or booleans and flat maps of them; they are frozen, so
 * code that edited one in place would fail loudly instead of changing every entity that shares it
 * (writes replace entities, they never edit them).
 */
import type { StoredEntity } from './entities.js';

/** Values longer than this (as JSON) are left alone: sharing pays for small, repeated ones. */
const MAX_SHARED_JSON = 512;

export class SharedValues {
  readonly #values = new Map<string, unknown>();

  /** Replace, in place, the top-level lists and flat maps of `entity` by shared equal ones; the id by `id`. */
  compact(entity: StoredEntity, idField: string, id: string): void {
    if (entity[idField] === id) entity[idField] = id; // the collection's key: one string, not two
    for (const name of Object.keys(entity)) {
      const value = entity[name];
      if (typeof value !== 'object' || value === null || !isFlat(value)) continue;
      const key = (Array.isArray(value) ? 'a' : 'o') + JSON.stringify(value);
      if (key.length > MAX_SHARED_JSON) continue;
      const shared = this.#values.get(key);
      if (shared !== undefined) entity[name] = shared;
      else this.#values.set(key, Object.freeze(value));
    }
  }
}

function isFlat(value: object): boolean {
  if (Array.isArray(value)) return value.every(isPrimitive);
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return false;
  for (const key in value) if (!isPrimitive((value as Record<string, unknown>)[key])) return false;
  return true;
}

function isPrimitive(value: unknown): boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}
