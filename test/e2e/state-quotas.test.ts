/**
 * Quotas of the `apikeys` plugin on the runtime state store: exact across 3 gateways on one Redis
 * and across 2 cluster workers on the embedded engine, and the `onStateError` policies while Redis
 * is down, with recovery once it returns.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway, createRoute, route, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { basic, send, sendJson, type TestResponse } from '../helpers/http.js';
import { run, started } from '../helpers/cli.js';
import { QUOTA_SERVICE } from '../../plugins/apikeys/index.js';
import { until } from '../helpers/wait.js';

const SECRET = 'quota-secret-0123456789abcdef';

function tally(responses: TestResponse[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const r of responses) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
}

/** Wait for the start of a fresh second (plus a margin), so a burst stays in one per-second window. */
async function freshSecond(): Promise<void> {
  await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 10));
}

describe('Quotas on Redis: 3 gateways share every counter', () => {
  let redis: TestRedis;
  let upstream: Upstream;
  const gateways: TestGateway[] = [];

  before(async () => {
    redis = await startRedis();
    upstream = await startUpstream(echo);
    for (let i = 0; i < 3; i++)
      gateways.push(await startGateway({ config: { storage: { kind: 'redis', url: redis.url } } }));
    const [a] = gateways;
    await createRoute(a!, route('q', upstream.url, { plugins: [{ plugin: 'apikeys', config: {} }] }));
    for (const [clientId, quota] of [
      ['per-second', { throttlingQuota: 50 }],
      ['per-day', { dailyQuota: 50 }],
    ] as const) {
      const created = await a!.admin('POST', '/api/apikeys', {
        clientId,
        clientSecret: SECRET,
        clientName: clientId,
        authorizedEntities: ['q'],
        ...quota,
      });
      assert.equal(created.status, 201, created.text);
    }
    // Every instance has the route and the keys (configuration propagation is tested elsewhere).
    for (const gw of gateways) {
      await until(
        'the key on every instance',
        () => gw.proxy('/', { headers: { authorization: basic('per-day', 'wrong') } }),
        (r) => r.status === 401,
      );
      await until(
        'the route on every instance',
        () => gw.proxy('/', { headers: { authorization: basic('nobody', 'x') } }),
        (r) => r.status === 401,
      );
    }
  });
  after(async () => {
    for (const gw of gateways) await gw.close();
    await upstream.close();
    await redis.stop();
  });

  const burst = (clientId: string, perGateway: number) =>
    Promise.all(
      gateways.flatMap((gw) =>
        Array.from({ length: perGateway }, () =>
          send(gw.proxyUrl + '/', { headers: { host: 'api.test', authorization: basic(clientId, SECRET) } }),
        ),
      ),
    );

  it('allows exactly 50 of 3 × 100 concurrent calls against a daily quota of 50, with RateLimit headers', async () => {
    const responses = await burst('per-day', 100);
    assert.deepEqual(tally(responses), { 200: 50, 429: 250 });
    const remaining = responses
      .filter((r) => r.status === 200)
      .map((r) => Number(r.headers['ratelimit-remaining']))
      .sort((x, y) => x - y);
    assert.deepEqual(
      remaining,
      Array.from({ length: 50 }, (_, i) => i),
      'each allowed call saw its own count',
    );
    for (const r of responses) {
      assert.equal(r.headers['ratelimit-limit'], '50');
      assert.equal(r.headers['x-ratelimit-limit'], '50');
      assert.ok(Number(r.headers['ratelimit-reset']) >= 1 && Number(r.headers['ratelimit-reset']) <= 86_400);
    }
    for (const r of responses.filter((r) => r.status === 429)) {
      assert.equal(r.json().error, 'too_many_requests');
      assert.equal(r.headers['ratelimit-remaining'], '0');
      assert.ok(Number(r.headers['retry-after']) >= 1);
    }
  });

  it('allows exactly 50 of 3 × 100 concurrent calls within one second against a per-second quota of 50', async () => {
    await freshSecond();
    const started = Date.now();
    const responses = await burst('per-second', 100);
    const second = Math.floor(started / 1000);
    const allowed = responses.filter((r) => r.status === 200);
    // Every allowed call carries the window it was counted in: all in the burst's second means
    // exactness is asserted; a burst that spilled into the next second would have a second window.
    const resets = new Set(allowed.map((r) => r.headers['ratelimit-reset']));
    assert.deepEqual([...resets], ['1']);
    if (Math.floor(Date.now() / 1000) === second) assert.equal(allowed.length, 50, JSON.stringify(tally(responses)));
    else assert.ok(allowed.length >= 50 && allowed.length <= 100, JSON.stringify(tally(responses)));
    for (const r of responses.filter((r) => r.status === 429)) assert.equal(r.headers['retry-after'], '1');
  });
});

