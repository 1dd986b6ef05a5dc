/**
 * The stores a gateway runs on, chosen by `storage.kind` in the boot configuration:
 * - `embedded`: the configuration in the lowdb data file, runtime state in LMDB in a directory
 *   next to it (`<file>.state/`), shared by every process on the machine;
 * - `redis`: both in Redis, over one shared connection (a command and a subscriber connection).
 */
import type { Logger } from 'pino';
import type { BootConfig } from './boot-config.js';
import type { EntityRegistry } from './entities.js';
import type { Store } from './store.js';
import { LowdbStore } from './lowdb-store.js';
import { RedisConfigStore } from './redis-store.js';
import { LmdbStateStore } from '../state/lmdb-state.js';
import { RedisConnection, type RedisConnectionOptions } from '../state/redis-connection.js';
import { RedisStateStore } from '../state/redis-state.js';
import type { StateStore } from '../state/state-store.js';

export interface Stores {
  /** Configuration: routes, global config, entities of plugins, settings. */
  config: Store;
  /** Runtime state: revocations, quotas, sessions, login limits. */
  state: StateStore;
  /** Open both (configuration first: it may refuse to start on invalid data). */
  open(): Promise<void>;
  /** Close both and release the connection. */
  close(): Promise<void>;
}

/**
 * Build (not open) the stores `config.storage` asks for. A cluster worker passes the replica of its
 * primary's configuration store as `configStore`; its runtime state is the same engine as the
 * primary's (LMDB shared on disk, or Redis).
 */
export function createStores(
  config: Pick<BootConfig, 'store' | 'storage'>,
  registry: EntityRegistry,
  log?: Logger,
  configStore?: Store,
  redisOptions: RedisConnectionOptions = {},
): Stores {
  if (config.storage.kind === 'redis') {
    const connection = new RedisConnection(config.storage.url!, redisOptions);
    const keyPrefix = config.storage.keyPrefix;
    const redisConfig = configStore ?? new RedisConfigStore(connection, registry, { keyPrefix });
    const state = new RedisStateStore(connection, { keyPrefix });
    return {
      config: redisConfig,
      state,
      async open() {
        await redisConfig.open();
        await state.open();
      },
      async close() {
        await redisConfig.close();
        await state.close();
        await connection.close();
      },
    };
  }
  const embeddedConfig = configStore ?? new LowdbStore(config.store.file, registry, log);
  const state = new LmdbStateStore({ path: `${config.store.file}.state` });
  return {
    config: embeddedConfig,
    state,
    async open() {
      await embeddedConfig.open();
      await state.open();
    },
    async close() {
      await embeddedConfig.close();
      await state.close();
    },
  };
}
