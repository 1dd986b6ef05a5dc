import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader, calculateJwkThumbprint } from 'jose';
import type { TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import { oauthGateway, SECRET, JWKS_PATH } from './fixtures.js';

describe('Plugin: client-credentials (interoperability)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let issuer: URL;

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await oauthGateway(upstream);
    issuer = new URL(gw.proxyUrl);
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  const discover = (clientId: string, auth: client.ClientAuth) =>
    client.discovery(issuer, clientId, undefined, auth, {
      execute: [client.allowInsecureRequests],
      algorithm: 'oauth2',
    });

  it('openid-client discovers the server metadata (RFC 8414)', async () => {
    const config = await discover('cc-client', client.ClientSecretPost(SECRET));
    const meta = config.serverMetadata();
    assert.equal(new URL(meta.issuer).href, issuer.href);
    assert.equal(meta.token_endpoint, `${gw.proxyUrl}/.well-known/otoroshi/oauth/token`);
    assert.equal(meta.jwks_uri, `${gw.proxyUrl}${JWKS_PATH}`);
    assert.deepEqual(meta.grant_types_supported, ['client_credentials']);
    assert.deepEqual(meta.token_endpoint_auth_methods_supported, [
      'client_secret_basic',
      'client_secret_post',
      'private_key_jwt',
    ]);
  });

  for (const [method, auth] of [
    ['client_secret_post', client.ClientSecretPost(SECRET)],
    ['client_secret_basic', client.ClientSecretBasic(SECRET)],
  ] as const) {
    it(`openid-client runs grant_type=client_credentials with ${method}`, async () => {
      const config = await discover('cc-client', auth);
      const tokens = await client.clientCredentialsGrant(config, { scope: 'read' });
      assert.equal(tokens.token_type.toLowerCase(), 'bearer');
      assert.equal(tokens.expires_in, 3600);
      assert.equal(tokens.scope, 'read');
      const called = await gw.proxy('/', { headers: { authorization: `Bearer ${tokens.access_token}` } });
      assert.equal(called.status, 200);
      assert.equal(called.json().headers['x-consumer-client-id'], 'cc-client');
      assert.equal(called.json().headers['x-consumer-scopes'], 'read');
    });
  }

  it('openid-client introspects and revokes a token', async () => {
    const config = await discover('cc-client', client.ClientSecretBasic(SECRET));
    const { access_token } = await client.clientCredentialsGrant(config);
    const active = await client.tokenIntrospection(config, access_token);
    assert.equal(active.active, true);
    assert.equal(active.client_id, 'cc-client');
    assert.equal(active.scope, 'read write');
    await client.tokenRevocation(config, access_token);
    assert.equal((await client.tokenIntrospection(config, access_token)).active, false);
    assert.equal((await gw.proxy('/', { headers: { authorization: `Bearer ${access_token}` } })).status, 401);
  });

  it('jose createRemoteJWKSet verifies tokens; the kid is the jwt-sign-keypair key pair, else the default', async () => {
    const jwks = createRemoteJWKSet(new URL(`${gw.proxyUrl}${JWKS_PATH}`));
    const esPair = (await gw.admin('GET', '/api/keypairs/es-pair')).json();
    const defaultPair = (await gw.admin('GET', '/api/keypairs/portcullis-jwt-signing')).json();
    assert.equal(await calculateJwkThumbprint(esPair.publicJwk), esPair.kid, 'kid is the RFC 7638 thumbprint');
    for (const [clientId, pair] of [
      ['cc-client', esPair],
      ['default-client', defaultPair],
    ] as const) {
      const config = await discover(clientId, client.ClientSecretPost(SECRET));
      const { access_token } = await client.clientCredentialsGrant(config);
      const header = decodeProtectedHeader(access_token);
      assert.equal(header.kid, pair.kid);
      assert.equal(header.alg, pair.alg);
      assert.equal(header.typ, 'at+jwt');
      const { payload } = await jwtVerify(access_token, jwks, {
        issuer: new URL(gw.proxyUrl).origin,
        audience: new URL(gw.proxyUrl).origin,
        typ: 'at+jwt',
      });
      assert.equal(payload.sub, clientId);
      assert.equal(payload.client_id, clientId);
      assert.equal(typeof payload.jti, 'string');
      assert.equal(payload.exp! - payload.iat!, 3600);
    }
  });
});
