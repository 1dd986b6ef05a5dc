/**
 * The configuration store shared by the processes of one gateway (`workers`): the primary owns
 * the store (the embedded file) and serves it to its workers over their IPC channel. A worker
 * keeps a full in-memory replica, so its reads stay synchronous and local like the owner's; its
 * writes (a revocation at the token endpoint) travel to the primary and are acknowledged once
 * durable there and applied here. The primary sends every change in the order its store reported
 * them, and each acknowledgement after the changes it carries, so a worker reads its own writes.
 * Settings (the admin password hash) stay with the primary: workers serve no admin listener.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { kindName, type ChangeEvent, type Collections, type Store } from '../config/store.js';
import type { EntityKind, StoredEntity } from '../config/entities.js';
import { ConflictError } from '../errors.js';

/** One end of an ordered message channel (a cluster worker, `process` in the worker). */
export interface Channel {
  send(message: unknown): unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

type Request =
  | { op: 'snapshot' }
  | { op: 'put'; kind: string; id: string; entity: StoredEntity; expectedVersion?: number }
  | { op: 'delete'; kind: string; id: string }
  | { op: 'replaceAll'; collections: Collections };

type Snapshot = Collections;

type Change =
  | { op: 'put'; kind: string; id: string; entity: StoredEntity }
  | { op: 'delete'; kind: string; id: string }
  | { op: 'reset'; snapshot: Snapshot };

const REQUEST = 'portcullis:store:request';
const RESPONSE = 'portcullis:store:response';
const CHANGE = 'portcullis:store:change';

interface RequestMessage {
  type: typeof REQUEST;
  seq: number;
  request: Request;
}
/** `conflict`: the write was refused as stale (a compare-and-set), which the worker reports as 409. */
interface ResponseMessage {
  type: typeof RESPONSE;
  seq: number;
  ok: boolean;
  result?: unknown;
  error?: string;
  conflict?: boolean;
}
interface ChangeMessage {
  type: typeof CHANGE;
  change: Change;
}

function isMessage<T extends { type: string }>(message: unknown, type: T['type']): message is T {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type;
}

function snapshotOf(store: Store, kinds: readonly EntityKind[]): Snapshot {
  const entities: Collections = Object.create(null);
  for (const kind of kinds) {
    const collection: Record<string, StoredEntity> = Object.create(null);
    for (const entity of store.list(kind.name)) collection[kind.singletonId ?? String(entity[kind.idField])] = entity;
    entities[kind.name] = collection;
  }
  return entities;
}

/** The primary's side: serves `store` to every attached worker channel. */
export class StoreHost {
  readonly #store: Store;
  readonly #kinds: () => readonly EntityKind[];
  readonly #channels = new Set<Channel>();
  readonly #unsubscribe: () => void;

  constructor(store: Store, kinds: () => readonly EntityKind[]) {
    this.#store = store;
    this.#kinds = kinds;
    this.#unsubscribe = store.onChange((event) => this.#broadcast(this.#changeOf(event)));
  }

  /** Serve one worker until its channel is detached. */
  attach(channel: Channel): () => void {
    const onMessage = (message: unknown) => {
      if (isMessage<RequestMessage>(message, REQUEST)) void this.#serve(channel, message);
    };
    channel.on('message', onMessage);
    this.#channels.add(channel);
    return () => {
      channel.off('message', onMessage);
      this.#channels.delete(channel);
    };
  }

  close(): void {
    this.#unsubscribe();
    this.#channels.clear();
  }

  async #serve(channel: Channel, message: RequestMessage): Promise<void> {
    const { seq, request } = message;
    try {
      const result = await this.#execute(request);
      safeSend(channel, { type: RESPONSE, seq, ok: true, result } satisfies ResponseMessage);
    } catch (error) {
      safeSend(channel, {
        type: RESPONSE,
        seq,
        ok: false,
        error: (error as Error).message,
        conflict: error instanceof ConflictError,
      } satisfies ResponseMessage);
    }
  }

  async #execute(request: Request): Promise<unknown> {
    switch (request.op) {
      case 'snapshot':
        return snapshotOf(this.#store, this.#kinds());
      case 'put':
        return this.#store.put(request.kind, request.id, request.entity, request.expectedVersion);
      case 'delete':
        return this.#store.delete(request.kind, request.id);
      case 'replaceAll':
        return this.#store.replaceAll(request.collections);
    }
  }

