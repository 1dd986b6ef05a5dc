import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, createPublicKey } from 'node:crypto';
import { decodeProtectedHeader, decodeJwt, jwtVerify, createRemoteJWKSet, SignJWT } from 'jose';
import { startGateway, createRoute, route, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import { oauthGateway, tokenFor, SECRET, JWKS_PATH } from '../client-credentials/fixtures.js';
import { ecKey, signWith } from './fixtures.js';

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('Plugin: jwt-verifier (scopes per route and method, gateway tokens)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  const tokens: Record<string, string> = {};

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await oauthGateway(upstream);
    const issuer = gw.proxyUrl; // the default issuer: the proxy's public URL
    const verifier = await gw.admin('POST', '/api/jwt-verifiers', {
      id: 'gateway',
      name: 'Gateway tokens',
      keys: { kind: 'keypairs' },
      algorithms: ['RS256', 'ES256'],
      issuer: [issuer],
      typ: 'at+jwt',
      leewaySeconds: 0,
    });
    assert.equal(verifier.status, 201, verifier.text);
    await createRoute(
      gw,
      route('scoped', upstream.url, {
        frontend: { domains: ['scoped.test'] },
        plugins: [
          {
            plugin: 'jwt-verifier',
            config: {
              verifiers: ['gateway'],
              rules: [
                { methods: ['GET'], path: '/.*', requiredScopes: ['read'] },
                { methods: ['POST'], path: '/post', requiredScopes: ['write'] },
              ],
            },
          },
        ],
      }),
    );
    for (const [name, scopes] of Object.entries({
      read: ['read'],
      write: ['write'],
      both: ['read', 'write'],
      none: [],
    })) {
      const res = await gw.admin('POST', '/api/apikeys', {
        clientId: `jv-${name}`,
        clientSecret: SECRET,
        clientName: name,
        scopes,
      });
      assert.equal(res.status, 201, res.text);
      tokens[name] = await tokenFor(gw, `jv-${name}`);
    }
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  const call = (method: string, path: string, token?: string) =>
    gw.proxy(path, { host: 'scoped.test', method, headers: token ? bearer(token) : {} });

  it('GET needs read, POST /post needs write: 200/403 for every token', async () => {
    const expected: Record<string, [number, number]> = {
      read: [200, 403],
      write: [403, 200],
      both: [200, 200],
      none: [403, 403],
    };
    for (const [name, [getStatus, postStatus]] of Object.entries(expected)) {
      assert.equal((await call('GET', '/items', tokens[name])).status, getStatus, `GET with ${name}`);
      assert.equal((await call('POST', '/post', tokens[name])).status, postStatus, `POST with ${name}`);
    }
  });

  it('403 insufficient_scope carries the scope needed (RFC 6750)', async () => {
    const res = await call('POST', '/post', tokens.read);
    assert.equal(res.status, 403);
    assert.equal(res.json().error, 'insufficient_scope');
    const challenge = String(res.headers['www-authenticate']);
    assert.match(challenge, /^Bearer realm="portcullis", error="insufficient_scope"/);
    assert.match(challenge, /scope="write"/);
  });

  it('denies by default what no rule matches', async () => {
    const res = await call('DELETE', '/items', tokens.both);
    assert.equal(res.status, 403);
    assert.equal(res.json().error, 'forbidden');
  });

  it('401 without an error code when there is no token at all', async () => {
    const res = await call('GET', '/items');
    assert.equal(res.status, 401);
    assert.equal(res.headers['www-authenticate'], 'Bearer realm="portcullis"');
  });

  it('401 invalid_token for expired, unknown-key, alg none, HS256-with-public-key and tampered tokens', async () => {
    const claims = decodeJwt(tokens.both!);
    const { privateKey } = ecKey('stranger');
    const unknownKey = await signWith(privateKey, 'stranger', claims);
    const expired = await signWith(privateKey, decodeProtectedHeader(tokens.both!).kid!, {
      ...claims,
      exp: Math.floor(Date.now() / 1000) - 10,
    });
    const [h, p] = tokens.both!.split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid: decodeProtectedHeader(tokens.both!).kid })).toString('base64url')}.${p}.`;
    const defaultPair = (await gw.admin('GET', '/api/keypairs/portcullis-jwt-signing')).json();
    const pem = createPublicKey({ key: defaultPair.publicJwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    const hsHeader = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'at+jwt', kid: defaultPair.kid })).toString(
      'base64url',
    );
    const confused = `${hsHeader}.${p}.${createHmac('sha256', pem).update(`${hsHeader}.${p}`).digest('base64url')}`;
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, scope: 'read write admin' })).toString('base64url')}.${tokens.both!.split('.')[2]}`;
    for (const [what, token] of Object.entries({
      unknownKey,
      expired,
      none,
      confused,
      tampered,
      garbage: 'not.a.jwt',
    })) {
      const res = await call('GET', '/items', token);
      assert.equal(res.status, 401, what);
      assert.equal(res.json().error, 'invalid_token', what);
      assert.match(
        String(res.headers['www-authenticate']),
        /^Bearer realm="portcullis", error="invalid_token", error_description="/,
        what,
      );
    }
  });

  it('refuses a token revoked at the client credentials service, even after it was cached', async () => {
    const token = await tokenFor(gw, 'jv-read');
    assert.equal((await call('GET', '/x', token)).status, 200);
    const revoke = await gw.proxy('/.well-known/otoroshi/oauth/token/revoke', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, client_id: 'jv-read', client_secret: SECRET }).toString(),
    });
    assert.equal(revoke.status, 200);
    assert.equal((await call('GET', '/x', token)).status, 401);
  });

  it('validates verifiers on write: no alg none, no HMAC with public keys, a secret of 32 bytes, hidden once stored', async () => {
    const none = await gw.admin('POST', '/api/jwt-verifiers', {
      name: 'x',
      keys: { kind: 'keypairs' },
      algorithms: ['none'],
    });
    assert.equal(none.status, 400);
    const confused = await gw.admin('POST', '/api/jwt-verifiers', {
      name: 'x',
      keys: { kind: 'jwks', url: 'http://127.0.0.1:1/jwks' },
      algorithms: ['RS256', 'HS256'],
    });
    assert.equal(confused.status, 400);
    assert.equal(confused.json().details[0].path, '/algorithms/1');
    const short = await gw.admin('POST', '/api/jwt-verifiers', {
      name: 'x',
      keys: { kind: 'hmac', secret: 'too-short' },
      algorithms: ['HS256'],
    });
    assert.equal(short.status, 400);
    const hmac = await gw.admin('POST', '/api/jwt-verifiers', {
      id: 'hmac',
      name: 'HMAC',
      keys: { kind: 'hmac', secret: 'a-shared-secret-of-at-least-32-bytes!!' },
      algorithms: ['HS256'],
    });
    assert.equal(hmac.status, 201, hmac.text);
    assert.equal(hmac.json().keys.secret, undefined, 'the secret is not shown');
    const edited = await gw.admin('PUT', '/api/jwt-verifiers/hmac', { ...hmac.json(), name: 'Renamed' });
    assert.equal(edited.status, 200, 'a PUT without the secret keeps it');
    const unknownVerifier = await gw.admin(
      'POST',
      '/api/routes',
      route('bad-jv', upstream.url, { plugins: [{ plugin: 'jwt-verifier', config: { verifiers: ['missing'] } }] }),
    );
    assert.equal(unknownVerifier.status, 400);
    assert.equal(unknownVerifier.json().details[0].path, '/plugins/0/config/verifiers/0');
  });

  it('reads tokens from a query parameter or a cookie, and HMAC tokens verify with the shared secret', async () => {
    const secret = 'a-shared-secret-of-at-least-32-bytes!!';
    const hsToken = await new SignJWT({ sub: 'u1', scope: 'read' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('5m')
      .sign(Buffer.from(secret));
    await createRoute(
      gw,
      route('sources', upstream.url, {
        frontend: { domains: ['sources.test'] },
        plugins: [
          {
            plugin: 'jwt-verifier',
            config: {
              verifier: {
                keys: { kind: 'hmac', secret },
                algorithms: ['HS256'],
                source: { kind: 'query', name: 'access_token' },
              },
              upstream: { strategy: 'strip' },
            },
          },
        ],
      }),
    );
    const viaQuery = await gw.proxy(`/x?access_token=${hsToken}&keep=1`, { host: 'sources.test' });
    assert.equal(viaQuery.status, 200);
    assert.equal(viaQuery.json().url, '/x?keep=1', 'the token is stripped from the query');
    await createRoute(
      gw,
      route('cookies', upstream.url, {
        frontend: { domains: ['cookies.test'] },
        plugins: [
          {
            plugin: 'jwt-verifier',
            config: {
              verifier: {
                keys: { kind: 'hmac', secret },
                algorithms: ['HS256'],
                source: { kind: 'cookie', name: 'session' },
              },
              upstream: { strategy: 'strip' },
            },
          },
        ],
      }),
    );
    const viaCookie = await gw.proxy('/x', {
      host: 'cookies.test',
      headers: { cookie: `theme=dark; session=${hsToken}` },
    });
    assert.equal(viaCookie.status, 200);
    assert.equal(viaCookie.json().headers.cookie, 'theme=dark');
    assert.equal((await gw.proxy('/x', { host: 'cookies.test' })).status, 401);
    const badEscape = await gw.proxy('/x', { host: 'cookies.test', headers: { cookie: 'session=%zz' } });
    assert.equal(badEscape.status, 401, 'a malformed percent-escape is a bad token, not a server error');
  });

  it('re-sign: the upstream receives a new token signed by a gateway key pair, never the original', async () => {
    await createRoute(
      gw,
      route('resign', upstream.url, {
        frontend: { domains: ['resign.test'] },
        plugins: [
          {
            plugin: 'jwt-verifier',
            config: {
              verifiers: ['gateway'],
              upstream: {
                strategy: 're-sign',
                reSign: { keyPair: 'es-pair', issuer: 'portcullis-internal', audience: 'orders-service' },
              },
            },
          },
        ],
      }),
    );
    const res = await gw.proxy('/x', { host: 'resign.test', headers: bearer(tokens.both!) });
    assert.equal(res.status, 200);
    const forwarded = String(res.json().headers.authorization).replace(/^Bearer /, '');
    assert.notEqual(forwarded, tokens.both);
    const { payload, protectedHeader } = await jwtVerify(
      forwarded,
      createRemoteJWKSet(new URL(`${gw.proxyUrl}${JWKS_PATH}`)),
      { issuer: 'portcullis-internal', audience: 'orders-service' },
    );
    assert.equal(protectedHeader.kid, (await gw.admin('GET', '/api/keypairs/es-pair')).json().kid);
    assert.equal(payload.sub, 'jv-both');
    assert.equal(payload.scope, 'read write');
    assert.ok(payload.exp! <= decodeJwt(tokens.both!).exp!, 'never outlives the original');
  });

  it('claims-to-headers: the upstream receives claims as headers, forged ones removed', async () => {
    await createRoute(
      gw,
      route('claims', upstream.url, {
        frontend: { domains: ['claims.test'] },
        plugins: [
          {
            plugin: 'jwt-verifier',
            config: {
              verifiers: ['gateway'],
              upstream: {
                strategy: 'claims-to-headers',
                claimsToHeaders: { sub: 'X-User-Id', scope: 'X-User-Scopes', missing: 'X-Missing' },
              },
            },
          },
        ],
      }),
    );
    const res = await gw.proxy('/x', {
      host: 'claims.test',
      headers: { ...bearer(tokens.both!), 'x-user-id': 'admin', 'x-missing': 'forged' },
    });
    assert.equal(res.status, 200);
    const headers = res.json().headers;
    assert.equal(headers['x-user-id'], 'jv-both');
    assert.equal(headers['x-user-scopes'], 'read write');
    assert.equal(headers['x-missing'], undefined);
  });
});

