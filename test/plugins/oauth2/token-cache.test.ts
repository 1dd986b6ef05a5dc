/**
 * The process's copy of opaque access tokens (`GrantStore`'s read-through cache): a warm token
 * costs no state-store read, and every revocation (one token, a grant, through the admin API) is
 * honoured by the very next request on the revoking instance, and within 1 s on another instance
 * sharing Redis.
 */
import 'reflect-metadata';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { StateNamespace, StateStore } from '../../../core/plugin-api.js';
import { STATE_STORE } from '../../../core/tokens.js';
import { OAUTH2_STATE_NAMESPACE } from '../../../plugins/oauth2/index.js';
import { startGateway, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import { startRedis, type TestRedis } from '../../helpers/redis.js';
import { until } from '../../helpers/wait.js';
import {
  stepOnGateway,
  startProviderApp,
  codeFor,
  exchange,
  post,
  confidential,
  HOST,
  type ProviderApp,
} from './fixtures.js';

const api = (gw: TestGateway, token: string) =>
  gw.proxy('/v1/orders', { host: HOST, headers: { authorization: `Bearer ${token}` } });

/** Count the reads of the `oauth2` namespace made from now on (the gateway runs in this process). */
function countReads(gw: TestGateway): { readonly count: number } {
  const ns: StateNamespace = gw.gateway.container
    .resolve<StateStore>(STATE_STORE)
    .namespace(OAUTH2_STATE_NAMESPACE, { durable: true });
  const counter = { count: 0 };
  const get = ns.get.bind(ns);
  ns.get = ((key: string) => {
    counter.count++;
    return get(key);
  }) as StateNamespace['get'];
  return counter;
}

async function grantFor(gw: TestGateway, app: ProviderApp, user: string) {
  const issued = await exchange(gw, await codeFor(app, user));
  assert.equal(issued.status, 200, issued.text);
  const grant = issued.json() as { access_token: string; refresh_token: string };
  assert.doesNotMatch(grant.access_token, /^ey/, 'an opaque token, looked up in the state store');
  assert.equal((await api(gw, grant.access_token)).status, 200); // warm
  return grant;
}

describe('Plugin: oauth2 (opaque access tokens cached in the process)', () => {
  let upstream: Upstream;
  let gw: TestGateway;
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

  it('reads a warm access token from the process: no state-store read per request', async () => {
    const { access_token } = await grantFor(gw, app, 'alice');
    const reads = countReads(gw);
    for (let i = 0; i < 3; i++) assert.equal((await api(gw, access_token)).status, 200);
    assert.equal(reads.count, 0);
  });

  it('refuses a warm access token revoked at the revocation endpoint on the very next request', async () => {
    const { access_token } = await grantFor(gw, app, 'bob');
    const revoked = await post(gw, '/v1/oauth2/revoke', { token: access_token }, confidential);
    assert.equal(revoked.status, 200, revoked.text);
    assert.equal((await api(gw, access_token)).status, 401);
  });

  it("refuses a warm access token on the very next request once its grant's refresh token is revoked", async () => {
    const grant = await grantFor(gw, app, 'carol');
    const revoked = await post(
      gw,
      '/v1/oauth2/revoke',
      { token: grant.refresh_token, token_type_hint: 'refresh_token' },
      confidential,
    );
    assert.equal(revoked.status, 200, revoked.text);
    assert.equal((await api(gw, grant.access_token)).status, 401);
  });

  it('refuses a warm access token on the very next request once the admin API revokes its grant', async () => {
    const { access_token } = await grantFor(gw, app, 'dave');
    const [grant] = (await gw.admin('GET', '/api/oauth2/grants?user=dave')).json();
    assert.equal((await gw.admin('DELETE', `/api/oauth2/grants/${grant.grant}`)).status, 204);
    assert.equal((await api(gw, access_token)).status, 401);
  });
});

describe('Plugin: oauth2 (opaque access tokens cached by two instances on one Redis)', () => {
  let redis: TestRedis;
  let upstream: Upstream;
  let a: TestGateway;
  let b: TestGateway;
  let app: ProviderApp;

  before(async () => {
    redis = await startRedis();
    upstream = await startUpstream(echo);
    const config = { storage: { kind: 'redis' as const, url: redis.url } };
    a = await stepOnGateway(upstream, { config });
    b = await startGateway({ config });
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

  it('refuses on B, within 1 s, a token B holds warm and A revoked; on A at once', async () => {
    const grant = await grantFor(a, app, 'erin');
    assert.equal((await api(b, grant.access_token)).status, 200); // warm on B too
    const reads = countReads(b);
    assert.equal((await api(b, grant.access_token)).status, 200);
    assert.equal(reads.count, 0, 'B serves the warm token without reading Redis');
    assert.equal((await post(a, '/v1/oauth2/revoke', { token: grant.access_token }, confidential)).status, 200);
    assert.equal((await api(a, grant.access_token)).status, 401);
    await until(
      'the revoked access token refused on B',
      () => api(b, grant.access_token),
      (r) => r.status === 401,
      1000,
    );
  });
});
