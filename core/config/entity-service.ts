/**
 * Writes of every entity kind go through here (admin API, back office, import): schema validation
 * with defaults, the kind's own checks, the references it declares (they must exist; a referenced
 * entity cannot be deleted), optimistic concurrency by `version`, metadata, one durable store
 * write. Kinds owned by plugins add behaviour through hooks (hash a secret, hide a key).
 */
import { randomUUID } from 'node:crypto';
import { inject, injectable } from 'tsyringe';
import type { Static, TSchema } from '@sinclair/typebox';
import { STORE } from '../tokens.js';
import { emptyRecord, type Collections, type Store } from './store.js';
import {
  EntityRegistry,
  READ_ONLY_FIELDS,
  type EntityKind,
  type EntityReference,
  type ReferenceContext,
  type StoredEntity,
} from './entities.js';
import { BadRequestError, ConflictError, NotFoundError, ValidationError, type ErrorDetail } from '../errors.js';
import { DATA_SCHEMA_VERSION } from './lowdb-store.js';
import { forbiddenKeyPath, isDateTime } from './schema.js';

/** How many referring entities a refused delete names. */
const MAX_REPORTED_REFERRERS = 10;

export interface WriteContext<T = StoredEntity> {
  /** The entity before this write (undefined on create). */
  previous: T | undefined;
  /** Whether this write is part of an import (the whole document is validated first). */
  importing: boolean;
  /** Show a generated value once, in this write's response, at a JSON pointer of the entity (a generated secret). */
  reveal?(pointer: string, value: string): void;
}

/** Options of one admin write: `revealed` collects the values hooks show once (see `withRevealed`). */
export interface WriteOptions {
  revealed?: Map<string, string>;
}

/**
 * Behaviour a kind adds to the write path, typed by the kind's entity (`addHooks(APIKEY_KIND, …)`
 * gives `ApiKey`); several registrations compose in order.
 */
export interface EntityHooks<T = StoredEntity> {
  /** Problems beyond the schema and the declared references (consistency, key material); paths relative to the entity. */
  check?(entity: T, ctx: WriteContext<T>): ErrorDetail[];
  /** Turn validated input into what is stored (e.g. hash a secret). Runs after `check`. */
  prepare?(entity: T, ctx: WriteContext<T>): StoredEntity;
  /** What the API shows of a stored entity (e.g. without secret hashes). */
  present?(entity: T): StoredEntity;
  /** What an export contains of a stored entity. */
  export?(entity: T, options: ExportOptions): StoredEntity;
  /** A new id when the client gives none. */
  generateId?(): string;
}

export interface ExportOptions {
  includePrivateKeys: boolean;
}

export interface ExportDocument {
  schemaVersion: number;
  exportedAt: string;
  [kind: string]: unknown;
}

/** What a configuration write did (the `operation` label of the store write latency). */
export type WriteOperation = 'create' | 'update' | 'delete' | 'import';

/** What the write path reports to and asks of the rest of the gateway, known when the gateway assembles it. */
export class EntityServiceHooks {
  constructor(
    /** Hears how long each durable store write took (the metrics). */
    readonly onWrite: ((operation: WriteOperation, seconds: number, ok: boolean) => void) | null = null,
    /** The entities plugin instances refer to (the plugin catalog answers; entities refer through routes and the global config). */
    readonly pluginReferences: ReferenceContext['pluginReferences'] = () => [],
  ) {}
}

@injectable()
export class EntityService {
  readonly #store: Store;
  readonly #registry: EntityRegistry;
  readonly #hooks = new Map<string, EntityHooks[]>();
  readonly #pluginReferences: ReferenceContext['pluginReferences'];
  readonly #onWrite: ((operation: WriteOperation, seconds: number, ok: boolean) => void) | null;

  constructor(@inject(STORE) store: Store, registry: EntityRegistry, hooks: EntityServiceHooks) {
    this.#store = store;
    this.#registry = registry;
    this.#onWrite = hooks.onWrite;
    this.#pluginReferences = hooks.pluginReferences;
  }

