/**
 * Attack: Redis (configuration and runtime state of two gateways) killed and restarted on the same
 * port while traffic runs, as a crash or a failover would do it. What must hold: no configuration
 * write that was acknowledged is lost and none is acknowledged while Redis is away (503 JSON, never
 * a 500 or a hang); quota counters survive (a persistent Redis) so the restart lets no call over the
 * quota through; a token revoked before the outage stays refused on both gateways during and after
 * it; and every answer during the outage is an RFC-shaped JSON error, never a 5xx other than 503.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, createRoute, route, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { basic, send, type TestResponse } from '../helpers/http.js';
import { until } from '../helpers/wait.js';
import { oauthGateway, form, tokenFor, SECRET, REVOKE_PATH } from '../plugins/client-credentials/fixtures.js';

const QUOTA = 12;

/** An answer given while Redis is away: served, over quota, or a JSON 503; never another 5xx. */
function assertOutageAnswer(res: TestResponse, what: string): void {
  assert.ok([200, 201, 204, 401, 429, 503].includes(res.status), `${what}: ${res.status} ${res.text.slice(0, 200)}`);
  if (res.status === 503) {
    assert.match(String(res.headers['content-type']), /json/, what);
    assert.equal(typeof res.json().error, 'string', what);
  }
}

describe('Attack: Redis restarted under traffic', () => {
  let redis: TestRedis;
  let upstream: Upstream;
  let a: TestGateway;
  let b: TestGateway;
  let revokedToken: string;

  before(async () => {
    redis = await startRedis({ persistent: true });
    upstream = await startUpstream(echo);
    const storage = { storage: { kind: 'redis' as const, url: redis.url } };
    a = await oauthGateway(upstream, { logLevel: 'silent', config: storage });
    b = await startGateway({ logLevel: 'silent', config: storage });
    await createRoute(
      a,
      route('quota', upstream.url, {
        frontend: { domains: ['quota.test'] },
        plugins: [{ plugin: 'apikeys', config: { onStateError: 'deny' } }],
      }),
    );
    const created = await a.admin('POST', '/api/apikeys', {
      clientId: 'metered',
      clientSecret: SECRET,
      clientName: 'metered',
      authorizedEntities: ['quota'],
      dailyQuota: QUOTA,
    });
    assert.equal(created.status, 201, created.text);
    revokedToken = await tokenFor(a, 'default-client');
    const revoked = await a.proxy(REVOKE_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('default-client', SECRET) },
      body: form({ token: revokedToken }),
    });
    assert.equal(revoked.status, 200, revoked.text);
    for (const gw of [a, b]) {
      await until(
        'the metered key on every gateway',
        () => metered(gw),
        (r) => r.status === 200,
      );
      await until(
        'the revocation on every gateway',
        () => withToken(gw, revokedToken),
        (r) => r.status === 401,
      );
    }
  });
  after(async () => {
    await a.close();
    await b.close();
    await upstream.close();
    await redis.stop();
  });

  const metered = (gw: TestGateway) =>
    gw.proxy('/', { host: 'quota.test', headers: { authorization: basic('metered', SECRET) } });
  const withToken = (gw: TestGateway, token: string) =>
    gw.proxy('/', { headers: { authorization: `Bearer ${token}` } });

  it('loses no acknowledged write, acknowledges none while Redis is away, and counts the quota exactly across the restart', async (t) => {
    // Two of the quota's calls were made above (one per gateway); two more now.
    for (const gw of [a, b]) assert.equal((await metered(gw)).status, 200);
    const acknowledged: string[] = [];
    const refused: string[] = [];
    let writes = 0;
    const outageAnswers: TestResponse[] = [];
    let stop = false;
    // Writes and calls run on both gateways the whole time Redis goes away and comes back.
    const writer = (async () => {
      while (!stop) {
        const id = `w${writes++}`;
        const gw = writes % 2 === 0 ? a : b;
        const res = await gw.admin(
          'POST',
          '/api/routes',
          route(id, upstream.url, { frontend: { domains: [`${id}.test`] } }),
        );
        assertOutageAnswer(res, `write ${id}`);
        (res.status === 201 ? acknowledged : refused).push(id);
      }
    })();
    const caller = (async () => {
      while (!stop) {
        const res = await metered(writes % 2 === 0 ? a : b);
        outageAnswers.push(res);
        assertOutageAnswer(res, 'metered call');
      }
    })();
    await until(
      'some writes before the outage',
      () => acknowledged.length,
      (n) => n >= 3,
    );
    await redis.halt();
    await until(
      'a write refused during the outage',
      () => refused.length,
      (n) => n >= 2,
      20_000,
    );
    const deniedDuringOutage = outageAnswers.filter((r) => r.status === 503).length;
    await redis.start();
    await until(
      'writes acknowledged again after the restart',
      () => acknowledged.filter((id) => Number(id.slice(1)) > Number(refused.at(-1)!.slice(1))).length,
      (n) => n >= 3,
      30_000,
    );
    stop = true;
    await Promise.all([writer, caller]);

    assert.ok(deniedDuringOutage >= 1 || refused.length >= 1, 'the outage was seen');
    t.diagnostic(
      `writes acknowledged ${acknowledged.length}, refused ${refused.length}; metered calls ${JSON.stringify(outageAnswers.reduce<Record<number, number>>((c, r) => ({ ...c, [r.status]: (c[r.status] ?? 0) + 1 }), {}))}`,
    );
    // Every acknowledged write is in Redis: both gateways, and a third started from Redis alone, have it.
    const fresh = await startGateway({ logLevel: 'silent', config: { storage: { kind: 'redis', url: redis.url } } });
    try {
      for (const gw of [a, b, fresh]) {
        const ids = new Set(
          await until(
            'the routes listed',
            async () =>
              (await gw.admin('GET', '/api/routes?limit=10000')).json().map((r: { id: string }) => r.id) as string[],
            (list) => acknowledged.every((id) => list.includes(id)),
            15_000,
          ),
        );
        for (const id of acknowledged) assert.ok(ids.has(id), `acknowledged write ${id} lost`);
      }
    } finally {
      await fresh.close();
    }
    // The quota: every 200 the metered key ever got, on both gateways, before, during and after.
    const served = 4 + outageAnswers.filter((r) => r.status === 200).length;
    assert.ok(served <= QUOTA, `${served} calls served against a daily quota of ${QUOTA}`);
    // And the counter resumed where it was: what is left is exactly what was not used.
    const rest: TestResponse[] = [];
    for (let i = 0; i < QUOTA; i++) rest.push(await metered(i % 2 === 0 ? a : b));
    assert.equal(
      served + rest.filter((r) => r.status === 200).length,
      QUOTA,
      `before: ${served}, after: ${rest.map((r) => r.status).join(',')}`,
    );
  });

  it('a token revoked before the outage stays refused on both gateways while Redis is away and after it returns', async () => {
    await redis.halt();
    try {
      for (const gw of [a, b]) {
        const res = await withToken(gw, revokedToken);
        assert.equal(res.status, 401, `during the outage: ${res.text}`);
      }
    } finally {
      await redis.start();
    }
    for (const gw of [a, b])
      await until(
        '/ready once Redis is back',
        () => send(gw.adminUrl + '/ready'),
        (r) => r.status === 200,
        15_000,
      );
    for (const gw of [a, b]) assert.equal((await withToken(gw, revokedToken)).status, 401);
  });

  it('a revocation asked for while Redis is away is answered 503 JSON (not acknowledged and lost), and is honoured once asked again', async () => {
    const token = await tokenFor(a, 'default-client');
    await redis.halt();
    let during: TestResponse;
    try {
      during = await a.proxy(REVOKE_PATH, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: basic('default-client', SECRET),
        },
        body: form({ token }),
      });
    } finally {
      await redis.start();
    }
    assertOutageAnswer(during, 'revocation during the outage');
    await until(
      '/ready once Redis is back',
      () => send(a.adminUrl + '/ready'),
      (r) => r.status === 200,
      15_000,
    );
    if (during.status === 200) {
      // Acknowledged: then it must hold on both gateways after the restart.
      for (const gw of [a, b])
        await until(
          'the acknowledged revocation on every gateway',
          () => withToken(gw, token),
          (r) => r.status === 401,
          5_000,
        );
    } else {
      assert.equal(during.status, 503);
      const again = await a.proxy(REVOKE_PATH, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: basic('default-client', SECRET),
        },
        body: form({ token }),
      });
      assert.equal(again.status, 200, again.text);
      for (const gw of [a, b])
        await until(
          'the revocation on every gateway',
          () => withToken(gw, token),
          (r) => r.status === 401,
          5_000,
        );
    }
  });
});
