/**
 * The hot-path view of API keys: a Map from client id to the key with its secret verifier, expiry
 * and authorizations pre-computed. The compile step patches it one key at a time (`apiKeyIndexBuilder`),
 * so 100 000 keys cost one Map lookup per request and a write costs one entry, not a rebuild.
 */
import {
  indexKey as derivedIndexKey,
  type ChangeEvent,
  type IndexBuilder,
  type EntitySource,
  isClientActive,
  type ClientDirectory,
} from '../../core/plugin-api.js';
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

/** The routes and tags a key is authorized for, with its scopes as sent upstream. */
interface Grants {
  readonly routes: ReadonlySet<string>;
  readonly tags: ReadonlySet<string>;
  readonly scopes: string;
}

/**
 * Grants shared by every key with the same authorizations and scopes: with 100 000 keys most
 * name the same route or two, and a Set per key would be most of the index's memory.
 */
export class GrantsInterner {
  readonly #shared = new Map<string, Grants>();

  grantsOf(key: ApiKey): Grants {
    const entities = key.authorizedEntities ?? [];
    const scopes = key.scopes ?? [];
    // \n appears in neither route ids, tags nor scopes (their patterns refuse controls).
    const id = `${entities.join('\n')}\n\n${scopes.join('\n')}`;
    let grants = this.#shared.get(id);
    if (grants === undefined) {
      grants = computeGrants(entities, scopes);
      this.#shared.set(id, grants);
    }
    return grants;
  }

  clear(): void {
    this.#shared.clear();
  }
}

function computeGrants(entities: readonly string[], scopes: readonly string[]): Grants {
  // Most keys name a route or two and no tag: empty sets are shared.
  let routes: Set<string> | null = null;
  let tags: Set<string> | null = null;
  for (const entity of entities) {
    if (entity.startsWith('tag:')) (tags ??= new Set()).add(entity.slice(4));
    else (routes ??= new Set()).add(entity);
  }
  return { routes: routes ?? NONE, tags: tags ?? NONE, scopes: scopes.length > 0 ? scopes.join(' ') : '' };
}

/**
 * One key as the hot path sees it. The secret verifier is decoded on first use: with 100 000 keys
 * loaded, only the keys that call pay for it (memory and start-up time).
 */
class IndexedApiKey implements IndexedKey {
  readonly key: ApiKey;
  readonly validUntil: number;
  readonly #grants: Grants;
  #secret: SecretVerifier | null = null;

  constructor(key: ApiKey, grants: Grants) {
    this.key = key;
    this.validUntil = key.validUntil ? Date.parse(key.validUntil) : Number.POSITIVE_INFINITY;
    this.#grants = grants;
  }

  get secret(): SecretVerifier {
    return (this.#secret ??= secretVerifier(this.key.clientSecretHash));
  }
  get routes(): ReadonlySet<string> {
    return this.#grants.routes;
  }
  get tags(): ReadonlySet<string> {
    return this.#grants.tags;
  }
  get scopes(): string {
    return this.#grants.scopes;
  }
}

export function indexKey(key: ApiKey, interner: GrantsInterner = new GrantsInterner()): IndexedKey {
  return new IndexedApiKey(key, interner.grantsOf(key));
}

/** Whether the key may call a route with this id and these tags. */
export function isAuthorizedFor(indexed: IndexedKey, routeId: string | null, routeTags: readonly string[]): boolean {
  if (routeId !== null && indexed.routes.has(routeId)) return true;
  for (let i = 0; i < routeTags.length; i++) if (indexed.tags.has(routeTags[i]!)) return true;
  return false;
}

/** Also the gateway's client directory (`CLIENT_DIRECTORY`): token services reach API keys through it. */
export class ApiKeyIndex implements ClientDirectory {
  readonly #keys = new Map<string, IndexedKey>();
  readonly #listeners = new Set<(clientId: string) => void>();
  readonly #grants = new GrantsInterner();

  get size(): number {
    return this.#keys.size;
  }

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

  /** Index every stored key again (start, reset); every client known before or now hears of it. */
  reload(store: EntitySource): void {
    const before = [...this.#keys.keys()];
    this.#keys.clear();
    this.#grants.clear();
    for (const key of store.list(APIKEYS) as ApiKey[]) this.#keys.set(key.clientId, indexKey(key, this.#grants));
    for (const clientId of before) this.#notify(clientId);
  }

  /** One key was written or deleted. */
  apply(change: Exclude<ChangeEvent, { op: 'reset' }>, store: EntitySource): void {
    const key = store.get(APIKEYS, change.id) as ApiKey | undefined;
    if (change.op === 'delete' || !key) this.#keys.delete(change.id);
    else this.#keys.set(change.id, indexKey(key, this.#grants));
    this.#notify(change.id);
  }

  #notify(clientId: string): void {
    for (const listener of this.#listeners) listener(clientId);
  }
}

export const API_KEY_INDEX = derivedIndexKey<ApiKeyIndex>('apikeys');

/**
 * API keys as the compile step keeps them: the one `ApiKeyIndex` (also the client directory), patched
 * per change rather than rebuilt, since a copy of 100 000 keys per write would cost more than the
 * write. `onDelete` hears of every key deleted (its quota windows are forgotten).
 */
export function apiKeyIndexBuilder(
  index: ApiKeyIndex,
  onDelete: (clientId: string) => void,
): IndexBuilder<ApiKeyIndex> {
  return {
    key: API_KEY_INDEX,
    kinds: [APIKEYS],
    build: (store, _previous, change) => {
      if (change === null || change.op === 'reset') index.reload(store);
      else {
        index.apply(change, store);
        if (change.op === 'delete') onDelete(change.id);
      }
      return index;
    },
  };
}
