/**
 * Regression (issue 10, item 4): disabling or deleting an API key, or revoking its tokens, stops
 * them everywhere from the next request: the `apikeys` jwt extractor, `jwt-verifier` routes that
 * trust the gateway's key pairs (whose verified-token cache used to let them pass until expiry),
 * and introspection.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { startGateway, createRoute, route, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import { basic } from '../../helpers/http.js';
import { oauthGateway, form, tokenFor, SECRET, INTROSPECT_PATH } from '../client-credentials/fixtures.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('Plugin: apikeys (tokens of disabled, deleted and revoked keys)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let restartedDataDir: string | undefined;

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await oauthGateway(upstream);
    const verifier = await gw.admin('POST', '/api/jwt-verifiers', {
      id: 'gateway',
      name: 'Gateway tokens',
      keys: { kind: 'keypairs' },
      algorithms: ['RS256', 'ES256'],
      typ: 'at+jwt',
    });
    assert.equal(verifier.status, 201, verifier.text);
    await createRoute(
      gw,
      route('verified', upstream.url, {
        frontend: { domains: ['jv.test'] },
        plugins: [{ plugin: 'jwt-verifier', config: { verifiers: ['gateway'] } }],
      }),
    );
    for (const clientId of ['rk-disabled', 'rk-deleted', 'rk-revoked', 'rk-bystander']) {
      const res = await gw.admin('POST', '/api/apikeys', {
        clientId,
        clientSecret: SECRET,
        clientName: clientId,
        authorizedEntities: ['orders'],
      });
      assert.equal(res.status, 201, res.text);
    }
  });
  after(async () => {
    await gw.close();
    await upstream.close();
    if (restartedDataDir) rmSync(restartedDataDir, { recursive: true, force: true });
  });

  /** The status on the apikeys-jwt route and on the jwt-verifier route, in that order. */
  const statuses = async (token: string) => [
    (await gw.proxy('/', { host: 'api.test', headers: { authorization: `Bearer ${token}` } })).status,
    (await gw.proxy('/', { host: 'jv.test', headers: { authorization: `Bearer ${token}` } })).status,
  ];
  const expectInvalidToken = async (token: string, description: RegExp) => {
    for (const host of ['api.test', 'jv.test']) {
      const res = await gw.proxy('/', { host, headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.status, 401, `${host}: ${res.text}`);
      assert.equal(res.json().error, 'invalid_token', host);
      assert.match(res.json().error_description, description, host);
      assert.match(
        String(res.headers['www-authenticate']),
        /Bearer realm="portcullis", error="invalid_token", error_description="/,
        host,
      );
    }
  };
  const introspect = async (token: string) =>
    (
      await gw.proxy(INTROSPECT_PATH, {
        method: 'POST',
        headers: { ...FORM, authorization: basic('rk-bystander', SECRET) },
        body: form({ token }),
      })
    ).json();
  const setEnabled = async (clientId: string, enabled: boolean) => {
    const key = (await gw.admin('GET', `/api/apikeys/${clientId}`)).json();
    assert.equal((await gw.admin('PUT', `/api/apikeys/${clientId}`, { ...key, enabled })).status, 200);
  };

  it('refuses the tokens of a disabled key on both routes from the next request, cached or not, and accepts them again once re-enabled', async () => {
    const token = await tokenFor(gw, 'rk-disabled');
    assert.deepEqual(await statuses(token), [200, 200]);
    assert.deepEqual(await statuses(token), [200, 200], 'the jwt-verifier route now answers from its cache');
    await setEnabled('rk-disabled', false);
    await expectInvalidToken(token, /disabled/);
    assert.deepEqual(await introspect(token), { active: false });
    await setEnabled('rk-disabled', true);
    assert.deepEqual(await statuses(token), [200, 200]);
    assert.equal((await introspect(token)).active, true);
  });

  it('refuses the tokens of a deleted key, and a key created again under its id does not inherit them', async () => {
    const token = await tokenFor(gw, 'rk-deleted');
    assert.deepEqual(await statuses(token), [200, 200]);
    assert.equal((await gw.admin('DELETE', '/api/apikeys/rk-deleted')).status, 204);
    await expectInvalidToken(token, /no known client/);
    assert.deepEqual(await introspect(token), { active: false });
    // iat has a one-second resolution: re-create in a later second than the token's.
    await delay(1000 - (Date.now() % 1000) + 10);
    const again = await gw.admin('POST', '/api/apikeys', {
      clientId: 'rk-deleted',
      clientSecret: SECRET,
      clientName: 'again',
      authorizedEntities: ['orders'],
    });
    assert.equal(again.status, 201, again.text);
    await expectInvalidToken(token, /earlier client/);
    assert.deepEqual(await statuses(await tokenFor(gw, 'rk-deleted')), [200, 200], "the new key's own tokens work");
  });

  it('POST /api/apikeys/{clientId}/revoke-tokens refuses every earlier token of the key everywhere, even after re-enabling; new tokens work', async () => {
    const first = await tokenFor(gw, 'rk-revoked');
    const second = await tokenFor(gw, 'rk-revoked');
    const bystander = await tokenFor(gw, 'rk-bystander');
    assert.deepEqual(await statuses(first), [200, 200]);
    const res = await gw.admin('POST', '/api/apikeys/rk-revoked/revoke-tokens');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json().clientId, 'rk-revoked');
    assert.ok(Date.parse(res.json().tokensIssuedBefore) > Date.now() - 2000);
    for (const token of [first, second]) {
      await expectInvalidToken(token, /revocation/);
      assert.deepEqual(await introspect(token), { active: false });
    }
    assert.deepEqual(await statuses(bystander), [200, 200], 'other keys keep their tokens');
    await setEnabled('rk-revoked', false);
    await setEnabled('rk-revoked', true);
    await expectInvalidToken(first, /revocation/);
    const fresh = await tokenFor(gw, 'rk-revoked');
    assert.deepEqual(await statuses(fresh), [200, 200]);
    assert.equal((await introspect(fresh)).active, true);
  });

  it('revoke-tokens answers 404 for an unknown key and needs admin credentials; cut-offs are runtime state, not exported configuration', async () => {
    assert.equal((await gw.admin('POST', '/api/apikeys/nobody/revoke-tokens')).status, 404);
    assert.equal(
      (await fetch(`${gw.adminUrl}/api/apikeys/rk-bystander/revoke-tokens`, { method: 'POST' })).status,
      401,
    );
    const exported = (await gw.admin('GET', '/api/export')).json();
    assert.equal(exported['client-token-cutoffs'], undefined, 'cut-offs stay out of the configuration export');
    assert.equal(exported['revoked-tokens'], undefined, 'revoked tokens stay out of the configuration export');
  });

  it('issues working tokens to an imported key whose createdAt lies ahead of this clock', async () => {
    const keys = (await gw.admin('GET', '/api/apikeys')).json();
    const ahead = {
      clientId: 'rk-imported',
      clientSecret: SECRET,
      clientName: 'imported',
      authorizedEntities: ['orders'],
      createdAt: new Date(Date.now() + 86_400_000).toISOString(),
    };
    const imported = await gw.admin('POST', '/api/import', {
      apikeys: [...keys.map(({ clientSecretHash: _h, ...k }: Record<string, unknown>) => k), ahead],
    });
    assert.equal(imported.status, 200, imported.text);
    assert.deepEqual(await statuses(await tokenFor(gw, 'rk-imported')), [200, 200]);
  });

  it('keeps the cut-off across a restart', async () => {
    const token = await tokenFor(gw, 'rk-bystander');
    assert.equal((await gw.admin('POST', '/api/apikeys/rk-bystander/revoke-tokens')).status, 200);
    restartedDataDir = gw.dataDir;
    await gw.close({ keepData: true });
    gw = await startGateway({ dataDir: restartedDataDir });
    await expectInvalidToken(token, /revocation/);
  });
});
