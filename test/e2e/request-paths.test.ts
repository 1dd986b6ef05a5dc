/**
 * Regression suite for issue 10, item 3: every encoding trick is tried against route matching and
 * against a jwt-verifier rule, asserting the status and the exact path the upstream received.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { SignJWT } from 'jose';
import { startGateway, createRoute, route, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';

const SECRET = 'a-shared-secret-of-at-least-32-bytes!!';
const hmacToken = (scope: string) =>
  new SignJWT({ sub: 'u1', scope })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('5m')
    .sign(Buffer.from(SECRET));
const verifierConfig = (rules: unknown[]) => ({
  verifier: { keys: { kind: 'hmac', secret: SECRET }, algorithms: ['HS256'] },
  rules,
});

// Tricks that spell `/admin` (or reach it) without writing `/admin`.
const SPELLINGS_OF_ADMIN = [
  '/%61dmin',
  '/%61%64%6D%69%6E',
  '//admin',
  '/./admin',
  '/public/../admin',
  '/public/%2e%2e/admin',
  '/public/%2E%2E/admin',
  '/public/.%2e/admin',
];
// Traversals whose meaning depends on the upstream's decoding: refused before anything is forwarded.
const AMBIGUOUS_TRAVERSALS = [
  '/public/..%2fadmin',
  '/public/%2e%2e%2fadmin',
  '/public/..%5cadmin',
  '/public/..%5Cadmin',
  '/public/%2e%2e%5cadmin',
  '/public/%252e%252e/admin',
  '/public/%252e%252e%252fadmin',
  '/public/..%252fadmin',
  '/a%2fb',
  '/a%00b',
  '/a%zz',
  '/public/..\\admin',
  '/public/..;/admin',
];

describe('Request paths: normalized once, matched and forwarded as normalized', () => {
  let gw: TestGateway;
  const upstreams: Record<string, Upstream> = {};
  let read = '';

  before(async () => {
    gw = await startGateway();
    for (const name of ['admin', 'public', 'ciAdmin', 'rules', 'ciRules'])
      upstreams[name] = await startUpstream(echo, { name });
    // a protected prefix and a catch-all on the same host: the classic bypass shape
    await createRoute(gw, route('admin', upstreams.admin!.url, { frontend: { domains: ['routes.test/admin'] } }));
    await createRoute(gw, route('public', upstreams.public!.url, { frontend: { domains: ['routes.test'] } }));
    await createRoute(
      gw,
      route('ci-admin', upstreams.ciAdmin!.url, { frontend: { domains: ['ci.test/admin'], caseSensitive: false } }),
    );
    await createRoute(gw, route('ci-public', upstreams.public!.url, { frontend: { domains: ['ci.test'] } }));
    const rules = [
      { path: '/admin(/.*)?', requiredScopes: ['admin'] },
      { path: '/.*', requiredScopes: ['read'] },
    ];
    await createRoute(
      gw,
      route('rules', upstreams.rules!.url, {
        frontend: { domains: ['rules.test/api'] },
        plugins: [{ plugin: 'jwt-verifier', config: verifierConfig(rules) }],
      }),
    );
    await createRoute(
      gw,
      route('ci-rules', upstreams.ciRules!.url, {
        frontend: { domains: ['ci-rules.test/api'], caseSensitive: false },
        plugins: [{ plugin: 'jwt-verifier', config: verifierConfig(rules) }],
      }),
    );
    read = await hmacToken('read');
  });
  after(async () => {
    await gw.close();
    await Promise.all(Object.values(upstreams).map((u) => u.close()));
  });

  const received = () => Object.values(upstreams).reduce((n, u) => n + u.received.length, 0);

  describe('route matching', () => {
    it('routes every spelling of /admin to the /admin route and forwards the normalized path', async () => {
      for (const spelling of SPELLINGS_OF_ADMIN) {
        const res = await gw.proxy(`${spelling}/users`, { host: 'routes.test' });
        assert.equal(res.status, 200, spelling);
        assert.equal(res.headers['x-upstream'], 'admin', spelling);
        assert.equal(res.json().url, '/users', `${spelling}: the upstream receives the normalized path`);
      }
    });

    it('refuses traversals hidden behind encoded separators or double encoding with 400, forwarding nothing', async () => {
      for (const trick of AMBIGUOUS_TRAVERSALS) {
        const before = received();
        const res = await gw.proxy(trick, { host: 'routes.test' });
        assert.equal(res.status, 400, trick);
        assert.equal(res.json().error, 'invalid_request', trick);
        assert.equal(received(), before, `${trick}: nothing reached an upstream`);
      }
    });

    it('forwards decoded unreserved characters and upper-cased escapes, the query untouched', async () => {
      const res = await gw.proxy('/%7Euser/caf%c3%a9//x?next=..%2f&a=//', { host: 'routes.test' });
      assert.equal(res.headers['x-upstream'], 'public');
      assert.equal(res.json().url, '/~user/caf%C3%A9/x?next=..%2f&a=//');
    });

    it('matches prefixes case-sensitively by default, and ignoring case on a route with caseSensitive: false', async () => {
      const sensitive = await gw.proxy('/ADMIN/users', { host: 'routes.test' });
      assert.equal(sensitive.headers['x-upstream'], 'public');
      assert.equal(sensitive.json().url, '/ADMIN/users');
      for (const spelling of ['/ADMIN/users', '/Admin/users', '/%41dmin/users']) {
        const res = await gw.proxy(spelling, { host: 'ci.test' });
        assert.equal(res.headers['x-upstream'], 'ciAdmin', spelling);
        assert.equal(res.json().url, '/users', spelling);
      }
      assert.equal(
        (await gw.proxy('/ADMINS', { host: 'ci.test' })).headers['x-upstream'],
        'public',
        'segment boundaries still hold',
      );
    });
  });

  describe('jwt-verifier rules', () => {
    const call = (path: string, host = 'rules.test') =>
      gw.proxy(path, { host, headers: { authorization: `Bearer ${read}` } });

    it('a read token reaches ordinary paths, and the upstream receives the normalized path', async () => {
      const res = await call('/api/%7Euser//orders/./42');
      assert.equal(res.status, 200);
      assert.equal(res.json().url, '/~user/orders/42');
    });

    it('every spelling of /admin meets the admin rule (403 insufficient_scope) and nothing is forwarded', async () => {
      const before = received();
      for (const spelling of SPELLINGS_OF_ADMIN) {
        const res = await call(`/api${spelling}/users`);
        assert.equal(res.status, 403, spelling);
        assert.equal(res.json().error, 'insufficient_scope', spelling);
      }
      assert.equal(received(), before);
    });

    it('with the admin scope every spelling of /admin passes, and the upstream receives exactly /admin/users', async () => {
      const admin = await hmacToken('admin');
      for (const spelling of SPELLINGS_OF_ADMIN) {
        const res = await gw.proxy(`/api${spelling}/users`, {
          host: 'rules.test',
          headers: { authorization: `Bearer ${admin}` },
        });
        assert.equal(res.status, 200, spelling);
        assert.equal(res.json().url, '/admin/users', spelling);
      }
    });

    it('refuses the ambiguous traversals with 400 before the rules run', async () => {
      for (const trick of AMBIGUOUS_TRAVERSALS) {
        const res = await call(`/api${trick}`);
        assert.equal(res.status, 400, trick);
      }
    });

    it('a dot segment cannot climb out of the route prefix to dodge the rule', async () => {
      // `/api/../api/admin` normalizes to `/api/admin` before routing: still the admin rule
      assert.equal((await call('/api/x/../../api/admin')).status, 403);
    });

    it('rules are case-sensitive by default and ignore case on a route with caseSensitive: false', async () => {
      const sensitive = await call('/api/ADMIN');
      assert.equal(sensitive.status, 200, '/ADMIN is another path for a case-sensitive upstream');
      assert.equal(sensitive.json().url, '/ADMIN');
      for (const spelling of ['/api/ADMIN', '/api/Admin/users', '/api/%41DMIN', '/API/admin']) {
        const res = await call(spelling, 'ci-rules.test');
        assert.equal(res.status, 403, spelling);
        assert.equal(res.json().error, 'insufficient_scope', spelling);
      }
      assert.equal(
        (await call('/API/orders', 'ci-rules.test')).json().url,
        '/orders',
        'the case the client sent is forwarded',
      );
    });
  });
});

describe('Request paths: routes stored before frontend.caseSensitive existed', () => {
  it('still load from the data file and match case-sensitively', async () => {
    const upstream = await startUpstream(echo);
    const first = await startGateway();
    try {
      const created = await createRoute(
        first,
        route('old', upstream.url, { frontend: { domains: ['old.test/admin'] } }),
      );
      assert.equal(created.frontend.caseSensitive, true, 'the default is filled in on write');
      await first.close({ keepData: true });
      const file = JSON.parse(readFileSync(first.dataFile, 'utf8'));
      delete file.entities.routes.old.frontend.caseSensitive;
      writeFileSync(first.dataFile, JSON.stringify(file));
      const second = await startGateway({ dataDir: first.dataDir });
      try {
        assert.equal((await second.proxy('/admin/x', { host: 'old.test' })).json().url, '/x');
        assert.equal((await second.proxy('/ADMIN/x', { host: 'old.test' })).status, 404);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(first.dataDir, { recursive: true, force: true });
      await upstream.close();
    }
  });
});
