/**
 * The API-portal lifecycle end to end, over HTTP only, as a portal and a manager drive it: a
 * profile, a request by the portal's token, the manager's approval, a client_credentials token from
 * the gateway's token endpoint and a call through a protected route; and a rejection, whose
 * credentials never work.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';
import { portalGateway, requestAccess, type PortalWorld } from '../plugins/access-requests/fixtures.js';

const TOKEN_PATH = '/.well-known/otoroshi/oauth/token';

describe('E2E: access request → approval → token → API call', () => {
  let upstream: Upstream;
  let world: PortalWorld;

  before(async () => {
    upstream = await startUpstream(echo);
    world = await portalGateway(upstream);
  });
  after(async () => {
    await world.gw.close();
    await upstream.close();
  });

  const token = (clientId: string, clientSecret: string, scope?: string) =>
    world.gw.proxy(TOKEN_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: clientSecret,
        ...(scope ? { scope } : {}),
      }).toString(),
    });

  it('approved: the requester gets a token with the granted scopes and calls the API as its key', async () => {
    const created = await requestAccess(world);
    const early = await token(created.clientId, created.clientSecret);
    assert.equal(early.status, 401, 'no token while the request is pending');
    assert.equal(early.json().error, 'invalid_client');
    const approved = await world.as(world.manager, 'POST', `/api/access-requests/${created.id}/approve`, {
      scopes: ['orders:read'],
    });
    assert.equal(approved.status, 200, approved.text);
    const issued = await token(created.clientId, created.clientSecret, 'orders:read');
    assert.equal(issued.status, 200, issued.text);
    assert.equal(issued.json().scope, 'orders:read');
    const tooMuch = await token(created.clientId, created.clientSecret, 'Function2/list');
    assert.equal(tooMuch.status, 400, 'a requested but not granted scope is refused');
    assert.equal(tooMuch.json().error, 'invalid_scope');
    const call = await world.gw.proxy('/orders/42', {
      headers: { authorization: `Bearer ${issued.json().access_token}` },
    });
    assert.equal(call.status, 200, call.text);
    const seen = upstream.received.at(-1)!;
    assert.equal(seen.headers['x-consumer-client-id'], created.clientId);
    assert.equal(seen.headers['x-consumer-name'], 'Acme Corp');
    assert.equal(seen.headers['x-consumer-scopes'], 'orders:read');
  });

  it('rejected: the credentials handed out at creation never get a token', async () => {
    const created = await requestAccess(world);
    const rejected = await world.as(world.manager, 'POST', `/api/access-requests/${created.id}/reject`, {
      reason: 'No contract',
    });
    assert.equal(rejected.status, 200);
    const refused = await token(created.clientId, created.clientSecret);
    assert.equal(refused.status, 401);
    assert.equal(refused.json().error, 'invalid_client');
  });
});
