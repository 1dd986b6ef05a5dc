/**
 * `storage` in the boot configuration and the factory that builds the stores from it: embedded by
 * default (the data file, LMDB next to it), Redis when a URL is given, one shared connection.
 */
import 'reflect-metadata';
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadBootConfig } from '../../../core/config/boot-config.js';
import { EntityRegistry } from '../../../core/config/entities.js';
import { LowdbStore } from '../../../core/config/lowdb-store.js';
import { RedisConfigStore } from '../../../core/config/redis-store.js';
import { createStores } from '../../../core/config/stores.js';
import { LmdbStateStore } from '../../../core/state/lmdb-state.js';
import { RedisStateStore } from '../../../core/state/redis-state.js';
import { startRedis, type TestRedis } from '../../helpers/redis.js';

describe('Boot config: storage', () => {
  it('is embedded by default, with the portcullis: key prefix', () => {
    const config = loadBootConfig({ env: {} });
    assert.deepEqual(config.storage, { kind: 'embedded', keyPrefix: 'portcullis:' });
  });

  it('PORTCULLIS_STORAGE_URL alone selects Redis', () => {
    const config = loadBootConfig({ env: { PORTCULLIS_STORAGE_URL: 'redis://:secret@redis:6379/0' } });
    assert.deepEqual(config.storage, { kind: 'redis', url: 'redis://:secret@redis:6379/0', keyPrefix: 'portcullis:' });
  });

  it('refuses a URL that is not redis:// or rediss://, naming the variable', () => {
    assert.throws(
      () => loadBootConfig({ env: { PORTCULLIS_STORAGE_URL: 'http://redis:6379' } }),
      (error: unknown) =>
        error instanceof ConfigError && /storage\.url \(from PORTCULLIS_STORAGE_URL\)/.test(error.message),
    );
  });

  it('refuses kind redis without a URL', () => {
    const dir = mkdtempSync(join(tmpdir(), 'storage-config-'));
    try {
      const file = join(dir, 'config.json');
      writeFileSync(file, JSON.stringify({ storage: { kind: 'redis' } }));
      assert.throws(
        () => loadBootConfig({ file, env: {} }),
        (error: unknown) => error instanceof ConfigError && /storage\.url is required/.test(error.message),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('createStores', () => {
  let redis: TestRedis | undefined;
  after(async () => {
    await redis?.stop();
  });

  it('embedded: the lowdb data file and an LMDB state directory next to it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stores-'));
    try {
      const file = join(dir, 'portcullis.json');
      const stores = createStores(
        { store: { file }, storage: { kind: 'embedded', keyPrefix: 'portcullis:' } },
        new EntityRegistry(),
      );
      assert.ok(stores.config instanceof LowdbStore);
      assert.ok(stores.state instanceof LmdbStateStore);
      await stores.open();
      await stores.state.namespace('sessions').set('s', 1, 60_000);
      assert.ok(existsSync(join(dir, 'portcullis.json.state', 'volatile.mdb')));
      await stores.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('redis: both stores on one connection, under the key prefix', async () => {
    redis = await startRedis();
    const stores = createStores(
      { store: { file: 'unused.json' }, storage: { kind: 'redis', url: redis.url, keyPrefix: 'gw1:' } },
      new EntityRegistry(),
    );
    assert.ok(stores.config instanceof RedisConfigStore);
    assert.ok(stores.state instanceof RedisStateStore);
    await stores.open();
    try {
      await stores.config.putSetting('adminPasswordHash', 'h');
      await stores.state.namespace('sessions').set('s', 1, 60_000);
      const keys = (await (stores.state as RedisStateStore).connection.client.keys('*')).sort();
      assert.deepEqual(keys, ['gw1:config:settings', 'gw1:config:version', 'gw1:state:sessions:s']);
    } finally {
      await stores.close();
    }
    assert.equal(stores.state.ready, false);
  });
});
