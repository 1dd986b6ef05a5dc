/**
 * What only the embedded engine promises: acknowledged durable writes survive `kill -9`, several
 * processes share quotas and one-time codes exactly, expired entries are purged in batches, and a
 * subscriber that fell behind is told to resync.
 */
import 'reflect-metadata';
import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LmdbStateStore } from '../../../core/state/lmdb-state.js';
import { StateUnavailableError } from '../../../core/errors.js';
import type { StateValue } from '../../../core/state/state-store.js';
import { runChild, startChild } from './fixtures/child-process.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-lmdb-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function openStore(
  dir: string,
  options: Partial<ConstructorParameters<typeof LmdbStateStore>[0]> = {},
): Promise<LmdbStateStore> {
  const store = new LmdbStateStore({ path: dir, ...options });
  await store.open();
  cleanup.push(() => store.close());
  return store;
}

describe('Embedded state engine (lmdb)', () => {
  it('keeps every acknowledged durable write when the writing process is killed with SIGKILL mid-stream', async (t) => {
    const dir = tempDir();
    const child = startChild(['durable-writes', dir, '1000']);
    await child.waitForLine((line) => line === 'ack 400');
    child.process.kill('SIGKILL');
    assert.equal(await child.exited, 'SIGKILL');
    const acknowledged = child.lines.filter((l) => l.startsWith('ack ')).map((l) => Number(l.slice(4)));
    t.diagnostic(`${acknowledged.length} writes acknowledged before SIGKILL`);
    assert.ok(acknowledged.length >= 400 && acknowledged.length < 1000, 'killed mid-stream');
    const store = await openStore(dir);
    const ns = store.namespace('durable-test', { durable: true });
    const missing = [];
    for (const i of acknowledged) if ((await ns.get(`key-${i}`)) === undefined) missing.push(i);
    assert.deepEqual(missing, [], 'no acknowledged write is lost');
    assert.deepEqual(await ns.get(`key-${acknowledged[0]}`), { i: acknowledged[0] });
  });

  it('two processes and this one share a quota exactly: 700 concurrent decisions against 400 allow 400', async (t) => {
    const dir = tempDir();
    const store = await openStore(dir);
    const now = Date.now();
    const [start, end] = [now, now + 120_000];
    const window = { name: 'second', limit: 400, start, end };
    const ns = store.namespace('quota-test');
    const goAt = String(now + 1500); // after both children have started
    const [a, b, here] = await Promise.all([
      runChild(['consume', dir, '300', '400', String(start), String(end), goAt]),
      runChild(['consume', dir, '300', '400', String(start), String(end), goAt]),
      sleep(1500).then(() => Promise.all(Array.from({ length: 100 }, () => ns.consume('shared', [window])))),
    ]);
    const allowed = [a, b].map((lines) => Number(lines.find((l) => l.startsWith('allowed '))!.slice(8)));
    const total = allowed[0]! + allowed[1]! + here.filter((d) => d.allowed).length;
    t.diagnostic(
      `allowed: child A ${allowed[0]}, child B ${allowed[1]}, parent ${here.filter((d) => d.allowed).length}, total ${total}`,
    );
    assert.equal(total, 400);
    assert.equal((await ns.consume('shared', [window])).windows[0]!.count, 400);
  });

  it('exactly one of two processes racing on set-if-absent wins', async () => {
    const dir = tempDir();
    const [a, b] = await Promise.all([
      runChild(['set-if-absent', dir, '50', 'a']),
      runChild(['set-if-absent', dir, '50', 'b']),
    ]);
    const won = [a, b].map((lines) => Number(lines.find((l) => l.startsWith('won '))!.slice(4)));
    assert.equal(won[0]! + won[1]!, 1);
  });

  it('a write in one process is read at once in another', async () => {
    const dir = tempDir();
    const store = await openStore(dir);
    const ns = store.namespace('once-test');
    assert.equal(await ns.get('once'), undefined); // this process's read snapshot is now open
    await runChild(['set-if-absent', dir, '1', 'child']);
    assert.equal(await ns.get('once'), 'child-0');
  });

  it('durable and volatile entries are there again after the store is closed and reopened', async () => {
    const dir = tempDir();
    const first = new LmdbStateStore({ path: dir });
    await first.open();
    await first.namespace('revocations', { durable: true }).set('jti-1', { exp: 1 }, 60_000);
    await first.namespace('sessions').set('s-1', { user: 'admin' }, 60_000);
    await first.close();
    const second = await openStore(dir);
    assert.deepEqual(await second.namespace('revocations', { durable: true }).get('jti-1'), { exp: 1 });
    assert.deepEqual(await second.namespace('sessions').get('s-1'), { user: 'admin' });
  });

  it('discards the unsynced volatile environment after a reboot, keeping durable entries', async () => {
    const dir = tempDir();
    const first = new LmdbStateStore({ path: dir });
    await first.open();
    await first.namespace('revocations', { durable: true }).set('jti-1', { exp: 1 }, 60_000);
    await first.namespace('sessions').set('s-1', { user: 'admin' }, 60_000);
    await first.close();
    writeFileSync(join(dir, 'volatile.mdb.boot-id'), 'a-boot-before-the-last-reboot');
    const second = await openStore(dir);
    assert.deepEqual(await second.namespace('revocations', { durable: true }).get('jti-1'), { exp: 1 });
    assert.equal(await second.namespace('sessions').get('s-1'), undefined);
    await second.namespace('sessions').set('s-2', 1, 60_000);
    assert.equal(await second.namespace('sessions').get('s-2'), 1);
  });

  it('purges expired entries in bounded batches through the expiry index, leaving live and re-set entries', async () => {
    const dir = tempDir();
    const store = await openStore(dir, { purgeIntervalMs: 3_600_000, purgeBatch: 20 });
    const ns = store.namespace('purge');
    await Promise.all(Array.from({ length: 50 }, (_, i) => ns.set(`old-${i}`, i, 10)));
    await ns.set('extended', 'short', 10);
    await ns.set('extended', 'long', 60_000); // its first index entry is now stale
    await ns.set('live', 'yes', 60_000);
    await sleep(30);
    const passes = [
      await store.purgeExpired(),
      await store.purgeExpired(),
      await store.purgeExpired(),
      await store.purgeExpired(),
    ];
    assert.ok(
      passes.every((n) => n <= 20),
      `at most one batch per pass: ${passes}`,
    );
    assert.equal(
      passes.reduce((a, b) => a + b),
      50,
      'every expired entry is purged; the stale index entry removes nothing',
    );
    assert.equal(passes[3], 0);
    assert.equal(await ns.get('extended'), 'long');
    assert.equal(await ns.get('live'), 'yes');
    assert.deepEqual((await ns.entries()).map((e) => e.key).sort(), ['extended', 'live']);
  });

  it('tells a subscriber that fell behind the event retention to resync', async () => {
    const dir = tempDir();
    const store = await openStore(dir, { pollIntervalMs: 3_600_000, eventRetentionMs: 1000 });
    const ns = store.namespace('events');
    const received: StateValue[] = [];
    let resyncs = 0;
    ns.subscribe('revoked', (m) => received.push(m));
    ns.onResync(() => resyncs++);
    await ns.publish('revoked', 1);
    await ns.publish('revoked', 2);
    await store.purgeExpired(Date.now() + 5000); // both events are past their retention before this process read them
    await ns.publish('revoked', 3);
    store.pollEvents();
    assert.deepEqual(received, [3]);
    assert.equal(resyncs, 1);
    await ns.publish('revoked', 4);
    store.pollEvents();
    assert.deepEqual(received, [3, 4]);
    assert.equal(resyncs, 1, 'no gap, no resync');
  });

  it('rejects with StateUnavailableError once closed, and refuses a namespace reopened with another durability', async () => {
    const dir = tempDir();
    const store = new LmdbStateStore({ path: dir });
    await store.open();
    const ns = store.namespace('x', { durable: true });
    assert.throws(() => store.namespace('x'), TypeError);
    await store.close();
    assert.equal(store.ready, false);
    await assert.rejects(ns.get('k'), StateUnavailableError);
  });
});