  #changeOf(event: ChangeEvent): Change {
    if (event.op === 'reset') return { op: 'reset', snapshot: snapshotOf(this.#store, this.#kinds()) };
    const entity = event.op === 'put' ? this.#store.get(event.kind, event.id) : undefined;
    return entity
      ? { op: 'put', kind: event.kind, id: event.id, entity }
      : { op: 'delete', kind: event.kind, id: event.id };
  }

  #broadcast(change: Change): void {
    for (const channel of this.#channels) safeSend(channel, { type: CHANGE, change } satisfies ChangeMessage);
  }
}

/** A worker's store: a replica of the primary's, writes forwarded to it. */
export class ReplicaStore implements Store {
  readonly location: string;
  readonly #channel: Channel;
  readonly #listeners = new Set<(event: ChangeEvent) => void>();
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  #entities: Collections = Object.create(null);
  #seq = 0;
  #closed = false;
  readonly #onMessage = (message: unknown) => this.#receive(message);

  constructor(channel: Channel, location: string) {
    this.#channel = channel;
    this.location = location;
  }

  async open(): Promise<void> {
    this.#channel.on('message', this.#onMessage);
    this.#load((await this.#request({ op: 'snapshot' })) as Snapshot);
  }

  get<S extends TSchema>(kind: EntityKind<S>, id: string): Static<S> | undefined;
  get(kind: string, id: string): StoredEntity | undefined;
  get(kind: string | EntityKind, id: string): StoredEntity | undefined {
    const collection = this.#entities[kindName(kind)];
    return collection && Object.hasOwn(collection, id) ? collection[id] : undefined;
  }

  list<S extends TSchema>(kind: EntityKind<S>): Static<S>[];
  list(kind: string): StoredEntity[];
  list(kind: string | EntityKind): StoredEntity[] {
    return Object.values(this.#entities[kindName(kind)] ?? {});
  }

  count(kind: string): number {
    return Object.keys(this.#entities[kind] ?? {}).length;
  }

  async put(kind: string, id: string, entity: StoredEntity, expectedVersion?: number): Promise<void> {
    await this.#request(
      expectedVersion === undefined
        ? { op: 'put', kind, id, entity }
        : { op: 'put', kind, id, entity, expectedVersion },
    );
  }
  async delete(kind: string, id: string): Promise<boolean> {
    return (await this.#request({ op: 'delete', kind, id })) === true;
  }
  async replaceAll(collections: Collections): Promise<void> {
    await this.#request({ op: 'replaceAll', collections });
  }

  getSetting<T>(): T | undefined {
    return undefined;
  }

  putSetting(): Promise<void> {
    return Promise.reject(new Error('Settings are written by the primary process'));
  }
  putSettingIfAbsent(): Promise<boolean> {
    return Promise.reject(new Error('Settings are written by the primary process'));
  }

  onChange(listener: (event: ChangeEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#channel.off('message', this.#onMessage);
    for (const { reject } of this.#pending.values()) reject(new Error('The store replica is closed'));
    this.#pending.clear();
  }

  #request(request: Request): Promise<unknown> {
    if (this.#closed) return Promise.reject(new Error('The store replica is closed'));
    const seq = ++this.#seq;
    return new Promise((resolve, reject) => {
      this.#pending.set(seq, { resolve, reject });
      safeSend(this.#channel, { type: REQUEST, seq, request } satisfies RequestMessage);
    });
  }

  #receive(message: unknown): void {
    if (isMessage<ResponseMessage>(message, RESPONSE)) {
      const pending = this.#pending.get(message.seq);
      if (!pending) return;
      this.#pending.delete(message.seq);
      if (message.ok) pending.resolve(message.result);
      else
        pending.reject(
          message.conflict
            ? new ConflictError(message.error ?? 'Stale write')
            : new Error(message.error ?? 'The primary refused the write'),
        );
    } else if (isMessage<ChangeMessage>(message, CHANGE)) {
      this.#apply(message.change);
    }
  }

  #apply(change: Change): void {
    switch (change.op) {
      case 'put':
        (this.#entities[change.kind] ??= Object.create(null) as Record<string, StoredEntity>)[change.id] =
          change.entity;
        return this.#emit({ op: 'put', kind: change.kind, id: change.id });
      case 'delete': {
        const collection = this.#entities[change.kind];
        if (collection) delete collection[change.id];
        return this.#emit({ op: 'delete', kind: change.kind, id: change.id });
      }
      case 'reset':
        this.#load(change.snapshot);
        return this.#emit({ op: 'reset' });
    }
  }

  #load(snapshot: Snapshot): void {
    this.#entities = Object.create(null) as Collections;
    for (const [kind, collection] of Object.entries(snapshot))
      this.#entities[kind] = Object.assign(Object.create(null) as Record<string, StoredEntity>, collection);
  }

  #emit(event: ChangeEvent): void {
    for (const listener of this.#listeners) listener(event);
  }
}

function safeSend(channel: Channel, message: unknown): void {
  try {
    channel.send(message);
  } catch {
    // A worker that died: the cluster supervisor replaces it; its pending requests die with it.
  }
}
