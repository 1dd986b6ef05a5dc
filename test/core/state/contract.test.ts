/**
 * The runtime-state contract, one suite run against both engines: the embedded LMDB engine (a
 * second process for the cross-process cases) and Redis (a second connection standing for a
 * second gateway instance, on a real redis-server).
 */
import 'reflect-metadata';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LmdbStateStore } from '../../../core/state/lmdb-state.js';
import { RedisStateStore } from '../../../core/state/redis-state.js';
import { RedisConnection } from '../../../core/state/redis-connection.js';
import {
  counterKey,
  DEFAULT_CLOCK_SKEW_MS,
  type QuotaWindow,
  type StateStore,
  type StateValue,
} from '../../../core/state/state-store.js';
import { calendarWindows, rateLimitHeaders } from '../../../core/state/quota-windows.js';
import { startRedis, type TestRedis } from '../../helpers/redis.js';
import { runChild, startChild } from './fixtures/child-process.js';
import { eventually } from '../../helpers/wait.js';

interface Peer {
  /** Publish on `channel` of namespace `events` from the other process or instance. */
  publish(channel: string, message: StateValue): Promise<void>;
  /** Subscribe there; `messages` fills as they arrive. */
  subscribe(channel: string): Promise<{ messages: StateValue[]; close(): Promise<void> }>;
}

