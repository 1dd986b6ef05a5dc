/**
 * The configuration store on Redis, with two store instances standing for two gateways on one
 * real redis-server: each sees the other's writes in version order, reads its own writes, resyncs
 * after a lost message or a Redis restart, and answers 503 to writes while Redis is down.
 */
import 'reflect-metadata';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { RedisConfigStore } from '../../../core/config/redis-store.js';
import { RedisConnection } from '../../../core/state/redis-connection.js';
import { EntityRegistry } from '../../../core/config/entities.js';
import { DataFileError, type ChangeEvent } from '../../../core/config/store.js';
import { ConflictError, StateUnavailableError } from '../../../core/errors.js';
import { startRedis, type TestRedis } from '../../helpers/redis.js';
import { eventually } from '../../helpers/wait.js';

const route = (id: string, name = id) => ({
  id,
  name,
  description: '',
  enabled: true,
  tags: [],
  frontend: { domains: ['a.test'], methods: [], exact: false, stripPath: true, headers: {}, query: {} },
  backend: {
    targets: [{ url: 'http://127.0.0.1:1', weight: 1 }],
    rewriteHost: true,
    timeouts: { connectMs: 1, headersMs: 1, bodyMs: 1 },
  },
  plugins: [],
  version: 1,
});

describe('Core: Redis configuration store', () => {
  let redis: TestRedis;
  const connections: RedisConnection[] = [];
  before(async () => {
    redis = await startRedis({ persistent: true });
  });
  after(async () => {
    await Promise.all(connections.map((c) => c.close()));
    await redis.stop();
  });

  async function openStore(keyPrefix: string): Promise<RedisConfigStore> {
    const connection = new RedisConnection(redis.url, { maxRetryDelayMs: 100 });
    connections.push(connection);
    const store = new RedisConfigStore(connection, new EntityRegistry(), { keyPrefix });
    await store.open();
    return store;
  }

  it("two instances see each other's writes, in version order, and read their own at once", async (t) => {
    const a = await openStore('pair:');
    const b = await openStore('pair:');
    const seenByB: ChangeEvent[] = [];
    const arrivals: number[] = [];
    b.onChange((event) => {
      seenByB.push(event);
      arrivals.push(performance.now());
    });
    const delays: number[] = [];
    for (let i = 0; i < 200; i++) {
      const sentAt = performance.now();
      await a.put('routes', `r${i}`, route(`r${i}`));
      assert.equal((a.get('routes', `r${i}`) as { id: string }).id, `r${i}`, 'read-your-writes');
      await eventually(() => seenByB.length === i + 1, `write ${i} at the other instance`);
      delays.push(arrivals[i]! - sentAt);
    }
    delays.sort((x, y) => x - y);
    t.diagnostic(
      `propagation A.put → B.onChange over 200 writes: median ${delays[100]!.toFixed(2)} ms, p99 ${delays[198]!.toFixed(2)} ms, max ${delays[199]!.toFixed(2)} ms`,
    );
    assert.deepEqual(
      seenByB.map((e) => (e.op === 'put' ? e.id : e.op)),
      Array.from({ length: 200 }, (_, i) => `r${i}`),
    );
    assert.equal(b.count('routes'), 200);
    assert.equal(b.version, a.version);
    assert.equal(await b.delete('routes', 'r0'), true);
    assert.equal(await b.delete('routes', 'r0'), false, 'nothing left to delete: no version bump');
    await eventually(() => a.get('routes', 'r0') === undefined, 'the delete at the first instance');
    assert.equal(a.version, b.version);
  });

  it('concurrent writes from two instances get one total order and both copies converge', async () => {
    const a = await openStore('race:');
    const b = await openStore('race:');
    await Promise.all([
      ...Array.from({ length: 50 }, (_, i) => a.put('routes', `same-${i % 10}`, route(`same-${i % 10}`, `a${i}`))),
      ...Array.from({ length: 50 }, (_, i) => b.put('routes', `same-${i % 10}`, route(`same-${i % 10}`, `b${i}`))),
      ...Array.from({ length: 50 }, (_, i) => b.put('routes', `b-only-${i}`, route(`b-only-${i}`))),
    ]);
    await eventually(() => a.version === 150 && b.version === 150, 'both copies at version 150');
    for (const entity of a.list('routes')) assert.deepEqual(b.get('routes', entity.id as string), entity);
    assert.equal(a.count('routes'), 60);
    assert.equal(b.count('routes'), 60);
  });

  it('a write based on a version refuses a change it has not seen, atomically in Redis: of two instances updating the same version, one wins', async () => {
    const a = await openStore('cas:');
    const b = await openStore('cas:');
    await a.put('routes', 'shared', route('shared'), 0);
    await assert.rejects(
      b.put('routes', 'shared', { ...route('shared', 'from b'), version: 1 }, 0),
      (error: unknown) => error instanceof ConflictError,
      'a create of an existing id',
    );
    // Both read version 1 and write version 2: exactly one compare-and-set succeeds.
    const results = await Promise.allSettled([
      a.put('routes', 'shared', { ...route('shared', 'from a'), version: 2 }, 1),
      b.put('routes', 'shared', { ...route('shared', 'from b'), version: 2 }, 1),
    ]);
    assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
    const loser = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')!;
    assert.ok(loser.reason instanceof ConflictError);
    const winner = results[0]!.status === 'fulfilled' ? 'from a' : 'from b';
    await eventually(
      () =>
        (a.get('routes', 'shared') as { name: string }).name === winner &&
        (b.get('routes', 'shared') as { name: string }).name === winner,
      'both copies hold the winner',
    );
  });

  it('settings (the admin password hash) are shared', async () => {
    const a = await openStore('settings:');
    const b = await openStore('settings:');
    await a.putSetting('adminPasswordHash', { hash: 'scrypt$abc' });
    assert.deepEqual(a.getSetting('adminPasswordHash'), { hash: 'scrypt$abc' });
    await eventually(() => b.getSetting('adminPasswordHash') !== undefined, 'the setting at the other instance');
    assert.deepEqual(b.getSetting('adminPasswordHash'), { hash: 'scrypt$abc' });
    const c = await openStore('settings:');
    assert.deepEqual(c.getSetting('adminPasswordHash'), { hash: 'scrypt$abc' }, 'loaded at open');
  });

  it('a first-start setting written by several instances at once: exactly one wins, and every instance reads the winner at once', async () => {
    const stores = await Promise.all(['a', 'b', 'c'].map(() => openStore('first-setting:')));
    const written = await Promise.all(
      stores.map((s, i) => s.putSettingIfAbsent('adminPasswordHash', { hash: `scrypt$${i}` })),
    );
    assert.equal(written.filter(Boolean).length, 1, 'one write wins');
    const winner = { hash: `scrypt$${written.indexOf(true)}` };
    for (const store of stores)
      assert.deepEqual(store.getSetting('adminPasswordHash'), winner, 'the losers resynced before answering');
    assert.equal(await stores[0]!.putSettingIfAbsent('adminPasswordHash', { hash: 'scrypt$late' }), false);
    assert.deepEqual(stores[0]!.getSetting('adminPasswordHash'), winner, 'a later write does not replace it');
  });

  it('replaceAll replaces the given kinds at once, keeps the others, and every instance reloads', async () => {
    const a = await openStore('import:');
    const b = await openStore('import:');
    await a.put('routes', 'old', route('old'));
    await a.put('keypairs', 'kp', { id: 'kp', version: 1 });
    const bEvents: ChangeEvent[] = [];
    b.onChange((event) => bEvents.push(event));
    await a.replaceAll({ routes: { n1: route('n1'), n2: route('n2') }, 'api-keys': {} });
    assert.deepEqual(
      a
        .list('routes')
        .map((r) => r.id)
        .sort(),
      ['n1', 'n2'],
    );
    assert.equal(a.count('keypairs'), 1, 'kinds not given are kept');
    await eventually(() => b.version === a.version, 'the import at the other instance');
    assert.deepEqual(
      b
        .list('routes')
        .map((r) => r.id)
        .sort(),
      ['n1', 'n2'],
    );
    assert.equal(b.get('routes', 'old'), undefined);
    assert.equal(b.count('keypairs'), 1);
    assert.deepEqual(bEvents.at(-1), { op: 'reset' });
  });

  it('a lost change message (a version gap) makes the follower reload everything', async () => {
    const a = await openStore('gap:');
    const b = await openStore('gap:');
    // A write that bumps the version without a message, as if the message had been lost.
    const raw = connections.at(-1)!.client;
    await raw
      .multi()
      .incr('gap:config:version')
      .sadd('gap:config:kinds', 'routes')
      .hset('gap:config:kind:routes', 'silent', JSON.stringify(route('silent')))
      .exec();
    await a.put('routes', 'loud', route('loud'));
    await eventually(() => b.get('routes', 'loud') !== undefined, 'the change after the gap');
    assert.ok(b.get('routes', 'silent'), 'the change whose message was lost came with the reload');
    assert.equal(b.version, 2);
  });

  it('refuses to open on data that does not validate', async () => {
    const raw = new RedisConnection(redis.url);
    connections.push(raw);
    await raw.open();
    await raw.client
      .multi()
      .set('bad:config:version', '1')
      .sadd('bad:config:kinds', 'routes')
      .hset('bad:config:kind:routes', 'r', JSON.stringify({ id: 'r' }))
      .exec();
    const store = new RedisConfigStore(raw, new EntityRegistry(), { keyPrefix: 'bad:' });
    await assert.rejects(store.open(), DataFileError);
  });

  it('while Redis is down, reads answer from memory and writes reject with 503; after a restart every instance resyncs and nothing is lost', async () => {
    const a = await openStore('outage:');
    const b = await openStore('outage:');
    await a.put('routes', 'kept', route('kept'));
    await eventually(() => b.get('routes', 'kept') !== undefined, 'the first write at the other instance');
    const bEvents: ChangeEvent[] = [];
    b.onChange((event) => bEvents.push(event));

    await redis.halt();
    await eventually(
      () => connections.every((c) => !c.ready || c.client.status !== 'ready'),
      'the connections to notice',
    );
    await assert.rejects(
      a.put('routes', 'refused', route('refused')),
      (error: unknown) => error instanceof StateUnavailableError && error.status === 503,
    );
    await assert.rejects(a.putSetting('x', 1), StateUnavailableError);
    assert.ok(a.get('routes', 'kept'), 'reads keep answering from the copy');
    assert.ok(b.get('routes', 'kept'));

    await redis.start();
    await eventually(
      async () =>
        a.put('routes', 'after', route('after')).then(
          () => true,
          () => false,
        ),
      'a write to succeed again',
    );
    await eventually(() => b.get('routes', 'after') !== undefined, 'the write after the restart at the other instance');
    // Its resync may land after the new write's message (both follow the reconnection): wait for it.
    await eventually(() => bEvents.some((e) => e.op === 'reset'), 'the other instance to resync after reconnecting');
    assert.ok(b.get('routes', 'kept'), 'acknowledged writes survived the restart');
    assert.equal(b.get('routes', 'refused'), undefined);
    assert.equal(a.version, b.version);
  });
});
