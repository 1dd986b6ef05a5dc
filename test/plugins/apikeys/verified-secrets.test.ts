/**
 * API key secrets verified once per process (`core/cache/verified-secrets.ts`, kept by the key index
 * for the API-key check and the token endpoint alike): whatever changes the key is honoured by the
 * very next request although the presented secret was verified before.
 * (Rotation, a changed secret, disabling and deletion are pinned by access.test.ts and admin.test.ts.)
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, createRoute, route, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import { oauthGateway, form, TOKEN_PATH } from '../client-credentials/fixtures.js';

const basic = (id: string, secret: string) => ({
  authorization: 'Basic ' + Buffer.from(`${id}:${secret}`).toString('base64'),
});
const FIRST = 'the-first-secret-0123456789';
const SECOND = 'the-second-secret-0123456789';

describe('Plugin: apikeys (verified secrets cached in the process)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  const create = (clientId: string, clientSecret: string) =>
    gw.admin('POST', '/api/apikeys', { clientId, clientSecret, clientName: clientId, authorizedEntities: ['cached'] });

  before(async () => {
    gw = await startGateway();
    upstream = await startUpstream(echo);
    await createRoute(gw, route('cached', upstream.url, { plugins: [{ plugin: 'apikeys' }] }));
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  it('refuses the old secret of a key deleted and created again under the same id', async () => {
    assert.equal((await create('reborn', FIRST)).status, 201);
    assert.equal((await gw.proxy('/', { headers: basic('reborn', FIRST) })).status, 200);
    assert.equal((await gw.admin('DELETE', '/api/apikeys/reborn')).status, 204);
    assert.equal((await create('reborn', SECOND)).status, 201);
    assert.equal((await gw.proxy('/', { headers: basic('reborn', FIRST) })).status, 401);
    assert.equal((await gw.proxy('/', { headers: basic('reborn', SECOND) })).status, 200);
  });

  it('refuses a warm key on the next request once its validity ends', async () => {
    assert.equal((await create('expiring', FIRST)).status, 201);
    assert.equal((await gw.proxy('/', { headers: basic('expiring', FIRST) })).status, 200);
    const current = (await gw.admin('GET', '/api/apikeys/expiring')).json();
    const ended = new Date(Date.now() - 60_000).toISOString();
    assert.equal((await gw.admin('PUT', '/api/apikeys/expiring', { ...current, validUntil: ended })).status, 200);
    assert.equal((await gw.proxy('/', { headers: basic('expiring', FIRST) })).status, 401);
  });

  it('never lets a wrong secret through after the right one was verified', async () => {
    assert.equal((await create('mixed', FIRST)).status, 201);
    assert.equal((await gw.proxy('/', { headers: basic('mixed', FIRST) })).status, 200);
    assert.equal((await gw.proxy('/', { headers: basic('mixed', SECOND) })).status, 401);
    assert.equal((await gw.proxy('/', { headers: basic('mixed', FIRST.slice(0, -1)) })).status, 401);
  });
});

describe('Token endpoint client authentication (the same verified secrets)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  const token = (clientId: string, clientSecret: string) =>
    gw.proxy(TOKEN_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }),
    });
  const create = (clientId: string, clientSecret: string) =>
    gw.admin('POST', '/api/apikeys', { clientId, clientSecret, clientName: clientId, authorizedEntities: ['orders'] });

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await oauthGateway(upstream);
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  it('refuses the old secret of a client re-created with another, right after a token was issued with it', async () => {
    assert.equal((await create('token-reborn', FIRST)).status, 201);
    assert.equal((await token('token-reborn', FIRST)).status, 200);
    assert.equal((await gw.admin('DELETE', '/api/apikeys/token-reborn')).status, 204);
    assert.equal((await create('token-reborn', SECOND)).status, 201);
    const refused = await token('token-reborn', FIRST);
    assert.equal(refused.status, 401, refused.text);
    assert.equal(refused.json().error, 'invalid_client');
    assert.equal((await token('token-reborn', SECOND)).status, 200);
  });

  it('refuses a warm client once it is disabled, and a wrong secret after the right one', async () => {
    assert.equal((await create('token-warm', FIRST)).status, 201);
    assert.equal((await token('token-warm', FIRST)).status, 200);
    assert.equal((await token('token-warm', SECOND)).status, 401);
    const current = (await gw.admin('GET', '/api/apikeys/token-warm')).json();
    assert.equal((await gw.admin('PUT', '/api/apikeys/token-warm', { ...current, enabled: false })).status, 200);
    assert.equal((await token('token-warm', FIRST)).status, 401);
  });
});
