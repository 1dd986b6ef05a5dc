/**
 * Back-office sessions and login limiters on the runtime state store: a session survives a
 * restart (embedded) and works on another instance (Redis); the failed-login limits hold across
 * instances; logins answer 503 `state_unavailable` while Redis is down, and work again after.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway, ADMIN_PASSWORD, type TestGateway } from '../helpers/gateway.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { basic, send } from '../helpers/http.js';
import { until as poll } from '../helpers/wait.js';

const until = <T>(what: string, probe: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 15_000) =>
  poll(what, probe, ok, timeoutMs, 25);

const login = (gw: TestGateway, password: string) =>
  send(`${gw.adminUrl}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password }),
  });
const cookieOf = (res: { headers: Record<string, unknown> }) => String(res.headers['set-cookie']).split(';')[0]!;
const page = (gw: TestGateway, cookie: string) => send(`${gw.adminUrl}/`, { headers: { cookie } });

describe('Back-office sessions on the embedded engine', () => {
  it('survive a restart of the gateway', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-sessions-'));
    let gw = await startGateway({ dataDir, backOffice: true });
    try {
      const res = await login(gw, ADMIN_PASSWORD);
      assert.equal(res.status, 200);
      const cookie = cookieOf(res);
      assert.equal((await page(gw, cookie)).status, 200);
      await gw.close({ keepData: true });
      gw = await startGateway({ dataDir, backOffice: true });
      const after = await page(gw, cookie);
      assert.equal(after.status, 200, 'the session outlived the process');
      assert.match(after.text, /<html/i);
      assert.equal((await page(gw, 'portcullis_session=forged')).status, 302);
    } finally {
      await gw.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('Back-office sessions and login limits across 2 gateways on one Redis', () => {
  let redis: TestRedis;
  const gateways: TestGateway[] = [];
  after(async () => {
    for (const gw of gateways) await gw.close();
    await redis?.stop();
  });

  it('serves a session made on A from B, ends it on logout, and counts failed logins of both instances together', async () => {
    redis = await startRedis({ persistent: true });
    for (let i = 0; i < 2; i++)
      gateways.push(await startGateway({ backOffice: true, config: { storage: { kind: 'redis', url: redis.url } } }));
    const [a, b] = gateways as [TestGateway, TestGateway];

    const res = await login(a, ADMIN_PASSWORD);
    assert.equal(res.status, 200);
    const cookie = cookieOf(res);
    assert.equal((await page(b, cookie)).status, 200, 'the session of A works on B');
    const out = await send(`${b.adminUrl}/logout`, { method: 'POST', headers: { cookie } });
    assert.equal(out.status, 303);
    assert.equal((await page(b, cookie)).status, 302, 'logged out on B');

    // Back office: 5 failed logins per address, whichever instance they reach.
    for (let i = 0; i < 5; i++) assert.equal((await login(i % 2 === 0 ? a : b, `wrong-${i}`)).status, 401);
    for (const gw of [a, b]) {
      const limited = await login(gw, ADMIN_PASSWORD);
      assert.equal(limited.status, 429);
      assert.ok(Number(limited.headers['retry-after']) >= 1);
    }
    // Admin API: 20 per address, counted apart from the back office's.
    for (let i = 0; i < 20; i++) {
      const r = await send(`${(i % 2 === 0 ? a : b).adminUrl}/api/routes`, {
        headers: { authorization: basic('admin', `guess-${i}`) },
      });
      assert.equal(r.status, 401, `guess ${i}`);
    }
    for (const gw of [a, b])
      assert.equal(
        (await send(`${gw.adminUrl}/api/routes`, { headers: { authorization: basic('admin', 'guess-x') } })).status,
        429,
      );
  });

  it('answers logins 503 state_unavailable while Redis is down, and counts them again once it is back', async () => {
    const [a] = gateways as [TestGateway];
    await redis.halt();
    await until(
      'the outage seen',
      () => send(a.adminUrl + '/ready'),
      (r) => r.status === 503,
    );
    // Nothing can be counted, so nothing is hashed: refused before the password is looked at.
    const during = await login(a, 'whatever');
    assert.equal(during.status, 503);
    assert.equal(during.json().error, 'state_unavailable');
    const api = await send(`${a.adminUrl}/api/routes`, { headers: { authorization: basic('admin', 'another-guess') } });
    assert.equal(api.status, 503);
    assert.equal(api.json().error, 'state_unavailable');

    await redis.start();
    await until(
      'ready again',
      () => send(a.adminUrl + '/ready'),
      (r) => r.status === 200,
    );
    assert.equal(
      (await send(`${a.adminUrl}/api/routes`, { headers: { authorization: basic('admin', 'guess-after') } })).status,
      429,
      'the count survived the outage',
    );
  });
});
