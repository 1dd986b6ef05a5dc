/**
 * The access-request state machine through the admin API: every transition and what it does to
 * the request's API key, every forbidden transition (409 invalid_transition), the audit trail, and
 * concurrent decisions (exactly one wins).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import { portalGateway, requestAccess, PROFILE, type PortalWorld } from './fixtures.js';

describe('Plugin: access-requests (lifecycle)', () => {
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

  const key = async (clientId: string) => (await world.gw.admin('GET', `/api/apikeys/${clientId}`)).json();

  it('creating a request creates its API key disabled, without routes or scopes, and shows the secret once', async () => {
    const created = await requestAccess(world);
    assert.equal(created.state, 'pending');
    assert.equal(created.apiKeyId, created.clientId);
    assert.match(created.clientSecret, /^[\w-]{43}$/);
    assert.deepEqual(created.clientAuthentication, { method: 'client_secret_basic' });
    assert.deepEqual(
      created.history.map((e: any) => [e.from, e.to, e.actor.startsWith('token:')]),
      [[null, 'pending', true]],
    );
    const apiKey = await key(created.clientId);
    assert.equal(apiKey.enabled, false);
    assert.deepEqual(apiKey.authorizedEntities, []);
    assert.deepEqual(apiKey.scopes, []);
    assert.deepEqual(apiKey.grantTypes, ['client_credentials']);
    assert.equal(apiKey.clientSecret, undefined);
    const read = (await world.as(world.portal, 'GET', `/api/access-requests/${created.id}`)).json();
    assert.equal(read.clientSecret, undefined, 'the secret is shown only in the creation answer');
  });

  it('approving enables the key with the granted scopes, the profile routes and quotas (approver overrides kept)', async () => {
    const created = await requestAccess(world);
    const res = await world.as(world.manager, 'POST', `/api/access-requests/${created.id}/approve`, {
      scopes: ['orders:read'],
      quotas: { throttlingQuota: 5 },
      reason: 'Known partner',
    });
    assert.equal(res.status, 200, res.text);
    const approved = res.json();
    assert.equal(approved.state, 'approved');
    assert.deepEqual(approved.grantedScopes, ['orders:read']);
    assert.match(approved.decidedBy, /^token:/);
    assert.ok(approved.decidedAt);
    assert.equal(approved.reason, 'Known partner');
    const apiKey = await key(created.clientId);
    assert.equal(apiKey.enabled, true);
    assert.deepEqual(apiKey.scopes, ['orders:read']);
    assert.deepEqual(apiKey.authorizedEntities, ['orders']);
    assert.equal(apiKey.dailyQuota, 1000);
    assert.equal(apiKey.throttlingQuota, 5);
  });

  it('approving without scopes grants the requested ones; a wildcard of the profile covers them', async () => {
    const created = await requestAccess(world);
    const approved = (await world.as(world.manager, 'POST', `/api/access-requests/${created.id}/approve`)).json();
    assert.deepEqual(approved.grantedScopes, ['orders:read', 'Function2/list']);
    assert.deepEqual((await key(created.clientId)).scopes, ['orders:read', 'Function2/list']);
  });

  it('scopes outside the profile are refused, at request and at approval, and nothing changes', async () => {
    const refused = await world.as(world.portal, 'POST', '/api/access-requests', {
      profileId: PROFILE.id,
      requester: { id: 'x', name: 'X', email: 'x@x.example' },
      requestedScopes: ['orders:write'],
    });
    assert.equal(refused.status, 400);
    assert.equal(refused.json().details[0].path, '/requestedScopes/0');
    const keysBefore = (await world.gw.admin('GET', '/api/apikeys')).json().length;
    const created = await requestAccess(world);
    const approve = await world.as(world.manager, 'POST', `/api/access-requests/${created.id}/approve`, {
      scopes: ['Function3/x'],
    });
    assert.equal(approve.status, 400);
    assert.equal((await world.as(world.manager, 'GET', `/api/access-requests/${created.id}`)).json().state, 'pending');
    assert.equal((await key(created.clientId)).enabled, false);
    assert.equal(
      (await world.gw.admin('GET', '/api/apikeys')).json().length,
      keysBefore + 1,
      'the refused request left no key',
    );
  });

  it('rejecting keeps the key disabled, with the reason in the request and its trail', async () => {
    const created = await requestAccess(world);
    const rejected = (
      await world.as(world.manager, 'POST', `/api/access-requests/${created.id}/reject`, {
        reason: 'Unknown organization',
      })
    ).json();
    assert.equal(rejected.state, 'rejected');
    assert.equal(rejected.reason, 'Unknown organization');
    assert.equal((await key(created.clientId)).enabled, false);
    const events = (await world.as(world.portal, 'GET', `/api/access-requests/${created.id}/events`)).json();
    assert.deepEqual(
      events.map((e: any) => [e.from, e.to, e.reason]),
      [
        [null, 'pending', undefined],
        ['pending', 'rejected', 'Unknown organization'],
      ],
    );
  });

  it('rejecting under a profile with onReject: delete deletes the key', async () => {
    const profile = await world.gw.admin('POST', '/api/authorization-profiles', {
      ...PROFILE,
      id: 'orders-strict',
      onReject: 'delete',
    });
    assert.equal(profile.status, 201, profile.text);
    const created = await requestAccess(world, { profileId: 'orders-strict' });
    const rejected = (await world.as(world.manager, 'POST', `/api/access-requests/${created.id}/reject`)).json();
    assert.equal(rejected.apiKeyId, undefined);
    assert.equal((await world.gw.admin('GET', `/api/apikeys/${created.clientId}`)).status, 404);
  });

  it('revoking disables the key and revokes the tokens issued to it', async () => {
    const created = await requestAccess(world);
    await world.as(world.manager, 'POST', `/api/access-requests/${created.id}/approve`);
    const token = await world.gw.proxy('/.well-known/otoroshi/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: created.clientId,
        client_secret: created.clientSecret,
      }).toString(),
    });
    assert.equal(token.status, 200, token.text);
    const bearer = { authorization: `Bearer ${token.json().access_token}` };
    assert.equal((await world.gw.proxy('/', { headers: bearer })).status, 200);
    const revoked = await world.as(world.manager, 'POST', `/api/access-requests/${created.id}/revoke`, {
      reason: 'Contract ended',
    });
    assert.equal(revoked.status, 200, revoked.text);
    assert.equal(revoked.json().state, 'revoked');
    assert.equal((await key(created.clientId)).enabled, false);
    // Re-enabling the key by hand does not bring back the tokens issued before the revocation.
    const apiKey = await key(created.clientId);
    assert.equal(
      (await world.gw.admin('PUT', `/api/apikeys/${created.clientId}`, { ...apiKey, enabled: true })).status,
      200,
    );
    const refused = await world.gw.proxy('/', { headers: bearer });
    assert.equal(refused.status, 401);
    assert.match(String(refused.headers['www-authenticate']), /invalid_token/);
  });

  it('forbidden transitions answer 409 invalid_transition and change nothing', async () => {
    const pending = await requestAccess(world);
    const approved = await requestAccess(world);
    await world.as(world.manager, 'POST', `/api/access-requests/${approved.id}/approve`);
    const rejected = await requestAccess(world);
    await world.as(world.manager, 'POST', `/api/access-requests/${rejected.id}/reject`);
    const revoked = await requestAccess(world);
    await world.as(world.manager, 'POST', `/api/access-requests/${revoked.id}/approve`);
    await world.as(world.manager, 'POST', `/api/access-requests/${revoked.id}/revoke`);
    const forbidden: Array<[any, string]> = [
      [pending, 'revoke'],
      [approved, 'approve'],
      [approved, 'reject'],
      [rejected, 'approve'],
      [rejected, 'reject'],
      [rejected, 'revoke'],
      [revoked, 'approve'],
      [revoked, 'reject'],
      [revoked, 'revoke'],
    ];
    for (const [request, decision] of forbidden) {
      const before = (await world.gw.admin('GET', `/api/access-requests/${request.id}`)).json();
      const res = await world.as(world.manager, 'POST', `/api/access-requests/${request.id}/${decision}`);
      assert.equal(res.status, 409, `${decision} of a ${before.state} request`);
      assert.equal(res.json().error, 'invalid_transition');
      assert.match(res.json().error_description, new RegExp(`it is ${before.state}`));
      const after = (await world.gw.admin('GET', `/api/access-requests/${request.id}`)).json();
      assert.deepEqual(after, before);
    }
  });

  it('two managers deciding at once: exactly one decision lands, the others get 409', async () => {
    for (let round = 0; round < 3; round++) {
      const created = await requestAccess(world);
      const decisions = ['approve', 'reject', 'approve', 'reject', 'approve', 'reject'];
      const answers = await Promise.all(
        decisions.map((d) => world.as(world.manager, 'POST', `/api/access-requests/${created.id}/${d}`, { reason: d })),
      );
      const won = answers.filter((a) => a.status === 200);
      assert.equal(won.length, 1, answers.map((a) => `${a.status} ${a.text}`).join('\n'));
      assert.ok(
        answers.every((a) => a.status === 200 || (a.status === 409 && a.json().error === 'invalid_transition')),
      );
      const final = (await world.gw.admin('GET', `/api/access-requests/${created.id}`)).json();
      assert.equal(final.history.length, 2, 'one decision in the trail');
      assert.equal(final.state, won[0]!.json().state);
      assert.equal((await key(created.clientId)).enabled, final.state === 'approved');
    }
  });

  it('a profile that requests name cannot be deleted (409), nor their API key; an unused one can', async () => {
    const created = await requestAccess(world);
    const res = await world.gw.admin('DELETE', `/api/authorization-profiles/${PROFILE.id}`);
    assert.equal(res.status, 409);
    assert.match(res.json().error_description, /access request/);
    assert.equal((await world.gw.admin('DELETE', `/api/apikeys/${created.clientId}`)).status, 409);
    const unused = await world.gw.admin('POST', '/api/authorization-profiles', { ...PROFILE, id: 'unused' });
    assert.equal(unused.status, 201);
    assert.equal((await world.gw.admin('DELETE', '/api/authorization-profiles/unused')).status, 204);
  });

  it('a request for an unknown profile, or with gateway-owned fields, is refused', async () => {
    const unknown = await world.as(world.portal, 'POST', '/api/access-requests', {
      profileId: 'nope',
      requester: { id: 'x', name: 'X', email: 'x@x.example' },
    });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.json().details[0].path, '/profileId');
    const sneaky = await world.as(world.portal, 'POST', '/api/access-requests', {
      profileId: PROFILE.id,
      requester: { id: 'x', name: 'X', email: 'x@x.example' },
      state: 'approved',
    });
    assert.equal(sneaky.status, 400);
    assert.equal(sneaky.json().details[0].path, '/state');
  });

  it("a private-key-jwt profile records the requester's JWKS URL or key and hands out no secret", async () => {
    assert.equal(
      (
        await world.gw.admin('POST', '/api/authorization-profiles', {
          ...PROFILE,
          id: 'signed-jwks',
          clientAuthenticator: 'private-key-jwt-jwks-uri',
        })
      ).status,
      201,
    );
    assert.equal(
      (
        await world.gw.admin('POST', '/api/authorization-profiles', {
          ...PROFILE,
          id: 'signed-key',
          clientAuthenticator: 'private-key-jwt-registered-key',
        })
      ).status,
      201,
    );
    const missing = await world.as(world.portal, 'POST', '/api/access-requests', {
      profileId: 'signed-jwks',
      requester: { id: 'x', name: 'X', email: 'x@x.example' },
    });
    assert.equal(missing.status, 400);
    assert.equal(missing.json().details[0].path, '/jwksUri');
    const byJwks = await requestAccess(world, { profileId: 'signed-jwks', jwksUri: 'https://acme.example/jwks.json' });
    assert.deepEqual(byJwks.clientAuthentication, {
      method: 'private_key_jwt',
      jwksUri: 'https://acme.example/jwks.json',
    });
    assert.equal(byJwks.clientSecret, undefined);
    const byKey = await requestAccess(world, {
      profileId: 'signed-key',
      publicKey: '{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}',
    });
    assert.equal(byKey.clientAuthentication.method, 'private_key_jwt');
    assert.match(byKey.clientAuthentication.publicKey, /Ed25519/);
    assert.equal(byKey.clientSecret, undefined);
  });

  it('an authorization-code profile needs redirect URIs and gives the key the authorization code grants', async () => {
    assert.equal(
      (
        await world.gw.admin('POST', '/api/authorization-profiles', {
          ...PROFILE,
          id: 'users',
          flow: 'authorization-code',
        })
      ).status,
      201,
    );
    const missing = await world.as(world.portal, 'POST', '/api/access-requests', {
      ...{ requester: { id: 'x', name: 'X', email: 'x@x.example' } },
      profileId: 'users',
    });
    assert.equal(missing.status, 400);
    assert.equal(missing.json().details[0].path, '/redirectUris');
    const created = await requestAccess(world, { profileId: 'users', redirectUris: ['https://acme.example/callback'] });
    const apiKey = await key(created.clientId);
    assert.deepEqual(apiKey.grantTypes, ['authorization_code', 'refresh_token']);
    assert.deepEqual(apiKey.redirectUris, ['https://acme.example/callback']);
  });
});
