import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway, createRoute, route, ADMIN_PASSWORD, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';
import { basic, send } from '../helpers/http.js';

const basicAuth = (id: string, secret: string) => ({
  authorization: 'Basic ' + Buffer.from(`${id}:${secret}`).toString('base64'),
});

/** Send a raw JSON text (a JS object literal cannot hold an own `__proto__` key). */
function sendRaw(gw: TestGateway, method: string, path: string, text: string) {
  return send(gw.adminUrl + path, {
    method,
    headers: { 'content-type': 'application/json', authorization: basic('admin', ADMIN_PASSWORD) },
    body: text,
  });
}

describe('Configuration integrity', () => {
  let gw: TestGateway;
  let upstream: Upstream;

  before(async () => {
    gw = await startGateway();
    upstream = await startUpstream(echo);
    await createRoute(gw, route('good', upstream.url, { plugins: [{ plugin: 'apikeys' }] }));
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  describe('a write that is accepted is a configuration that runs', () => {
    for (const url of ['http://127.0.0.1:70000', 'http://[::1', 'http://[::1:80', 'http://%zz']) {
      it(`refuses a target URL the proxy cannot use (${url}) with 400 and the path, and keeps serving`, async () => {
        const created = await gw.admin(
          'POST',
          '/api/routes',
          route('bad-target', url, { frontend: { domains: ['bad.test'] } }),
        );
        assert.equal(created.status, 400, created.text);
        assert.equal(created.json().error, 'validation_failed');
        assert.equal(created.json().details[0].path, '/backend/targets/0/url');
        const current = (await gw.admin('GET', '/api/routes/good')).json();
        const updated = await gw.admin('PUT', '/api/routes/good', { ...current, backend: { targets: [{ url }] } });
        assert.equal(updated.status, 400);
        assert.equal((await gw.admin('GET', '/api/routes/bad-target')).status, 404);
        // later writes still reach traffic
        await createRoute(gw, route('after-refusal', upstream.url, { frontend: { domains: ['after.test'] } }));
        assert.equal((await gw.proxy('/', { host: 'after.test' })).status, 200);
        assert.equal((await gw.admin('DELETE', '/api/routes/after-refusal')).status, 204);
        assert.equal((await gw.proxy('/', { host: 'after.test' })).status, 404);
      });
    }

    it('refuses a path filter that does not compile as the compiler anchors it', async () => {
      for (const pattern of ['(', 'a)(b', '\\']) {
        const res = await gw.admin(
          'POST',
          '/api/routes',
          route('bad-regex', upstream.url, {
            frontend: { domains: ['regex.test'] },
            plugins: [{ plugin: 'headers', include: [pattern] }],
          }),
        );
        assert.equal(res.status, 400, pattern);
        assert.equal(res.json().details[0].path, '/plugins/0/include/0');
      }
    });
  });

  describe('identifiers equal to Object.prototype names', () => {
    for (const id of ['constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
      it(`creates, reads, updates, serves and deletes a route and an API key named "${id}"`, async () => {
        assert.equal((await gw.admin('GET', `/api/routes/${id}`)).status, 404);
        assert.equal((await gw.admin('DELETE', `/api/routes/${id}`)).status, 404);
        const created = await gw.admin(
          'POST',
          '/api/routes',
          route(id, upstream.url, { frontend: { domains: [`${id.toLowerCase()}.test`] } }),
        );
        assert.equal(created.status, 201, created.text);
        const got = await gw.admin('GET', `/api/routes/${id}`);
        assert.equal(got.status, 200);
        assert.equal(got.json().id, id);
        const updated = await gw.admin('PUT', `/api/routes/${id}`, { ...got.json(), name: 'renamed' });
        assert.equal(updated.status, 200, updated.text);
        assert.equal((await gw.proxy('/', { host: `${id.toLowerCase()}.test` })).status, 200);

        assert.equal((await gw.admin('GET', `/api/apikeys/${id}`)).status, 404);
        const key = await gw.admin('POST', '/api/apikeys', {
          clientId: id,
          clientSecret: 'a-long-enough-secret-123',
          clientName: id,
          authorizedEntities: ['good'],
        });
        assert.equal(key.status, 201, key.text);
        assert.equal((await gw.proxy('/', { headers: basicAuth(id, 'a-long-enough-secret-123') })).status, 200);
        assert.equal((await gw.admin('DELETE', `/api/apikeys/${id}`)).status, 204);
        assert.equal((await gw.proxy('/', { headers: basicAuth(id, 'a-long-enough-secret-123') })).status, 401);

        assert.equal((await gw.admin('DELETE', `/api/routes/${id}`)).status, 204);
        assert.equal((await gw.admin('GET', `/api/routes/${id}`)).status, 404);
        assert.equal((await gw.admin('DELETE', `/api/routes/${id}`)).status, 404);
      });
    }

    it('refuses __proto__ as an id (ids start with a letter or digit) and finds nothing under it', async () => {
      assert.equal((await gw.admin('GET', '/api/routes/__proto__')).status, 404);
      assert.equal((await gw.admin('DELETE', '/api/routes/__proto__')).status, 404);
      assert.equal((await gw.admin('PUT', '/api/routes/__proto__', route('__proto__', upstream.url))).status, 404);
      const created = await gw.admin('POST', '/api/routes', route('__proto__', upstream.url));
      assert.equal(created.status, 400);
      const key = await gw.admin('POST', '/api/apikeys', { clientId: '__proto__', clientName: 'x' });
      assert.equal(key.status, 400);
    });

    it('refuses a __proto__ key anywhere in a body or an import, and stores nothing', async () => {
      const before = readFileSync(gw.dataFile, 'utf8');
      const key = await sendRaw(
        gw,
        'POST',
        '/api/apikeys',
        '{"clientId":"proto-meta","clientName":"x","metadata":{"__proto__":{"jwt-sign-keypair":"x"}}}',
      );
      assert.equal(key.status, 400, key.text);
      const nested = await sendRaw(
        gw,
        'POST',
        '/api/routes',
        JSON.stringify(route('proto-route', upstream.url)).replace(
          '"plugins":[]',
          '"plugins":[{"plugin":"headers","config":{"__proto__":{"polluted":true}}}]',
        ),
      );
      assert.equal(nested.status, 400, nested.text);
      const imported = await sendRaw(gw, 'POST', '/api/import', '{"routes":[{"__proto__":{"id":"x"}}]}');
      assert.equal(imported.status, 400, imported.text);
      assert.equal((await gw.admin('GET', '/api/apikeys/proto-meta')).status, 404);
      assert.equal(readFileSync(gw.dataFile, 'utf8'), before);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    });
  });

  describe('dates and numbers that are real', () => {
    it('refuses an API key expiry that is not on the calendar', async () => {
      for (const validUntil of [
        '2020-13-01T00:00Z',
        '2021-02-29T00:00:00Z',
        '2030-01-01T25:00Z',
        '2030-04-31T00:00Z',
      ]) {
        const res = await gw.admin('POST', '/api/apikeys', { clientName: 'dated', validUntil });
        assert.equal(res.status, 400, validUntil);
        assert.equal(res.json().details[0].path, '/validUntil');
      }
      assert.equal(
        (await gw.admin('POST', '/api/apikeys', { clientName: 'dated', validUntil: '2024-02-29T00:00Z' })).status,
        201,
      );
    });

    it('refuses absurd quotas and durations with 400', async () => {
      assert.equal((await gw.admin('POST', '/api/apikeys', { clientName: 'q', throttlingQuota: 1e308 })).status, 400);
      const res = await gw.admin(
        'POST',
        '/api/routes',
        route('slow', upstream.url, {
          frontend: { domains: ['slow.test'] },
          backend: { timeouts: { connectMs: 1e12 } },
        }),
      );
      assert.equal(res.status, 400);
    });

    it('answers 400, never 500, to a key pair rotation with an absurd or malformed overlap', async () => {
      await gw.admin('POST', '/api/keypairs', { id: 'rotating', name: 'Rotating', alg: 'ES256' });
      for (const retireAfterSeconds of [1e308, -1, 1.5, 'soon', null, 10 ** 13]) {
        const res = await gw.admin('POST', '/api/keypairs/rotating/rotate', { retireAfterSeconds });
        assert.equal(res.status, 400, `${retireAfterSeconds}: ${res.text}`);
        assert.equal(res.json().error, 'validation_failed');
      }
      assert.equal((await gw.admin('POST', '/api/keypairs/rotating/rotate', { retireAfterSeconds: 600 })).status, 200);
      assert.equal((await gw.admin('POST', '/api/keypairs/rotating/rotate')).status, 200);
    });

    it('refuses a rotation that would store more rotated-out keys than the schema allows (the data file must load again)', async () => {
      await gw.admin('POST', '/api/keypairs', { id: 'spinning', name: 'Spinning', alg: 'ES256' });
      for (let i = 0; i < 100; i++)
        assert.equal(
          (await gw.admin('POST', '/api/keypairs/spinning/rotate', { retireAfterSeconds: 3600 })).status,
          200,
        );
      const refused = await gw.admin('POST', '/api/keypairs/spinning/rotate', { retireAfterSeconds: 3600 });
      assert.equal(refused.status, 400, refused.text);
      assert.equal((await gw.admin('GET', '/api/keypairs/spinning')).json().previousKeys.length, 100);
    });
  });
});

describe('Configuration integrity: start-up on a data file with an entity that does not compile', () => {
  let dataDir: string;
  let upstream: Upstream;
  let gw: TestGateway | undefined;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'portcullis-integrity-'));
    upstream = await startUpstream(echo);
  });
  after(async () => {
    await gw?.close();
    await upstream.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts, isolates that route (503, error logged with its id) and applies every other change, including a later API key delete', async () => {
    const first = await startGateway({ dataDir });
    await createRoute(first, route('good', upstream.url, { plugins: [{ plugin: 'apikeys' }] }));
    assert.equal(
      (
        await first.admin('POST', '/api/apikeys', {
          clientId: 'client',
          clientSecret: 'a-long-enough-secret-123',
          clientName: 'c',
          authorizedEntities: ['good'],
        })
      ).status,
      201,
    );
    await first.close();
    // What an older version could save: the schema accepts it, URL parsing does not.
    const data = JSON.parse(readFileSync(first.dataFile, 'utf8'));
    const bad = {
      ...data.entities.routes.good,
      id: 'legacy',
      name: 'legacy',
      frontend: { ...data.entities.routes.good.frontend, domains: ['legacy.test'] },
      backend: { ...data.entities.routes.good.backend, targets: [{ url: 'http://127.0.0.1:70000', weight: 1 }] },
    };
    data.entities.routes.legacy = bad;
    // and a global sink whose config no longer instantiates next to one that does
    data.entities['global-config'].global.plugins = [
      { plugin: 'client-credentials', enabled: true, include: ['('], exclude: [], config: {} },
      {
        plugin: 'client-credentials',
        enabled: true,
        include: [],
        exclude: [],
        config: { secure: false, basePath: '/oauth' },
      },
    ];
    writeFileSync(first.dataFile, JSON.stringify(data));

    gw = await startGateway({ dataDir });
    const isolated = await gw.proxy('/', { host: 'legacy.test' });
    assert.equal(isolated.status, 503);
    assert.equal(isolated.json().error, 'route_unavailable');
    assert.ok(
      gw.logs.some((l) => l.level >= 50 && l.routeId === 'legacy'),
      'an error names the route',
    );
    assert.equal((await gw.proxy('/', { headers: basicAuth('client', 'a-long-enough-secret-123') })).status, 200);
    assert.ok(
      gw.logs.some((l) => l.level >= 50 && l.plugin === 'client-credentials'),
      'an error names the sink',
    );
    assert.equal((await gw.proxy('/oauth/jwks.json')).status, 200, 'the other sink answers');

    assert.equal((await gw.admin('DELETE', '/api/apikeys/client')).status, 204);
    assert.equal((await gw.proxy('/', { headers: basicAuth('client', 'a-long-enough-secret-123') })).status, 401);
    await createRoute(gw, route('new', upstream.url, { frontend: { domains: ['new.test'] } }));
    assert.equal((await gw.proxy('/', { host: 'new.test' })).status, 200);
    // fixing the isolated route brings it back
    const legacy = (await gw.admin('GET', '/api/routes/legacy')).json();
    assert.equal(
      (
        await gw.admin('PUT', '/api/routes/legacy', {
          ...legacy,
          plugins: [],
          backend: { targets: [{ url: upstream.url }] },
        })
      ).status,
      200,
    );
    assert.equal((await gw.proxy('/', { host: 'legacy.test' })).status, 200);
  });
});