describe('Plugin: jwt-verifier (required claims, issuer and audience)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  const secret = 'another-shared-secret-of-32-bytes-or-more';

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await startGateway();
    await createRoute(
      gw,
      route('claims', upstream.url, {
        plugins: [
          {
            plugin: 'jwt-verifier',
            config: {
              verifier: {
                keys: { kind: 'hmac', secret },
                algorithms: ['HS256'],
                issuer: 'https://issuer.example',
                audience: ['orders', 'billing'],
                leewaySeconds: 0,
                maxAgeSeconds: 600,
                requiredClaims: {
                  tenant: { equals: 'acme' },
                  tier: { oneOf: ['gold', 'silver'] },
                  email: { regex: '[^@]+@acme\\.com' },
                  roles: { contains: 'admin' },
                },
              },
            },
          },
        ],
      }),
    );
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  const sign = async (claims: Record<string, unknown>, iat?: number) => {
    const jwt = new SignJWT({
      iss: 'https://issuer.example',
      aud: 'billing',
      tenant: 'acme',
      tier: 'gold',
      email: 'ann@acme.com',
      roles: ['user', 'admin'],
      ...claims,
    })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('5m');
    if (iat !== undefined) jwt.setIssuedAt(iat);
    else jwt.setIssuedAt();
    return jwt.sign(Buffer.from(secret));
  };
  const status = async (token: string) => await gw.proxy('/', { headers: { authorization: `Bearer ${token}` } });

  it('accepts a token meeting every rule, with one issuer and any of the audiences', async () => {
    assert.equal((await status(await sign({}))).status, 200);
  });

  for (const [what, claims, message] of [
    ['a claim with another value', { tenant: 'other' }, /tenant/],
    ['a value outside oneOf', { tier: 'bronze' }, /tier/],
    ['a claim failing the regex', { email: 'ann@evil.com' }, /email/],
    ['an array without the value', { roles: ['user'] }, /roles/],
    ['a missing claim', { tenant: undefined }, /lacks the claim "tenant"/],
    ['another issuer', { iss: 'https://other.example' }, /iss/],
    ['another audience', { aud: 'shipping' }, /aud/],
  ] as const) {
    it(`refuses ${what}`, async () => {
      const res = await status(await sign(claims));
      assert.equal(res.status, 401);
      assert.match(res.json().error_description, message);
    });
  }

  it('refuses a token older than maxAgeSeconds', async () => {
    const res = await status(await sign({}, Math.floor(Date.now() / 1000) - 3600));
    assert.equal(res.status, 401);
  });
});

