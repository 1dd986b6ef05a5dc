import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, createRoute, route, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import { startProvider, startJwksServer, ecKey, signWith, type TestProvider } from './fixtures.js';

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('Plugin: jwt-verifier (external identity provider: oidc-provider)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let provider: TestProvider;
  let stranger: TestProvider;

  before(async () => {
    upstream = await startUpstream(echo);
    provider = await startProvider([ecKey('first').jwk]);
    stranger = await startProvider([ecKey('other').jwk]);
    gw = await startGateway();
    const verifier = await gw.admin('POST', '/api/jwt-verifiers', {
      id: 'idp',
      name: 'Identity provider',
      keys: { kind: 'oidc', issuer: provider.issuer, refetchCooldownSeconds: 0 },
      algorithms: ['ES256', 'RS256'],
      issuer: [provider.issuer],
      audience: ['urn:orders'],
      typ: 'at+jwt',
    });
    assert.equal(verifier.status, 201, verifier.text);
    await createRoute(
      gw,
      route('orders', upstream.url, {
        plugins: [
          {
            plugin: 'jwt-verifier',
            config: {
              verifiers: ['idp'],
              rules: [
                { methods: ['GET'], path: '/orders(/.*)?', requiredScopes: ['read'] },
                { methods: ['POST'], path: '/orders', requiredScopes: ['write'] },
              ],
              upstream: { strategy: 'claims-to-headers', claimsToHeaders: { client_id: 'X-Client-Id' } },
            },
          },
        ],
      }),
    );
  });
  after(async () => {
    await gw.close();
    await upstream.close();
    await provider.close();
    await stranger.close();
  });

  it('accepts access tokens of the provider, configured with its issuer URL alone (discovery)', async () => {
    const token = await provider.token('read');
    const res = await gw.proxy('/orders/1', { headers: bearer(token) });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json().headers['x-client-id'], 'machine');
    assert.equal(
      (await gw.proxy('/orders', { method: 'POST', headers: bearer(token) })).status,
      403,
      'read does not grant write',
    );
    assert.equal(
      (await gw.proxy('/orders', { method: 'POST', headers: bearer(await provider.token('read write')) })).status,
      200,
    );
  });

  it('refuses a token from a second provider', async () => {
    const res = await gw.proxy('/orders/1', { headers: bearer(await stranger.token('read')) });
    assert.equal(res.status, 401);
    assert.equal(res.json().error, 'invalid_token');
  });

  it('follows the provider rotating its keys, without a gateway restart', async () => {
    const before = await provider.token('read');
    assert.equal((await gw.proxy('/orders/1', { headers: bearer(before) })).status, 200);
    const { port } = provider;
    await provider.close();
    provider = await startProvider([ecKey('second').jwk], port); // same issuer, new signing key
    const after = await provider.token('read');
    const res = await gw.proxy('/orders/1', { headers: bearer(after) });
    assert.equal(res.status, 200, res.text);
  });
});

describe('Plugin: jwt-verifier (JWKS caching)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  const signer = ecKey('k1');

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await startGateway();
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  async function protectWith(id: string, url: string, extra: Record<string, unknown> = {}) {
    const res = await gw.admin('POST', '/api/jwt-verifiers', {
      id,
      name: id,
      keys: { kind: 'jwks', url, ...extra },
      algorithms: ['ES256'],
    });
    assert.equal(res.status, 201, res.text);
    await createRoute(
      gw,
      route(id, upstream.url, {
        frontend: { domains: [`${id}.test`] },
        plugins: [{ plugin: 'jwt-verifier', config: { verifiers: [id], cache: { enabled: false } } }],
      }),
    );
  }

  it('fetches the JWKS once, and a flood of unknown kids refetches at most once per cooldown', async () => {
    const jwks = await startJwksServer([signer.jwk]);
    try {
      await protectWith('flood', jwks.url, { refetchCooldownSeconds: 60 });
      const good = await signWith(signer.privateKey, 'k1', { sub: 'a' });
      for (let i = 0; i < 5; i++)
        assert.equal((await gw.proxy('/', { host: 'flood.test', headers: bearer(good) })).status, 200);
      assert.equal(jwks.hits, 1);
      for (let i = 0; i < 20; i++) {
        const forged = await signWith(ecKey(`forged-${i}`).privateKey, `forged-${i}`, { sub: 'x' });
        assert.equal((await gw.proxy('/', { host: 'flood.test', headers: bearer(forged) })).status, 401);
      }
      assert.ok(jwks.hits <= 2, `the provider was asked ${jwks.hits} times`);
    } finally {
      await jwks.close();
    }
  });

  it('serves the cached keys while the provider is down', async () => {
    const jwks = await startJwksServer([signer.jwk], 1);
    await protectWith('stale', jwks.url, { cacheTtlSeconds: 1, refetchCooldownSeconds: 0 });
    const good = await signWith(signer.privateKey, 'k1', { sub: 'a' });
    assert.equal((await gw.proxy('/', { host: 'stale.test', headers: bearer(good) })).status, 200);
    await jwks.close();
    await new Promise((r) => setTimeout(r, 1200)); // past the TTL: a refetch is due and fails
    assert.equal((await gw.proxy('/', { host: 'stale.test', headers: bearer(good) })).status, 200);
  });

  it('refuses tokens when the keys never could be fetched', async () => {
    await protectWith('unreachable', 'http://127.0.0.1:1/jwks');
    const good = await signWith(signer.privateKey, 'k1', { sub: 'a' });
    const res = await gw.proxy('/', { host: 'unreachable.test', headers: bearer(good) });
    assert.equal(res.status, 401);
    assert.equal(res.json().error_description, 'The token is not signed by a known key');
  });
});
