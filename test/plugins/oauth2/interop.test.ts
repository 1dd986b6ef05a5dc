import 'reflect-metadata';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import type { TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import { stepOnGateway, startProviderApp, consent, REDIRECT_URI, SECRET, HOST, type ProviderApp } from './fixtures.js';

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
    const updated = await gw.admin('PUT', '/api/routes/stepon', { ...route, frontend: { ...route.frontend, domains: [HOST, LOOPBACK] } });
    assert.equal(updated.status, 200, updated.text);
    app = await startProviderApp(gw.proxyUrl, LOOPBACK);
  });
  after(async () => {
    await app.close();
    await gw.close();
    await upstream.close();
  });

  function configuration(clientId: string, secret?: string): client.Configuration {
    const server = { issuer: gw.proxyUrl, token_endpoint: `${gw.proxyUrl}/v1/oauth2/token`, revocation_endpoint: `${gw.proxyUrl}/v1/oauth2/revoke`, introspection_endpoint: `${gw.proxyUrl}/v1/oauth2/introspect` };
    const config = secret === undefined ? new client.Configuration(server, clientId, undefined, client.None()) : new client.Configuration(server, clientId, secret);
    client.allowInsecureRequests(config);
    return config;
  }

  async function authorizationCode(clientId: string, config: client.Configuration, user: string) {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const callback = await consent(app, user, {
      client_id: clientId, response_type: 'code', redirect_uri: REDIRECT_URI, scope: 'email', state,
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    return client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
  }

  const api = (token: string) => gw.proxy('/v1/profile', { host: LOOPBACK, headers: { authorization: `Bearer ${token}` } });

  it('openid-client runs authorizationCodeGrant with PKCE S256 and refreshTokenGrant as a confidential client', async () => {
    const config = configuration('shoefly', SECRET);
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
    const config = configuration('shoefly-spa');
    const tokens = await authorizationCode('shoefly-spa', config, 'bob');
    assert.equal((await api(tokens.access_token)).json().headers['x-consumer-id'], 'shoefly-spa');
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    assert.equal((await api(refreshed.access_token)).status, 200);
  });

  it('openid-client surfaces a replayed refresh token as invalid_grant', async () => {
    const config = configuration('shoefly', SECRET);
    const tokens = await authorizationCode('shoefly', config, 'carol');
    await client.refreshTokenGrant(config, tokens.refresh_token!);
    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token!), (error: any) => error.error === 'invalid_grant');
  });
});
