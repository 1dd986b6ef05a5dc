/**
 * Configuration warnings through the admin API: a route whose domain and path another enabled route
 * already serves, and an HTTPS-only plugin switch on a gateway no HTTPS reaches (with its fix). The
 * writes are accepted; their answers carry the warnings they concern; `GET /api/warnings` lists them.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, route, type TestGateway } from '../../helpers/gateway.js';

const UPSTREAM = 'http://127.0.0.1:9';
const TOKEN_PATH = '/.well-known/otoroshi/oauth/token';

interface Warning {
  code: string;
  kind: string;
  id: string;
  path: string;
  message: string;
  related: { kind: string; id: string; path: string }[];
  fix?: { label: string; patch: { op: 'add'; path: string; value: unknown }[] };
}

/** Apply a fix's JSON Patch (`add` operations) to an entity. */
function applyPatch(entity: Record<string, any>, patch: NonNullable<Warning['fix']>['patch']): Record<string, any> {
  const copy = structuredClone(entity);
  for (const { path, value } of patch) {
    const keys = path.split('/').slice(1);
    const last = keys.pop()!;
    const parent = keys.reduce((node, key) => node[key], copy);
    parent[last] = value;
  }
  return copy;
}

describe('Admin API: configuration warnings', () => {
  describe('a route whose domain and path another enabled route already serves', () => {
    let gw: TestGateway;
    before(async () => {
      gw = await startGateway();
    });
    after(() => gw.close());

    const warnings = async (): Promise<Warning[]> => (await gw.admin('GET', '/api/warnings')).json();
    const write = async (method: 'POST' | 'PUT', body: Record<string, any>) => {
      const res = await gw.admin(method, method === 'POST' ? '/api/routes' : `/api/routes/${body.id}`, body);
      assert.equal(res.status, method === 'POST' ? 201 : 200, res.text);
      return res.json();
    };

    it('is accepted with a warning naming both routes, on the route never reached', async () => {
      await write('POST', route('orders', UPSTREAM, { frontend: { domains: ['api.test/v1'] } }));
      const second = await write('POST', route('orders-copy', UPSTREAM, { frontend: { domains: ['API.test/v1/'] } }));
      assert.equal(second.warnings.length, 1);
      const [warning] = second.warnings as Warning[];
      assert.equal(warning!.code, 'duplicate-route-match');
      assert.deepEqual(
        [warning!.kind, warning!.id, warning!.path],
        ['routes', 'orders-copy', '/frontend/domains/0'],
        'on the later id: the router answers with the first by id',
      );
      assert.deepEqual(warning!.related, [{ kind: 'routes', id: 'orders', path: '/frontend/domains/0' }]);
      assert.match(warning!.message, /"orders" already serves api\.test\/v1/);
      assert.match(warning!.message, /never to "orders-copy"/);
      assert.deepEqual(await warnings(), [warning]);
      assert.equal((await gw.admin('GET', '/api/routes/orders-copy')).status, 200, 'the write was stored');
    });

    it('names the route that serves the requests when it is the one written, and drops a warnings sent back', async () => {
      const stored = (await gw.admin('GET', '/api/routes/orders')).json();
      const answer = await write('PUT', { ...stored, name: 'Orders', warnings: [{ code: 'sent back' }] });
      assert.equal(answer.warnings.length, 1);
      assert.equal(answer.warnings[0].id, 'orders-copy');
      assert.equal((await gw.admin('GET', '/api/routes/orders')).json().warnings, undefined, 'never stored');
    });

    it('is not given when the routes differ by header condition, path or exactness, or one is disabled', async () => {
      const copy = (await gw.admin('GET', '/api/routes/orders-copy')).json();
      const variants: Record<string, any>[] = [
        { frontend: { ...copy.frontend, domains: ['api.test/v2'] } },
        { frontend: { ...copy.frontend, headers: { 'X-Version': '2' } } },
        { frontend: { ...copy.frontend, exact: true } },
        { enabled: false },
      ];
      for (const variant of variants) {
        const answer = await write('PUT', { ...(await gw.admin('GET', '/api/routes/orders-copy')).json(), ...variant });
        assert.equal(answer.warnings, undefined, JSON.stringify(variant));
        assert.deepEqual(await warnings(), [], JSON.stringify(variant));
        await write('PUT', {
          ...(await gw.admin('GET', '/api/routes/orders-copy')).json(),
          ...copy,
          version: undefined,
        });
      }
      assert.equal((await warnings()).length, 1, 'back to the duplicate');
    });

    it('is given for the methods both answer, not for disjoint ones', async () => {
      const orders = (await gw.admin('GET', '/api/routes/orders')).json();
      await write('PUT', { ...orders, frontend: { ...orders.frontend, methods: ['GET'] } });
      const copy = (await gw.admin('GET', '/api/routes/orders-copy')).json();
      const disjoint = await write('PUT', { ...copy, frontend: { ...copy.frontend, methods: ['POST'] } });
      assert.equal(disjoint.warnings, undefined);
      const again = (await gw.admin('GET', '/api/routes/orders-copy')).json();
      const answer = await write('PUT', { ...again, frontend: { ...again.frontend, methods: ['GET', 'POST'] } });
      assert.match(answer.warnings[0].message, /already serves api\.test\/v1 for GET:/);
    });

    it('answers for a draft before it is saved, storing nothing', async () => {
      const draft = route('orders-draft', UPSTREAM, { frontend: { domains: ['other.test', 'api.test/v1'] } });
      const res = await gw.admin('POST', '/api/warnings/route', draft);
      assert.equal(res.status, 200, res.text);
      const found: Warning[] = res.json();
      assert.deepEqual(
        found.map((w) => [w.id, w.path, w.related[0]!.id]),
        [['orders-draft', '/frontend/domains/1', 'orders']],
      );
      assert.equal((await gw.admin('GET', '/api/routes/orders-draft')).status, 404);
      assert.equal((await gw.admin('POST', '/api/warnings/route', { id: 'bad id' })).status, 400);
    });
  });

  describe('an HTTPS-only switch on a gateway no HTTPS reaches', () => {
    let gw: TestGateway;
    before(async () => {
      gw = await startGateway();
    });
    after(() => gw.close());

    it('warns on the client-credentials service left secure, and its fix makes the token endpoint answer over HTTP', async () => {
      const res = await gw.admin('PUT', '/api/global-config', { plugins: [{ plugin: 'client-credentials' }] });
      assert.equal(res.status, 200, res.text);
      const answer = res.json();
      assert.equal(answer.warnings.length, 1);
      const warning: Warning = answer.warnings[0];
      assert.deepEqual(
        [warning.code, warning.kind, warning.id, warning.path],
        ['https-only-without-https', 'global-config', 'global', '/plugins/0/config/secure'],
      );
      assert.match(warning.message, /no HTTPS listener \(proxy\.tls\)/);
      assert.match(warning.message, /proxy\.trustedProxies/);
      assert.deepEqual(warning.fix!.patch, [{ op: 'add', path: '/plugins/0/config/secure', value: false }]);
      assert.deepEqual(await (await gw.admin('GET', '/api/warnings')).json(), [warning]);

      const refused = await gw.proxy(TOKEN_PATH, { method: 'POST', body: 'grant_type=client_credentials' });
      assert.match(refused.text, /only served over HTTPS/, 'what the warning foretold');

      const { warnings: _shown, ...stored } = answer;
      const fixed = await gw.admin('PUT', '/api/global-config', applyPatch(stored, warning.fix!.patch));
      assert.equal(fixed.status, 200, fixed.text);
      assert.equal(fixed.json().warnings, undefined);
      assert.deepEqual((await gw.admin('GET', '/api/warnings')).json(), []);
      const answered = await gw.proxy(TOKEN_PATH, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      });
      assert.doesNotMatch(answered.text, /only served over HTTPS/);
    });

    it("warns on an oauth2 route's requireHttps", async () => {
      const res = await gw.admin(
        'POST',
        '/api/routes',
        route('tokens', UPSTREAM, {
          frontend: { domains: ['auth.test'] },
          plugins: [{ plugin: 'oauth2', config: { enableClientCredentials: true } }],
        }),
      );
      assert.equal(res.status, 201, res.text);
      assert.deepEqual(
        res.json().warnings.map((w: Warning) => [w.code, w.id, w.path]),
        [['https-only-without-https', 'tokens', '/plugins/0/config/requireHttps']],
      );
    });
  });

  describe('on a gateway with a trusted TLS-terminating proxy', () => {
    let gw: TestGateway;
    before(async () => {
      gw = await startGateway({ config: { proxy: { trustedProxies: ['10.0.0.1'] } } });
    });
    after(() => gw.close());

    it('gives no HTTPS warning', async () => {
      const res = await gw.admin('PUT', '/api/global-config', { plugins: [{ plugin: 'client-credentials' }] });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json().warnings, undefined);
      assert.deepEqual((await gw.admin('GET', '/api/warnings')).json(), []);
    });
  });
});