interface Harness {
  store: StateStore;
  peer: Peer;
  /** When the engine will drop a quota counter (epoch ms), read from the engine itself. */
  counterExpiresAt(namespace: string, key: string, window: QuotaWindow): Promise<number | undefined>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function lmdbHarness(): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-state-'));
  const store = new LmdbStateStore({ path: dir, pollIntervalMs: 20 });
  await store.open();
  return {
    store,
    peer: {
      async publish(channel, message) {
        await runChild(['publish', dir, channel, JSON.stringify(message)]);
      },
      async subscribe(channel) {
        const child = startChild(['subscribe', dir, channel]);
        await child.waitForLine((line) => line === 'ready');
        const messages: StateValue[] = [];
        child.process.stdout!.on('data', () => {
          messages.splice(
            0,
            messages.length,
            ...child.lines.filter((l) => l.startsWith('message ')).map((l) => JSON.parse(l.slice(8))),
          );
        });
        return {
          messages,
          async close() {
            child.process.kill('SIGKILL');
            await child.exited;
          },
        };
      },
    },
    async counterExpiresAt(namespace, key, window) {
      const found = store.inspectCounter(namespace, key, window);
      if (found) assert.ok(found.indexed, 'every counter is in the expiry index, so the purge reaches it');
      return found?.expiresAt;
    },
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let redis: TestRedis | undefined;

async function redisHarness(): Promise<Harness> {
  redis ??= await startRedis();
  const keyPrefix = `test${Math.random().toString(36).slice(2, 8)}:`;
  const connection = new RedisConnection(redis.url);
  const store = new RedisStateStore(connection, { keyPrefix });
  await store.open();
  const peerConnection = new RedisConnection(redis.url);
  const peerStore = new RedisStateStore(peerConnection, { keyPrefix });
  await peerStore.open();
  return {
    store,
    peer: {
      publish: (channel, message) => peerStore.namespace('events').publish(channel, message),
      async subscribe(channel) {
        const messages: StateValue[] = [];
        const unsubscribe = peerStore.namespace('events').subscribe(channel, (message) => messages.push(message));
        // SUBSCRIBE is asynchronous: wait until Redis counts the subscriber.
        await eventually(async () => {
          const [, count] = (await connection.client.pubsub('NUMSUB', `${keyPrefix}state:events:${channel}`)) as [
            string,
            number,
          ];
          return count > 0;
        }, 'the subscription');
        return {
          messages,
          async close() {
            unsubscribe();
          },
        };
      },
    },
    async counterExpiresAt(namespace, key, window) {
      const ttl = await connection.client.pttl(`${keyPrefix}state:${namespace}#${counterKey(key, window)}`);
      assert.notEqual(ttl, -1, 'a counter key never lives without an expiry');
      return ttl < 0 ? undefined : Date.now() + ttl;
    },
    async close() {
      await store.close();
      await Promise.all([connection.close(), peerConnection.close()]);
    },
  };
}

after(async () => {
  await redis?.stop();
});

for (const [engine, createHarness] of [
  ['embedded (lmdb)', lmdbHarness],
  ['redis', redisHarness],
] as const) {
  describe(`State store contract: ${engine}`, () => {
    let h: Harness;
    before(async () => {
      h = await createHarness();
    });
    after(async () => {
      await h.close();
    });

    it('get returns a copy of what set stored, and nothing for an unknown key', async () => {
      const ns = h.store.namespace('basics');
      const value = { user: 'alice', roles: ['admin'], n: 1.5, ok: true, none: null };
      await ns.set('a', value, 60_000);
      value.roles.push('mutated after set');
      assert.deepEqual(await ns.get('a'), { user: 'alice', roles: ['admin'], n: 1.5, ok: true, none: null });
      assert.equal(await ns.get('missing'), undefined);
      await ns.set('a', 'replaced', 60_000);
      assert.equal(await ns.get('a'), 'replaced');
    });

    it('an entry is gone once its TTL has passed', async () => {
      const ns = h.store.namespace('ttl');
      await ns.set('short', 1, 40);
      await ns.set('long', 2, 60_000);
      assert.equal(await ns.get('short'), 1);
      await sleep(80);
      assert.equal(await ns.get('short'), undefined);
      assert.equal(await ns.get('long'), 2);
    });

    it('a TTL that is not a positive number is refused', async () => {
      const ns = h.store.namespace('ttl');
      await assert.rejects(ns.set('x', 1, 0), RangeError);
      await assert.rejects(ns.setIfAbsent('x', 1, Number.NaN), RangeError);
    });

    it('of 100 concurrent set-if-absent calls exactly one wins, and the key can be taken again once expired', async () => {
      const ns = h.store.namespace('once');
      // A TTL far longer than the burst: on a loaded machine a short one expired mid-burst and let a second caller win.
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) => ns.setIfAbsent('code', `caller-${i}`, 60_000)),
      );
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal(await ns.get('code'), `caller-${results.indexOf(true)}`);
      assert.equal(await ns.setIfAbsent('short', 'first', 300), true);
      assert.equal(await ns.setIfAbsent('short', 'second', 60_000), false);
      await sleep(400);
      assert.equal(await ns.setIfAbsent('short', 'later', 60_000), true);
      assert.equal(await ns.get('short'), 'later');
    });

    it('setAll writes every entry with its own TTL in one step, and a refused entry leaves none written', async () => {
      const ns = h.store.namespace('atomic', { durable: true });
      const start = Date.now();
      await ns.setAll([
        { key: 'at:1', value: { user: 'alice' }, ttlMs: 30_000 },
        { key: 'rt:1', value: { user: 'alice' }, ttlMs: 600_000 },
      ]);
      const end = Date.now();
      assert.deepEqual(await ns.get('at:1'), { user: 'alice' });
      assert.deepEqual(await ns.get('rt:1'), { user: 'alice' });
      await assert.rejects(
        ns.setAll([
          { key: 'at:2', value: 1, ttlMs: 60_000 },
          { key: 'rt:2', value: 1, ttlMs: 0 },
        ]),
        RangeError,
      );
      assert.equal(await ns.get('at:2'), undefined);
      const listed = new Map((await ns.entries()).map((e) => [e.key, e.expiresAt]));
      assert.deepEqual([...listed.keys()].sort(), ['at:1', 'rt:1']);
      // Each entry got its own TTL (read back from the engine: Redis derives it from the time left, so allow a second).
      const expiresIn = (key: string) => listed.get(key)! - start;
      assert.ok(
        expiresIn('at:1') > 29_000 && expiresIn('at:1') <= end - start + 30_005,
        `at:1 expires in 30 s, not ${expiresIn('at:1')} ms`,
      );
      assert.ok(
        expiresIn('rt:1') > 599_000 && expiresIn('rt:1') <= end - start + 600_005,
        `rt:1 expires in 600 s, not ${expiresIn('rt:1')} ms`,
      );
    });

    it('100 concurrent setAll calls each land whole: every pair is there, each with its own values', async () => {
      const ns = h.store.namespace('atomic-many');
      await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          ns.setAll([
            { key: `a:${i}`, value: `user-${i}`, ttlMs: 60_000 },
            { key: `b:${i}`, value: `user-${i}`, ttlMs: 60_000 },
          ]),
        ),
      );
      const entries = new Map((await ns.entries()).map((e) => [e.key, e.value]));
      assert.equal(entries.size, 200);
      for (let i = 0; i < 100; i++)
        assert.ok(entries.get(`a:${i}`) === `user-${i}` && entries.get(`b:${i}`) === `user-${i}`);
    });

    it('delete removes a live entry and says whether there was one', async () => {
      const ns = h.store.namespace('deletes');
      await ns.set('k', 'v', 60_000);
      assert.equal(await ns.delete('k'), true);
      assert.equal(await ns.get('k'), undefined);
      assert.equal(await ns.delete('k'), false);
      assert.equal(await ns.setIfAbsent('k', 'again', 60_000), true);
    });

    it('keys of different namespaces do not collide', async () => {
      await h.store.namespace('left').set('same', 'L', 60_000);
      await h.store.namespace('right').set('same', 'R', 60_000);
      assert.equal(await h.store.namespace('left').get('same'), 'L');
      assert.equal(await h.store.namespace('right').get('same'), 'R');
      assert.throws(() => h.store.namespace('bad:name'), TypeError);
    });

    it('200 concurrent quota decisions against a limit of 50 allow exactly 50, and refused calls are not counted', async (t) => {
      const ns = h.store.namespace('quota');
      const now = Date.now();
      const window: QuotaWindow = { name: 'minute', limit: 50, start: now, end: now + 60_000 };
      const decisions = await Promise.all(Array.from({ length: 200 }, () => ns.consume('client-1', [window])));
      const allowed = decisions.filter((d) => d.allowed).length;
      t.diagnostic(`${engine}: 200 concurrent decisions, limit 50 → ${allowed} allowed`);
      assert.equal(allowed, 50);
      const next = await ns.consume('client-1', [window]);
      assert.equal(next.allowed, false);
      assert.equal(next.windows[0]!.count, 50, 'refused calls did not add to the count');
      assert.equal(next.windows[0]!.remaining, 0);
      const other = await ns.consume('client-2', [window]);
      assert.equal(other.allowed, true, 'another key has its own counter');
    });

    it('countRefused counts refused calls when the caller asks for it', async () => {
      const ns = h.store.namespace('quota');
      const now = Date.now();
      const window: QuotaWindow = { name: 'minute', limit: 1, start: now, end: now + 60_000 };
      await ns.consume('strict', [window], { countRefused: true });
      const refused = await ns.consume('strict', [window], { countRefused: true });
      assert.equal(refused.allowed, false);
      assert.equal(refused.windows[0]!.count, 2);
    });

    it('a decision over second, day and month windows is refused by the exhausted window and allowed calls count in every window', async () => {
      const ns = h.store.namespace('calendar');
      const now = Date.now();
      const windows = calendarWindows({ perSecond: 1000, perDay: 3, perMonth: 10 }, now);
      const results = [];
      for (let i = 0; i < 4; i++) results.push(await ns.consume('key', windows, { now }));
      assert.deepEqual(
        results.map((r) => r.allowed),
        [true, true, true, false],
      );
      const refused = results[3]!;
      assert.equal(refused.windows[refused.decisive]!.name, 'day');
      assert.equal(refused.retryAfterMs, windows[1]!.end - now);
      assert.deepEqual(
        refused.windows.map((w) => w.count),
        [3, 3, 3],
      );
      const headers = rateLimitHeaders(refused, now);
      assert.equal(headers['ratelimit-limit'], '3');
      assert.equal(headers['ratelimit-remaining'], '0');
      assert.equal(headers['retry-after'], String(Math.ceil((windows[1]!.end - now) / 1000)));
      const allowed = results[1]!;
      assert.equal(
        allowed.windows[allowed.decisive]!.name,
        'day',
        'the window with the fewest calls left decides the headers',
      );
      assert.equal(allowed.windows[allowed.decisive]!.remaining, 1);
    });

    it('every quota counter expires no later than its window end plus the clock-skew allowance', async () => {
      const ns = h.store.namespace('expiry');
      const now = Date.now();
      const windows = calendarWindows({ perSecond: 10, perDay: 10, perMonth: 10 }, now);
      const before = Date.now();
      await ns.consume('key', windows, { now });
      await ns.consume('key', windows, { now });
      for (const window of windows) {
        const expiresAt = await h.counterExpiresAt('expiry', 'key', window);
        assert.ok(expiresAt !== undefined, `${window.name} counter exists`);
        assert.ok(
          expiresAt <= window.end + DEFAULT_CLOCK_SKEW_MS + (Date.now() - before),
          `${window.name} counter expires at ${new Date(expiresAt).toISOString()}, window ends ${new Date(window.end).toISOString()}`,
        );
        assert.ok(expiresAt >= window.end, `${window.name} counter lives until its window ends`);
      }
    });

    it('entries lists the live entries of a namespace, without its quota counters', async () => {
      const ns = h.store.namespace('listing');
      await ns.set('a', 1, 60_000);
      await ns.set('b', { x: 2 }, 60_000);
      await ns.set('gone', 3, 20);
      await ns.consume('a', [{ name: 'w', limit: 5, start: 0, end: Date.now() + 60_000 }]);
      await sleep(40);
      const entries = (await ns.entries()).sort((x, y) => x.key.localeCompare(y.key));
      assert.deepEqual(
        entries.map((e) => [e.key, e.value]),
        [
          ['a', 1],
          ['b', { x: 2 }],
        ],
      );
      for (const entry of entries) assert.ok(entry.expiresAt > Date.now() && entry.expiresAt <= Date.now() + 60_000);
    });

    it("a message published by another instance reaches this one, and this one's reaches the other", async (t) => {
      const ns = h.store.namespace('events');
      const received: StateValue[] = [];
      const unsubscribe = ns.subscribe('revoked', (message) => received.push(message));
      const otherChannel: StateValue[] = [];
      const unsubscribeOther = ns.subscribe('other', (message) => otherChannel.push(message));
      const remote = await h.peer.subscribe('revoked');
      try {
        const sentAt = Date.now();
        await h.peer.publish('revoked', { jti: 'abc' });
        await eventually(() => received.length === 1, 'the message from the peer');
        t.diagnostic(`${engine}: peer → here in ${Date.now() - sentAt} ms (including the peer's start-up for lmdb)`);
        assert.deepEqual(received, [{ jti: 'abc' }]);
        const localSentAt = Date.now();
        await ns.publish('revoked', { jti: 'def' });
        await eventually(() => remote.messages.length >= 2, "this instance's message at the peer");
        t.diagnostic(`${engine}: here → peer in ${Date.now() - localSentAt} ms`);
        assert.deepEqual(remote.messages, [{ jti: 'abc' }, { jti: 'def' }]);
        assert.deepEqual(otherChannel, [], 'channels are separate');
      } finally {
        unsubscribe();
        unsubscribeOther();
        await remote.close();
      }
    });

    it('reports itself ready while open', () => {
      assert.equal(h.store.ready, true);
    });
  });
}
