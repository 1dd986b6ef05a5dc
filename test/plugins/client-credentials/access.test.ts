import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, createHmac } from 'node:crypto';
import { SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import { startGateway, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import {
  oauthGateway,
  form,
  tokenFor,
  SECRET,
  TOKEN_PATH,
  INTROSPECT_PATH,
  REVOKE_PATH,
  JWKS_PATH,
} from './fixtures.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const basic = (id: string, secret: string) =>
  'Basic ' + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');

describe('Plugin: client-credentials (token endpoint errors, RFC 6749 §5.2)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  const post = (path: string, body: string, headers: Record<string, string> = FORM) =>
    gw.proxy(path, { method: 'POST', headers, body });

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await oauthGateway(upstream);
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  const expectError = (res: Awaited<ReturnType<typeof post>>, status: number, error: string) => {
    assert.equal(res.status, status, res.text);
    assert.equal(res.json().error, error);
    assert.equal(typeof res.json().error_description, 'string');
    assert.equal(res.headers['cache-control'], 'no-store');
  };

  it('issues a token with no-store, the granted scope and an RFC 9068 payload', async () => {
    const res = await post(
      TOKEN_PATH,
      form({ grant_type: 'client_credentials', client_id: 'cc-client', client_secret: SECRET, scope: 'write' }),
    );
    assert.equal(res.status, 200);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(res.headers.pragma, 'no-cache');
    const body = res.json();
    assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'scope', 'token_type']);
    assert.equal(body.scope, 'write');
    const claims = decodeJwt(body.access_token);
    for (const claim of ['iss', 'sub', 'aud', 'client_id', 'iat', 'exp', 'jti', 'scope'])
      assert.ok(claims[claim] !== undefined, claim);
    assert.equal(decodeProtectedHeader(body.access_token).typ, 'at+jwt');
  });

  it('grants every scope of the key when none is asked', async () => {
    const token = await tokenFor(gw, 'cc-client');
    assert.equal(decodeJwt(token).scope, 'read write');
  });

  it('accepts a JSON body too', async () => {
    const res = await post(
      TOKEN_PATH,
      JSON.stringify({ grant_type: 'client_credentials', client_id: 'cc-client', client_secret: SECRET }),
      { 'content-type': 'application/json' },
    );
    assert.equal(res.status, 200);
  });

  it('invalid_client (401) for a wrong secret, an unknown or disabled client; Basic gets a challenge', async () => {
    expectError(
      await post(
        TOKEN_PATH,
        form({ grant_type: 'client_credentials', client_id: 'cc-client', client_secret: 'wrong' }),
      ),
      401,
      'invalid_client',
    );
    expectError(
      await post(TOKEN_PATH, form({ grant_type: 'client_credentials', client_id: 'nobody', client_secret: SECRET })),
      401,
      'invalid_client',
    );
    const viaBasic = await post(TOKEN_PATH, form({ grant_type: 'client_credentials' }), {
      ...FORM,
      authorization: basic('cc-client', 'wrong'),
    });
    expectError(viaBasic, 401, 'invalid_client');
    assert.match(String(viaBasic.headers['www-authenticate']), /^Basic realm="portcullis"/);
    expectError(await post(TOKEN_PATH, form({ grant_type: 'client_credentials' })), 401, 'invalid_client');
    const key = (await gw.admin('GET', '/api/apikeys/other-client')).json();
    await gw.admin('PUT', '/api/apikeys/other-client', { ...key, enabled: false });
    expectError(
      await post(
        TOKEN_PATH,
        form({ grant_type: 'client_credentials', client_id: 'other-client', client_secret: SECRET }),
      ),
      401,
      'invalid_client',
    );
    const reenabled = await gw.admin('PUT', '/api/apikeys/other-client', {
      ...(await gw.admin('GET', '/api/apikeys/other-client')).json(),
      enabled: true,
    });
    assert.equal(reenabled.status, 200);
  });

  it('invalid_request for a missing grant_type, two auth methods, a repeated parameter, a bad body', async () => {
    expectError(
      await post(TOKEN_PATH, form({ client_id: 'cc-client', client_secret: SECRET })),
      400,
      'invalid_request',
    );
    expectError(
      await post(TOKEN_PATH, form({ grant_type: 'client_credentials', client_secret: SECRET }), {
        ...FORM,
        authorization: basic('cc-client', SECRET),
      }),
      400,
      'invalid_request',
    );
    expectError(
      await post(
        TOKEN_PATH,
        'grant_type=client_credentials&grant_type=client_credentials&client_id=cc-client&client_secret=' + SECRET,
      ),
      400,
      'invalid_request',
    );
    expectError(
      await post(TOKEN_PATH, '{"grant_type":', { 'content-type': 'application/json' }),
      400,
      'invalid_request',
    );
    expectError(
      await post(TOKEN_PATH, 'grant_type=client_credentials', { 'content-type': 'text/plain' }),
      400,
      'invalid_request',
    );
    expectError(
      await post(TOKEN_PATH, JSON.stringify({ grant_type: ['client_credentials'] }), {
        'content-type': 'application/json',
      }),
      400,
      'invalid_request',
    );
  });

  it('unsupported_grant_type and invalid_scope', async () => {
    expectError(
      await post(TOKEN_PATH, form({ grant_type: 'password', client_id: 'cc-client', client_secret: SECRET })),
      400,
      'unsupported_grant_type',
    );
    expectError(
      await post(
        TOKEN_PATH,
        form({ grant_type: 'client_credentials', client_id: 'cc-client', client_secret: SECRET, scope: 'read admin' }),
      ),
      400,
      'invalid_scope',
    );
    expectError(
      await post(
        TOKEN_PATH,
        form({ grant_type: 'client_credentials', client_id: 'cc-client', client_secret: SECRET, scope: 'bad"scope' }),
      ),
      400,
      'invalid_scope',
    );
  });

  it('405 for a wrong method, 413 over 64 KiB, 404 for an unknown endpoint', async () => {
    const get = await gw.proxy(TOKEN_PATH);
    assert.equal(get.status, 405);
    assert.equal(get.headers.allow, 'POST');
    const big = await post(TOKEN_PATH, form({ grant_type: 'client_credentials', padding: 'x'.repeat(70 * 1024) }));
    assert.equal(big.status, 413);
    assert.equal((await gw.proxy('/.well-known/otoroshi/oauth/authorize')).status, 404);
  });

  it('serves the JWKS with public keys only and a max-age', async () => {
    const res = await gw.proxy(JWKS_PATH);
    assert.equal(res.status, 200);
    assert.match(String(res.headers['cache-control']), /max-age=300/);
    const { keys } = res.json();
    assert.ok(keys.length >= 2);
    for (const key of keys) {
      assert.equal(key.use, 'sig');
      assert.ok(key.kid && key.alg && key.kty);
      for (const privateMember of ['d', 'p', 'q', 'dp', 'dq', 'qi']) assert.equal(key[privateMember], undefined);
    }
  });

  it('keeps a key pair marked not exposed out of the JWKS', async () => {
    await gw.admin('POST', '/api/keypairs', { id: 'hidden-pair', name: 'Hidden', alg: 'ES256', exposed: false });
    const hidden = (await gw.admin('GET', '/api/keypairs/hidden-pair')).json();
    const { keys } = (await gw.proxy(JWKS_PATH)).json();
    assert.ok(!keys.some((k: any) => k.kid === hidden.kid));
  });

  it('introspects: active with claims, inactive for anything invalid, client authentication required', async () => {
    const token = await tokenFor(gw, 'cc-client');
    const auth = { ...FORM, authorization: basic('default-client', SECRET) };
    const active = await post(INTROSPECT_PATH, form({ token }), auth);
    assert.equal(active.status, 200);
    const body = active.json();
    assert.equal(body.active, true);
    assert.equal(body.client_id, 'cc-client');
    assert.equal(body.token_type, 'Bearer');
    for (const claim of ['scope', 'sub', 'aud', 'iss', 'exp', 'iat', 'jti'])
      assert.ok(body[claim] !== undefined, claim);
    const parts = token.split('.');
    const forgedSignature = `${parts[0]}.${parts[1]}.${Buffer.from('forged').toString('base64url')}`;
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const unknownKey = await new SignJWT({ client_id: 'cc-client', jti: 'x' })
      .setProtectedHeader({ alg: 'ES256', kid: 'unknown', typ: 'at+jwt' })
      .setExpirationTime('1h')
      .sign(privateKey);
    const sameKidOtherKey = await new SignJWT({ client_id: 'cc-client', jti: 'y' })
      .setProtectedHeader({ alg: 'ES256', kid: decodeProtectedHeader(token).kid, typ: 'at+jwt' })
      .setExpirationTime('1h')
      .sign(privateKey);
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', kid: decodeProtectedHeader(token).kid })).toString('base64url')}.${parts[1]}.`;
    for (const bad of ['garbage', forgedSignature, unknownKey, sameKidOtherKey, none]) {
      const res = await post(INTROSPECT_PATH, form({ token: bad }), auth);
      assert.equal(res.status, 200);
      assert.deepEqual(res.json(), { active: false });
    }
    const unauthenticated = await post(INTROSPECT_PATH, form({ token }));
    assert.equal(unauthenticated.status, 401);
    assert.equal(unauthenticated.json().error, 'invalid_client');
    assert.equal((await post(INTROSPECT_PATH, form({}), auth)).status, 400);
  });

  it('refuses an HS256 token signed with the RSA public key as secret (no algorithm confusion)', async () => {
    const token = await tokenFor(gw, 'default-client');
    const kid = decodeProtectedHeader(token).kid!;
    const pair = (await gw.admin('GET', '/api/keypairs/portcullis-jwt-signing')).json();
    const { createPublicKey } = await import('node:crypto');
    const publicPem = createPublicKey({ key: pair.publicJwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    const header = Buffer.from(JSON.stringify({ alg: 'HS256', kid, typ: 'at+jwt' })).toString('base64url');
    const payload = token.split('.')[1];
    const signature = createHmac('sha256', publicPem).update(`${header}.${payload}`).digest('base64url');
    const confused = `${header}.${payload}.${signature}`;
    const res = await post(INTROSPECT_PATH, form({ token: confused }), {
      ...FORM,
      authorization: basic('default-client', SECRET),
    });
    assert.deepEqual(res.json(), { active: false });
    assert.equal((await gw.proxy('/', { headers: { authorization: `Bearer ${confused}` } })).status, 401);
  });

  it("revokes only the caller's own tokens; revocation is seen everywhere and survives a restart", async () => {
    const token = await tokenFor(gw, 'cc-client');
    // RFC 7009 §2.2: another client's token is answered as an unknown one, and left alive.
    const byOther = await post(REVOKE_PATH, form({ token }), {
      ...FORM,
      authorization: basic('default-client', SECRET),
    });
    assert.equal(byOther.status, 200);
    assert.equal(byOther.text, '');
    assert.equal((await gw.proxy('/', { headers: { authorization: `Bearer ${token}` } })).status, 200);
    const revoked = await post(REVOKE_PATH, form({ token, token_type_hint: 'access_token' }), {
      ...FORM,
      authorization: basic('cc-client', SECRET),
    });
    assert.equal(revoked.status, 200);
    assert.equal(
      (await post(REVOKE_PATH, form({ token: 'not-a-token' }), { ...FORM, authorization: basic('cc-client', SECRET) }))
        .status,
      200,
      'unknown tokens are not an error',
    );
    const denied = await gw.proxy('/', { headers: { authorization: `Bearer ${token}` } });
    assert.equal(denied.status, 401);
    assert.match(String(denied.headers['www-authenticate']), /error="invalid_token"/);
    assert.deepEqual(
      (await post(INTROSPECT_PATH, form({ token }), { ...FORM, authorization: basic('cc-client', SECRET) })).json(),
      { active: false },
    );

    const { dataDir } = gw;
    await gw.close({ keepData: true });
    gw = await startGateway({ dataDir });
    assert.equal(
      (await gw.proxy('/', { headers: { authorization: `Bearer ${token}` } })).status,
      401,
      'still revoked after a restart',
    );
    const fresh = await tokenFor(gw, 'cc-client');
    assert.equal((await gw.proxy('/', { headers: { authorization: `Bearer ${fresh}` } })).status, 200);
  });

  it('refuses a token whose API key was disabled, or which lacks authorization for the route', async () => {
    const token = await tokenFor(gw, 'other-client');
    assert.equal((await gw.proxy('/', { headers: { authorization: `Bearer ${token}` } })).status, 403);
    const good = await tokenFor(gw, 'default-client');
    const key = (await gw.admin('GET', '/api/apikeys/default-client')).json();
    await gw.admin('PUT', '/api/apikeys/default-client', { ...key, enabled: false });
    assert.equal((await gw.proxy('/', { headers: { authorization: `Bearer ${good}` } })).status, 401);
    await gw.admin('PUT', '/api/apikeys/default-client', {
      ...(await gw.admin('GET', '/api/apikeys/default-client')).json(),
      enabled: true,
    });
  });

  it('answers 401 with a Bearer challenge and no error code when no token is sent', async () => {
    const res = await gw.proxy('/');
    assert.equal(res.status, 401);
    assert.match(String(res.headers['www-authenticate']), /^Bearer realm="portcullis"$/);
  });

  it('does not answer on hosts outside its domain', async () => {
    const global = (await gw.admin('GET', '/api/global-config')).json();
    await gw.admin('PUT', '/api/global-config', {
      ...global,
      plugins: [{ plugin: 'client-credentials', config: { secure: false, domain: 'auth\\.example\\.com' } }],
    });
    assert.equal((await gw.proxy(JWKS_PATH, { host: 'other.example.com' })).status, 404);
    assert.equal((await gw.proxy(JWKS_PATH, { host: 'auth.example.com' })).status, 200);
    await gw.admin('PUT', '/api/global-config', {
      ...(await gw.admin('GET', '/api/global-config')).json(),
      plugins: global.plugins,
    });
  });

  it('refuses a configuration naming a missing key pair or an invalid domain pattern', async () => {
    const global = (await gw.admin('GET', '/api/global-config')).json();
    const res = await gw.admin('PUT', '/api/global-config', {
      ...global,
      plugins: [{ plugin: 'client-credentials', config: { defaultKeyPair: 'missing', domain: '(' } }],
    });
    assert.equal(res.status, 400);
    const paths = res.json().details.map((d: any) => d.path);
    assert.ok(paths.includes('/plugins/0/config/defaultKeyPair'));
    assert.ok(paths.includes('/plugins/0/config/domain'));
    const onRoute = await gw.admin('PUT', '/api/routes/orders', {
      ...(await gw.admin('GET', '/api/routes/orders')).json(),
      plugins: [{ plugin: 'client-credentials' }],
    });
    assert.equal(onRoute.status, 400, 'a global-only plugin cannot be attached to a route');
  });
});

describe('Plugin: client-credentials (HTTPS only by default)', () => {
  let gw: TestGateway;
  let upstream: Upstream;

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await oauthGateway(upstream, {
      pluginConfig: { secure: true },
      config: { proxy: { trustedProxies: ['127.0.0.1'] } },
    });
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  it('refuses the token endpoint over plain HTTP, accepts HTTPS terminated by a trusted proxy', async () => {
    const body = form({ grant_type: 'client_credentials', client_id: 'cc-client', client_secret: SECRET });
    const plain = await gw.proxy(TOKEN_PATH, { method: 'POST', headers: FORM, body });
    assert.equal(plain.status, 400);
    assert.equal(plain.json().error, 'invalid_request');
    const proxied = await gw.proxy(TOKEN_PATH, {
      method: 'POST',
      headers: { ...FORM, 'x-forwarded-proto': 'https' },
      body,
    });
    assert.equal(proxied.status, 200);
    assert.equal(
      decodeJwt(proxied.json().access_token).iss,
      gw.proxyUrl,
      'the issuer is configured (here the default public URL), not taken from the request',
    );
    assert.equal((await gw.proxy(JWKS_PATH)).status, 200, 'the JWKS is public');
  });
});

describe('Plugin: client-credentials (rotation with overlap, expiry)', () => {
  let gw: TestGateway;
  let upstream: Upstream;

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await oauthGateway(upstream, { pluginConfig: { expiration: 2000 } });
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  it('keeps the old public key until the tokens it signed have expired, then drops it', async () => {
    const oldToken = await tokenFor(gw, 'cc-client');
    const oldKid = decodeProtectedHeader(oldToken).kid;
    const rotated = await gw.admin('POST', '/api/keypairs/es-pair/rotate', { retireAfterSeconds: 0 });
    assert.equal(rotated.status, 200);
    const newKid = rotated.json().kid;
    assert.notEqual(newKid, oldKid);
    const kids = (await gw.proxy(JWKS_PATH)).json().keys.map((k: any) => k.kid);
    assert.ok(kids.includes(oldKid) && kids.includes(newKid), 'both keys published during the overlap');
    assert.equal(
      (await gw.proxy('/', { headers: { authorization: `Bearer ${oldToken}` } })).status,
      200,
      'old tokens still work',
    );
    const newToken = await tokenFor(gw, 'cc-client');
    assert.equal(decodeProtectedHeader(newToken).kid, newKid, 'the new key signs from now on');
    await new Promise((r) => setTimeout(r, 2600));
    const after = (await gw.proxy(JWKS_PATH)).json().keys.map((k: any) => k.kid);
    assert.ok(!after.includes(oldKid), 'the old key left once its tokens expired');
    assert.ok(after.includes(newKid));
    const expired = await gw.proxy('/', { headers: { authorization: `Bearer ${newToken}` } });
    assert.equal(expired.status, 401, 'expired token refused');
    assert.match(
      String(expired.headers['www-authenticate']),
      /error="invalid_token", error_description="The token has expired"/,
    );
    const introspected = await gw.proxy(INTROSPECT_PATH, {
      method: 'POST',
      headers: FORM,
      body: form({ token: newToken, client_id: 'cc-client', client_secret: SECRET }),
    });
    assert.deepEqual(introspected.json(), { active: false });
  });
});
