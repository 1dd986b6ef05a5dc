/**
 * API tokens for automation on the admin API: created by the admin and shown once, stored hashed,
 * accepted only on the endpoints of their scopes (403 elsewhere), refused once deleted, never logged.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import { portalGateway, requestAccess, createToken, PROFILE, type PortalWorld } from './fixtures.js';
import { storedText } from '../../helpers/data-file.js';

describe('Admin API tokens (access-requests scopes)', () => {
  let upstream: Upstream;
  let world: PortalWorld;

  before(async () => {
    upstream = await startUpstream(echo);
    world = await portalGateway(upstream, { logLevel: 'debug' });
  });
  after(async () => {
    await world.gw.close();
    await upstream.close();
  });

  it('the token is shown once on creation; reads and the data file hold only a salted hash', async () => {
    const res = await world.gw.admin('POST', '/api/tokens', {
      name: 'CI',
      scopes: ['access-requests:create'],
      id: 'chosen',
      tokenHash: 'sha256$x$y',
    });
    assert.equal(res.status, 201, res.text);
    const created = res.json();
    assert.match(created.token, /^pct_[\w-]+\.[\w-]{43}$/);
    assert.notEqual(created.id, 'chosen', "the id is the gateway's");
    assert.equal(created.tokenHash, undefined);
    const listed = (await world.gw.admin('GET', '/api/tokens')).json();
    assert.ok(listed.some((t: any) => t.id === created.id));
    assert.ok(listed.every((t: any) => t.token === undefined && t.tokenHash === undefined));
    const one = (await world.gw.admin('GET', `/api/tokens/${created.id}`)).json();
    assert.deepEqual(one.scopes, ['access-requests:create']);
    const file = await storedText(world.gw.dataFile);
    assert.ok(!file.includes(created.token.split('.')[1]), 'the secret is not stored');
    assert.match(file, /"tokenHash": ?"sha256\$/);
  });

  it('an unknown scope or a token without scopes is refused', async () => {
    assert.equal((await world.gw.admin('POST', '/api/tokens', { name: 'x', scopes: ['admin'] })).status, 400);
    assert.equal((await world.gw.admin('POST', '/api/tokens', { name: 'x', scopes: [] })).status, 400);
  });

  it('a portal token creates requests and reads its own, but cannot decide nor reach other admin endpoints', async () => {
    const created = await requestAccess(world);
    assert.equal((await world.as(world.portal, 'GET', `/api/access-requests/${created.id}`)).status, 200);
    assert.equal((await world.as(world.portal, 'GET', `/api/authorization-profiles/${PROFILE.id}`)).status, 200);
    for (const [method, path, body] of [
      ['POST', `/api/access-requests/${created.id}/approve`, {}],
      ['POST', `/api/access-requests/${created.id}/reject`, {}],
      ['GET', `/api/access-requests/${created.id}/deliveries`, undefined],
      ['DELETE', `/api/access-requests/${created.id}`, undefined],
      ['GET', '/api/routes', undefined],
      ['GET', '/api/apikeys', undefined],
      ['GET', '/api/export', undefined],
      ['POST', '/api/tokens', { name: 'more', scopes: ['access-requests:decide'] }],
      ['PUT', `/api/authorization-profiles/${PROFILE.id}`, PROFILE],
    ] as const) {
      const res = await world.as(world.portal, method, path, body);
      assert.equal(res.status, 403, `${method} ${path}: ${res.text}`);
      assert.equal(res.json().error, 'forbidden');
    }
    assert.equal((await world.as(world.manager, 'GET', `/api/access-requests/${created.id}`)).json().state, 'pending');
  });

  it('a portal token sees only the requests it created', async () => {
    const mine = await requestAccess(world);
    const otherPortal = await createToken(world.gw, 'Other portal', ['access-requests:create']);
    const theirs = (
      await world.as(otherPortal, 'POST', '/api/access-requests', {
        profileId: PROFILE.id,
        requester: { id: 'o', name: 'Other', email: 'o@o.example' },
      })
    ).json();
    assert.equal((await world.as(world.portal, 'GET', `/api/access-requests/${theirs.id}`)).status, 404);
    assert.equal((await world.as(world.portal, 'GET', `/api/access-requests/${theirs.id}/events`)).status, 404);
    const listed = (await world.as(world.portal, 'GET', '/api/access-requests')).json().map((r: any) => r.id);
    assert.ok(listed.includes(mine.id));
    assert.ok(!listed.includes(theirs.id));
    const all = (await world.as(world.manager, 'GET', '/api/access-requests?state=pending'))
      .json()
      .map((r: any) => r.id);
    assert.ok(all.includes(mine.id) && all.includes(theirs.id), 'a manager lists every request');
  });

  it('a manager token decides but cannot create requests, profiles, routes, keys or tokens', async () => {
    for (const [method, path, body] of [
      [
        'POST',
        '/api/access-requests',
        { profileId: PROFILE.id, requester: { id: 'm', name: 'M', email: 'm@m.example' } },
      ],
      ['POST', '/api/authorization-profiles', { ...PROFILE, id: 'by-manager' }],
      [
        'POST',
        '/api/routes',
        {
          id: 'r',
          name: 'r',
          frontend: { domains: ['x.test'] },
          backend: { targets: [{ url: 'http://127.0.0.1:1' }] },
        },
      ],
      ['POST', '/api/apikeys', { clientName: 'k' }],
      ['POST', '/api/tokens', { name: 'more', scopes: ['access-requests:decide'] }],
      ['GET', '/api/tokens', undefined],
      ['PUT', '/api/global-config', { plugins: [] }],
    ] as const) {
      const res = await world.as(world.manager, method, path, body);
      assert.equal(res.status, 403, `${method} ${path}: ${res.text}`);
    }
    assert.equal((await world.gw.admin('GET', '/api/authorization-profiles/by-manager')).status, 404);
    const created = await requestAccess(world);
    assert.equal((await world.as(world.manager, 'POST', `/api/access-requests/${created.id}/approve`)).status, 200);
  });

  it('a deleted token, a wrong secret or a malformed token is refused with 401', async () => {
    const token = await createToken(world.gw, 'Short-lived', ['access-requests:decide']);
    assert.equal((await world.as(token, 'GET', '/api/access-requests')).status, 200);
    const id = token.slice(4, token.indexOf('.'));
    assert.equal((await world.gw.admin('DELETE', `/api/tokens/${id}`)).status, 204);
    for (const bad of [
      token,
      `${token.slice(0, -2)}xx`,
      world.manager.replace(/\.[\w-]+$/, '.wrong'),
      'pct_',
      'not-a-token',
      `pct_${id}`,
    ]) {
      const res = await world.as(bad, 'GET', '/api/access-requests');
      assert.equal(res.status, 401, bad);
      assert.equal(res.json().error, 'unauthorized');
    }
  });

  it('tokens never appear in the logs', async () => {
    await world.as(world.manager, 'GET', '/api/routes');
    await world.as(`${world.portal}x`, 'GET', '/api/access-requests');
    const logs = JSON.stringify(world.gw.logs);
    for (const token of [world.portal, world.manager])
      assert.ok(!logs.includes(token.split('.')[1]!), 'a token secret was logged');
  });
});
