import 'reflect-metadata';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { SignJWT, UnsecuredJWT, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { createRoute, route, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import {
  stepOnGateway,
  startProviderApp,
  codeFor,
  exchange,
  refresh,
  post,
  confidential,
  HOST,
  OTHER_HOST,
  type ProviderApp,
} from './fixtures.js';

const JWKS_PATH = '/.well-known/otoroshi/oauth/jwks.json';
const VERIFIED_HOST = 'verified.test';
const AUDIENCE = 'urn:portcullis:oauth2:route:stepon';

describe('Plugin: oauth2 (tokenFormat jwt, RFC 9068)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let app: ProviderApp;

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await stepOnGateway(upstream, { pluginConfig: { tokenFormat: 'jwt' } });
    // The gateway JWKS, answered by the client-credentials sink on the loopback host only.
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
    // A route guarded by jwt-verifier against the gateway JWKS URL, as an external resource server would be.
    await createRoute(
      gw,
      route('verified', upstream.url, {
        frontend: { domains: [VERIFIED_HOST] },
        plugins: [
          {
            plugin: 'jwt-verifier',
            config: {
              verifier: {
                keys: { kind: 'jwks', url: gw.proxyUrl + JWKS_PATH },
                algorithms: ['RS256'],
                typ: 'at+jwt',
                audience: AUDIENCE,
              },
              upstream: { strategy: 'claims-to-headers', claimsToHeaders: { sub: 'X-User' } },
            },
          },
        ],
      }),
    );
    app = await startProviderApp(gw.proxyUrl);
  });
  after(async () => {
    await app.close();
    await gw.close();
    await upstream.close();
  });

  const api = (token: string, host = HOST) =>
    gw.proxy('/v1/orders', { host, headers: { authorization: `Bearer ${token}` } });

  it('issues an RFC 9068 access token (typ at+jwt, signed by the default key pair) with an opaque refresh token', async () => {
    const res = await exchange(gw, await codeFor(app, 'alice', { scope: 'email' }));
    assert.equal(res.status, 200, res.text);
    const { access_token, refresh_token, expires_in } = res.json();
    const header = decodeProtectedHeader(access_token);
    assert.equal(header.typ, 'at+jwt');
    assert.equal(header.alg, 'RS256');
    const claims = decodeJwt(access_token);
    assert.equal(claims.iss, `http://${HOST}`);
    assert.equal(claims.aud, AUDIENCE);
    assert.equal(claims.sub, 'alice');
    assert.equal(claims.client_id, 'shoefly');
    assert.equal(claims.scope, 'email');
    assert.equal(claims.exp! - claims.iat!, expires_in);
    assert.match(String(claims.jti), /^[0-9a-f-]{36}$/);
    assert.ok(!refresh_token.includes('.'), 'the refresh token stays opaque');
    const seen = (await api(access_token)).json().headers;
    assert.equal(seen['x-authenticated-userid'], 'alice');
    assert.equal(seen['x-consumer-id'], 'shoefly');
    assert.equal(seen['x-authenticated-scope'], 'email');
  });

  it('is accepted by a jwt-verifier route keyed by the gateway JWKS, and verified by jose against the JWKS URL', async () => {
    const { access_token } = (await exchange(gw, await codeFor(app, 'bob'))).json();
    const verified = await api(access_token, VERIFIED_HOST);
    assert.equal(verified.status, 200, verified.text);
    assert.equal(verified.json().headers['x-user'], 'bob');
    const jwks = createRemoteJWKSet(new URL(gw.proxyUrl + JWKS_PATH));
    const { payload, protectedHeader } = await jwtVerify(access_token, jwks, {
      typ: 'at+jwt',
      audience: AUDIENCE,
      issuer: `http://${HOST}`,
      algorithms: ['RS256'],
    });
    assert.equal(protectedHeader.typ, 'at+jwt');
    assert.equal(payload.sub, 'bob');
  });

  it('refuses the token on another route (aud), and a forged alg none or HS256-with-the-public-key token', async () => {
    const { access_token } = (await exchange(gw, await codeFor(app, 'carol'))).json();
    assert.equal((await api(access_token, OTHER_HOST)).status, 401);
    const claims = decodeJwt(access_token);
    const { kid } = decodeProtectedHeader(access_token);
    const none = new UnsecuredJWT(claims).encode();
    const jwks = JSON.parse((await gw.proxy(JWKS_PATH, { host: '127.0.0.1' })).text) as {
      keys: Array<{ kid: string }>;
    };
    const publicPem = createPublicKey({ key: jwks.keys.find((k) => k.kid === kid) as never, format: 'jwk' }).export({
      type: 'spki',
      format: 'pem',
    });
    const confused = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', kid, typ: 'at+jwt' })
      .sign(Buffer.from(publicPem));
    for (const forged of [none, confused]) {
      const res = await api(forged);
      assert.equal(res.status, 401);
      assert.match(String(res.headers['www-authenticate']), /error="invalid_token"/);
    }
    // A token with typ JWT instead of at+jwt is not an access token (RFC 9068 §4).
    const pair = (await gw.admin('GET', '/api/export?includePrivateKeys=true'))
      .json()
      .keypairs.find((k: { id: string }) => k.id === 'portcullis-jwt-signing');
    const wrongTyp = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
      .sign(createPrivateKey(pair.privateKeyPem));
    assert.equal((await api(wrongTyp)).status, 401);
  });

  it('refuses the token once its grant is revoked by a replayed refresh token, and once revoked itself (RFC 7009)', async () => {
    const first = (await exchange(gw, await codeFor(app, 'dave'))).json();
    const second = (await refresh(gw, first.refresh_token)).json();
    assert.equal((await api(second.access_token)).status, 200);
    assert.equal((await refresh(gw, first.refresh_token)).json().error, 'invalid_grant');
    assert.equal((await api(second.access_token)).status, 401);

    const other = (await exchange(gw, await codeFor(app, 'dave'))).json();
    assert.equal((await post(gw, '/v1/oauth2/revoke', { token: other.access_token }, confidential)).status, 200);
    assert.equal((await api(other.access_token)).status, 401);
    assert.deepEqual((await post(gw, '/v1/oauth2/introspect', { token: other.access_token }, confidential)).json(), {
      active: false,
    });
    // The refresh token of that grant still works: only the access token was revoked.
    assert.equal((await refresh(gw, other.refresh_token)).status, 200);
  });

  it('refuses the token after an admin cut-off of its client, and still issues new ones', async () => {
    const { access_token } = (await exchange(gw, await codeFor(app, 'erin'))).json();
    assert.equal((await gw.admin('POST', '/api/apikeys/shoefly/revoke-tokens')).status, 200);
    assert.equal((await api(access_token)).status, 401);
    const fresh = await exchange(gw, await codeFor(app, 'erin'));
    assert.equal((await api(fresh.json().access_token)).status, 200);
  });

  it('issues a user-less client_credentials JWT (sub = client) and refuses it once revoked through the admin grants API', async () => {
    const current = (await gw.admin('GET', '/api/routes/stepon')).json();
    assert.equal(
      (
        await gw.admin('PUT', '/api/routes/stepon', {
          ...current,
          plugins: [{ ...current.plugins[0], config: { ...current.plugins[0].config, enableClientCredentials: true } }],
        })
      ).status,
      200,
    );
    const { access_token } = (
      await post(gw, '/v1/oauth2/token', { grant_type: 'client_credentials' }, confidential)
    ).json();
    const claims = decodeJwt(access_token);
    assert.equal(claims.sub, 'shoefly');
    assert.equal(claims.grant_id, undefined);
    const seen = await api(access_token);
    assert.equal(seen.status, 200);
    assert.equal(seen.json().headers['x-authenticated-userid'], undefined);
    const grants = (await gw.admin('GET', '/api/oauth2/grants?client=shoefly')).json() as Array<{
      grant: string;
      userId: string | null;
    }>;
    const single = grants.filter((g) => g.userId === null);
    assert.equal(single.length, 1);
    assert.equal((await gw.admin('DELETE', `/api/oauth2/grants/${encodeURIComponent(single[0]!.grant)}`)).status, 204);
    assert.equal((await api(access_token)).status, 401);
  });

  it('checks the key pair reference at write time and keeps the key pair from being deleted while used', async () => {
    const current = (await gw.admin('GET', '/api/routes/stepon')).json();
    const missing = await gw.admin('PUT', '/api/routes/stepon', {
      ...current,
      plugins: [{ ...current.plugins[0], config: { ...current.plugins[0].config, keyPair: 'no-such-pair' } }],
    });
    assert.equal(missing.status, 400, missing.text);
    assert.match(missing.text, /no-such-pair/);
    assert.equal(
      (await gw.admin('POST', '/api/keypairs', { id: 'oauth2-es', name: 'oauth2 ES256', alg: 'ES256' })).status,
      201,
    );
    const updated = await gw.admin('PUT', '/api/routes/stepon', {
      ...current,
      plugins: [{ ...current.plugins[0], config: { ...current.plugins[0].config, keyPair: 'oauth2-es' } }],
    });
    assert.equal(updated.status, 200, updated.text);
    assert.equal((await gw.admin('DELETE', '/api/keypairs/oauth2-es')).status, 409);
    const { access_token } = (await exchange(gw, await codeFor(app, 'frank'))).json();
    assert.equal(decodeProtectedHeader(access_token).alg, 'ES256');
    assert.equal((await api(access_token)).status, 200);
  });
});
