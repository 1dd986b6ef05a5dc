/**
 * The hot-path view of API keys: a Map from client id to the key with its secret verifier, expiry
 * and authorizations pre-computed. It follows the store's change feed one key at a time, so 100 000
 * keys cost one Map lookup per request and a write costs one entry, not a rebuild.
 */
import { inject, injectable } from 'tsyringe';
import { STORE } from '../../core/plugin-api.js';
import type { Store } from '../../core/plugin-api.js';
import { isClientActive, type ClientDirectory } from '../../core/plugin-api.js';
import { APIKEYS, secretVerifier, UNKNOWN_KEY_VERIFIER, type ApiKey, type SecretVerifier } from './entity.js';

export interface IndexedKey {
  readonly key: ApiKey;
  readonly secret: SecretVerifier;
  /** Epoch ms after which the key is refused (Infinity: never). */
  readonly validUntil: number;
  readonly routes: ReadonlySet<string>;
  readonly tags: ReadonlySet<string>;
  /** The scopes as sent upstream (space separated). */
  readonly scopes: string;
}

const NONE: ReadonlySet<string> = new Set();

export function indexKey(key: ApiKey): IndexedKey {
  // Most keys name a route or two and no tag: empty sets are shared, not one per key.
  let routes: Set<string> | null = null;
  let tags: Set<string> | null = null;
  for (const entity of key.authorizedEntities ?? []) {
    if (entity.startsWith('tag:')) (tags ??= new Set()).add(entity.slice(4));
    else (routes ??= new Set()).add(entity);
  }
  return {
    key,
    secret: secretVerifier(key.clientSecretHash),
    validUntil: key.validUntil ? Date.parse(key.validUntil) : Number.POSITIVE_INFINITY,
    routes: routes ?? NONE,
    tags: tags ?? NONE,
    scopes: key.scopes && key.scopes.length > 0 ? key.scopes.join(' ') : '',
  };
}

/** Whether the key may call a route with this id and these tags. */
export function isAuthorizedFor(indexed: IndexedKey, routeId: string | null, routeTags: readonly string[]): boolean {
  if (routeId !== null && indexed.routes.has(routeId)) return true;
  for (let i = 0; i < routeTags.length; i++) if (indexed.tags.has(routeTags[i]!)) return true;
  return false;
}

/** Also the gateway's client directory (`CLIENT_DIRECTORY`): token services reach API keys through it. */
@injectable()
export class ApiKeyIndex implements ClientDirectory {
  readonly #keys = new Map<string, IndexedKey>();
  readonly #listeners = new Set<(clientId: string) => void>();
  readonly #store: Store;
  #unsubscribe: (() => void) | null = null;

  constructor(@inject(STORE) store: Store) {
    this.#store = store;
  }

  get size(): number { return this.#keys.size; }

  get(clientId: string): IndexedKey | undefined {
    return this.#keys.get(clientId);
  }

  authenticate(clientId: string, secret: string): IndexedKey | null {
    const indexed = this.#keys.get(clientId);
    const ok = (indexed ? indexed.secret : UNKNOWN_KEY_VERIFIER).verify(secret);
    return indexed && ok && isClientActive(indexed) ? indexed : null;
  }

  onClientChange(listener: (clientId: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  start(): void {
    this.#reload();
    this.#unsubscribe = this.#store.onChange((event) => {
      if (event.op === 'reset') {
        const before = [...this.#keys.keys()];
        this.#reload();
        for (const clientId of before) this.#notify(clientId);
        return;
      }
      if (event.kind !== APIKEYS) return;
      const key = this.#store.get(APIKEYS, event.id) as ApiKey | undefined;
      if (event.op === 'delete' || !key) this.#keys.delete(event.id);
      else this.#keys.set(event.id, indexKey(key));
      this.#notify(event.id);
    });
  }

  #notify(clientId: string): void {
    for (const listener of this.#listeners) listener(clientId);
  }

  stop(): void {
    this.#unsubscribe?.();
  }

  #reload(): void {
    this.#keys.clear();
    for (const key of this.#store.list(APIKEYS) as ApiKey[]) this.#keys.set(key.clientId, indexKey(key));
  }
}
