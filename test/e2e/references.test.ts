import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, createRoute, route, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';

/**
 * References between entities are declared by their kinds (and by plugins for their configs) and
 * checked in one place: a write naming a missing entity is 400 at the field's path; deleting an
 * entity that anything refers to is 409 naming who refers to it, whichever kind or plugin that is.
 */
describe('Entity references', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  const verifier = (id: string, keyPairs?: string[]) => ({
    id,
    name: id,
    keys: keyPairs ? { kind: 'keypairs', ids: keyPairs } : { kind: 'keypairs' },
    algorithms: ['ES256'],
  });

  before(async () => {
    gw = await startGateway();
    upstream = await startUpstream(echo);
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  const keyPair = async (id: string) =>
    assert.equal((await gw.admin('POST', '/api/keypairs', { id, name: id, alg: 'ES256' })).status, 201);

  it('refuses to delete a key pair a JWT verifier trusts by id, and a verifier naming a missing key pair', async () => {
    await keyPair('kp-verifier');
    const missing = await gw.admin('POST', '/api/jwt-verifiers', verifier('v-missing', ['nope']));
    assert.equal(missing.status, 400);
    assert.equal(missing.json().details[0].path, '/keys/ids/0');
    assert.equal((await gw.admin('POST', '/api/jwt-verifiers', verifier('v-kp', ['kp-verifier']))).status, 201);
    const refused = await gw.admin('DELETE', '/api/keypairs/kp-verifier');
    assert.equal(refused.status, 409);
    assert.match(refused.json().error_description, /JWT verifier "v-kp" \(\/keys\/ids\/0\)/);
    assert.equal((await gw.admin('DELETE', '/api/jwt-verifiers/v-kp')).status, 204);
    assert.equal((await gw.admin('DELETE', '/api/keypairs/kp-verifier')).status, 204);
  });

  it('refuses to delete a key pair an API key signs with', async () => {
    await keyPair('kp-apikey');
    assert.equal(
      (
        await gw.admin('POST', '/api/apikeys', {
          clientId: 'signer',
          clientName: 's',
          metadata: { 'jwt-sign-keypair': 'kp-apikey' },
        })
      ).status,
      201,
    );
    const refused = await gw.admin('DELETE', '/api/keypairs/kp-apikey');
    assert.equal(refused.status, 409);
    assert.match(refused.json().error_description, /API key "signer" \(\/metadata\/jwt-sign-keypair\)/);
    assert.equal((await gw.admin('DELETE', '/api/apikeys/signer')).status, 204);
    assert.equal((await gw.admin('DELETE', '/api/keypairs/kp-apikey')).status, 204);
  });

  it("refuses to delete the client-credentials plugin's defaultKeyPair, and a global configuration naming a missing one", async () => {
    await keyPair('kp-default');
    const { version: _version, ...global } = (await gw.admin('GET', '/api/global-config')).json();
    const missing = await gw.admin('PUT', '/api/global-config', {
      ...global,
      plugins: [{ plugin: 'client-credentials', config: { defaultKeyPair: 'nope' } }],
    });
    assert.equal(missing.status, 400);
    assert.equal(missing.json().details[0].path, '/plugins/0/config/defaultKeyPair');
    assert.equal(
      (
        await gw.admin('PUT', '/api/global-config', {
          ...global,
          plugins: [{ plugin: 'client-credentials', config: { defaultKeyPair: 'kp-default' } }],
        })
      ).status,
      200,
    );
    const refused = await gw.admin('DELETE', '/api/keypairs/kp-default');
    assert.equal(refused.status, 409);
    assert.match(
      refused.json().error_description,
      /global configuration "global" \(\/plugins\/0\/config\/defaultKeyPair\)/,
    );
    // the default of defaultKeyPair is a reference too
    assert.equal(
      (await gw.admin('PUT', '/api/global-config', { ...global, plugins: [{ plugin: 'client-credentials' }] })).status,
      200,
    );
    assert.equal((await gw.admin('DELETE', '/api/keypairs/portcullis-jwt-signing')).status, 409);
    assert.equal((await gw.admin('DELETE', '/api/keypairs/kp-default')).status, 204);
    assert.equal((await gw.admin('PUT', '/api/global-config', { ...global, plugins: [] })).status, 200);
  });

  it("refuses to delete a verifier a route's jwt-verifier config names, and a route naming a missing verifier", async () => {
    assert.equal((await gw.admin('POST', '/api/jwt-verifiers', verifier('v-route'))).status, 201);
    const missing = await gw.admin(
      'POST',
      '/api/routes',
      route('jwt-missing', upstream.url, { plugins: [{ plugin: 'jwt-verifier', config: { verifiers: ['nope'] } }] }),
    );
    assert.equal(missing.status, 400);
    assert.equal(missing.json().details[0].path, '/plugins/0/config/verifiers/0');
    await createRoute(
      gw,
      route('jwt-route', upstream.url, { plugins: [{ plugin: 'jwt-verifier', config: { verifiers: ['v-route'] } }] }),
    );
    const refused = await gw.admin('DELETE', '/api/jwt-verifiers/v-route');
    assert.equal(refused.status, 409);
    assert.match(refused.json().error_description, /route "jwt-route" \(\/plugins\/0\/config\/verifiers\/0\)/);
    assert.equal((await gw.admin('DELETE', '/api/routes/jwt-route')).status, 204);
    assert.equal((await gw.admin('DELETE', '/api/jwt-verifiers/v-route')).status, 204);
  });

  it('refuses to delete a route an API key is authorized for by id (tags are groups, not references)', async () => {
    await createRoute(
      gw,
      route('authorized', upstream.url, { frontend: { domains: ['authorized.test'] }, tags: ['shop'] }),
    );
    const missing = await gw.admin('POST', '/api/apikeys', {
      clientId: 'dangling',
      clientName: 'd',
      authorizedEntities: ['nope'],
    });
    assert.equal(missing.status, 400);
    assert.equal(missing.json().details[0].path, '/authorizedEntities/0');
    assert.equal(
      (
        await gw.admin('POST', '/api/apikeys', {
          clientId: 'authorized-key',
          clientName: 'a',
          authorizedEntities: ['tag:shop', 'authorized'],
        })
      ).status,
      201,
    );
    const refused = await gw.admin('DELETE', '/api/routes/authorized');
    assert.equal(refused.status, 409);
    assert.match(refused.json().error_description, /API key "authorized-key" \(\/authorizedEntities\/1\)/);
    const key = (await gw.admin('GET', '/api/apikeys/authorized-key')).json();
    assert.equal(
      (await gw.admin('PUT', '/api/apikeys/authorized-key', { ...key, authorizedEntities: ['tag:shop'] })).status,
      200,
    );
    assert.equal((await gw.admin('DELETE', '/api/routes/authorized')).status, 204);
    assert.equal((await gw.admin('DELETE', '/api/apikeys/authorized-key')).status, 204);
  });

  describe('import', () => {
    it('accepts entities that refer to others in the same document', async () => {
      const doc = (await gw.admin('GET', '/api/export?includePrivateKeys=true')).json();
      const pair = doc.keypairs.find((k: { id: string }) => k.id === 'portcullis-jwt-signing');
      const res = await gw.admin('POST', '/api/import', {
        keypairs: [
          ...doc.keypairs,
          { ...pair, id: 'kp-imported', kid: undefined, publicJwk: undefined, previousKeys: [] },
        ],
        'jwt-verifiers': [verifier('v-imported', ['kp-imported'])],
      });
      assert.equal(res.status, 200, res.text);
      assert.equal((await gw.admin('DELETE', '/api/keypairs/kp-imported')).status, 409);
    });

    it('refuses a document whose entities refer to something neither it nor the store holds, and one that drops a referenced entity', async () => {
      const dangling = await gw.admin('POST', '/api/import', { 'jwt-verifiers': [verifier('v-dangling', ['nope'])] });
      assert.equal(dangling.status, 400);
      assert.equal(dangling.json().details[0].path, '/jwt-verifiers/0/keys/ids/0');
      const doc = (await gw.admin('GET', '/api/export?includePrivateKeys=true')).json();
      const dropped = await gw.admin('POST', '/api/import', {
        keypairs: doc.keypairs.filter((k: { id: string }) => k.id !== 'kp-imported'),
      });
      assert.equal(dropped.status, 400);
      assert.match(JSON.stringify(dropped.json().details), /v-imported/);
      assert.equal((await gw.admin('GET', '/api/keypairs/kp-imported')).status, 200, 'nothing was imported');
    });
  });
});
