/**
 * API key secrets verified once per process (`core/cache/verified-secrets.ts`): whatever changes the
 * key is honoured by the very next request although the presented secret was verified before.
 * (Rotation, a changed secret, disabling and deletion are pinned by access.test.ts and admin.test.ts.)
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, createRoute, route, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';

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
