import 'reflect-metadata';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { route, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import {
  stepOnGateway,
  startProviderApp,
  consent,
  REDIRECT_URI,
  SECRET,
  HOST,
  PROVISION_KEY,
  type ProviderApp,
} from './fixtures.js';

/** openid-client cannot set the Host header; the route answers on the host it connects to instead. */
const LOOPBACK = '127.0.0.1';

describe('Plugin: oauth2 (interoperability with openid-client)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let app: ProviderApp;

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await stepOnGateway(upstream);
    const route = (await gw.admin('GET', '/api/routes/stepon')).json();
    // Two hosts: the issuer is configured (issue 21: never the Host a client sends).
    const plugins = route.plugins.map((p: any) =>
      p.plugin === 'oauth2' ? { ...p, config: { ...p.config, issuer: gw.proxyUrl } } : p,
    );
    const updated = await gw.admin('PUT', '/api/routes/stepon', {
      ...route,
      frontend: { ...route.frontend, domains: [HOST, LOOPBACK] },
      plugins,
    });
    assert.equal(updated.status, 200, updated.text);
    app = await startProviderApp(gw.proxyUrl, LOOPBACK);
  });
  after(async () => {
    await app.close();
    await gw.close();
    await upstream.close();
  });

  /** The client's configuration from the gateway's RFC 8414 metadata, as a real client gets it. */
  function configuration(clientId: string, secret?: string): Promise<client.Configuration> {
    const options = { algorithm: 'oauth2' as const, execute: [client.allowInsecureRequests] };
    return secret === undefined
      ? client.discovery(new URL(gw.proxyUrl), clientId, undefined, client.None(), options)
      : client.discovery(new URL(gw.proxyUrl), clientId, secret, undefined, options);
  }

  async function authorizationCode(clientId: string, config: client.Configuration, user: string) {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const callback = await consent(app, user, {
      client_id: clientId,
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: 'email',
      state,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    return client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
  }

  const api = (token: string) =>
    gw.proxy('/v1/profile', { host: LOOPBACK, headers: { authorization: `Bearer ${token}` } });

  it('openid-client runs authorizationCodeGrant with PKCE S256 and refreshTokenGrant as a confidential client', async () => {
    const config = await configuration('shoefly', SECRET);
    const tokens = await authorizationCode('shoefly', config, 'alice');
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.equal(tokens.scope, 'email');
    assert.equal((await api(tokens.access_token)).json().headers['x-authenticated-userid'], 'alice');
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
    assert.equal((await api(refreshed.access_token)).json().headers['x-authenticated-userid'], 'alice');
    const introspected = await client.tokenIntrospection(config, refreshed.access_token);
    assert.equal(introspected.active, true);
    assert.equal(introspected.sub, 'alice');
    await client.tokenRevocation(config, refreshed.access_token);
    assert.equal((await api(refreshed.access_token)).status, 401);
  });

  it('openid-client runs the same flow as a public client (no secret, PKCE)', async () => {
    const config = await configuration('shoefly-spa');
    const tokens = await authorizationCode('shoefly-spa', config, 'bob');
    assert.equal((await api(tokens.access_token)).json().headers['x-consumer-id'], 'shoefly-spa');
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    assert.equal((await api(refreshed.access_token)).status, 200);
  });

  it("discovers the route's authorization server from its RFC 8414 metadata", async () => {
    const config = await configuration('shoefly', SECRET);
    const server = config.serverMetadata();
    assert.equal(new URL(server.issuer).href, new URL(gw.proxyUrl).href);
    assert.equal(server.token_endpoint, `${gw.proxyUrl}/oauth2/token`);
    assert.equal(server.authorization_endpoint, `${gw.proxyUrl}/oauth2/authorize`);
    assert.equal(server.revocation_endpoint, `${gw.proxyUrl}/oauth2/revoke`);
    assert.equal(server.introspection_endpoint, `${gw.proxyUrl}/oauth2/introspect`);
    assert.deepEqual(server.code_challenge_methods_supported, ['S256']);
    assert.deepEqual(server.grant_types_supported, ['authorization_code', 'refresh_token']);
    assert.deepEqual(server.response_types_supported, ['code']);
    assert.deepEqual(server.token_endpoint_auth_methods_supported, [
      'client_secret_basic',
      'client_secret_post',
      'private_key_jwt',
      'none',
    ]);
    assert.ok(
      server.token_endpoint_auth_signing_alg_values_supported?.includes('ES256'),
      'the assertion algorithms are published with private_key_jwt',
    );
  });

  it('discovers a route with a path prefix from {issuer}/.well-known/oauth-authorization-server, with the prefix in the issuer and endpoints', async () => {
    const created = await gw.admin(
      'POST',
      '/api/routes',
      route('prefixed', upstream.url, {
        frontend: { domains: [`${LOOPBACK}/auth`] },
        plugins: [
          {
            plugin: 'oauth2',
            config: {
              provisionKey: PROVISION_KEY,
              requireHttps: false,
              enableClientCredentials: true,
              issuer: `${gw.proxyUrl}/auth`,
            },
          },
        ],
      }),
    );
    assert.equal(created.status, 201, created.text);
    const config = await client.discovery(
      new URL(`${gw.proxyUrl}/auth/.well-known/oauth-authorization-server`),
      'shoefly',
      SECRET,
      undefined,
      { execute: [client.allowInsecureRequests] },
    );
    const server = config.serverMetadata();
    assert.equal(server.issuer, `${gw.proxyUrl}/auth`);
    assert.equal(server.token_endpoint, `${gw.proxyUrl}/auth/oauth2/token`);
    assert.deepEqual(server.grant_types_supported, ['authorization_code', 'refresh_token', 'client_credentials']);
    // The discovered token endpoint is the prefixed route's: a client_credentials token works there only.
    const tokens = await client.clientCredentialsGrant(config);
    assert.equal(
      (
        await gw.proxy('/auth/orders', { host: LOOPBACK, headers: { authorization: `Bearer ${tokens.access_token}` } })
      ).json().headers['x-consumer-id'],
      'shoefly',
    );
    assert.equal((await api(tokens.access_token)).status, 401);
  });

  it('openid-client surfaces a replayed refresh token as invalid_grant', async () => {
    const config = await configuration('shoefly', SECRET);
    const tokens = await authorizationCode('shoefly', config, 'carol');
    await client.refreshTokenGrant(config, tokens.refresh_token!);
    await assert.rejects(
      client.refreshTokenGrant(config, tokens.refresh_token!),
      (error: any) => error.error === 'invalid_grant',
    );
  });
});
