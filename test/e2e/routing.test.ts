import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, createRoute, route, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';

describe('Routing precedence', () => {
  let gw: TestGateway;
  const upstreams: Record<string, Upstream> = {};
  const servedBy = async (host: string, path: string, method = 'GET') => {
    const res = await gw.proxy(path, { host, method });
    return { status: res.status, name: res.headers['x-upstream'], body: res.status === 200 ? res.json() : res.json() };
  };

  before(async () => {
    gw = await startGateway();
    for (const name of ['exact', 'wild', 'deepWild', 'any', 'v1', 'v1users', 'exactPath', 'posts', 'header']) {
      upstreams[name] = await startUpstream(echo, { name });
    }
    const add = (id: string, domains: string[], extra: Record<string, any> = {}) =>
      createRoute(gw, route(id, upstreams[id]!.url, { frontend: { domains, ...extra } }));
    await add('exact', ['api.example.com']);
    await add('wild', ['*.example.com']);
    await add('deepWild', ['*.eu.example.com']);
    await add('any', ['*']);
    await add('v1', ['shop.example.com/v1']);
    await add('v1users', ['shop.example.com/v1/users']);
    await add('exactPath', ['shop.example.com/status'], { exact: true });
    await add('posts', ['blog.example.com'], { methods: ['POST'] });
    await add('header', ['blog.example.com'], { headers: { 'x-tenant': 'blue' } });
  });
  after(async () => {
    await gw.close();
    await Promise.all(Object.values(upstreams).map((u) => u.close()));
  });

  it('prefers an exact host over a wildcard', async () => {
    assert.equal((await servedBy('api.example.com', '/x')).name, 'exact');
    assert.equal((await servedBy('other.example.com', '/x')).name, 'wild');
  });

  it('prefers the longest wildcard suffix', async () => {
    assert.equal((await servedBy('a.eu.example.com', '/')).name, 'deepWild');
  });

  it('does not let a wildcard match its bare parent domain', async () => {
    assert.equal((await servedBy('example.com', '/')).name, 'any');
  });

  it('matches hosts case-insensitively and ignores the port', async () => {
    assert.equal((await servedBy('API.Example.COM:8443', '/x')).name, 'exact');
  });

  it('picks the longest path prefix and respects segment boundaries', async () => {
    assert.equal((await servedBy('shop.example.com', '/v1/users/42')).name, 'v1users');
    assert.equal((await servedBy('shop.example.com', '/v1/orders')).name, 'v1');
    assert.equal((await servedBy('shop.example.com', '/v1')).name, 'v1');
    // `/v10` is not under `/v1`: the exact host has no match, so the wildcard host serves it
    assert.equal((await servedBy('shop.example.com', '/v10')).name, 'wild');
  });

  it('strips the matched prefix by default', async () => {
    const res = await gw.proxy('/v1/users/42?q=1', { host: 'shop.example.com' });
    assert.equal(res.json().url, '/42?q=1');
    const root = await gw.proxy('/v1', { host: 'shop.example.com' });
    assert.equal(root.json().url, '/');
  });

  it('matches an exact-path domain only on that path', async () => {
    assert.equal((await servedBy('shop.example.com', '/status')).name, 'exactPath');
    assert.equal((await servedBy('shop.example.com', '/status/more')).name, 'wild');
  });

  it('filters on methods and required headers', async () => {
    assert.equal((await servedBy('blog.example.com', '/', 'POST')).name, 'posts');
    const withHeader = await gw.proxy('/', { host: 'blog.example.com', headers: { 'x-tenant': 'blue' } });
    assert.equal(withHeader.headers['x-upstream'], 'header');
    assert.equal((await servedBy('blog.example.com', '/', 'GET')).name, 'wild');
  });

  it('resolves dot segments before matching so a prefix cannot be escaped', async () => {
    const res = await gw.proxy('/v1/users/../orders', { host: 'shop.example.com' });
    assert.equal(res.headers['x-upstream'], 'v1');
    assert.equal(res.json().url, '/orders');
  });

  it('resolves encoded dot segments like plain ones (RFC 3986 §6.2.2), so they cannot escape a prefix either', async () => {
    const res = await gw.proxy('/v1/users/%2e%2e/orders', { host: 'shop.example.com' });
    assert.equal(res.headers['x-upstream'], 'v1');
    assert.equal(res.json().url, '/orders');
  });

  it('answers 404 with a JSON body when nothing matches, and sees deletes at once', async () => {
    const del = await gw.admin('DELETE', '/api/routes/any');
    assert.equal(del.status, 204);
    const res = await gw.proxy('/', { host: 'nothing.test' });
    assert.equal(res.status, 404);
    assert.match(String(res.headers['content-type']), /application\/json/);
    assert.deepEqual(res.json(), { error: 'no_route', error_description: 'No route matches this request' });
  });

  it('ignores disabled routes', async () => {
    const current = (await gw.admin('GET', '/api/routes/exact')).json();
    const res = await gw.admin('PUT', '/api/routes/exact', { ...current, enabled: false });
    assert.equal(res.status, 200);
    assert.equal((await servedBy('api.example.com', '/x')).name, 'wild');
  });

  // Issue 21: a prefix the path rules refuse was accepted and could never serve a request.
  it('refuses a domain whose path prefix no request can match, naming the domain; accepts ordinary prefixes', async () => {
    const url = upstreams.v1!.url;
    for (const prefix of ['/v1.', '/a%2Fb', '/%20x', '/a%ff', '/x%3B', '/a/../..%09']) {
      const res = await gw.admin(
        'POST',
        '/api/routes',
        route('never', url, { frontend: { domains: [`ok.test/fine`, `never.test${prefix}`] } }),
      );
      assert.equal(res.status, 400, `${prefix}: ${res.text}`);
      assert.equal(res.json().details[0].path, '/frontend/domains/1', prefix);
      assert.match(res.json().details[0].message, /can never match/);
    }
    for (const prefix of ['/v1.2', '/caf%C3%A9', '/.well-known']) {
      const res = await gw.admin(
        'POST',
        '/api/routes',
        route('fine', url, { frontend: { domains: [`fine.test${prefix}`] } }),
      );
      assert.equal(res.status, 201, `${prefix}: ${res.text}`);
      assert.equal((await gw.admin('DELETE', '/api/routes/fine')).status, 204);
    }
  });
});
