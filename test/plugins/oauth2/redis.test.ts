/**
 * Grants shared by two gateway instances on one real Redis: a code issued by one is redeemed on
 * the other, refresh and revocation on either hold on both, and a failed token write hands out
 * nothing.
 */
import 'reflect-metadata';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { StateStore } from '../../../core/plugin-api.js';
import { STATE_STORE } from '../../../core/tokens.js';
import { OAUTH2_STATE_NAMESPACE } from '../../../plugins/oauth2/index.js';
import { RedisConnection } from '../../../core/state/redis-connection.js';
import { startGateway, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import { startRedis, type TestRedis } from '../../helpers/redis.js';
import { until } from '../../helpers/wait.js';
import { basic } from '../../helpers/http.js';
import {
  stepOnGateway,
  startProviderApp,
  codeFor,
  exchange,
  post,
  confidential,
  HOST,
  REDIRECT_URI,
  type ProviderApp,
} from './fixtures.js';

describe('Plugin: oauth2 (two instances on one Redis)', () => {
  let redis: TestRedis;
  let upstream: Upstream;
  let a: TestGateway;
  let b: TestGateway;
  let app: ProviderApp;

  before(async () => {
    redis = await startRedis();
    upstream = await startUpstream(echo);
    const config = { storage: { kind: 'redis' as const, url: redis.url } };
    a = await stepOnGateway(upstream, { config, pluginConfig: { tokenFormat: 'jwt' } });
    b = await startGateway({ config });
    // B serves the route and knows the client once the configuration reached it.
    await until(
      'the client on instance B',
      () => post(b, '/v1/oauth2/introspect', { token: 'x' }, confidential),
      (r) => r.status === 200,
    );
    app = await startProviderApp(a.proxyUrl);
  });
  after(async () => {
    await app.close();
    await a.close();
    await b.close();
    await upstream.close();
    await redis.stop();
  });

  const api = (gw: TestGateway, token: string) =>
    gw.proxy('/v1/orders', { host: HOST, headers: { authorization: `Bearer ${token}` } });
  const refreshOn = (gw: TestGateway, refreshToken: string) =>
    post(gw, '/v1/oauth2/token', { grant_type: 'refresh_token', refresh_token: refreshToken }, confidential);

  it('redeems on B a code issued by A, refreshes on B, and the tokens work on both', async () => {
    const issued = await exchange(b, await codeFor(app, 'alice'));
    assert.equal(issued.status, 200, issued.text);
    const { access_token, refresh_token } = issued.json();
    assert.equal((await api(a, access_token)).json().headers['x-authenticated-userid'], 'alice');
    const refreshed = await refreshOn(b, refresh_token);
    assert.equal(refreshed.status, 200, refreshed.text);
    assert.equal((await api(a, refreshed.json().access_token)).json().headers['x-authenticated-userid'], 'alice');
    // The rotation happened on B: the old refresh token is dead on A too, and its replay revokes the grant.
    assert.equal((await refreshOn(a, refresh_token)).json().error, 'invalid_grant');
    assert.equal((await api(b, refreshed.json().access_token)).status, 401);
  });

  it('lets exactly one of parallel redemptions of one code on A and B succeed', async () => {
    const code = await codeFor(app, 'bob');
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => exchange(i % 2 === 0 ? a : b, code)));
    assert.equal(answers.filter((r) => r.status === 200).length, 1);
    assert.ok(answers.filter((r) => r.status !== 200).every((r) => r.json().error === 'invalid_grant'));
  });

  it('refuses on B, within 1 s, a grant revoked on A and an access token revoked on A', async () => {
    const grant = (await exchange(a, await codeFor(app, 'carol'))).json();
    assert.equal((await api(b, grant.access_token)).status, 200);
    assert.equal(
      (
        await post(
          a,
          '/v1/oauth2/revoke',
          { token: grant.refresh_token, token_type_hint: 'refresh_token' },
          confidential,
        )
      ).status,
      200,
    );
    // The grant's revocation marker is read from Redis on every request: refused at once.
    assert.equal((await api(b, grant.access_token)).status, 401);
    assert.equal((await refreshOn(b, grant.refresh_token)).json().error, 'invalid_grant');

    const other = (await exchange(a, await codeFor(app, 'carol'))).json();
    assert.equal((await api(b, other.access_token)).status, 200);
    assert.equal((await post(a, '/v1/oauth2/revoke', { token: other.access_token }, confidential)).status, 200);
    // A JWT's jti reaches B's revocation mirror through Redis pub/sub.
    await until(
      'the revoked access token refused on B',
      () => api(b, other.access_token),
      (r) => r.status === 401,
      1000,
    );
  });

  it('refuses on B, at once, the refresh token of a client cut off on A (400 invalid_grant)', async () => {
    const secret = 'cut-ab-secret-0123456789abcdef';
    assert.equal(
      (
        await a.admin('POST', '/api/apikeys', {
          clientId: 'cut-ab',
          clientSecret: secret,
          clientName: 'Cut off on A',
          redirectUris: [REDIRECT_URI],
        })
      ).status,
      201,
    );
    const auth = { authorization: basic('cut-ab', secret) };
    await until(
      'the client on instance B',
      () => post(b, '/v1/oauth2/introspect', { token: 'x' }, auth),
      (r) => r.status === 200,
    );
    const code = await codeFor(app, 'erin', { client_id: 'cut-ab' });
    const { refresh_token } = (
      await post(a, '/v1/oauth2/token', { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI }, auth)
    ).json();
    assert.equal((await a.admin('POST', '/api/apikeys/cut-ab/revoke-tokens')).status, 200);
    // No wait for the announcement: the token endpoint reads the cut-off, durable once A answered.
    const refreshed = await post(b, '/v1/oauth2/token', { grant_type: 'refresh_token', refresh_token }, auth);
    assert.equal(refreshed.status, 400, refreshed.text);
    assert.equal(refreshed.json().error, 'invalid_grant');
  });

  it('answers 500 server_error and hands out no token when the token write fails, and nothing of it is stored', async () => {
    const code = await codeFor(app, 'dave');
    const state = a.gateway.container
      .resolve<StateStore>(STATE_STORE)
      .namespace(OAUTH2_STATE_NAMESPACE, { durable: true });
    const tokensBefore = (await state.entries()).filter((e) => /^(at|rt):/.test(e.key)).length;
    // Redis refuses scripts from now on: the code is still redeemed (SET NX), the token write (one script) fails.
    const control = new RedisConnection(redis.url);
    await control.open();
    await control.client.call('ACL', 'SETUSER', 'default', '-eval', '-evalsha');
    let res;
    try {
      res = await exchange(a, code);
    } finally {
      await control.client.call('ACL', 'SETUSER', 'default', '+eval', '+evalsha');
      await control.close();
    }
    assert.equal(res.status, 500, res.text);
    assert.deepEqual(Object.keys(res.json()).sort(), ['error', 'error_description']);
    assert.equal(res.json().error, 'server_error');
    assert.doesNotMatch(res.text, /access_token|refresh_token/);
    assert.equal((await state.entries()).filter((e) => /^(at|rt):/.test(e.key)).length, tokensBefore);
    // The code was spent: it cannot be replayed into tokens.
    assert.equal((await exchange(b, code)).json().error, 'invalid_grant');
  });
});
