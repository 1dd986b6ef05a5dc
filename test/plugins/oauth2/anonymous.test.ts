/**
 * `anonymous`: requests without a token pass as a configured consumer (an API key, a checked
 * reference); an invalid token is still refused.
 */
import 'reflect-metadata';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRoute, route, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import { stepOnGateway, post, confidential, PROVISION_KEY } from './fixtures.js';

const ANON = 'anon.test';

describe('Plugin: oauth2 (anonymous consumer)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  const config = {
    provisionKey: PROVISION_KEY,
    scopes: ['email', 'orders'],
    requireHttps: false,
    enableClientCredentials: true,
    anonymous: 'guest',
    scopeRules: [{ path: '/orders.*', scopes: ['orders'] }],
  };

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await stepOnGateway(upstream);
    const guest = await gw.admin('POST', '/api/apikeys', {
      clientId: 'guest',
      clientSecret: 'guest-secret-0123456789abcdef',
      clientName: 'Guest',
    });
    assert.equal(guest.status, 201, guest.text);
    await createRoute(
      gw,
      route('anon', upstream.url, { frontend: { domains: [ANON] }, plugins: [{ plugin: 'oauth2', config }] }),
    );
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  const call = (path: string, headers: Record<string, string> = {}) => gw.proxy(path, { host: ANON, headers });

  it('lets a request without a token through as the anonymous consumer, replacing any client-sent identity headers', async () => {
    const res = await call('/profile', { 'x-authenticated-userid': 'mallory', 'x-consumer-id': 'admin' });
    assert.equal(res.status, 200, res.text);
    const seen = res.json().headers;
    assert.equal(seen['x-consumer-id'], 'guest');
    assert.equal(seen['x-consumer-username'], 'Guest');
    assert.equal(seen['x-anonymous-consumer'], 'true');
    assert.equal(seen['x-authenticated-userid'], undefined);
  });

  it('still refuses an invalid token (401 invalid_token), and an authenticated request is not anonymous', async () => {
    const invalid = await call('/profile', { authorization: 'Bearer not-a-token' });
    assert.equal(invalid.status, 401);
    assert.equal(invalid.json().error, 'invalid_token');
    const token = (
      await post(gw, '/oauth2/token', { grant_type: 'client_credentials', scope: 'orders' }, confidential, ANON)
    ).json().access_token;
    const seen = (await call('/profile', { authorization: `Bearer ${token}`, 'x-anonymous-consumer': 'true' })).json()
      .headers;
    assert.equal(seen['x-consumer-id'], 'shoefly');
    assert.equal(seen['x-anonymous-consumer'], undefined, 'a client-sent copy is removed');
  });

  it('requires a token where a scope rule applies', async () => {
    const res = await call('/orders/1');
    assert.equal(res.status, 401);
    assert.match(String(res.headers['www-authenticate']), /^Bearer realm="portcullis"$/);
  });

  it('refuses, at write time, an anonymous consumer that is not an API key, and keeps the referenced key from deletion', async () => {
    const bad = await gw.admin(
      'POST',
      '/api/routes',
      route('anon-bad', upstream.url, {
        frontend: { domains: ['anon-bad.test'] },
        plugins: [{ plugin: 'oauth2', config: { ...config, anonymous: 'nobody' } }],
      }),
    );
    assert.equal(bad.status, 400, bad.text);
    assert.deepEqual(bad.json().details, [
      { path: '/plugins/0/config/anonymous', message: 'No API key with id "nobody"' },
    ]);
    const deleted = await gw.admin('DELETE', '/api/apikeys/guest');
    assert.equal(deleted.status, 409, deleted.text);
  });

  it('needs a token again once the anonymous API key is disabled', async () => {
    const key = (await gw.admin('GET', '/api/apikeys/guest')).json();
    assert.equal((await gw.admin('PUT', '/api/apikeys/guest', { ...key, enabled: false })).status, 200);
    try {
      assert.equal((await call('/profile')).status, 401);
    } finally {
      await gw.admin('PUT', '/api/apikeys/guest', { ...key, enabled: true });
    }
  });
});
