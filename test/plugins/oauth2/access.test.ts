import 'reflect-metadata';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { StateStore } from '../../../core/plugin-api.js';
import { STATE_STORE } from '../../../core/tokens.js';
import { tokenHash, OAUTH2_STATE_NAMESPACE } from '../../../plugins/oauth2/index.js';
import { route, type TestGateway } from '../../helpers/gateway.js';
import { basic } from '../../helpers/http.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import {
  stepOnGateway,
  startProviderApp,
  consent,
  codeFor,
  exchange,
  refresh,
  post,
  pkcePair,
  confidential,
  HOST,
  OTHER_HOST,
  REDIRECT_URI,
  PROVISION_KEY,
  type ProviderApp,
} from './fixtures.js';

describe('Plugin: oauth2 (access)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let app: ProviderApp;

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await stepOnGateway(upstream);
    app = await startProviderApp(gw.proxyUrl);
  });
  after(async () => {
    await app.close();
    await gw.close();
    await upstream.close();
  });

  const api = (token: string, headers: Record<string, string> = {}, host = HOST) =>
    gw.proxy('/v1/orders', { host, headers: { authorization: `Bearer ${token}`, ...headers } });

  it('runs the tutorial: consent through the provider app, code exchange, API call with user headers, refresh', async () => {
    const location = await consent(app, 'alice', {
      client_id: 'shoefly',
      response_type: 'code',
      scope: 'email',
      redirect_uri: REDIRECT_URI,
      state: 'xyz',
    });
    assert.equal(location.origin + location.pathname, REDIRECT_URI);
    assert.equal(location.searchParams.get('state'), 'xyz');
    const tokens = await exchange(gw, location.searchParams.get('code')!);
    assert.equal(tokens.status, 200, tokens.text);
    assert.equal(tokens.headers['cache-control'], 'no-store');
    const body = tokens.json();
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 7200);
    assert.equal(body.scope, 'email');
    assert.ok(body.refresh_token);

    const called = await api(body.access_token, { 'x-authenticated-userid': 'mallory', 'x-consumer-id': 'forged' });
    assert.equal(called.status, 200);
    const seen = called.json().headers;
    assert.equal(seen['x-authenticated-userid'], 'alice');
    assert.equal(seen['x-consumer-id'], 'shoefly');
    assert.equal(seen['x-consumer-username'], 'Shoe Fly Shoe');
    assert.equal(seen['x-authenticated-scope'], 'email');

    const renewed = await refresh(gw, body.refresh_token);
    assert.equal(renewed.status, 200, renewed.text);
    const pair = renewed.json();
    assert.notEqual(pair.refresh_token, body.refresh_token);
    assert.equal((await api(pair.access_token)).json().headers['x-authenticated-userid'], 'alice');
  });

  it('keeps only SHA-256 digests of tokens in the state store', async () => {
    const { access_token, refresh_token } = (await exchange(gw, await codeFor(app, 'bob'))).json();
    const entries = await gw.gateway.container
      .resolve<StateStore>(STATE_STORE)
      .namespace(OAUTH2_STATE_NAMESPACE, { durable: true })
      .entries();
    const dump = JSON.stringify(entries);
    assert.ok(!dump.includes(access_token) && !dump.includes(refresh_token));
    assert.ok(entries.some((e) => e.key === `at:${tokenHash(access_token)}`));
  });

  it('refuses a missing or unknown bearer token with RFC 6750 challenges', async () => {
    const none = await gw.proxy('/v1/orders', { host: HOST });
    assert.equal(none.status, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="portcullis"');
    const wrong = await api('not-a-token');
    assert.equal(wrong.status, 401);
    assert.match(String(wrong.headers['www-authenticate']), /error="invalid_token"/);
    assert.equal(
      upstream.received.filter((r) => r.url === '/v1/orders' && r.headers.authorization === 'Bearer not-a-token')
        .length,
      0,
    );
  });

  it('refuses a second use of a code and revokes the tokens issued from it', async () => {
    const code = await codeFor(app, 'carol');
    const first = await exchange(gw, code);
    assert.equal(first.status, 200);
    const { access_token, refresh_token } = first.json();
    assert.equal((await api(access_token)).status, 200);
    const second = await exchange(gw, code);
    assert.equal(second.status, 400);
    assert.equal(second.json().error, 'invalid_grant');
    assert.equal((await api(access_token)).status, 401);
    assert.equal((await refresh(gw, refresh_token)).json().error, 'invalid_grant');
  });

  it('lets exactly one of parallel redemptions of one code succeed', async () => {
    const code = await codeFor(app, 'dave');
    const answers = await Promise.all(Array.from({ length: 8 }, () => exchange(gw, code)));
    assert.equal(answers.filter((a) => a.status === 200).length, 1);
    assert.ok(answers.filter((a) => a.status !== 200).every((a) => a.json().error === 'invalid_grant'));
  });

  it('gives each of 100 concurrent grants for 100 users and two clients a token of its own user and client', async () => {
    const second = await gw.admin('POST', '/api/apikeys', {
      clientId: 'shoefly-2',
      clientSecret: 'shoefly-2-secret-0123456789abcdef',
      clientName: 'Shoe Fly Shoe 2',
      redirectUris: [REDIRECT_URI],
    });
    assert.equal(second.status, 201, second.text);
    const grants = Array.from({ length: 100 }, (_, i) =>
      i % 2 === 0
        ? { user: `user-${i}`, clientId: 'shoefly', auth: confidential }
        : {
            user: `user-${i}`,
            clientId: 'shoefly-2',
            auth: { authorization: basic('shoefly-2', 'shoefly-2-secret-0123456789abcdef') },
          },
    );
    const codes = await Promise.all(grants.map((g) => codeFor(app, g.user, { client_id: g.clientId })));
    const tokens = await Promise.all(
      grants.map((g, i) =>
        post(
          gw,
          '/v1/oauth2/token',
          { grant_type: 'authorization_code', code: codes[i], redirect_uri: REDIRECT_URI },
          g.auth,
        ),
      ),
    );
    assert.ok(
      tokens.every((t) => t.status === 200),
      tokens.find((t) => t.status !== 200)?.text,
    );
    const accessTokens = tokens.map((t) => t.json().access_token as string);
    assert.equal(new Set(accessTokens).size, 100);
    const [seen, introspected] = await Promise.all([
      Promise.all(accessTokens.map((t) => api(t))),
      Promise.all(accessTokens.map((t, i) => post(gw, '/v1/oauth2/introspect', { token: t }, grants[i]!.auth))),
    ]);
    assert.deepEqual(
      seen.map((s) => [s.json().headers['x-authenticated-userid'], s.json().headers['x-consumer-id']]),
      grants.map((g) => [g.user, g.clientId]),
    );
    assert.deepEqual(
      introspected.map((r) => [r.json().sub, r.json().client_id]),
      grants.map((g) => [g.user, g.clientId]),
    );
  });

  it('revokes the whole grant when a rotated refresh token is replayed', async () => {
    const first = (await exchange(gw, await codeFor(app, 'erin'))).json();
    const second = (await refresh(gw, first.refresh_token)).json();
    const replay = await refresh(gw, first.refresh_token);
    assert.equal(replay.status, 400);
    assert.equal(replay.json().error, 'invalid_grant');
    assert.equal((await api(second.access_token)).status, 401);
    assert.equal((await refresh(gw, second.refresh_token)).status, 400);
  });

  it('checks the PKCE verifier against the S256 challenge', async () => {
    const { verifier, challenge } = pkcePair();
    const code = await codeFor(app, 'frank', { code_challenge: challenge, code_challenge_method: 'S256' });
    const wrong = await exchange(gw, code, { code_verifier: pkcePair().verifier });
    assert.equal(wrong.json().error, 'invalid_grant');
    assert.match(wrong.json().error_description, /does not match/);
    const code2 = await codeFor(app, 'frank', { code_challenge: challenge, code_challenge_method: 'S256' });
    assert.equal((await exchange(gw, code2, { code_verifier: 'short' })).json().error, 'invalid_grant');
    const code3 = await codeFor(app, 'frank', { code_challenge: challenge, code_challenge_method: 'S256' });
    assert.equal((await exchange(gw, code3, { code_verifier: verifier })).status, 200);
  });

  it('refuses plain and unknown code_challenge_method values in the redirect', async () => {
    for (const method of ['plain', 'S512', undefined]) {
      const location = await consent(app, 'gina', {
        client_id: 'shoefly',
        response_type: 'code',
        redirect_uri: REDIRECT_URI,
        state: 's1',
        code_challenge: pkcePair().challenge,
        code_challenge_method: method,
      });
      assert.equal(location.searchParams.get('error'), 'invalid_request');
      assert.equal(location.searchParams.get('state'), 's1');
      assert.equal(location.searchParams.get('code'), null);
    }
  });

  it('requires PKCE from a public client, which authenticates by client_id alone', async () => {
    const location = await consent(app, 'hank', {
      client_id: 'shoefly-spa',
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
    });
    assert.equal(location.searchParams.get('error'), 'invalid_request');
    const { verifier, challenge } = pkcePair();
    const code = (
      await consent(app, 'hank', {
        client_id: 'shoefly-spa',
        response_type: 'code',
        redirect_uri: REDIRECT_URI,
        code_challenge: challenge,
        code_challenge_method: 'S256',
      })
    ).searchParams.get('code')!;
    const tokens = await post(gw, '/v1/oauth2/token', {
      grant_type: 'authorization_code',
      client_id: 'shoefly-spa',
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
    });
    assert.equal(tokens.status, 200, tokens.text);
    // A confidential client cannot pose as public by leaving its secret out.
    const code2 = await codeFor(app, 'hank');
    assert.equal(
      (
        await post(gw, '/v1/oauth2/token', {
          grant_type: 'authorization_code',
          client_id: 'shoefly',
          code: code2,
          redirect_uri: REDIRECT_URI,
        })
      ).status,
      401,
    );
  });

  it('answers 400 JSON, never a redirect, for a bad provision key, an unknown client or an unregistered redirect URI', async () => {
    const base = {
      client_id: 'shoefly',
      response_type: 'code',
      provision_key: PROVISION_KEY,
      authenticated_userid: 'ivy',
      redirect_uri: REDIRECT_URI,
    };
    for (const params of [
      { ...base, provision_key: 'wrong' },
      { ...base, client_id: 'nobody' },
      { ...base, redirect_uri: 'https://evil.test/callback' },
      { ...base, redirect_uri: `${REDIRECT_URI}/x` },
    ]) {
      const res = await post(gw, '/v1/oauth2/authorize', params);
      assert.equal(res.status, 400);
      assert.equal(res.json().error, 'invalid_request');
      assert.equal(res.json().redirect_uri, undefined);
    }
  });

  it('refuses a token request whose redirect_uri differs from the authorization request', async () => {
    const code = await codeFor(app, 'jack');
    const res = await exchange(gw, code, { redirect_uri: 'https://shoefly.test/other' });
    assert.equal(res.status, 400);
    assert.equal(res.json().error, 'invalid_grant');
  });

  it('refuses an expired code', async () => {
    const code = await codeFor(app, 'kate');
    const ns = gw.gateway.container
      .resolve<StateStore>(STATE_STORE)
      .namespace(OAUTH2_STATE_NAMESPACE, { durable: true });
    const key = `code:${tokenHash(code)}`;
    await ns.set(key, (await ns.get(key))!, 1);
    while ((await ns.get(key)) !== undefined) await new Promise((resolve) => setTimeout(resolve, 5));
    const res = await exchange(gw, code);
    assert.equal(res.json().error, 'invalid_grant');
    assert.match(res.json().error_description, /unknown or expired/);
  });

  it('refuses a token issued for another route', async () => {
    const { access_token } = (await exchange(gw, await codeFor(app, 'liam'))).json();
    assert.equal((await api(access_token, {}, OTHER_HOST)).status, 401);
    assert.equal((await api(access_token)).status, 200);
  });

  it('accepts a token on another route only when both have globalCredentials', async () => {
    const global = {
      plugin: 'oauth2',
      config: {
        provisionKey: PROVISION_KEY,
        scopes: ['email', 'orders'],
        requireHttps: false,
        globalCredentials: true,
      },
    };
    for (const [id, host] of [
      ['global-a', 'global-a.test'],
      ['global-b', 'global-b.test'],
    ] as const) {
      assert.equal(
        (
          await gw.admin(
            'POST',
            '/api/routes',
            route(id, upstream.url, { frontend: { domains: [host] }, plugins: [global] }),
          )
        ).status,
        201,
      );
    }
    const globalApp = await startProviderApp(gw.proxyUrl, 'global-a.test');
    try {
      const { access_token } = (await exchange(gw, await codeFor(globalApp, 'paul'), {}, 'global-a.test')).json();
      assert.equal((await api(access_token, {}, 'global-a.test')).status, 200);
      const elsewhere = await api(access_token, {}, 'global-b.test');
      assert.equal(elsewhere.status, 200);
      assert.equal(elsewhere.json().headers['x-authenticated-userid'], 'paul');
      // A route without globalCredentials keeps refusing it, and its own tokens stay its own.
      assert.equal((await api(access_token)).status, 401);
      const own = (await exchange(gw, await codeFor(app, 'paul'))).json().access_token;
      assert.equal((await api(own, {}, 'global-b.test')).status, 401);
    } finally {
      await globalApp.close();
    }
  });

  it('refuses the tokens issued before an admin cut-off of the client, introspects them inactive, and issues new ones', async () => {
    const created = await gw.admin('POST', '/api/apikeys', {
      clientId: 'cutoff',
      clientSecret: 'cutoff-secret-0123456789abcdef',
      clientName: 'Cut off',
      redirectUris: [REDIRECT_URI],
    });
    assert.equal(created.status, 201);
    const auth = { authorization: basic('cutoff', 'cutoff-secret-0123456789abcdef') };
    const grant = async () =>
      (
        await post(
          gw,
          '/v1/oauth2/token',
          {
            grant_type: 'authorization_code',
            code: await codeFor(app, 'quinn', { client_id: 'cutoff' }),
            redirect_uri: REDIRECT_URI,
          },
          auth,
        )
      ).json();
    const before = await grant();
    assert.equal((await api(before.access_token)).status, 200);
    assert.equal((await gw.admin('POST', '/api/apikeys/cutoff/revoke-tokens')).status, 200);
    assert.equal((await api(before.access_token)).status, 401);
    assert.deepEqual((await post(gw, '/v1/oauth2/introspect', { token: before.access_token }, auth)).json(), {
      active: false,
    });
    const after = await grant();
    assert.equal((await api(after.access_token)).status, 200);
  });

  it('refuses a refresh after a cut-off stored by another instance whose announcement has not arrived yet', async () => {
    const created = await gw.admin('POST', '/api/apikeys', {
      clientId: 'unannounced',
      clientSecret: 'unannounced-secret-0123456789',
      clientName: 'Unannounced',
      redirectUris: [REDIRECT_URI],
    });
    assert.equal(created.status, 201);
    const auth = { authorization: basic('unannounced', 'unannounced-secret-0123456789') };
    const code = await codeFor(app, 'tess', { client_id: 'unannounced' });
    const { refresh_token } = (
      await post(gw, '/v1/oauth2/token', { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI }, auth)
    ).json();
    // What another instance's revoke-tokens writes, without the message that would reach this one's mirror.
    const revocations = gw.gateway.container
      .resolve<StateStore>(STATE_STORE)
      .namespace('revocations', { durable: true });
    await revocations.set('client:unannounced', { notBefore: Math.floor(Date.now() / 1000) + 1 }, 60_000);
    const refreshed = await post(gw, '/v1/oauth2/token', { grant_type: 'refresh_token', refresh_token }, auth);
    assert.equal(refreshed.status, 400, refreshed.text);
    assert.equal(refreshed.json().error, 'invalid_grant');
  });

  it('refuses the tokens of a disabled client', async () => {
    const created = await gw.admin('POST', '/api/apikeys', {
      clientId: 'shortlived',
      clientSecret: 'shortlived-secret-0123456789',
      clientName: 'Short',
      redirectUris: [REDIRECT_URI],
    });
    assert.equal(created.status, 201);
    const code = await codeFor(app, 'mia', { client_id: 'shortlived' });
    const { access_token } = (
      await post(gw, '/v1/oauth2/token', {
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT_URI,
        client_id: 'shortlived',
        client_secret: 'shortlived-secret-0123456789',
      })
    ).json();
    assert.equal((await api(access_token)).status, 200);
    const key = (await gw.admin('GET', '/api/apikeys/shortlived')).json();
    assert.equal((await gw.admin('PUT', '/api/apikeys/shortlived', { ...key, enabled: false })).status, 200);
    assert.equal((await api(access_token)).status, 401);
  });

  it('revokes a refresh token with its grant (RFC 7009) and introspects tokens (RFC 7662)', async () => {
    const { access_token, refresh_token } = (
      await exchange(gw, await codeFor(app, 'noah', { scope: 'orders' }))
    ).json();
    const active = await post(gw, '/v1/oauth2/introspect', { token: access_token }, confidential);
    assert.equal(active.status, 200);
    assert.deepEqual(
      { ...active.json(), iat: 0, exp: 0 },
      {
        active: true,
        client_id: 'shoefly',
        token_type: 'Bearer',
        scope: 'orders',
        sub: 'noah',
        username: 'noah',
        iat: 0,
        exp: 0,
      },
    );
    assert.equal((await post(gw, '/v1/oauth2/introspect', { token: access_token })).status, 401);
    const revoked = await post(
      gw,
      '/v1/oauth2/revoke',
      { token: refresh_token, token_type_hint: 'refresh_token' },
      confidential,
    );
    assert.equal(revoked.status, 200);
    assert.equal((await api(access_token)).status, 401);
    assert.deepEqual((await post(gw, '/v1/oauth2/introspect', { token: access_token }, confidential)).json(), {
      active: false,
    });
  });

  it('refuses a code presented by a client it was not issued to without using it up', async () => {
    const code = await codeFor(app, 'rita');
    const spa = await post(gw, '/v1/oauth2/token', {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      client_id: 'shoefly-spa',
    });
    assert.equal(spa.status, 400);
    assert.deepEqual(spa.json(), {
      error: 'invalid_grant',
      error_description: 'The authorization code was issued to another client',
    });
    const owner = await exchange(gw, code);
    assert.equal(owner.status, 200, owner.text);
    assert.equal((await api(owner.json().access_token)).status, 200);
  });

  it("lets a redeemed code presented again by another client revoke nothing (a leaked code is no way to end its owner's grant)", async () => {
    const code = await codeFor(app, 'ruth');
    const owner = await exchange(gw, code);
    assert.equal(owner.status, 200, owner.text);
    const spa = await post(gw, '/v1/oauth2/token', {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      client_id: 'shoefly-spa',
    });
    assert.deepEqual(
      [spa.status, spa.json()],
      [400, { error: 'invalid_grant', error_description: 'The authorization code is unknown or expired' }],
    );
    assert.equal((await api(owner.json().access_token)).status, 200, "the owner's grant lives on");
    assert.equal((await refresh(gw, owner.json().refresh_token)).status, 200);
    // The owner replaying its own code still ends the grant (RFC 6749 §4.1.2).
    const replay = await exchange(gw, code);
    assert.equal(replay.status, 400);
    assert.equal((await api(owner.json().access_token)).status, 401);
  });

  it("answers a revocation of another client's token as one of an unknown token and revokes nothing (RFC 7009 §2.2)", async () => {
    const { access_token, refresh_token } = (await exchange(gw, await codeFor(app, 'sam'))).json();
    const created = await gw.admin('POST', '/api/apikeys', {
      clientId: 'nosy',
      clientSecret: 'nosy-secret-0123456789abcdef',
      clientName: 'Nosy',
      redirectUris: [REDIRECT_URI],
    });
    assert.equal(created.status, 201);
    const nosy = { authorization: basic('nosy', 'nosy-secret-0123456789abcdef') };
    const unknown = await post(gw, '/v1/oauth2/revoke', { token: 'no-such-token' }, nosy);
    for (const [token, hint] of [
      [access_token, 'access_token'],
      [refresh_token, 'refresh_token'],
    ] as const) {
      const other = await post(gw, '/v1/oauth2/revoke', { token, token_type_hint: hint }, nosy);
      assert.deepEqual(
        [other.status, other.text, other.headers['cache-control']],
        [unknown.status, unknown.text, unknown.headers['cache-control']],
      );
    }
    assert.equal(unknown.status, 200);
    assert.equal((await api(access_token)).status, 200);
    assert.equal((await refresh(gw, refresh_token)).status, 200);
  });

  it('refuses a scope outside the configured scopes in the redirect', async () => {
    const location = await consent(app, 'olga', {
      client_id: 'shoefly',
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: 'admin',
    });
    assert.equal(location.searchParams.get('error'), 'invalid_scope');
  });
});
