/**
 * Revocation reaches every grant: each path that issues or accepts a gateway token (the `oauth2`
 * grants on an opaque and a JWT route, its protected route, introspection and revocation; the
 * client credentials service's token, introspection and revocation; `jwt-verifier` on gateway
 * tokens) exercised after the client was cut off by the admin, disabled or deleted, one table per
 * change. Every path asks `grantLiveness`; `test/core/keys/grant-liveness-callers.test.ts` checks it in the source.
 */
import 'reflect-metadata';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { startGateway, createRoute, route, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';
import { basic, type TestResponse } from '../helpers/http.js';

const PROVISION_KEY = 'provision-key-0123456789abcdef-0123456789';
const SECRET = 'liveness-secret-0123456789abcdef';
const REDIRECT_URI = 'https://app.test/callback';
const OPAQUE = 'opaque.test';
const JWT = 'jwt.test';
const VERIFIED = 'verified.test';
const SINK = '127.0.0.1';
const SINK_BASE = '/.well-known/otoroshi/oauth';
const GRANTS = {
  provisionKey: PROVISION_KEY,
  scopes: ['read', 'write'],
  requireHttps: false,
  enableClientCredentials: true,
  enablePasswordGrant: true,
  enableImplicitGrant: true,
  refreshGracePeriodSeconds: 60,
};

type Change = 'cut off' | 'disabled' | 'deleted';

/** What every path answers once the client's grants must be dead (or, for a new grant after a cut-off, alive). */
function expected(change: Change): Record<string, string> {
  const refused = change === 'cut off' ? '400 invalid_grant' : '401 invalid_client';
  const fresh = change === 'cut off' ? '200' : '401 invalid_client';
  return {
    'authorization_code: a code issued before': refused,
    'refresh_token: confidential client': refused,
    'refresh_token: public client (refresh token alone)': refused,
    'refresh_token: replay inside the grace period': refused,
    'password: a new grant': fresh,
    'password: a token issued before, on the route': '401 invalid_token',
    'client_credentials: a new grant': fresh,
    'client_credentials: a token issued before, on the route': '401 invalid_token',
    'implicit: a new grant': change === 'cut off' ? '200 access_token' : '400 invalid_request',
    'implicit: a token issued before, on the route': '401 invalid_token',
    'protected route: opaque token': '401 invalid_token',
    'protected route: JWT': '401 invalid_token',
    'introspection: access token': 'inactive',
    'introspection: refresh token': 'inactive',
    'revocation: refresh token': change === 'cut off' ? '200' : '401 invalid_client',
    'client credentials service: a new token': fresh,
    'client credentials service: introspection': 'inactive',
    'client credentials service: revocation': change === 'cut off' ? '200' : '401 invalid_client',
    'jwt-verifier: a gateway token issued before': '401 invalid_token',
  };
}

describe('Grant liveness: revocation reaches every grant', () => {
  let upstream: Upstream;
  let gw: TestGateway;

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await startGateway();
    const global = (await gw.admin('GET', '/api/global-config')).json();
    assert.equal(
      (
        await gw.admin('PUT', '/api/global-config', {
          ...global,
          plugins: [{ plugin: 'client-credentials', config: { secure: false, domain: '127\\.0\\.0\\.1' } }],
        })
      ).status,
      200,
    );
    await createRoute(
      gw,
      route('opaque', upstream.url, {
        frontend: { domains: [OPAQUE] },
        plugins: [{ plugin: 'oauth2', config: GRANTS }],
      }),
    );
    await createRoute(
      gw,
      route('jwt', upstream.url, {
        frontend: { domains: [JWT] },
        plugins: [{ plugin: 'oauth2', config: { ...GRANTS, tokenFormat: 'jwt' } }],
      }),
    );
    const verifier = await gw.admin('POST', '/api/jwt-verifiers', {
      id: 'gateway',
      name: 'Gateway tokens',
      keys: { kind: 'keypairs' },
      algorithms: ['RS256', 'ES256'],
      typ: 'at+jwt',
    });
    assert.equal(verifier.status, 201, verifier.text);
    await createRoute(
      gw,
      route('verified', upstream.url, {
        frontend: { domains: [VERIFIED] },
        plugins: [{ plugin: 'jwt-verifier', config: { verifiers: ['gateway'] } }],
      }),
    );
    // The resource server that introspects: a client that stays enabled whatever happens to the others.
    assert.equal(
      (
        await gw.admin('POST', '/api/apikeys', {
          clientId: 'resource-server',
          clientSecret: SECRET,
          clientName: 'Resource server',
        })
      ).status,
      201,
    );
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  function post(
    host: string,
    path: string,
    params: Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<TestResponse> {
    return gw.proxy(path, {
      method: 'POST',
      host,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(params).toString(),
    });
  }
  const api = (host: string, token: string) =>
    gw.proxy('/orders', { host, headers: { authorization: `Bearer ${token}` } });
  const resourceServer = { authorization: basic('resource-server', SECRET) };

  /** `<status> <error>` of an answer, the error read from the body or the Bearer challenge. */
  function outcome(res: TestResponse): string {
    const challenged = /error="([^"]+)"/.exec(String(res.headers['www-authenticate'] ?? ''))?.[1];
    const error = res.status >= 400 ? (challenged ?? res.json().error) : undefined;
    return error === undefined ? String(res.status) : `${res.status} ${error}`;
  }
  const introspected = (res: TestResponse) => (res.json().active === true ? 'active' : 'inactive');

  /** The grants of one confidential and one public client, taken before the change. */
  async function grantsOf(id: string) {
    const auth = { authorization: basic(id, SECRET) };
    const authorize = async (host: string, clientId: string, extra: Record<string, string>) => {
      const res = await post(host, '/oauth2/authorize', {
        provision_key: PROVISION_KEY,
        authenticated_userid: 'ann',
        client_id: clientId,
        redirect_uri: REDIRECT_URI,
        ...extra,
      });
      assert.equal(res.status, 200, res.text);
      return new URL(res.json().redirect_uri);
    };
    const code = async (host: string) =>
      (await authorize(host, id, { response_type: 'code' })).searchParams.get('code')!;
    const token = async (host: string, params: Record<string, string>, headers: Record<string, string> = auth) => {
      const res = await post(host, '/oauth2/token', params, headers);
      assert.equal(res.status, 200, res.text);
      return res.json() as { access_token: string; refresh_token: string };
    };
    const exchange = async (host: string) =>
      token(host, { grant_type: 'authorization_code', code: await code(host), redirect_uri: REDIRECT_URI });
    const verifier = randomBytes(32).toString('base64url');
    const publicCode = (
      await authorize(OPAQUE, `${id}-spa`, {
        response_type: 'code',
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
      })
    ).searchParams.get('code')!;
    const grace = await exchange(OPAQUE);
    await token(OPAQUE, { grant_type: 'refresh_token', refresh_token: grace.refresh_token });
    const sink = await post(SINK, `${SINK_BASE}/token`, { grant_type: 'client_credentials' }, auth);
    assert.equal(sink.status, 200, sink.text);
    const taken = {
      auth,
      code: await code(OPAQUE),
      pair: await exchange(OPAQUE),
      publicPair: await token(
        OPAQUE,
        {
          grant_type: 'authorization_code',
          code: publicCode,
          redirect_uri: REDIRECT_URI,
          client_id: `${id}-spa`,
          code_verifier: verifier,
        },
        {},
      ),
      grace,
      password: await token(OPAQUE, {
        grant_type: 'password',
        provision_key: PROVISION_KEY,
        authenticated_userid: 'ann',
      }),
      clientCredentials: await token(OPAQUE, { grant_type: 'client_credentials' }),
      implicit: new URLSearchParams((await authorize(OPAQUE, id, { response_type: 'token' })).hash.slice(1)).get(
        'access_token',
      )!,
      jwtPair: await exchange(JWT),
      sinkToken: sink.json().access_token as string,
    };
    for (const [host, t] of [
      [OPAQUE, taken.pair.access_token],
      [OPAQUE, taken.password.access_token],
      [OPAQUE, taken.implicit],
      [JWT, taken.jwtPair.access_token],
      [VERIFIED, taken.sinkToken],
    ] as const) {
      assert.equal((await api(host, t)).status, 200, `a live token on ${host}`);
    }
    return taken;
  }

  /** Every path, in order (the revocations last: they would change what the others see). */
  async function table(id: string, taken: Awaited<ReturnType<typeof grantsOf>>): Promise<Record<string, string>> {
    const { auth } = taken;
    const implicit = await post(OPAQUE, '/oauth2/authorize', {
      provision_key: PROVISION_KEY,
      authenticated_userid: 'ann',
      client_id: id,
      redirect_uri: REDIRECT_URI,
      response_type: 'token',
    });
    const fragment =
      implicit.status === 200 ? new URLSearchParams(new URL(implicit.json().redirect_uri).hash.slice(1)) : null;
    return {
      'authorization_code: a code issued before': outcome(
        await post(
          OPAQUE,
          '/oauth2/token',
          { grant_type: 'authorization_code', code: taken.code, redirect_uri: REDIRECT_URI },
          auth,
        ),
      ),
      'refresh_token: confidential client': outcome(
        await post(
          OPAQUE,
          '/oauth2/token',
          { grant_type: 'refresh_token', refresh_token: taken.pair.refresh_token },
          auth,
        ),
      ),
      'refresh_token: public client (refresh token alone)': outcome(
        await post(OPAQUE, '/oauth2/token', {
          grant_type: 'refresh_token',
          refresh_token: taken.publicPair.refresh_token,
          client_id: `${id}-spa`,
        }),
      ),
      'refresh_token: replay inside the grace period': outcome(
        await post(
          OPAQUE,
          '/oauth2/token',
          { grant_type: 'refresh_token', refresh_token: taken.grace.refresh_token },
          auth,
        ),
      ),
      'password: a new grant': outcome(
        await post(
          OPAQUE,
          '/oauth2/token',
          { grant_type: 'password', provision_key: PROVISION_KEY, authenticated_userid: 'ann' },
          auth,
        ),
      ),
      'password: a token issued before, on the route': outcome(await api(OPAQUE, taken.password.access_token)),
      'client_credentials: a new grant': outcome(
        await post(OPAQUE, '/oauth2/token', { grant_type: 'client_credentials' }, auth),
      ),
      'client_credentials: a token issued before, on the route': outcome(
        await api(OPAQUE, taken.clientCredentials.access_token),
      ),
      'implicit: a new grant':
        fragment === null
          ? outcome(implicit)
          : `200 ${fragment.has('access_token') ? 'access_token' : fragment.get('error')}`,
      'implicit: a token issued before, on the route': outcome(await api(OPAQUE, taken.implicit)),
      'protected route: opaque token': outcome(await api(OPAQUE, taken.pair.access_token)),
      'protected route: JWT': outcome(await api(JWT, taken.jwtPair.access_token)),
      'introspection: access token': introspected(
        await post(OPAQUE, '/oauth2/introspect', { token: taken.pair.access_token }, resourceServer),
      ),
      'introspection: refresh token': introspected(
        await post(
          OPAQUE,
          '/oauth2/introspect',
          { token: taken.pair.refresh_token, token_type_hint: 'refresh_token' },
          resourceServer,
        ),
      ),
      'revocation: refresh token': outcome(
        await post(OPAQUE, '/oauth2/revoke', { token: taken.pair.refresh_token }, auth),
      ),
      'client credentials service: a new token': outcome(
        await post(SINK, `${SINK_BASE}/token`, { grant_type: 'client_credentials' }, auth),
      ),
      'client credentials service: introspection': introspected(
        await post(SINK, `${SINK_BASE}/token/introspect`, { token: taken.sinkToken }, resourceServer),
      ),
      'client credentials service: revocation': outcome(
        await post(SINK, `${SINK_BASE}/token/revoke`, { token: taken.sinkToken }, auth),
      ),
      'jwt-verifier: a gateway token issued before': outcome(await api(VERIFIED, taken.sinkToken)),
    };
  }

  async function change(id: string, how: Change): Promise<void> {
    if (how === 'cut off') {
      assert.equal((await gw.admin('POST', `/api/apikeys/${id}/revoke-tokens`)).status, 200);
    } else if (how === 'disabled') {
      const key = (await gw.admin('GET', `/api/apikeys/${id}`)).json();
      assert.equal((await gw.admin('PUT', `/api/apikeys/${id}`, { ...key, enabled: false })).status, 200);
    } else {
      assert.equal((await gw.admin('DELETE', `/api/apikeys/${id}`)).status, 204);
    }
  }

  for (const how of ['cut off', 'disabled', 'deleted'] as const) {
    it(`refuses every grant of a client ${how} by the admin, on every path that issues or accepts a token`, async () => {
      const id = `client-${how.replace(' ', '-')}`;
      for (const body of [
        { clientId: id, clientSecret: SECRET, clientName: id, redirectUris: [REDIRECT_URI] },
        { clientId: `${id}-spa`, clientType: 'public', clientName: `${id} SPA`, redirectUris: [REDIRECT_URI] },
      ])
        assert.equal((await gw.admin('POST', '/api/apikeys', body)).status, 201);
      const taken = await grantsOf(id);
      await change(id, how);
      await change(`${id}-spa`, how);
      assert.deepEqual(await table(id, taken), expected(how));
    });
  }
});
