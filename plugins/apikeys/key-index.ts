/**
 * The hot-path view of API keys: the stored key with its secret verifier, expiry and authorizations
 * pre-computed, made on a key's first use and found again by the stored object (`ApiKeyIndex`). The
 * compile step hands it the store and tells it of every change (`apiKeyIndexBuilder`), so 100 000 keys
 * cost one Map lookup per request and nothing at start, and a write costs one entry, not a rebuild.
 */
import {
  indexKey as derivedIndexKey,
  type ChangeEvent,
  type IndexBuilder,
  type EntitySource,
  isClientActive,
  type ClientDirectory,
  VerifiedSecrets,
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

const NO_SOURCE: EntitySource = { get: () => undefined, list: () => [] } as unknown as EntitySource;

/**
 * Also the gateway's client directory (`CLIENT_DIRECTORY`): token services reach API keys through it.
 *
 * The keys are looked up in the store itself (one Map lookup) and indexed on first use: with 100 000
 * keys, a Map and an entry object per key built at start cost ~11 MiB of heap and ~0.2 s, for keys
 * most of which never call. An entry is found again by the stored key object it was made from: a
 * write replaces the object (the next request indexes the new one), a delete removes it from the
 * store; a key is therefore honoured as soon as the store holds it.
 */
export class ApiKeyIndex implements ClientDirectory {
  #source: EntitySource = NO_SOURCE;
  #indexed = new WeakMap<ApiKey, IndexedKey>();
  /** Client ids looked up since the last reload: what listeners may know of, told of the next reload. */
  readonly #seen = new Set<string>();
  readonly #listeners = new Set<(clientId: string) => void>();
  readonly #grants = new GrantsInterner();
  readonly #verified = new VerifiedSecrets();

  get(clientId: string): IndexedKey | undefined {
    const key = this.#source.get(APIKEYS, clientId) as ApiKey | undefined;
    if (key === undefined) return undefined;
    let indexed = this.#indexed.get(key);
    if (indexed === undefined) {
      indexed = indexKey(key, this.#grants);
      this.#indexed.set(key, indexed);
      this.#seen.add(clientId);
    }
    return indexed;
  }

  authenticate(clientId: string, secret: string): IndexedKey | null {
    const indexed = this.get(clientId);
    const ok = this.secretMatches(clientId, secret, indexed);
    return indexed && ok && isClientActive(indexed) ? indexed : null;
  }

  /**
   * Whether `secret` is the secret of `indexed` (this client's entry; an unknown client is checked
   * against a dummy hash, so it costs the same). A secret verified once is remembered against that
   * very entry (`VerifiedSecrets`): the API-key check and the token endpoint's client authentication
   * both pass here, so a client calling either skips the salted digest the next time.
   */
  secretMatches(clientId: string, secret: string, indexed: IndexedKey | undefined): boolean {
    return this.#verified.verify(clientId, secret, indexed ? indexed.secret : UNKNOWN_KEY_VERIFIER);
  }

  onClientChange(listener: (clientId: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Look keys up in `store` from now on (start, reset); every client looked up before hears of it. */
  reload(store: EntitySource): void {
    const before = [...this.#seen];
    this.#source = store;
    this.#indexed = new WeakMap();
    this.#seen.clear();
    this.#grants.clear();
    for (const clientId of before) this.#notify(clientId);
  }

  /** One key was written or deleted. */
  apply(change: Exclude<ChangeEvent, { op: 'reset' }>, store: EntitySource): void {
    this.#source = store;
    // A writer that put back the same object, edited, must not find the entry of its old content.
    const key = store.get(APIKEYS, change.id) as ApiKey | undefined;
    if (key !== undefined) this.#indexed.delete(key);
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
