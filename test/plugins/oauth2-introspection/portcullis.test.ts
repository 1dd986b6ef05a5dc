/**
 * `oauth2-introspection` against Portcullis' own authorization server (an `oauth2` route issuing
 * opaque client-credentials tokens, with its RFC 7662 endpoint), on two instances sharing one real
 * Redis: the introspection cache is shared, and a token revoked through Portcullis (RFC 7009 on
 * either instance, or the admin API) is refused by both within 1 s although the cache would hold
 * its response for minutes.
 */
import 'reflect-metadata';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, createRoute, route, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import { startRedis, type TestRedis } from '../../helpers/redis.js';
import { send, basic, type TestResponse } from '../../helpers/http.js';
import { until } from '../../helpers/wait.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { KYMA_RULES } from './fixtures.js';

const APP = {
  clientId: 'kyma-app',
  clientSecret: 'kyma-app-secret-0123456789',
  redirectUris: ['https://app.example/callback'],
};
const RESOURCE_SERVER = { clientId: 'gateway-introspection', clientSecret: 'gateway-introspection-secret-0123' };
const PROVISION_KEY = 'provision-key-0123456789abcdef-0123456789';

describe("Plugin: oauth2-introspection (Portcullis' own introspection, two instances on one Redis)", () => {
  let redis: TestRedis;
  let upstream: Upstream;
  let a: TestGateway;
  let b: TestGateway;
  /** A counting forwarder in front of instance a's introspection endpoint. */
  let counter: Server;
  let introspections = 0;

  const idp = (gw: TestGateway, endpoint: string, params: Record<string, string>) =>
    send(`${gw.proxyUrl}/idp/oauth2/${endpoint}`, {
      method: 'POST',
      headers: {
        host: '127.0.0.1',
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basic(APP.clientId, APP.clientSecret),
      },
      body: new URLSearchParams(params).toString(),
    });
  async function token(scope: string): Promise<string> {
    const res = await idp(a, 'token', { grant_type: 'client_credentials', scope });
    assert.equal(res.status, 200, res.text);
    return res.json().access_token as string;
  }
  const call = (gw: TestGateway, accessToken: string, path = '/get', method = 'GET'): Promise<TestResponse> =>
    gw.proxy(path, {
      method,
      host: 'orders.test',
      headers: { authorization: `Bearer ${accessToken}` },
      ...(method === 'POST' ? { body: '{}' } : {}),
    });

  /** Both instances refuse the token within 1 s of the revocation's answer. */
  async function refusedEverywhereWithinOneSecond(accessToken: string): Promise<void> {
    for (const gw of [a, b]) {
      const res = await until(
        'the revoked token to be refused',
        () => call(gw, accessToken),
        (r) => r.status !== 200,
        1_000,
        20,
      );
      assert.equal(res.status, 401);
      assert.equal(res.json().error, 'invalid_token');
    }
  }

  before(async () => {
    redis = await startRedis();
    upstream = await startUpstream(echo);
    a = await startGateway({ config: { storage: { kind: 'redis', url: redis.url } } });
    counter = createServer((req, res) => {
      introspections++;
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        request(`${a.proxyUrl}${req.url}`, {
          method: 'POST',
          headers: { ...req.headers, host: '127.0.0.1' },
          body: Buffer.concat(chunks),
        })
          .then(async (answer) => {
            res.writeHead(answer.statusCode, { 'content-type': String(answer.headers['content-type']) });
            res.end(await answer.body.text());
          })
          .catch(() => {
            res.writeHead(502);
            res.end();
          });
      });
    });
    await new Promise<void>((resolve) => counter.listen(0, '127.0.0.1', resolve));
    b = await startGateway({ config: { storage: { kind: 'redis', url: redis.url } } });
    await createRoute(
      a,
      route('idp', upstream.url, {
        frontend: { domains: ['127.0.0.1/idp'] },
        plugins: [
          {
            plugin: 'oauth2',
            config: {
              provisionKey: PROVISION_KEY,
              scopes: ['read', 'write'],
              enableClientCredentials: true,
              requireHttps: false,
            },
          },
        ],
      }),
    );
    await createRoute(
      a,
      route('orders', upstream.url, {
        frontend: { domains: ['orders.test'] },
        plugins: [
          {
            plugin: 'oauth2-introspection',
            config: {
              introspectionUrl: `http://127.0.0.1:${(counter.address() as AddressInfo).port}/idp/oauth2/introspect`,
              clientId: RESOURCE_SERVER.clientId,
              clientSecret: RESOURCE_SERVER.clientSecret,
              rules: KYMA_RULES,
              cache: { ttlSeconds: 600, negativeTtlSeconds: 600 },
            },
          },
        ],
      }),
    );
    for (const client of [APP, RESOURCE_SERVER])
      assert.equal((await a.admin('POST', '/api/apikeys', { ...client, clientName: client.clientId })).status, 201);
    await until(
      'instance b to serve the routes',
      () => b.proxy('/get', { host: 'orders.test' }),
      (r) => r.status === 401,
    );
  });

  after(async () => {
    await b.close();
    await a.close();
    await new Promise<void>((resolve) => {
      counter.closeAllConnections();
      counter.close(() => resolve());
    });
    await upstream.close();
    await redis.stop();
  });

  it("accepts Portcullis' own opaque tokens with the Kyma rules, on both instances", async () => {
    const reader = await token('read');
    const writer = await token('read write');
    assert.equal((await call(a, reader)).status, 200);
    assert.equal((await call(b, reader)).status, 200);
    const post = await call(b, reader, '/post', 'POST');
    assert.equal(post.status, 403);
    assert.equal(post.json().error, 'insufficient_scope');
    assert.equal((await call(a, writer, '/post', 'POST')).status, 200);
    const seen = (await call(b, writer)).json().headers;
    assert.equal(seen['x-authenticated-scope'], 'read write');
  });

  it('shares the cached response between the instances: a token is introspected once for both', async () => {
    const accessToken = await token('read');
    const before = introspections;
    assert.equal((await call(a, accessToken)).status, 200);
    assert.equal(introspections - before, 1);
    for (let i = 0; i < 3; i++) assert.equal((await call(b, accessToken)).status, 200);
    assert.equal(introspections - before, 1, 'instance b found it in Redis');
  });

  it("refuses a token revoked at the other instance's revocation endpoint on both instances within 1 s", async () => {
    const revoked = await token('read');
    const kept = await token('read');
    for (const gw of [a, b]) for (const t of [revoked, kept]) assert.equal((await call(gw, t)).status, 200);
    const res = await idp(b, 'revoke', { token: revoked });
    assert.equal(res.status, 200, res.text);
    await refusedEverywhereWithinOneSecond(revoked);
    for (const gw of [a, b]) assert.equal((await call(gw, kept)).status, 200, 'another token stays valid');
  });

  it('refuses the tokens of a client whose grants the admin revoked, on both instances within 1 s', async () => {
    const accessToken = await token('read');
    for (const gw of [a, b]) assert.equal((await call(gw, accessToken)).status, 200);
    const res = await b.admin('POST', `/api/oauth2/grants/revoke?client=${APP.clientId}`);
    assert.equal(res.status, 200, res.text);
    assert.ok(res.json().revoked >= 1);
    await refusedEverywhereWithinOneSecond(accessToken);
  });

  it('refuses a refresh token used as an access token, although the server calls it active', async () => {
    // A client credentials grant issues none: an authorization code grant does.
    const authorized = await send(`${a.proxyUrl}/idp/oauth2/authorize`, {
      method: 'POST',
      headers: { host: '127.0.0.1', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: APP.clientId,
        response_type: 'code',
        scope: 'read',
        provision_key: PROVISION_KEY,
        authenticated_userid: 'alice',
        redirect_uri: 'https://app.example/callback',
      }).toString(),
    });
    assert.equal(authorized.status, 200, authorized.text);
    const issued = await idp(a, 'token', {
      grant_type: 'authorization_code',
      code: new URL(authorized.json().redirect_uri as string).searchParams.get('code')!,
      redirect_uri: 'https://app.example/callback',
    });
    assert.equal(issued.status, 200, issued.text);
    const { access_token: accessToken, refresh_token: refreshToken } = issued.json() as {
      access_token: string;
      refresh_token: string;
    };
    const ok = await call(a, accessToken);
    assert.equal(ok.status, 200);
    assert.equal(ok.json().headers['x-authenticated-userid'], 'alice');
    const refused = await call(a, refreshToken);
    assert.equal(refused.status, 401);
    assert.equal(refused.json().error, 'invalid_token');
  });
});
