/**
 * What only the Redis engine has to handle: Redis going away and coming back. While it is down,
 * every operation rejects at once with StateUnavailableError and the store says it is not ready;
 * once it is back, the store recovers by itself and subscribers are told to resync.
 */
import 'reflect-metadata';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RedisStateStore } from '../../../core/state/redis-state.js';
import { RedisConnection } from '../../../core/state/redis-connection.js';
import { StateUnavailableError } from '../../../core/errors.js';
import type { StateValue } from '../../../core/state/state-store.js';
import { startRedis, type TestRedis } from '../../helpers/redis.js';
import { eventually } from '../../helpers/wait.js';

describe('Redis state engine: outages', () => {
  let redis: TestRedis;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis.stop();
  });

  it('three instances share a quota exactly: 600 concurrent decisions against 250 allow 250', async (t) => {
    const connections = [0, 1, 2].map(() => new RedisConnection(redis.url));
    const stores = connections.map((c) => new RedisStateStore(c, { keyPrefix: 'shared-quota:' }));
    await Promise.all(stores.map((s) => s.open()));
    try {
      const now = Date.now();
      const windows = [
        { name: 'second', limit: 1000, start: now, end: now + 60_000 },
        { name: 'day', limit: 250, start: now, end: now + 120_000 },
      ];
      const decisions = await Promise.all(
        stores.flatMap((s) => Array.from({ length: 200 }, () => s.namespace('quotas').consume('client', windows))),
      );
      const perInstance = [0, 1, 2].map((i) => decisions.slice(i * 200, i * 200 + 200).filter((d) => d.allowed).length);
      t.diagnostic(`allowed per instance ${perInstance.join(' + ')} = ${perInstance.reduce((a, b) => a + b)}`);
      assert.equal(
        perInstance.reduce((a, b) => a + b),
        250,
      );
      const refused = decisions.find((d) => !d.allowed)!;
      assert.equal(refused.windows[refused.decisive]!.name, 'day');
    } finally {
      await Promise.all(connections.map((c) => c.close()));
    }
  });

  it('refuses to open when Redis does not answer, with StateUnavailableError', async () => {
    const connection = new RedisConnection('redis://127.0.0.1:1');
    const store = new RedisStateStore(connection);
    await assert.rejects(connection.open(300), StateUnavailableError);
    assert.equal(store.ready, false);
    await connection.close();
  });

  it('rejects promptly with StateUnavailableError while Redis is down, and recovers by itself when it returns', async (t) => {
    const connection = new RedisConnection(redis.url, { maxRetryDelayMs: 100 });
    const peerConnection = new RedisConnection(redis.url, { maxRetryDelayMs: 100 });
    const store = new RedisStateStore(connection, { keyPrefix: 'outage:' });
    const peer = new RedisStateStore(peerConnection, { keyPrefix: 'outage:' });
    await store.open();
    await peer.open();
    try {
      const ns = store.namespace('revocations', { durable: true });
      const readiness: boolean[] = [];
      store.onReadyChange((ready) => readiness.push(ready));
      let resyncs = 0;
      ns.onResync(() => resyncs++);
      const received: StateValue[] = [];
      ns.subscribe('revoked', (m) => received.push(m));
      await ns.set('before', 1, 60_000);

      await redis.halt();
      await eventually(() => !store.ready, 'ready to turn false');
      const window = { name: 'second', limit: 5, start: Date.now(), end: Date.now() + 1000 };
      const startedAt = Date.now();
      const attempts = [
        () => ns.get('before'),
        () => ns.set('x', 1, 1000),
        () => ns.setIfAbsent('y', 1, 1000),
        () => ns.delete('x'),
        () => ns.consume('k', [window]),
        () => ns.publish('revoked', 'lost'),
        () => ns.entries(),
      ];
      for (const attempt of attempts) {
        await assert.rejects(
          attempt,
          (error: unknown) =>
            error instanceof StateUnavailableError && error.status === 503 && error.code === 'state_unavailable',
        );
      }
      t.diagnostic(`7 operations rejected in ${Date.now() - startedAt} ms while Redis was down`);
      assert.deepEqual(readiness, [false]);

      await redis.start();
      await eventually(() => store.ready, 'ready to turn true again');
      assert.deepEqual(readiness, [false, true]);
      await ns.set('after', 2, 60_000);
      assert.equal(await ns.get('after'), 2);
      await eventually(() => resyncs === 1, 'the resync signal after the subscriber reconnected');
      // The channel was subscribed again: a message from the other instance arrives.
      await eventually(() => peerConnection.ready, 'the peer to reconnect');
      await peer.namespace('revocations', { durable: true }).publish('revoked', { jti: 'after-restart' });
      await eventually(() => received.length === 1, 'the message published after the restart');
      assert.deepEqual(received, [{ jti: 'after-restart' }]);
    } finally {
      await Promise.all([connection.close(), peerConnection.close()]);
    }
  });

  it('rejects a command Redis does not answer in time instead of hanging (half-open connection)', async () => {
    const connection = new RedisConnection(redis.url, { commandTimeoutMs: 200 });
    const store = new RedisStateStore(connection, { keyPrefix: 'stall:' });
    await store.open();
    try {
      const ns = store.namespace('sessions');
      // Redis is alive but stalls every client for 1 s: the command times out rather than waiting.
      const admin = new RedisConnection(redis.url);
      await admin.open();
      await admin.client.call('CLIENT', 'PAUSE', '1000', 'ALL');
      await assert.rejects(ns.get('k'), StateUnavailableError);
      await admin.close();
      await eventually(
        async () =>
          await ns.get('k').then(
            () => true,
            () => false,
          ),
        'Redis to answer again',
      );
    } finally {
      await connection.close();
    }
  });
});
