/**
 * Regression suite for issue 10, item 2: access rule paths and include/exclude filters are relative
 * to the route, i.e. the path the upstream receives without the target URL's base path.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { startGateway, createRoute, route, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';

const SECRET = 'a-shared-secret-of-at-least-32-bytes!!';
const hmacToken = (scope: string) =>
  new SignJWT({ sub: 'u1', scope })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('5m')
    .sign(Buffer.from(SECRET));
const jwtVerifier = (rules: unknown[]) => ({
  plugin: 'jwt-verifier',
  config: { verifier: { keys: { kind: 'hmac', secret: SECRET }, algorithms: ['HS256'] }, rules },
});
const README_RULES = [
  { methods: ['GET'], path: '/.*', requiredScopes: ['read'] },
  { methods: ['POST'], path: '/post', requiredScopes: ['write'] },
];

describe('Plugin: jwt-verifier (rule paths are relative to the route)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  const tokens: Record<string, string> = {};

  before(async () => {
    gw = await startGateway();
    upstream = await startUpstream(echo);
    await createRoute(
      gw,
      route('scoped', upstream.url, {
        frontend: { domains: ['localhost/scoped'] },
        plugins: [jwtVerifier(README_RULES)],
      }),
    );
    await createRoute(
      gw,
      route('deep', upstream.url, {
        frontend: { domains: ['deep.test/v1/orders'] },
        plugins: [
          jwtVerifier([
            { methods: ['DELETE'], path: '/[0-9]+', requiredScopes: ['admin'] },
            { path: '/.*', requiredScopes: ['read'] },
          ]),
        ],
      }),
    );
    await createRoute(
      gw,
      route('kept', upstream.url, {
        frontend: { domains: ['kept.test/scoped'], stripPath: false },
        plugins: [
          jwtVerifier([
            { methods: ['GET'], path: '/.*', requiredScopes: ['read'] },
            { methods: ['POST'], path: '/scoped/post', requiredScopes: ['write'] },
          ]),
        ],
      }),
    );
    await createRoute(
      gw,
      route('based', `${upstream.url}/base`, {
        frontend: { domains: ['based.test/scoped'] },
        plugins: [jwtVerifier(README_RULES)],
      }),
    );
    for (const scope of ['read', 'write', 'admin']) tokens[scope] = await hmacToken(scope);
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  const call = (host: string, method: string, path: string, token?: string) =>
    gw.proxy(path, { host, method, headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('the README rules on localhost/scoped: POST /scoped/post needs write, and the upstream receives /post', async () => {
    const allowed = await call('localhost:8080', 'POST', '/scoped/post', tokens.write);
    assert.equal(allowed.status, 200, allowed.text);
    assert.equal(allowed.json().url, '/post');
    const refused = await call('localhost:8080', 'POST', '/scoped/post', tokens.read);
    assert.equal(refused.status, 403);
    assert.equal(refused.json().error, 'insufficient_scope');
    assert.match(String(refused.headers['www-authenticate']), /scope="write"/);
    assert.equal((await call('localhost:8080', 'GET', '/scoped/items', tokens.read)).json().url, '/items');
  });

  it('a rule demanding a stronger scope matches under a deep prefix', async () => {
    const read = await call('deep.test', 'DELETE', '/v1/orders/42', tokens.read);
    assert.equal(read.status, 403, 'read does not grant what the DELETE rule demands');
    assert.equal(read.json().error, 'insufficient_scope');
    const admin = await call('deep.test', 'DELETE', '/v1/orders/42', tokens.admin);
    assert.equal(admin.status, 200, admin.text);
    assert.equal(admin.json().url, '/42');
  });

  it('stripPath: false: the upstream receives the full path, and rules are written for that full path', async () => {
    const allowed = await call('kept.test', 'POST', '/scoped/post', tokens.write);
    assert.equal(allowed.status, 200, allowed.text);
    assert.equal(allowed.json().url, '/scoped/post');
    assert.equal((await call('kept.test', 'POST', '/scoped/post', tokens.read)).status, 403);
  });

  it("the target URL's own base path is not part of the rule path", async () => {
    const allowed = await call('based.test', 'POST', '/scoped/post', tokens.write);
    assert.equal(allowed.status, 200, allowed.text);
    assert.equal(allowed.json().url, '/base/post');
    assert.equal((await call('based.test', 'POST', '/scoped/post', tokens.read)).status, 403);
  });
});

describe('Plugin runtime: include/exclude are relative to the route, like access rules', () => {
  let gw: TestGateway;
  let upstream: Upstream;

  before(async () => {
    gw = await startGateway();
    upstream = await startUpstream(echo);
    const tag = (value: string, extra: Record<string, unknown> = {}) => ({
      plugin: 'headers',
      ...extra,
      config: { request: { set: { 'x-tag': value } } },
    });
    await createRoute(
      gw,
      route('included', upstream.url, {
        frontend: { domains: ['filters.test/shop'] },
        plugins: [tag('route', { include: ['/cart(/.*)?'] })],
      }),
    );
    await createRoute(
      gw,
      route('ci-included', upstream.url, {
        frontend: { domains: ['ci-filters.test/shop'], caseSensitive: false },
        plugins: [tag('route', { include: ['/cart(/.*)?'] })],
      }),
    );
    await createRoute(gw, route('global-filtered', upstream.url, { frontend: { domains: ['global.test/shop'] } }));
    const global = (await gw.admin('GET', '/api/global-config')).json();
    const res = await gw.admin('PUT', '/api/global-config', {
      ...global,
      plugins: [tag('global', { exclude: ['/private(/.*)?'] })],
    });
    assert.equal(res.status, 200, res.text);
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  const tagOf = async (host: string, path: string) => (await gw.proxy(path, { host })).json().headers['x-tag'];

  it('a route instance with include ["/cart(/.*)?"] runs on /shop/cart and not on /shop/other', async () => {
    assert.equal(await tagOf('filters.test', '/shop/cart/1'), 'route');
    assert.equal(await tagOf('filters.test', '/shop/other'), undefined);
    assert.equal(await tagOf('filters.test', '/shop//%63art'), 'route', 'filters see the normalized path');
  });

  it('a global exclude is relative to each route', async () => {
    assert.equal(await tagOf('global.test', '/shop/private/x'), undefined);
    assert.equal(await tagOf('global.test', '/shop/public'), 'global');
  });

  it('filters ignore case on a route with caseSensitive: false', async () => {
    assert.equal(await tagOf('filters.test', '/shop/CART'), undefined);
    assert.equal(await tagOf('ci-filters.test', '/shop/CART'), 'route');
  });
});
