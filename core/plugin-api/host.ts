/**
 * The plugin host: what a `PluginModule` is given in `register`, `init` and `close`, in place of
 * the DI container. Like Kong's PDK it is a designed surface: handles for the module's own entity
 * kinds, typed services it provides to or uses from other modules, its plugins and admin endpoints,
 * a logger and metrics of its own, the runtime state, the gateway's keys and the boot configuration
 * (read-only). The container stays inside the core; a plugin never sees it.
 *
 * Lifetime: `register` runs before the stores open. What it adds (kinds, services, plugins, admin
 * endpoints) is collected; plugin and admin factories run once every module has registered, so a
 * factory may `use` a service whichever module provides it. Entity handles read and write from
 * `init` on (and from request and admin code, which run later still).
 */
import type { Logger } from 'pino';
import type { Static, TSchema } from '@sinclair/typebox';
import type { BootConfig } from '../config/boot-config.js';
import type { EntityKind, Route, StoredEntity } from '../config/entities.js';
import type { EntityHooks, WriteOptions } from '../config/entity-service.js';
import type { AdminRoute } from '../admin/extensions.js';
import type { Metrics } from '../metrics/metrics.js';
import type { StateStore } from '../state/state-store.js';
import type { KeyPair, KeyService, RevocationEpoch, RevocationList } from '../keys/index.js';
import type { Plugin } from '../plugin-runtime/plugin.js';

/** A typed name for a service one module provides and others use (`ApiKeyIssuer`, `ClientDirectory`). */
export interface ServiceToken<T> {
  readonly name: string;
  /** What `use` gives when no module provides the service; absent: `use` fails with a clear error. */
  readonly fallback?: T;
}

export function serviceToken<T>(name: string, fallback?: T): ServiceToken<T> {
  return Object.freeze(fallback === undefined ? { name } : { name, fallback });
}

/**
 * One entity kind, through the core's write path (schema validation, the kind's hooks, references,
 * optimistic concurrency), typed by the kind's schema.
 */
export interface EntityHandle<T extends StoredEntity = StoredEntity> {
  readonly name: string;
  list(): T[];
  /** NotFoundError (404) when there is none. */
  get(id: string): T;
  /** Undefined when there is none. */
  find(id: string): T | undefined;
  /** What the admin API shows of a stored entity (the kind's `present` hooks: no secret hashes). */
  present(entity: T): StoredEntity;
  create(input: unknown, options?: WriteOptions): Promise<T>;
  update(id: string, input: unknown, options?: WriteOptions): Promise<T>;
  /** A programmatic change (rotation…): the result must still conform to the schema. */
  replace(id: string, next: T): Promise<T>;
  delete(id: string): Promise<void>;
  /** Add behaviour to this kind's writes (hash a secret, hide a key); several compose in order. */
  hooks(hooks: EntityHooks<T>): void;
  /**
   * The standard admin endpoints of the kind (list with filters, get, create, update, delete),
   * to give `host.admin.routes` alongside the kind's own.
   */
  adminRoutes(options?: EntityRouteOptions): AdminRoute[];
}

/** List filters of the standard admin endpoints (`?tag=`, `?enabled=` and a kind's own). */
export interface EntityRouteOptions {
  filter?: (query: URLSearchParams) => ((entity: Record<string, unknown>) => boolean) | null;
  filterQuery?: Record<string, TSchema>;
}

/** The reading part of a handle. */
export type EntityReader<T extends StoredEntity = StoredEntity> = Pick<
  EntityHandle<T>,
  'name' | 'list' | 'get' | 'find'
>;

export interface HostEntities {
  /** Register one of the module's own kinds (in `register`) and get its handle. */
  define<S extends TSchema>(kind: EntityKind<S>): EntityHandle<Static<S> & StoredEntity>;
  /** The routes, read-only (whether a key is authorized for one); a route's write-only secrets rotate by `rotateSecret`. */
  readonly routes: EntityReader<Route & StoredEntity>;
  /** The gateway's key pairs (a plugin's default one). */
  readonly keyPairs: EntityHandle<KeyPair & StoredEntity>;
  /**
   * Rotate a write-only secret of this module's plugin instance on a route (`writeOnlySecret` in
   * its schema): a new value is stored as a digest and returned once.
   */
  rotateSecret(routeId: string, pluginId: string, field: string): Promise<string>;
}

/** The gateway's keys: signing key pairs, revoked tokens and the revocation epoch. */
export interface HostKeys {
  readonly signing: KeyService;
  readonly revocations: RevocationList;
  readonly epoch: RevocationEpoch;
}

export interface PluginHost {
  /** The module's id (`apikeys`): names its logger and its errors. */
  readonly id: string;
  readonly entities: HostEntities;
  /** Offer a service under a typed token; one provider per token (another module's `use` gets it). */
  provide<T>(token: ServiceToken<T>, service: T): void;
  /** A service another module provides; call it from a factory or from `init` (a clear error if none does). */
  use<T>(token: ServiceToken<T>): T;
  /** Whether some loaded module provides a service (for optional cooperation). */
  provides(token: ServiceToken<unknown>): boolean;
  readonly plugins: {
    /** Add a request-path plugin; a factory runs once every module has registered. */
    add(plugin: Plugin | (() => Plugin)): void;
  };
  readonly admin: {
    /** Endpoints on the admin API; the factory runs when the admin API is built (after `register`). */
    routes(routes: () => AdminRoute[]): void;
  };
  /** A child of the gateway's logger, `{ plugin: id }`. */
  readonly logger: Logger;
  /** Token counts and counters with fixed label values (never ids, paths or hosts). */
  readonly metrics: Metrics;
  /** Short-lived shared data (quotas, sessions, one-time codes); open from `init` on. */
  readonly state: StateStore;
  readonly keys: HostKeys;
  /** The boot configuration, read-only. */
  readonly config: Readonly<BootConfig>;
}

/**
 * What a plugin package exports to be installed in a gateway. `apiVersion` is the
 * `PLUGIN_API_VERSION` it was written against: the gateway refuses to start a module whose major
 * version differs from its own.
 */
export interface PluginModule {
  readonly id: string;
  readonly apiVersion?: string;
  /** Declare kinds, services, plugins and admin endpoints; runs before the stores open. */
  register(host: PluginHost): void;
  /** Optional start-up work once the stores are open (hooks, default entities, timers). */
  init?(host: PluginHost): Promise<void> | void;
  /** Optional cleanup on shutdown (timers). */
  close?(host: PluginHost): Promise<void> | void;
}

/**
 * The version of the plugin API (`PluginHost`, the door's exports). Semantic versioning: a new
 * export or host member is a minor version; removing or changing one is a major version, and a
 * module written for another major version is refused at start.
 */
export const PLUGIN_API_VERSION = '1.1.0';
