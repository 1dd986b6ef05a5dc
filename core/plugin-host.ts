/**
 * The `PluginHost` over the gateway's DI container: one host per module, built by the gateway.
 * Plugins see the host's interface (`core/plugin-api/host.ts`), never the container: what a module
 * registers is turned into container registrations here (plugins under `PLUGINS`, admin endpoints
 * under `ADMIN_EXTENSIONS`), and services live in one registry shared by the modules of a gateway.
 */
import { instanceCachingFactory, type DependencyContainer } from 'tsyringe';
import type { Logger } from 'pino';
import type { TSchema } from '@sinclair/typebox';
import { ADMIN_EXTENSIONS, BOOT_CONFIG, LOGGER, METRICS, PLUGINS, STATE_STORE } from './tokens.js';
import { EntityRegistry, ROUTES, type EntityKind, type StoredEntity } from './config/entities.js';
import { EntityService } from './config/entity-service.js';
import { NotFoundError } from './errors.js';
import { entityRoutes } from './admin/admin-api.js';
import { rotatePluginSecret } from './plugin-runtime/plugin-secrets.js';
import { KEYPAIR_KIND, KeyService, RevocationEpoch, RevocationList } from './keys/index.js';
import type { Plugin } from './plugin-runtime/plugin.js';
import { PLUGIN_API_VERSION } from './plugin-api/host.js';
import type {
  EntityHandle,
  HostEntities,
  HostKeys,
  PluginHost,
  PluginModule,
  ServiceToken,
} from './plugin-api/host.js';

/** The services the modules of one gateway provide to each other, by token. */
export class ServiceRegistry {
  readonly #services = new Map<ServiceToken<unknown>, { provider: string; service: unknown }>();

  provide<T>(provider: string, token: ServiceToken<T>, service: T): void {
    const existing = this.#services.get(token);
    if (existing)
      throw new Error(`Service ${token.name} is provided twice (by "${existing.provider}" and "${provider}")`);
    this.#services.set(token, { provider, service });
  }

  /** `user` names who asks, for the error: `Plugin module "access-requests"`. */
  use<T>(user: string, token: ServiceToken<T>): T {
    const entry = this.#services.get(token);
    if (!entry && token.fallback !== undefined) return token.fallback;
    if (!entry) throw new Error(`${user} uses the service ${token.name}, which no loaded module provides`);
    return entry.service as T;
  }

  has(token: ServiceToken<unknown>): boolean {
    return this.#services.has(token);
  }
}

/** A kind's handle: every call goes to the EntityService, resolved when first used (it exists once the stores are built). */
function entityHandle<T extends StoredEntity>(container: DependencyContainer, name: string): EntityHandle<T> {
  const entities = () => container.resolve(EntityService);
  return {
    name,
    list: () => entities().list(name) as T[],
    get: (id) => entities().get(name, id) as T,
    find: (id) => {
      try {
        return entities().get(name, id) as T;
      } catch (error) {
        if (error instanceof NotFoundError) return undefined;
        throw error;
      }
    },
    present: (entity) => entities().present(name, entity),
    create: async (input, options) => (await entities().create(name, input, options)) as T,
    update: async (id, input, options) => (await entities().update(name, id, input, options)) as T,
    replace: async (id, next) => (await entities().replace(name, id, next)) as T,
    delete: (id) => entities().delete(name, id),
    hooks: (hooks) => entities().addHooks(name, hooks as never),
    adminRoutes: (options) => entityRoutes(entities(), name, options),
  };
}

function hostEntities(container: DependencyContainer): HostEntities {
  return {
    define<S extends TSchema>(kind: EntityKind<S>) {
      container.resolve(EntityRegistry).register(kind);
      return entityHandle(container, kind.name);
    },
    routes: entityHandle(container, ROUTES.name),
    keyPairs: entityHandle(container, KEYPAIR_KIND.name),
    rotateSecret: (routeId, pluginId, field) =>
      rotatePluginSecret(container.resolve(EntityService), routeId, pluginId, field),
  };
}

/** The host a module is given; the container's services are resolved when first asked for. */
export function createPluginHost(
  module: PluginModule,
  container: DependencyContainer,
  services: ServiceRegistry,
): PluginHost {
  const id = module.id;
  let logger: Logger | undefined;
  const keys: HostKeys = {
    get signing() {
      return container.resolve(KeyService);
    },
    get revocations() {
      return container.resolve(RevocationList);
    },
    get epoch() {
      return container.resolve(RevocationEpoch);
    },
  };
  return {
    id,
    entities: hostEntities(container),
    provide: (token, service) => services.provide(id, token, service),
    use: (token) => services.use(`Plugin module "${id}"`, token),
    provides: (token) => services.has(token),
    plugins: {
      add(plugin: Plugin | (() => Plugin)) {
        const make = typeof plugin === 'function' ? plugin : () => plugin;
        container.register(PLUGINS, { useFactory: instanceCachingFactory(make) });
      },
    },
    admin: {
      routes(routes) {
        container.register(ADMIN_EXTENSIONS, { useFactory: instanceCachingFactory(() => ({ routes })) });
      },
    },
    get logger() {
      logger ??= container.resolve(LOGGER).child({ plugin: id });
      return logger;
    },
    get metrics() {
      return container.resolve(METRICS);
    },
    get state() {
      return container.resolve(STATE_STORE);
    },
    keys,
    get config() {
      return container.resolve(BOOT_CONFIG);
    },
  };
}

/** Why a module cannot run on this gateway's plugin API, or null. */
export function apiVersionProblem(module: PluginModule, current = PLUGIN_API_VERSION): string | null {
  if (module.apiVersion === undefined) return null;
  const major = (version: string) => /^(\d+)\.\d+\.\d+/.exec(version)?.[1];
  const wanted = major(module.apiVersion);
  if (wanted === undefined)
    return `Plugin module "${module.id}" declares apiVersion "${module.apiVersion}", not a semantic version (major.minor.patch)`;
  if (wanted !== major(current))
    return `Plugin module "${module.id}" was written for plugin API ${module.apiVersion}; this gateway has ${current} (another major version)`;
  return null;
}
