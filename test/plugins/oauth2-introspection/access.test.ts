/**
 * `oauth2-introspection` against a real authorization server: oidc-provider issuing opaque access
 * tokens by client credentials, introspected through a counting front, with the Kyma tutorial's
 * rules (GET any path needs `read`, POST `/post` needs `write`).
 */
import 'reflect-metadata';
import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, createRoute, route, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import { until } from '../../helpers/wait.js';
import {
  startOpaqueProvider,
  GATEWAY_CLIENT,
  GATEWAY_POST_CLIENT,
  KYMA_RULES,
  SHORT_LIVED_SCOPE,
  type OpaqueProvider,
} from './fixtures.js';

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('Plugin: oauth2-introspection (access, against oidc-provider)', () => {
  let provider: OpaqueProvider;
  let upstream: Upstream;
  let gw: TestGateway;
  let routes = 0;

  /** A new route (its own host) introspecting at the provider; returns the host. */
  async function protectedRoute(config: Record<string, unknown> = {}): Promise<string> {
    const id = `kyma-${++routes}`;
    const host = `${id}.test`;
    await createRoute(
      gw,
      route(id, upstream.url, {
        frontend: { domains: [host] },
        plugins: [
          {
            plugin: 'oauth2-introspection',
            config: {
              introspectionUrl: provider.introspectionUrl,
              clientId: GATEWAY_CLIENT.id,
              clientSecret: GATEWAY_CLIENT.secret,
              rules: KYMA_RULES,
              ...config,
            },
          },
        ],
      }),
    );
    return host;
  }

  before(async () => {
    provider = await startOpaqueProvider();
    upstream = await startUpstream(echo);
    gw = await startGateway();
  });
  after(async () => {
    await gw.close();
    await upstream.close();
    await provider.close();
  });
  beforeEach(() => {
    provider.mode = 'up';
  });

  it('applies the Kyma rules: GET needs read, POST /post needs write, anything else is refused', async () => {
    const host = await protectedRoute();
    const reader = await provider.token('read');
    const writer = await provider.token('read write');
    assert.equal((await gw.proxy('/headers', { host, headers: bearer(reader) })).status, 200);
    const post = await gw.proxy('/post', { host, method: 'POST', headers: bearer(reader), body: '{}' });
    assert.equal(post.status, 403);
    assert.equal(post.json().error, 'insufficient_scope');
    assert.match(
      String(post.headers['www-authenticate']),
      /^Bearer realm="portcullis", error="insufficient_scope", error_description="[^"]+", scope="write"$/,
    );
    assert.equal((await gw.proxy('/post', { host, method: 'POST', headers: bearer(writer), body: '{}' })).status, 200);
    const del = await gw.proxy('/headers', { host, method: 'DELETE', headers: bearer(writer) });
    assert.equal(del.status, 403);
    assert.equal(del.json().error, 'forbidden');
  });

  it('answers 401 without a token (no error code) and 401 invalid_token for one the server does not know', async () => {
    const host = await protectedRoute();
    const none = await gw.proxy('/headers', { host });
    assert.equal(none.status, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="portcullis"');
    const unknown = await gw.proxy('/headers', { host, headers: bearer('not-a-token-the-server-issued') });
    assert.equal(unknown.status, 401);
    assert.equal(unknown.json().error, 'invalid_token');
    assert.match(String(unknown.headers['www-authenticate']), /error="invalid_token"/);
  });

  it("tells the upstream who called with which scopes, after removing the client's own copies", async () => {
    const host = await protectedRoute({ upstream: { claimsToHeaders: { client_id: 'X-Client-Id' } } });
    const token = await provider.token('read');
    const res = await gw.proxy('/headers', {
      host,
      headers: {
        ...bearer(token),
        'x-authenticated-scope': 'admin',
        'x-client-id': 'someone-else',
        'x-authenticated-userid': 'root',
      },
    });
    assert.equal(res.status, 200);
    const seen = res.json().headers;
    assert.equal(seen['x-authenticated-scope'], 'read');
    assert.equal(seen['x-client-id'], 'kyma-app');
    assert.equal(seen['x-authenticated-userid'], undefined, 'a client credentials token has no user');
    assert.equal(seen.authorization, `Bearer ${token}`);
  });

  it('introspects a token once while the cache holds it, and re-checks the scopes on every cached use', async () => {
    const host = await protectedRoute();
    const token = await provider.token('read');
    const before = provider.introspections;
    for (let i = 0; i < 5; i++)
      assert.equal((await gw.proxy(`/get/${i}`, { host, headers: bearer(token) })).status, 200);
    assert.equal(provider.introspections - before, 1);
    const post = await gw.proxy('/post', { host, method: 'POST', headers: bearer(token), body: '{}' });
    assert.equal(post.status, 403, 'the cached response still lacks write');
    assert.equal(post.json().error, 'insufficient_scope');
    assert.equal(provider.introspections - before, 1, 'the refusal came from the cached response');
  });

  it('coalesces concurrent requests with one new token into one introspection', async () => {
    const host = await protectedRoute();
    const token = await provider.token('read');
    const before = provider.introspections;
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => gw.proxy(`/get/${i}`, { host, headers: bearer(token) })),
    );
    assert.deepEqual(
      answers.map((a) => a.status),
      Array(20).fill(200),
    );
    assert.equal(provider.introspections - before, 1);
  });

  it('remembers an inactive answer for the negative-cache TTL', async () => {
    const host = await protectedRoute({ cache: { negativeTtlSeconds: 60 } });
    const before = provider.introspections;
    for (let i = 0; i < 3; i++)
      assert.equal((await gw.proxy('/get', { host, headers: bearer('forged-token-value') })).status, 401);
    assert.equal(provider.introspections - before, 1);
    const uncached = await protectedRoute({ cache: { negativeTtlSeconds: 0 } });
    const then = provider.introspections;
    for (let i = 0; i < 3; i++)
      assert.equal((await gw.proxy('/get', { host: uncached, headers: bearer('another-forged-token') })).status, 401);
    assert.equal(provider.introspections - then, 3, 'negativeTtlSeconds: 0 caches nothing');
  });

  it('asks again once the cache TTL has passed', async () => {
    const host = await protectedRoute({ cache: { ttlSeconds: 1 } });
    const token = await provider.token('read');
    const before = provider.introspections;
    assert.equal((await gw.proxy('/get', { host, headers: bearer(token) })).status, 200);
    assert.equal(provider.introspections - before, 1);
    await until(
      'a second introspection once the entry expired',
      async () => {
        assert.equal((await gw.proxy('/get', { host, headers: bearer(token) })).status, 200);
        return provider.introspections - before;
      },
      (n) => n === 2,
      10_000,
      200,
    );
  });

  it('never keeps a token past its exp: the cached response expires with the token, which is then refused', async () => {
    const host = await protectedRoute({ cache: { ttlSeconds: 3600 } });
    const token = await provider.token(`read ${SHORT_LIVED_SCOPE}`);
    assert.equal((await gw.proxy('/get', { host, headers: bearer(token) })).status, 200);
    const refused = await until(
      'the expired token to be refused',
      () => gw.proxy('/get', { host, headers: bearer(token) }),
      (r) => r.status !== 200,
      10_000,
      200,
    );
    assert.equal(refused.status, 401);
    assert.equal(refused.json().error, 'invalid_token');
  });

  for (const mode of ['error', 'garbage', 'reset'] as const) {
    it(`fails closed with 503 introspection_unavailable when the server answers ${mode === 'error' ? 'a 5xx' : mode === 'garbage' ? 'something that is not RFC 7662 JSON' : 'by resetting the connection'}`, async () => {
      const host = await protectedRoute();
      const token = await provider.token('read');
      provider.mode = mode;
      const res = await gw.proxy('/get', { host, headers: bearer(token) });
      assert.equal(res.status, 503);
      assert.equal(res.json().error, 'introspection_unavailable');
      assert.equal(
        upstream.received.some((r) => r.headers.authorization === `Bearer ${token}`),
        false,
        'nothing reached the upstream',
      );
      provider.mode = 'up';
      assert.equal((await gw.proxy('/get', { host, headers: bearer(token) })).status, 200, 'a failure is not cached');
    });
  }

  it('fails closed with 503 when the server is slower than timeoutMs', async () => {
    const host = await protectedRoute({ timeoutMs: 300 });
    const token = await provider.token('read');
    provider.mode = 'silent';
    const res = await gw.proxy('/get', { host, headers: bearer(token) });
    assert.equal(res.status, 503);
    assert.equal(res.json().error, 'introspection_unavailable');
  });

  it('fails closed with 503 when nothing listens at the endpoint', async () => {
    const host = await protectedRoute({ introspectionUrl: 'http://127.0.0.1:1/token/introspection' });
    const res = await gw.proxy('/get', { host, headers: bearer('any-token') });
    assert.equal(res.status, 503);
    assert.equal(res.json().error, 'introspection_unavailable');
  });

  it('finds the endpoint by issuer discovery, once, and authenticates with client_secret_post', async () => {
    const host = await protectedRoute({
      introspectionUrl: undefined,
      issuer: provider.issuer,
      clientId: GATEWAY_POST_CLIENT.id,
      clientSecret: GATEWAY_POST_CLIENT.secret,
      clientAuthMethod: 'client_secret_post',
    });
    const before = provider.discoveries;
    const tokens = await Promise.all([provider.token('read'), provider.token('read'), provider.token('read')]);
    for (const token of tokens) assert.equal((await gw.proxy('/get', { host, headers: bearer(token) })).status, 200);
    assert.equal(provider.discoveries - before, 1);
  });

  it('refuses, with 503, a client the server does not accept (wrong secret): never a pass', async () => {
    const host = await protectedRoute({ clientSecret: 'wrong-secret-0123456789' });
    const res = await gw.proxy('/get', { host, headers: bearer(await provider.token('read')) });
    assert.equal(res.status, 503);
  });

  it('checks the required issuer and audience of the response on every use', async () => {
    const trusted = await protectedRoute({ requiredIssuer: provider.issuer });
    const otherIssuer = await protectedRoute({ requiredIssuer: 'https://elsewhere.example' });
    const audience = await protectedRoute({ requiredAudience: 'urn:orders' });
    const token = await provider.token('read');
    assert.equal((await gw.proxy('/get', { host: trusted, headers: bearer(token) })).status, 200);
    const wrongIss = await gw.proxy('/get', { host: otherIssuer, headers: bearer(token) });
    assert.equal(wrongIss.status, 401);
    assert.equal(wrongIss.json().error, 'invalid_token');
    assert.equal(
      (await gw.proxy('/get', { host: audience, headers: bearer(token) })).status,
      401,
      'no aud in the response',
    );
  });

  it('lets a request without a token pass as the anonymous consumer only where no scope is required', async () => {
    const host = await protectedRoute({
      anonymous: 'guest',
      rules: [{ methods: ['GET'], path: '/public/.*' }, ...KYMA_RULES],
    });
    assert.equal((await gw.proxy('/public/info', { host })).status, 200);
    const scoped = await gw.proxy('/get', { host });
    assert.equal(scoped.status, 401);
    assert.equal(
      (await gw.proxy('/public/info', { host, headers: bearer('forged-token-value') })).status,
      401,
      'a wrong token is not anonymous',
    );
  });

  it('reads the token from a query parameter and removes it before the upstream with hideCredentials', async () => {
    const host = await protectedRoute({
      source: { kind: 'query', name: 'access_token' },
      upstream: { hideCredentials: true },
    });
    const token = await provider.token('read');
    const res = await gw.proxy(`/get?access_token=${token}&page=2`, { host });
    assert.equal(res.status, 200);
    assert.equal(res.json().url, '/get?page=2');
  });

  it('refuses a configuration with neither or both of introspectionUrl and issuer, and a bad rule path', async () => {
    const base = { clientId: 'c', clientSecret: 's' };
    for (const config of [
      base,
      { ...base, introspectionUrl: provider.introspectionUrl, issuer: provider.issuer },
      { ...base, introspectionUrl: provider.introspectionUrl, rules: [{ path: '(' }] },
    ]) {
      const res = await gw.admin(
        'POST',
        '/api/routes',
        route(`bad-${++routes}`, upstream.url, {
          frontend: { domains: ['bad.test'] },
          plugins: [{ plugin: 'oauth2-introspection', config }],
        }),
      );
      assert.equal(res.status, 400, res.text);
    }
  });
});