  async #timed(operation: WriteOperation, write: () => Promise<unknown>): Promise<void> {
    const started = performance.now();
    let ok = false;
    try {
      await write();
      ok = true;
    } finally {
      this.#onWrite?.(operation, (performance.now() - started) / 1000, ok);
    }
  }

  /** Add behaviour to a kind; several registrations compose in order. */
  addHooks<S extends TSchema>(kind: EntityKind<S>, hooks: EntityHooks<Static<S>>): void;
  addHooks(kind: string, hooks: EntityHooks): void;
  addHooks(kind: string | EntityKind, hooks: EntityHooks): void {
    const name = typeof kind === 'string' ? kind : kind.name;
    const list = this.#hooks.get(name) ?? [];
    // Hooks only ever see entities of their kind, validated by its schema.
    list.push(hooks);
    this.#hooks.set(name, list);
  }

  kind<S extends TSchema>(kind: EntityKind<S>): EntityKind<S>;
  kind(name: string): EntityKind;
  kind(name: string | EntityKind): EntityKind {
    if (typeof name !== 'string') return name;
    const kind = this.#registry.get(name);
    if (!kind) throw new NotFoundError(`Unknown entity kind "${name}"`);
    return kind;
  }

  /** Every entity of a kind; typed when given the kind: `list(ROUTES)` is `Route[]`. */
  list<S extends TSchema>(kind: EntityKind<S>): Static<S>[];
  list(kindName: string): StoredEntity[];
  list(kindName: string | EntityKind): StoredEntity[] {
    return this.#store.list(this.kind(kindName as string).name);
  }

  get<S extends TSchema>(kind: EntityKind<S>, id: string): Static<S>;
  get(kindName: string, id: string): StoredEntity;
  get(kindName: string | EntityKind, id: string): StoredEntity {
    const kind = this.kind(kindName as string);
    const entity =
      this.#store.get(kind.name, id) ??
      (kind.singletonId === id && kind.initial ? (kind.initial() as StoredEntity) : undefined);
    if (!entity) throw new NotFoundError(`No ${kind.title} with id "${id}"`);
    return entity;
  }

  present(kindName: string, entity: StoredEntity): StoredEntity {
    let shown = entity;
    for (const hooks of this.#hooks.get(kindName) ?? []) if (hooks.present) shown = hooks.present(shown);
    return shown;
  }

  async create(kindName: string, input: unknown, options: WriteOptions = {}): Promise<StoredEntity> {
    const kind = this.kind(kindName);
    const body = asObject(input, kind.title);
    let id = body[kind.idField];
    if (id === undefined) {
      const generate = this.#hooks.get(kindName)?.find((h) => h.generateId)?.generateId;
      id = generate ? generate() : randomUUID();
      body[kind.idField] = id;
    }
    if (typeof id === 'string' && this.#store.get(kind.name, id))
      throw new ConflictError(`A ${kind.title} with id "${id}" already exists`);
    const entity = this.#validate(kind, body, { previous: undefined, importing: false, reveal: revealInto(options) });
    const now = new Date().toISOString();
    const stored: StoredEntity = { ...entity, version: 1, createdAt: now, updatedAt: now };
    const key = String(stored[kind.idField]);
    if (this.#store.get(kind.name, key)) throw new ConflictError(`A ${kind.title} with id "${key}" already exists`);
    await this.#timed('create', () => this.#store.put(kind.name, key, stored, 0));
    return stored;
  }

  async update(kindName: string, id: string, input: unknown, options: WriteOptions = {}): Promise<StoredEntity> {
    const kind = this.kind(kindName);
    const previous = this.#store.get(kind.name, id) ?? (kind.singletonId === id ? undefined : notFound(kind, id));
    const body = asObject(input, kind.title);
    if (!kind.singletonId) {
      if (body[kind.idField] !== undefined && body[kind.idField] !== id) {
        throw new BadRequestError(
          `The ${kind.idField} in the body ("${String(body[kind.idField])}") differs from the one in the path ("${id}"); ids cannot be changed`,
        );
      }
      body[kind.idField] = id;
    }
    const sentVersion = body.version;
    checkVersion(kind, previous, sentVersion);
    const entity = this.#validate(kind, body, { previous, importing: false, reveal: revealInto(options) });
    checkVersion(kind, this.#store.get(kind.name, id), sentVersion); // again: hooks may have yielded
    const now = new Date().toISOString();
    const stored = {
      ...entity,
      version: (previous?.version ?? 0) + 1,
      createdAt: previous?.createdAt ?? now,
      updatedAt: now,
    };
    await this.#timed('update', () => this.#store.put(kind.name, id, stored, previous?.version ?? 0));
    return stored;
  }

  /**
   * Replace a stored entity by a programmatic change (rotation…), bumping its version. The result
   * must still conform to the schema (e.g. the bound on rotated-out keys): what is stored must load
   * on the next start.
   */
  async replace(kindName: string, id: string, next: StoredEntity): Promise<StoredEntity> {
    const kind = this.kind(kindName);
    const previous = this.#store.get(kind.name, id) ?? notFound(kind, id);
    const stored = {
      ...next,
      version: (previous.version ?? 0) + 1,
      createdAt: previous.createdAt,
      updatedAt: new Date().toISOString(),
    };
    if (!kind.validator.check(stored))
      throw new ValidationError(`The ${kind.title} cannot be changed this way`, kind.validator.errors(stored));
    await this.#timed('update', () => this.#store.put(kind.name, id, stored, previous.version ?? 0));
    return stored;
  }

  async delete(kindName: string, id: string): Promise<void> {
    const kind = this.kind(kindName);
    if (kind.singletonId) throw new BadRequestError(`The ${kind.title} cannot be deleted`);
    if (!this.#store.get(kind.name, id)) notFound(kind, id);
    const referrers = this.#referrersOf(kind.name, id);
    if (referrers.length > 0) {
      throw new ConflictError(
        `The ${kind.title} "${id}" is still in use by ${referrers.join(', ')}; change or delete ${referrers.length === 1 ? 'it' : 'them'} first`,
      );
    }
    await this.#timed('delete', () => this.#store.delete(kind.name, id));
  }

  /** Who refers to an entity, as `route "a" (/plugins/0/config/verifiers/0)`, whatever kind or plugin holds the reference. */
  #referrersOf(kindName: string, id: string): string[] {
    const found: string[] = [];
    for (const kind of this.#registry.all()) {
      if (!kind.references) continue;
      const entities = kind.singletonId
        ? [this.#store.get(kind.name, kind.singletonId)].filter((e) => e !== undefined)
        : this.#store.list(kind.name);
      for (const entity of entities) {
        for (const ref of this.#referencesOf(kind, entity)) {
          if (ref.kind !== kindName || ref.id !== id) continue;
          found.push(`${kind.title} "${String(kind.singletonId ?? entity[kind.idField])}" (${ref.path})`);
          if (found.length >= MAX_REPORTED_REFERRERS) return found;
        }
      }
    }
    return found;
  }

  #referencesOf(kind: EntityKind, entity: StoredEntity): EntityReference[] {
    return kind.references?.(entity, { pluginReferences: this.#pluginReferences }) ?? [];
  }

  /** The references of `entity` that `exists` does not find, as problems at their paths. */
  #danglingReferences(
    kind: EntityKind,
    entity: StoredEntity,
    exists: (kind: string, id: string) => boolean,
    prefix = '',
  ): ErrorDetail[] {
    return this.#referencesOf(kind, entity)
      .filter((ref) => !exists(ref.kind, ref.id))
      .map((ref) => ({
        path: prefix + ref.path,
        message: `No ${this.#registry.get(ref.kind)?.title ?? ref.kind} with id "${ref.id}"`,
      }));
  }

  export(options: ExportOptions): ExportDocument {
    const doc: ExportDocument = { schemaVersion: DATA_SCHEMA_VERSION, exportedAt: new Date().toISOString() };
    for (const kind of this.#registry.all()) {
      const hooks = (this.#hooks.get(kind.name) ?? []).filter((h) => h.export);
      const shape = (e: StoredEntity) => hooks.reduce((acc, h) => h.export!(acc, options), e);
      if (kind.singletonId) doc[kind.name] = shape(this.get(kind.name, kind.singletonId));
      else doc[kind.name] = this.#store.list(kind.name).map(shape);
    }
    return doc;
  }

  /**
   * Replace the kinds present in `doc` with its content. Everything is validated first; nothing is
   * written unless all of it is valid, then one atomic write.
   */
  async import(doc: unknown): Promise<Record<string, number>> {
    const body = asObject(doc, 'import document');
    if (body.schemaVersion !== undefined && body.schemaVersion !== DATA_SCHEMA_VERSION) {
      throw new BadRequestError(
        `Unsupported schemaVersion ${JSON.stringify(body.schemaVersion)}; expected ${DATA_SCHEMA_VERSION}`,
      );
    }
    const unknown = Object.keys(body).filter(
      (k) =>
        k !== 'schemaVersion' && k !== 'exportedAt' && !this.#registry.get(k) && !this.#registry.retiredImporter(k),
    );
    if (unknown.length > 0) throw new BadRequestError(`Unknown entity kinds in the import: ${unknown.join(', ')}`);
    const collections: Collections = emptyRecord();
    const errors: ErrorDetail[] = [];
    const counts: Record<string, number> = {};
    const now = new Date().toISOString();
    for (const kind of this.#registry.all()) {
      if (!(kind.name in body)) continue;
      const items = kind.singletonId ? [body[kind.name]] : body[kind.name];
      if (!Array.isArray(items)) {
        errors.push({ path: `/${kind.name}`, message: kind.singletonId ? 'Expected an object' : 'Expected an array' });
        continue;
      }
      const collection = emptyRecord<StoredEntity>();
      items.forEach((item, index) => {
        const at = kind.singletonId ? `/${kind.name}` : `/${kind.name}/${index}`;
        try {
          const input = asObject(item, kind.title);
          const id = kind.singletonId ?? input[kind.idField];
          if (typeof id === 'string' && Object.hasOwn(collection, id)) {
            errors.push({ path: `${at}/${kind.idField}`, message: `Duplicate id "${id}"` });
            return;
          }
          const existing = typeof id === 'string' ? this.#store.get(kind.name, id) : undefined;
          const entity = this.#validate(kind, input, { previous: existing, importing: true }, at);
          const key = kind.singletonId ?? String(entity[kind.idField]);
          const version = typeof input.version === 'number' && input.version >= 1 ? input.version : 1;
          // An imported creation time is kept only when it is a real date: the data file must validate on restart.
          const createdAt = typeof input.createdAt === 'string' && isDateTime(input.createdAt) ? input.createdAt : now;
          collection[key] = { ...entity, version, createdAt, updatedAt: now };
        } catch (error) {
          if (error instanceof ValidationError) errors.push(...(error.details ?? []));
          else if (error instanceof BadRequestError) errors.push({ path: at, message: error.message });
          else throw error;
        }
      });
      collections[kind.name] = collection;
      counts[kind.name] = Object.keys(collection).length;
    }
    if (errors.length === 0) errors.push(...this.#importReferenceProblems(collections));
    if (errors.length > 0)
      throw new ValidationError('Invalid import document; nothing was imported', errors.slice(0, 50));
    await this.#timed('import', () => this.#store.replaceAll(collections));
    // Kinds of earlier versions whose data now lives in the runtime state (revocations) go there.
    for (const [name, items] of Object.entries(body)) {
      const importer = this.#registry.retiredImporter(name);
      if (importer && Array.isArray(items)) {
        await importer(items);
        counts[name] = items.length;
      }
    }
    return counts;
  }

  /**
   * References after an import, checked against the state it leaves: the imported kinds as the
   * document has them (an entity may refer to one imported with it), the other kinds as stored.
   */
  #importReferenceProblems(collections: Collections): ErrorDetail[] {
    const exists = (kind: string, id: string) =>
      Object.hasOwn(collections, kind)
        ? Object.hasOwn(collections[kind]!, id)
        : this.#store.get(kind, id) !== undefined;
    const problems: ErrorDetail[] = [];
    for (const kind of this.#registry.all()) {
      if (!kind.references) continue;
      const imported = Object.hasOwn(collections, kind.name);
      const entities = imported ? Object.values(collections[kind.name]!) : this.#store.list(kind.name);
      entities.forEach((entity, index) => {
        const at = imported ? (kind.singletonId ? `/${kind.name}` : `/${kind.name}/${index}`) : `/${kind.name}`;
        for (const problem of this.#danglingReferences(kind, entity, exists, at)) {
          problems.push(
            imported
              ? problem
              : {
                  path: at,
                  message: `The stored ${kind.title} "${String(entity[kind.idField] ?? kind.singletonId)}" refers to it (${problem.path.slice(at.length)}): ${problem.message} in the import`,
                },
          );
        }
      });
    }
    return problems;
  }

  /** Schema (with defaults), then the kind's checks and references, then its preparation. */
  #validate(kind: EntityKind, body: Record<string, unknown>, ctx: WriteContext, prefix = ''): StoredEntity {
    const forbidden = forbiddenKeyPath(body);
    if (forbidden !== null)
      throw new ValidationError(`Invalid ${kind.title}`, [
        {
          path: prefix + forbidden,
          message: `The key "${forbidden.slice(forbidden.lastIndexOf('/') + 1)}" is not allowed here`,
        },
      ]);
    const input = { ...body };
    delete input.version;
    for (const field of READ_ONLY_FIELDS) delete input[field];
    let entity = kind.validator.parse(input, kind.title, prefix) as StoredEntity;
    const hooks = this.#hooks.get(kind.name) ?? [];
    const problems = hooks.flatMap((h) => h.check?.(entity, ctx) ?? []);
    // During an import, references are checked against the whole document once it is read.
    if (!ctx.importing)
      problems.push(...this.#danglingReferences(kind, entity, (k, id) => this.#store.get(k, id) !== undefined));
    if (problems.length > 0) {
      throw new ValidationError(
        `Invalid ${kind.title}`,
        problems.map((p) => ({ path: prefix + (p.path === '/' ? '' : p.path), message: p.message })),
      );
    }
    for (const h of hooks) if (h.prepare) entity = h.prepare(entity, ctx);
    return entity;
  }
}

function asObject(input: unknown, what: string): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw new BadRequestError(`The ${what} must be a JSON object`);
  // A prototype-free copy: an own `__proto__` key stays a key (and is refused by #validate).
  return Object.assign(emptyRecord<unknown>(), input);
}

function revealInto(options: WriteOptions): WriteContext['reveal'] {
  const { revealed } = options;
  return revealed
    ? (pointer, value) => {
        revealed.set(pointer, value);
      }
    : undefined;
}

/** `shown` (a presented entity) with the values revealed by its write put back at their JSON pointers. */
export function withRevealed(shown: StoredEntity, revealed: ReadonlyMap<string, string>): StoredEntity {
  if (revealed.size === 0) return shown;
  const copy = structuredClone(shown);
  for (const [pointer, value] of revealed) {
    const keys = pointer.split('/').slice(1);
    const last = keys.pop()!;
    let at: unknown = copy;
    for (const key of keys)
      at = typeof at === 'object' && at !== null ? (at as Record<string, unknown>)[key] : undefined;
    if (typeof at === 'object' && at !== null) (at as Record<string, unknown>)[last] = value;
  }
  return copy;
}

function notFound(kind: EntityKind, id: string): never {
  throw new NotFoundError(`No ${kind.title} with id "${id}"`);
}

function checkVersion(kind: EntityKind, current: StoredEntity | undefined, sent: unknown): void {
  if (sent === undefined || sent === null) return;
  const currentVersion = current?.version ?? 0;
  if (sent !== currentVersion) {
    throw new ConflictError(
      `The ${kind.title} was changed since you read it (you sent version ${JSON.stringify(sent)}, the current version is ${currentVersion}); reload it and apply your change again`,
    );
  }
}