describe('Quotas on Redis while Redis is down: onStateError', () => {
  let redis: TestRedis;
  let upstream: Upstream;
  let gw: TestGateway;

  before(async () => {
    // Persistent: the configuration in Redis must survive the restart (the counters do too).
    redis = await startRedis({ persistent: true });
    upstream = await startUpstream(echo);
    gw = await startGateway({ config: { storage: { kind: 'redis', url: redis.url } } });
    for (const policy of ['deny', 'allow', 'local']) {
      await createRoute(
        gw,
        route(policy, upstream.url, {
          frontend: { domains: [`${policy}.test`] },
          plugins: [{ plugin: 'apikeys', config: { onStateError: policy } }],
        }),
      );
    }
    const created = await gw.admin('POST', '/api/apikeys', {
      clientId: 'daily',
      clientSecret: SECRET,
      clientName: 'daily',
      authorizedEntities: ['deny', 'allow', 'local'],
      dailyQuota: 3,
    });
    assert.equal(created.status, 201, created.text);
    await createRoute(
      gw,
      route('free', upstream.url, {
        frontend: { domains: ['free.test'] },
        plugins: [{ plugin: 'apikeys', config: {} }],
      }),
    );
    assert.equal(
      (
        await gw.admin('POST', '/api/apikeys', {
          clientId: 'unlimited',
          clientSecret: SECRET,
          clientName: 'unlimited',
          authorizedEntities: ['free'],
        })
      ).status,
      201,
    );
    for (const host of ['deny.test', 'allow.test', 'local.test', 'free.test']) {
      await until(
        `the route ${host} compiled`,
        () => gw.proxy('/', { host, headers: { authorization: basic('daily', 'wrong') } }),
        (r) => r.status === 401,
      );
    }
    await until(
      'the keys indexed',
      () => call('free.test', 'unlimited'),
      (r) => r.status === 200,
    );
  });
  after(async () => {
    await gw.close();
    await upstream.close();
    await redis.stop();
  });

  const call = (host: string, clientId = 'daily') =>
    gw.proxy('/', { host, headers: { authorization: basic(clientId, SECRET) } });

  it('denies with 503 state_unavailable, allows, or counts locally by policy, says not ready, and recovers by itself', async () => {
    assert.equal((await call('deny.test')).status, 200);
    assert.equal((await send(gw.adminUrl + '/ready')).status, 200);
    const quotas = gw.gateway.service(QUOTA_SERVICE);
    const before = { ...quotas.stateErrors };

    await redis.halt();
    await until(
      '/ready to report the outage',
      () => send(gw.adminUrl + '/ready'),
      (r) => r.status === 503,
    );
    const ready = await send(gw.adminUrl + '/ready');
    assert.match(JSON.stringify(ready.json().problems), /runtime state store/);

    const denied = await call('deny.test');
    assert.equal(denied.status, 503);
    assert.equal(denied.json().error, 'state_unavailable');
    assert.deepEqual(
      await Promise.all(Array.from({ length: 5 }, () => call('allow.test').then((r) => r.status))),
      [200, 200, 200, 200, 200],
      'allow: served, not counted',
    );
    // local: counted by this instance alone, from zero (the shared count of 1 is out of reach)
    const local = [];
    for (let i = 0; i < 4; i++) local.push(await call('local.test'));
    assert.deepEqual(
      local.map((r) => r.status),
      [200, 200, 200, 429],
    );
    assert.equal(local[0]!.headers['ratelimit-remaining'], '2');
    // A key without quota never needs the state store.
    assert.equal((await call('free.test', 'unlimited')).status, 200);
    assert.deepEqual(quotas.stateErrors, { deny: before.deny + 1, allow: before.allow + 5, local: before.local + 4 });
    const warnings = gw.logs.filter((l) => /quota state store unreachable/.test(l.msg ?? ''));
    assert.ok(
      warnings.length >= 1 && warnings.length <= 3,
      `rate-limited logging: ${warnings.length} lines for 10 decisions`,
    );

    await redis.start();
    await until(
      '/ready once Redis is back',
      () => send(gw.adminUrl + '/ready'),
      (r) => r.status === 200,
      15_000,
    );
    const recovered = await call('deny.test');
    assert.equal(recovered.status, 200, recovered.text);
    assert.equal(recovered.headers['ratelimit-limit'], '3');
    assert.equal(
      recovered.headers['ratelimit-remaining'],
      '1',
      'the shared count resumed where it was: the local and allowed calls were not added to it',
    );
  });
});

describe('Quotas on the embedded engine: 2 cluster workers share every counter', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('allows exactly 50 of 200 concurrent calls, on separate connections spread over both workers, against a daily quota of 50', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-quota-workers-'));
    dirs.push(dir);
    const upstream = await startUpstream(echo);
    const gateway = run({
      PORTCULLIS_DATA_FILE: join(dir, 'data.json'),
      PORTCULLIS_WORKERS: '2',
      PORTCULLIS_ADMIN_PASSWORD: 'workers-quota-password',
    });
    try {
      const urls = await started(gateway);
      const auth = { authorization: basic('admin', 'workers-quota-password') };
      const r = {
        id: 'q',
        name: 'q',
        frontend: { domains: ['api.test'] },
        backend: { targets: [{ url: upstream.url }] },
        plugins: [{ plugin: 'apikeys', config: {} }],
      };
      assert.equal((await sendJson(urls.admin + '/api/routes', 'POST', r, auth)).status, 201);
      assert.equal(
        (
          await sendJson(
            urls.admin + '/api/apikeys',
            'POST',
            {
              clientId: 'shared',
              clientSecret: SECRET,
              clientName: 'shared',
              authorizedEntities: ['q'],
              dailyQuota: 50,
            },
            auth,
          )
        ).status,
        201,
      );
      const responses = await Promise.all(
        Array.from({ length: 200 }, () =>
          send(urls.proxy + '/', { headers: { host: 'api.test', authorization: basic('shared', SECRET) } }),
        ),
      );
      assert.deepEqual(tally(responses), { 200: 50, 429: 150 });
      const remaining = responses
        .filter((x) => x.status === 200)
        .map((x) => Number(x.headers['ratelimit-remaining']))
        .sort((x, y) => x - y);
      assert.deepEqual(
        remaining,
        Array.from({ length: 50 }, (_, i) => i),
      );
    } finally {
      gateway.child.kill('SIGTERM');
      await gateway.exited;
      await upstream.close();
    }
  });
});
