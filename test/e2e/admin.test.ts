import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, createRoute, route, ADMIN_PASSWORD, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';
import { basic, send } from '../helpers/http.js';
import { RevocationList } from '../../core/keys/index.js';

describe('Admin API', () => {
  let gw: TestGateway;
  let upstream: Upstream;

  before(async () => {
    gw = await startGateway();
    upstream = await startUpstream(echo);
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  describe('authentication', () => {
    it('serves /health without credentials', async () => {
      const res = await send(`${gw.adminUrl}/health`);
      assert.equal(res.status, 200);
      assert.deepEqual(res.json(), { status: 'ok' });
    });

    it('refuses /api without credentials with 401 and WWW-Authenticate', async () => {
      const res = await send(`${gw.adminUrl}/api/routes`);
      assert.equal(res.status, 401);
      assert.match(String(res.headers['www-authenticate']), /^Basic realm="portcullis-admin"/);
      assert.equal(res.json().error, 'unauthorized');
    });

    it('refuses a wrong password and a wrong user', async () => {
      for (const auth of [basic('admin', 'nope'), basic('root', ADMIN_PASSWORD), 'Basic !!!', 'Bearer x']) {
        const res = await send(`${gw.adminUrl}/api/routes`, { headers: { authorization: auth } });
        assert.equal(res.status, 401, auth);
      }
    });

    it('limits failed credentials per address with 429 and Retry-After', async () => {
      const other = await startGateway();
      try {
        for (let i = 0; i < 20; i++)
          assert.equal(
            (await send(`${other.adminUrl}/api/routes`, { headers: { authorization: basic('admin', `guess-${i}`) } }))
              .status,
            401,
          );
        const limited = await send(`${other.adminUrl}/api/routes`, {
          headers: { authorization: basic('admin', ADMIN_PASSWORD) },
        });
        assert.equal(limited.status, 429);
        assert.ok(Number(limited.headers['retry-after']) > 0);
      } finally {
        await other.close();
      }
    });

    it('accepts the admin credentials', async () => {
      assert.equal((await gw.admin('GET', '/api/routes')).status, 200);
    });
  });

  describe('routes', () => {
    it('creates with 201, generating an id and filling defaults', async () => {
      const { id: _ignored, ...body } = route('x', upstream.url);
      const res = await gw.admin('POST', '/api/routes', body);
      assert.equal(res.status, 201);
      const created = res.json();
      assert.match(created.id, /^[0-9a-f-]{36}$/);
      assert.equal(created.version, 1);
      assert.equal(created.enabled, true);
      assert.equal(created.frontend.stripPath, true);
      assert.equal(created.backend.timeouts.connectMs, 5000);
      assert.ok(created.createdAt);
    });

    it('round-trips GET to PUT unchanged, and with one field edited', async () => {
      await createRoute(gw, route('roundtrip', upstream.url, { frontend: { domains: ['rt.test'] } }));
      const got = (await gw.admin('GET', '/api/routes/roundtrip')).json();
      const same = await gw.admin('PUT', '/api/routes/roundtrip', got);
      assert.equal(same.status, 200);
      assert.equal(same.json().version, 2);
      const edited = await gw.admin('PUT', '/api/routes/roundtrip', {
        ...same.json(),
        name: 'renamed',
        createdAt: 'ignored',
      });
      assert.equal(edited.status, 200);
      assert.equal(edited.json().name, 'renamed');
      assert.equal(edited.json().createdAt, got.createdAt);
      assert.equal(edited.json().version, 3);
    });

    it('answers 409 to an update with a stale version', async () => {
      await createRoute(gw, route('conflict', upstream.url, { frontend: { domains: ['c.test'] } }));
      const v1 = (await gw.admin('GET', '/api/routes/conflict')).json();
      assert.equal((await gw.admin('PUT', '/api/routes/conflict', { ...v1, name: 'first' })).status, 200);
      const stale = await gw.admin('PUT', '/api/routes/conflict', { ...v1, name: 'second' });
      assert.equal(stale.status, 409);
      assert.equal(stale.json().error, 'conflict');
      assert.equal((await gw.admin('GET', '/api/routes/conflict')).json().name, 'first');
    });

    it('answers 409 to a create with an existing id', async () => {
      await createRoute(gw, route('dup', upstream.url, { frontend: { domains: ['dup.test'] } }));
      const res = await gw.admin('POST', '/api/routes', route('dup', upstream.url));
      assert.equal(res.status, 409);
    });

    it('lists with filters, paging and a total count', async () => {
      await createRoute(gw, route('tagged', upstream.url, { frontend: { domains: ['t.test'] }, tags: ['blue'] }));
      const byTag = await gw.admin('GET', '/api/routes?tag=blue');
      assert.deepEqual(
        byTag.json().map((r: any) => r.id),
        ['tagged'],
      );
      const page = await gw.admin('GET', '/api/routes?limit=1&offset=0');
      assert.equal(page.json().length, 1);
      assert.ok(Number(page.headers['x-total-count']) > 1);
      assert.equal((await gw.admin('GET', '/api/routes?limit=0')).status, 400);
    });

    it('answers 404 for an unknown id, on GET, PUT and DELETE', async () => {
      assert.equal((await gw.admin('GET', '/api/routes/missing')).status, 404);
      assert.equal((await gw.admin('PUT', '/api/routes/missing', route('missing', upstream.url))).status, 404);
      assert.equal((await gw.admin('DELETE', '/api/routes/missing')).status, 404);
      assert.equal((await gw.admin('GET', '/api/nothing-here')).status, 404);
    });

    it('answers 405 with Allow for a wrong method', async () => {
      const res = await gw.admin('PATCH', '/api/routes');
      assert.equal(res.status, 405);
      assert.match(String(res.headers.allow), /GET/);
    });
  });

  describe('bad input', () => {
    const raw = (method: string, path: string, body: string, type = 'application/json') =>
      send(`${gw.adminUrl}${path}`, {
        method,
        headers: { authorization: basic('admin', ADMIN_PASSWORD), 'content-type': type },
        body,
      });

    it('answers 400 to malformed JSON, without a stack trace', async () => {
      const res = await raw('POST', '/api/routes', '{"id": ');
      assert.equal(res.status, 400);
      assert.equal(res.json().error, 'invalid_request');
      assert.doesNotMatch(res.text, /at .*\.js:\d+/);
    });

    it('answers 415 to a non-JSON content type', async () => {
      assert.equal((await raw('POST', '/api/routes', 'id=1', 'application/x-www-form-urlencoded')).status, 415);
    });

    it('answers 413 to a body over 1 MiB', async () => {
      const res = await raw('POST', '/api/routes', JSON.stringify({ name: 'x'.repeat(1024 * 1024 + 10) }));
      assert.equal(res.status, 413);
    });

    it('answers 400 listing the JSON path and reason of each schema error', async () => {
      const res = await gw.admin('POST', '/api/routes', {
        id: 'bad route!',
        name: '',
        frontend: { domains: [] },
        backend: { targets: [{ url: 'ftp://x' }] },
        surprise: 1,
      });
      assert.equal(res.status, 400);
      const body = res.json();
      assert.equal(body.error, 'validation_failed');
      const paths = body.details.map((d: any) => d.path);
      for (const expected of ['/id', '/name', '/frontend/domains', '/backend/targets/0/url'])
        assert.ok(paths.includes(expected), `${expected} in ${paths}`);
      assert.ok(body.details.every((d: any) => typeof d.message === 'string' && d.message.length > 0));
    });

    it('answers 400 to an unknown plugin and to an invalid plugin config', async () => {
      const unknown = await gw.admin(
        'POST',
        '/api/routes',
        route('p1', upstream.url, { plugins: [{ plugin: 'nope' }] }),
      );
      assert.equal(unknown.status, 400);
      assert.equal(unknown.json().details[0].path, '/plugins/0/plugin');
      const invalid = await gw.admin(
        'POST',
        '/api/routes',
        route('p2', upstream.url, { plugins: [{ plugin: 'cors', config: { maxAgeSeconds: -1 } }] }),
      );
      assert.equal(invalid.status, 400);
      assert.equal(invalid.json().details[0].path, '/plugins/0/config/maxAgeSeconds');
      const badRegex = await gw.admin(
        'POST',
        '/api/routes',
        route('p3', upstream.url, { plugins: [{ plugin: 'cors', exclude: ['(unclosed'] }] }),
      );
      assert.equal(badRegex.status, 400);
      assert.equal(badRegex.json().details[0].path, '/plugins/0/exclude/0');
    });

    it('refuses to change an id through PUT', async () => {
      await createRoute(gw, route('fixed', upstream.url, { frontend: { domains: ['f.test'] } }));
      const res = await gw.admin('PUT', '/api/routes/fixed', route('other', upstream.url));
      assert.equal(res.status, 400);
    });
  });

  describe('global configuration and catalog', () => {
    it('lists the plugin catalog with schemas and default configs', async () => {
      const catalog = (await gw.admin('GET', '/api/plugins')).json();
      const cors = catalog.find((p: any) => p.id === 'cors');
      assert.ok(cors);
      assert.equal(cors.configSchema.type, 'object');
      assert.deepEqual(cors.defaultConfig.allowOrigins, ['*']);
      assert.ok(catalog.find((p: any) => p.id === 'headers').steps.includes('transformRequest'));
    });

    it('reads and updates the global configuration with versions', async () => {
      const current = (await gw.admin('GET', '/api/global-config')).json();
      assert.deepEqual(current.plugins, []);
      const updated = await gw.admin('PUT', '/api/global-config', {
        ...current,
        plugins: [{ plugin: 'headers', config: { response: { set: { 'x-global': '1' } } } }],
      });
      assert.equal(updated.status, 200);
      assert.equal(updated.json().version, current.version + 1);
      const stale = await gw.admin('PUT', '/api/global-config', current);
      assert.equal(stale.status, 409);
      assert.equal((await gw.admin('PUT', '/api/global-config', { plugins: [] })).status, 200);
    });
  });

  describe('export and import', () => {
    it('round-trips the whole configuration', async () => {
      const exported = (await gw.admin('GET', '/api/export')).json();
      assert.equal(exported.schemaVersion, 1);
      assert.ok(Array.isArray(exported.routes) && exported.routes.length > 0);
      const other = await startGateway();
      try {
        const res = await other.admin('POST', '/api/import', exported);
        assert.equal(res.status, 200, res.text);
        const reexported = (await other.admin('GET', '/api/export')).json();
        const strip = (doc: any) =>
          doc.routes.map(({ updatedAt: _u, ...r }: any) => r).sort((a: any, b: any) => a.id.localeCompare(b.id));
        assert.deepEqual(strip(reexported), strip(exported));
        const proxied = await other.proxy('/hello', { host: 'rt.test' });
        assert.equal(proxied.status, 200);
      } finally {
        await other.close();
      }
    });

    it('validates the whole document before writing anything', async () => {
      const before = (await gw.admin('GET', '/api/routes')).json().length;
      const res = await gw.admin('POST', '/api/import', {
        routes: [route('good-one', upstream.url), { id: 'broken', name: 'broken' }],
      });
      assert.equal(res.status, 400);
      assert.ok(res.json().details.some((d: any) => d.path.startsWith('/routes/1')));
      assert.equal((await gw.admin('GET', '/api/routes')).json().length, before);
      assert.equal((await gw.admin('GET', '/api/routes/good-one')).status, 404);
    });

    it('accepts an export of an earlier version that carries revocations as entities, and moves them into the runtime state', async () => {
      const res = await gw.admin('POST', '/api/import', {
        schemaVersion: 1,
        routes: [route('legacy-export', upstream.url)],
        'revoked-tokens': [
          { jti: 'old-jti', clientId: 'someone', exp: 4_102_444_800, revokedAt: '2026-01-01T00:00:00Z' },
        ],
        'client-token-cutoffs': [],
      });
      assert.equal(res.status, 200, res.text);
      assert.equal((await gw.admin('GET', '/api/routes/legacy-export')).status, 200);
      const exported = (await gw.admin('GET', '/api/export')).json();
      assert.equal(exported['revoked-tokens'], undefined);
      assert.equal(
        gw.gateway.container.resolve(RevocationList).isRevoked('old-jti'),
        true,
        'the revoked token stays revoked',
      );
    });

    it('refuses unknown kinds and duplicate ids', async () => {
      assert.equal((await gw.admin('POST', '/api/import', { widgets: [] })).status, 400);
      const dup = await gw.admin('POST', '/api/import', {
        routes: [route('d', upstream.url), route('d', upstream.url)],
      });
      assert.equal(dup.status, 400);
    });
  });
});
