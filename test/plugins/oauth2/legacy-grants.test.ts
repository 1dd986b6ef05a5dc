/**
 * Kong's legacy grants, off by default (RFC 9700 §2.4 and §2.1.2): `grant_type=password` with the
 * provision key and `authenticated_userid`, and `response_type=token` answering in the fragment.
 */
import 'reflect-metadata';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRoute, route, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import { basic } from '../../helpers/http.js';
import { stepOnGateway, post, confidential, refresh, HOST, PROVISION_KEY, REDIRECT_URI } from './fixtures.js';

const LEGACY_OFF = 'legacy-off.test';

/** The fragment of the redirect `/oauth2/authorize` answers, as parameters. */
function fragmentOf(redirect: string): URLSearchParams {
  const url = new URL(redirect);
  assert.equal(url.search, '', 'nothing in the query');
  return new URLSearchParams(url.hash.slice(1));
}

describe('Plugin: oauth2 (legacy password and implicit grants)', () => {
  let gw: TestGateway;
  let upstream: Upstream;

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await stepOnGateway(upstream, { pluginConfig: { enablePasswordGrant: true, enableImplicitGrant: true } });
    await createRoute(
      gw,
      route('legacy-off', upstream.url, {
        frontend: { domains: [LEGACY_OFF] },
        plugins: [
          { plugin: 'oauth2', config: { provisionKey: PROVISION_KEY, scopes: ['email'], requireHttps: false } },
        ],
      }),
    );
    const created = await gw.admin('POST', '/api/apikeys', {
      clientId: 'code-only',
      clientSecret: 'code-only-secret-0123456789',
      clientName: 'Code only',
      redirectUris: [REDIRECT_URI],
      grantTypes: ['authorization_code', 'refresh_token'],
    });
    assert.equal(created.status, 201, created.text);
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  const password = (
    params: Record<string, string | undefined>,
    headers: Record<string, string> = confidential,
    host = HOST,
  ) =>
    post(
      gw,
      '/v1/oauth2/token',
      {
        grant_type: 'password',
        provision_key: PROVISION_KEY,
        authenticated_userid: 'alice',
        scope: 'email',
        ...params,
      },
      headers,
      host,
    );
  const implicit = (params: Record<string, string | undefined>, host = HOST) =>
    post(
      gw,
      '/v1/oauth2/authorize',
      {
        client_id: 'shoefly',
        response_type: 'token',
        redirect_uri: REDIRECT_URI,
        provision_key: PROVISION_KEY,
        authenticated_userid: 'alice',
        scope: 'email',
        state: 'xyz',
        ...params,
      },
      {},
      host,
    );
  const api = (token: string) => gw.proxy('/v1/orders', { host: HOST, headers: { authorization: `Bearer ${token}` } });

  it('grant_type=password: the provider vouches for the user with the provision key; tokens for that user, refreshable', async () => {
    const res = await password({});
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers['cache-control'], 'no-store');
    const tokens = res.json();
    assert.equal(tokens.token_type, 'Bearer');
    assert.equal(tokens.scope, 'email');
    const seen = (await api(tokens.access_token)).json().headers;
    assert.equal(seen['x-authenticated-userid'], 'alice');
    assert.equal(seen['x-consumer-id'], 'shoefly');
    const refreshed = await refresh(gw, tokens.refresh_token);
    assert.equal(refreshed.status, 200, refreshed.text);
    assert.equal((await api(refreshed.json().access_token)).json().headers['x-authenticated-userid'], 'alice');
  });

  it('grant_type=password: a wrong or missing provision key is invalid_grant, a missing user invalid_request', async () => {
    for (const provisionKey of [`${PROVISION_KEY}x`, undefined]) {
      const res = await password({ provision_key: provisionKey });
      assert.equal(res.status, 400, res.text);
      assert.deepEqual(res.json(), { error: 'invalid_grant', error_description: 'Invalid provision_key' });
    }
    const noUser = await password({ authenticated_userid: undefined });
    assert.equal(noUser.status, 400);
    assert.deepEqual(noUser.json(), {
      error: 'invalid_request',
      error_description: 'The parameter "authenticated_userid" is required',
    });
  });

  it('grant_type=password: needs client authentication, a confidential client and the grant type on the client', async () => {
    const wrongSecret = await password({}, { authorization: basic('shoefly', 'not-the-secret') });
    assert.equal(wrongSecret.status, 401, wrongSecret.text);
    assert.equal(wrongSecret.json().error, 'invalid_client');
    const publicClient = await password({ client_id: 'shoefly-spa' }, {});
    assert.equal(publicClient.status, 400, publicClient.text);
    assert.deepEqual(publicClient.json(), {
      error: 'unauthorized_client',
      error_description: 'A public client cannot use the password grant',
    });
    const codeOnly = await password({}, { authorization: basic('code-only', 'code-only-secret-0123456789') });
    assert.equal(codeOnly.status, 400, codeOnly.text);
    assert.deepEqual(codeOnly.json(), {
      error: 'unauthorized_client',
      error_description: 'This client may not use the password grant',
    });
  });

  it('grant_type=password is unsupported_grant_type where it is not enabled (the default)', async () => {
    const res = await password({}, confidential, LEGACY_OFF);
    assert.equal(res.status, 400, res.text);
    assert.deepEqual(res.json(), {
      error: 'unsupported_grant_type',
      error_description: 'The grant type "password" is not enabled on this route',
    });
  });

  it('response_type=token: the access token in the redirect fragment with state, no refresh token, usable on the API', async () => {
    const res = await implicit({});
    assert.equal(res.status, 200, res.text);
    assert.ok(res.json().redirect_uri.startsWith(`${REDIRECT_URI}#`));
    const fragment = fragmentOf(res.json().redirect_uri);
    assert.equal(fragment.get('token_type'), 'Bearer');
    assert.equal(fragment.get('expires_in'), '7200');
    assert.equal(fragment.get('scope'), 'email');
    assert.equal(fragment.get('state'), 'xyz');
    assert.equal(fragment.get('refresh_token'), null);
    assert.equal(fragment.get('code'), null);
    const seen = (await api(fragment.get('access_token')!)).json().headers;
    assert.equal(seen['x-authenticated-userid'], 'alice');
    assert.equal(seen['x-authenticated-scope'], 'email');
  });

  it('response_type=token works for a public client (no secret, no PKCE)', async () => {
    const res = await implicit({ client_id: 'shoefly-spa' });
    assert.equal(res.status, 200, res.text);
    assert.ok(fragmentOf(res.json().redirect_uri).get('access_token'));
  });

  it('response_type=token: client errors go back in the fragment, backend errors are 400 JSON', async () => {
    const badScope = fragmentOf((await implicit({ scope: 'admin' })).json().redirect_uri);
    assert.deepEqual(Object.fromEntries(badScope), {
      error: 'invalid_scope',
      error_description: 'Scope not allowed: admin',
      state: 'xyz',
    });
    const notAllowed = fragmentOf((await implicit({ client_id: 'code-only' })).json().redirect_uri);
    assert.deepEqual(Object.fromEntries(notAllowed), {
      error: 'unauthorized_client',
      error_description: 'This client may not use the implicit grant',
      state: 'xyz',
    });
    const wrongKey = await implicit({ provision_key: `${PROVISION_KEY}x` });
    assert.equal(wrongKey.status, 400);
    assert.deepEqual(wrongKey.json(), { error: 'invalid_request', error_description: 'Invalid provision_key' });
  });

  it('response_type=token is unsupported_response_type, in the fragment, where it is not enabled (the default)', async () => {
    const res = await implicit({}, LEGACY_OFF);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(Object.fromEntries(fragmentOf(res.json().redirect_uri)), {
      error: 'unsupported_response_type',
      error_description: 'The implicit grant (response_type=token) is not enabled on this route',
      state: 'xyz',
    });
  });
});
