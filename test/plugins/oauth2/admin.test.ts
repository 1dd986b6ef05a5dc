import 'reflect-metadata';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import { stepOnGateway, startProviderApp, codeFor, exchange, HOST, type ProviderApp } from './fixtures.js';

describe('Plugin: oauth2 (admin API)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let app: ProviderApp;

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await stepOnGateway(upstream);
    app = await startProviderApp(gw.proxyUrl);
  });
  after(async () => {
    await app.close();
    await gw.close();
    await upstream.close();
  });

  const api = (token: string) => gw.proxy('/v1/orders', { host: HOST, headers: { authorization: `Bearer ${token}` } });
  const grantFor = async (user: string) => (await exchange(gw, await codeFor(app, user))).json();

  it('lists live grants by user and by client, with token digests and never token values', async () => {
    const alice = await grantFor('alice');
    await grantFor('bob');
    const listed = await gw.admin('GET', '/api/oauth2/grants?user=alice');
    assert.equal(listed.status, 200);
    const grants = listed.json();
    assert.equal(grants.length, 1);
    assert.equal(grants[0].clientId, 'shoefly');
    assert.deepEqual(grants[0].tokens.map((t: any) => t.type).sort(), ['access_token', 'refresh_token']);
    assert.ok(!listed.text.includes(alice.access_token) && !listed.text.includes(alice.refresh_token));
    assert.ok((await gw.admin('GET', '/api/oauth2/grants?client=shoefly')).json().length >= 2);
  });

  it('revokes one grant, then every grant of a user leaving', async () => {
    const first = await grantFor('carol');
    const second = await grantFor('carol');
    const [grant] = (await gw.admin('GET', '/api/oauth2/grants?user=carol'))
      .json()
      .filter((g: any) => g.tokens.length > 0);
    assert.equal((await gw.admin('DELETE', `/api/oauth2/grants/${grant.grant}`)).status, 204);
    assert.equal((await gw.admin('GET', '/api/oauth2/grants?user=carol')).json().length, 1);
    const statuses = [(await api(first.access_token)).status, (await api(second.access_token)).status].sort();
    assert.deepEqual(statuses, [200, 401]);
    const all = await gw.admin('POST', '/api/oauth2/grants/revoke?user=carol');
    assert.deepEqual(all.json(), { revoked: 1 });
    assert.equal((await api(first.access_token)).status, 401);
    assert.equal((await api(second.access_token)).status, 401);
    assert.equal((await gw.admin('POST', '/api/oauth2/grants/revoke')).status, 400);
    assert.equal((await gw.admin('DELETE', `/api/oauth2/grants/${grant.grant}`)).status, 404);
  });

  it('lists as live only the grants a route accepts: none of a client whose tokens were cut off', async () => {
    const before = await grantFor('dora');
    assert.equal((await gw.admin('GET', '/api/oauth2/grants?user=dora')).json().length, 1);
    assert.equal((await gw.admin('POST', '/api/apikeys/shoefly/revoke-tokens')).status, 200);
    assert.equal((await api(before.access_token)).status, 401);
    assert.deepEqual((await gw.admin('GET', '/api/oauth2/grants?user=dora')).json(), []);
    const after = await grantFor('dora');
    const listed = (await gw.admin('GET', '/api/oauth2/grants?user=dora')).json();
    assert.equal(listed.length, 1);
    assert.equal(listed[0].tokens.length, 2);
    assert.equal((await api(after.access_token)).status, 200);
  });
});
