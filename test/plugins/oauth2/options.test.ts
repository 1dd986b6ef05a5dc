import 'reflect-metadata';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import {
  stepOnGateway,
  startProviderApp,
  codeFor,
  consent,
  exchange,
  refresh,
  post,
  pkcePair,
  confidential,
  HOST,
  REDIRECT_URI,
  type ProviderApp,
} from './fixtures.js';

describe('Plugin: oauth2 (options and clients)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let app: ProviderApp;

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await stepOnGateway(upstream, {
      pluginConfig: {
        refreshGracePeriodSeconds: 60,
        enableClientCredentials: true,
        hideCredentials: true,
        pkce: 'strict',
      },
    });
    app = await startProviderApp(gw.proxyUrl);
  });
  after(async () => {
    await app.close();
    await gw.close();
    await upstream.close();
  });

  const api = (token: string) => gw.proxy('/v1/orders', { host: HOST, headers: { authorization: `Bearer ${token}` } });

  it('returns the same new pair to parallel refreshes inside the grace period', async () => {
    const { verifier, challenge } = pkcePair();
    const first = (
      await exchange(gw, await codeFor(app, 'alice', { code_challenge: challenge, code_challenge_method: 'S256' }), {
        code_verifier: verifier,
      })
    ).json();
    const answers = await Promise.all(Array.from({ length: 5 }, () => refresh(gw, first.refresh_token)));
    assert.ok(
      answers.every((a) => a.status === 200),
      answers.map((a) => a.text).join('\n'),
    );
    assert.equal(new Set(answers.map((a) => a.json().refresh_token)).size, 1);
    assert.equal(new Set(answers.map((a) => a.json().access_token)).size, 1);
    assert.equal((await api(answers[0]!.json().access_token)).status, 200);
  });

  it('describes the returned pair, not the old wider grant, when a narrowing refresh is replayed inside the grace period', async () => {
    const { verifier, challenge } = pkcePair();
    const first = (
      await exchange(
        gw,
        await codeFor(app, 'alice', {
          scope: 'email orders',
          code_challenge: challenge,
          code_challenge_method: 'S256',
        }),
        { code_verifier: verifier },
      )
    ).json();
    const narrowed = await post(
      gw,
      '/v1/oauth2/token',
      { grant_type: 'refresh_token', refresh_token: first.refresh_token, scope: 'email' },
      confidential,
    );
    assert.equal(narrowed.json().scope, 'email', narrowed.text);
    // The lost answer asked again: the same pair, described as it was issued.
    const replayed = await refresh(gw, first.refresh_token);
    assert.equal(replayed.status, 200, replayed.text);
    assert.equal(replayed.json().access_token, narrowed.json().access_token);
    assert.equal(replayed.json().scope, 'email');
    assert.equal(
      (await post(gw, '/v1/oauth2/introspect', { token: replayed.json().access_token }, confidential)).json().scope,
      'email',
    );
  });

  it('requires PKCE from confidential clients too when pkce is strict', async () => {
    const location = await consent(app, 'bob', {
      client_id: 'shoefly',
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
    });
    assert.equal(location.searchParams.get('error'), 'invalid_request');
  });

  it('issues a user-less token for client_credentials, without refresh token, and hides the credential from the upstream', async () => {
    const res = await post(gw, '/v1/oauth2/token', { grant_type: 'client_credentials', scope: 'orders' }, confidential);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json().refresh_token, undefined);
    const seen = (await api(res.json().access_token)).json().headers;
    assert.equal(seen.authorization, undefined);
    assert.equal(seen['x-authenticated-userid'], undefined);
    assert.equal(seen['x-authenticated-scope'], 'orders');
  });

  it('refuses client_credentials to a public client', async () => {
    const res = await post(gw, '/v1/oauth2/token', { grant_type: 'client_credentials', client_id: 'shoefly-spa' });
    assert.equal(res.status, 400);
    assert.equal(res.json().error, 'unauthorized_client');
  });

  it('creates a public API key without a secret and refuses one that carries a secret', async () => {
    const created = await gw.admin('POST', '/api/apikeys', {
      clientId: 'spa-2',
      clientType: 'public',
      clientName: 'SPA',
    });
    assert.equal(created.status, 201);
    assert.equal(created.json().clientSecret, undefined);
    const withSecret = await gw.admin('POST', '/api/apikeys', {
      clientId: 'spa-3',
      clientType: 'public',
      clientName: 'SPA',
      clientSecret: 'a-secret-of-enough-length-0123',
    });
    assert.equal(withSecret.status, 400);
    assert.equal((await gw.admin('POST', '/api/apikeys/spa-2/rotate-secret')).status, 400);
  });

  it('honours the grant types of a client', async () => {
    const created = await gw.admin('POST', '/api/apikeys', {
      clientId: 'machine',
      clientSecret: 'machine-secret-0123456789ab',
      clientName: 'Machine',
      redirectUris: [REDIRECT_URI],
      grantTypes: ['client_credentials'],
    });
    assert.equal(created.status, 201, created.text);
    const location = await consent(app, 'carl', {
      client_id: 'machine',
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      code_challenge: 'x'.repeat(43),
      code_challenge_method: 'S256',
    });
    assert.equal(location.searchParams.get('error'), 'unauthorized_client');
  });

  it('answers 403 insufficient_scope with the scope in the challenge when a scope rule is not met', async () => {
    const route = (await gw.admin('GET', '/api/routes/stepon')).json();
    const plugins = route.plugins.map((p: any) => ({
      ...p,
      config: { ...p.config, scopeRules: [{ path: '/v1/orders(/.*)?', methods: ['POST'], scopes: ['orders'] }] },
    }));
    assert.equal((await gw.admin('PUT', '/api/routes/stepon', { ...route, plugins })).status, 200);
    const { verifier, challenge } = pkcePair();
    const code = await codeFor(app, 'dora', {
      scope: 'email',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    const { access_token } = (await exchange(gw, code, { code_verifier: verifier })).json();
    const denied = await gw.proxy('/v1/orders', {
      host: HOST,
      method: 'POST',
      headers: { authorization: `Bearer ${access_token}` },
    });
    assert.equal(denied.status, 403);
    assert.equal(denied.json().error, 'insufficient_scope');
    assert.match(String(denied.headers['www-authenticate']), /error="insufficient_scope".*scope="orders"/);
    assert.equal((await api(access_token)).status, 200);
  });
});