describe("Plugin: jwt-verifier (claims are the token's own)", () => {
  let gw: TestGateway;
  let upstream: Upstream;
  const secret = 'a-third-shared-secret-of-32-bytes-or-more';

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await startGateway();
    await createRoute(
      gw,
      route('own-claims', upstream.url, {
        plugins: [
          {
            plugin: 'jwt-verifier',
            config: {
              verifier: { keys: { kind: 'hmac', secret }, algorithms: ['HS256'], requiredClaims: { constructor: {} } },
              scopeClaim: 'toString',
              rules: [{ path: '/.*', requiredScopes: ['read'] }],
            },
          },
        ],
      }),
    );
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  const call = async (claims: Record<string, unknown>) => {
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(Buffer.from(secret));
    return gw.proxy('/', { headers: { authorization: `Bearer ${token}` } });
  };

  it('a required claim named like an Object.prototype member must be in the token', async () => {
    const missing = await call({ toString: 'read' });
    assert.equal(missing.status, 401);
    assert.match(missing.json().error_description, /lacks the claim "constructor"/);
    assert.equal((await call({ constructor: 'x', toString: 'read' })).status, 200);
  });

  it('a scope claim named like an Object.prototype member grants nothing unless the token has it', async () => {
    const res = await call({ constructor: 'x' });
    assert.equal(res.status, 403);
    assert.equal(res.json().error, 'insufficient_scope');
  });
});
