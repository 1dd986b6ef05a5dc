/**
 * Regression (issue 21, "nothing security-relevant from the request"): on an `oauth2` route the
 * accepted `aud` of a `private_key_jwt` assertion, the metadata's issuer and the JWT `iss` were
 * built from the Host header, so an assertion signed for another server (`aud`
 * `http://evil.example/…/oauth2/token`) was accepted when replayed with `Host: evil.example`. The
 * issuer now comes from configuration only (the plugin's `issuer`, else `proxy.publicUrl` plus the
 * route's prefix, else the route's one fixed host), on every route shape and at both token
 * endpoints; a route with none is refused when written. Also: the metadata of a route issuing JWT
 * access tokens names its `jwks_uri`, so oauth4webapi's RFC 9068 validation works from discovery alone.
 */
import 'reflect-metadata';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import * as oauth from 'oauth4webapi';
import { startGateway, createRoute, route, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import { basic, type TestResponse } from '../../helpers/http.js';
import { form } from './fixtures.js';
import { routeIssuer } from '../../../core/oauth/issuer.js';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const PROVISION_KEY = 'provision-key-0123456789abcdef-0123456789';
const PUBLIC_URL = 'https://gateway.example';
const CC_TOKEN_PATH = '/.well-known/otoroshi/oauth/token';
const METADATA = '/.well-known/oauth-authorization-server';
const SECRET = 'pkj-test-secret-0123456789abcdef';

const oauth2 = (config: Record<string, unknown> = {}) => ({
  plugin: 'oauth2',
  config: { provisionKey: PROVISION_KEY, requireHttps: false, enableClientCredentials: true, ...config },
});

/** A client that authenticates with `private_key_jwt` (its public key registered on the API key). */
async function assertionClient(gw: TestGateway, clientId: string): Promise<(aud: string) => Promise<string>> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] };
  const created = await gw.admin('POST', '/api/apikeys', {
    clientId,
    clientName: clientId,
    tokenEndpointAuthMethod: 'private_key_jwt',
    jwks,
  });
  assert.equal(created.status, 201, created.text);
  return (aud: string) => sign(privateKey, clientId, aud);
}

function sign(key: CryptoKey, clientId: string, aud: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: clientId, sub: clientId, aud, jti: randomUUID(), iat: now, exp: now + 60 })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .sign(key);
}

function postAssertion(gw: TestGateway, path: string, host: string, assertion: string): Promise<TestResponse> {
  return gw.proxy(path, {
    method: 'POST',
    host,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form({
      grant_type: 'client_credentials',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: assertion,
    }),
  });
}

function assertRefused(res: TestResponse, what: string): void {
  assert.equal(res.status, 401, `${what}: ${res.text}`);
  assert.equal(res.json().error, 'invalid_client', what);
  assert.match(res.json().error_description, /audience/, what);
}

describe('Plugin: oauth2 (issuer and assertion audience from configuration, never from Host)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let assertion: (aud: string) => Promise<string>;

  // Every route shape: exact host, wildcard host, any host, path prefix; the public URL is configured.
  const shapes = [
    { id: 'exact', domain: 'pkj.test', prefix: '', host: 'pkj.test:4443', forged: 'http://pkj.test:4443' },
    { id: 'wildcard', domain: '*.example/w', prefix: '/w', host: 'evil.example', forged: 'http://evil.example' },
    { id: 'any', domain: '*', prefix: '', host: 'evil.example', forged: 'http://evil.example' },
    { id: 'prefixed', domain: 'pkj.test/pfx', prefix: '/pfx', host: 'pkj.test:4443', forged: 'http://pkj.test:4443' },
  ] as const;

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await startGateway({ config: { proxy: { publicUrl: `${PUBLIC_URL}/` } } });
    for (const shape of shapes)
      await createRoute(
        gw,
        route(shape.id, upstream.url, { frontend: { domains: [shape.domain] }, plugins: [oauth2()] }),
      );
    assertion = await assertionClient(gw, 'pkj-client');
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  for (const shape of shapes) {
    it(`${shape.id} route (${shape.domain}): an assertion for another server is refused with Host ${shape.host}; one for the configured issuer passes`, async () => {
      const tokenPath = `${shape.prefix}/oauth2/token`;
      assertRefused(
        await postAssertion(gw, tokenPath, shape.host, await assertion(`${shape.forged}${tokenPath}`)),
        'aud of the forged host',
      );
      assertRefused(
        await postAssertion(gw, tokenPath, shape.host, await assertion(`${shape.forged}${shape.prefix}`)),
        'issuer of the forged host',
      );
      const ok = await postAssertion(gw, tokenPath, shape.host, await assertion(`${PUBLIC_URL}${tokenPath}`));
      assert.equal(ok.status, 200, ok.text);
      const introspected = await gw.proxy(`${shape.prefix}/oauth2/introspect`, {
        method: 'POST',
        host: shape.host,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form({
          token: ok.json().access_token,
          client_assertion_type: ASSERTION_TYPE,
          client_assertion: await assertion(`${PUBLIC_URL}${shape.prefix}`),
        }),
      });
      assert.equal(introspected.json().active, true, introspected.text);
    });
  }

  it('the metadata of a wildcard route names the configured issuer whatever the Host, without Vary: Host', async () => {
    for (const host of ['evil.example', 'other.example:8443']) {
      const res = await gw.proxy(`/w${METADATA}`, { host });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json().issuer, `${PUBLIC_URL}/w`, host);
      assert.equal(res.json().token_endpoint, `${PUBLIC_URL}/w/oauth2/token`, host);
      assert.doesNotMatch(String(res.headers.vary ?? ''), /host/i);
    }
    assert.equal((await gw.proxy(METADATA, { host: 'evil.example' })).json().issuer, PUBLIC_URL, 'the * route');
  });

  it("the plugin's issuer wins over proxy.publicUrl, for the metadata and the assertion audience", async () => {
    await createRoute(
      gw,
      route('own-issuer', upstream.url, {
        frontend: { domains: ['*.own.test'] },
        plugins: [oauth2({ issuer: 'https://auth.own.test/' })],
      }),
    );
    assert.equal((await gw.proxy(METADATA, { host: 'evil.own.test' })).json().issuer, 'https://auth.own.test');
    assertRefused(
      await postAssertion(gw, '/oauth2/token', 'evil.own.test', await assertion('http://evil.own.test/oauth2/token')),
      'aud of the forged host',
    );
    assert.equal(
      (await postAssertion(gw, '/oauth2/token', 'evil.own.test', await assertion('https://auth.own.test/oauth2/token')))
        .status,
      200,
    );
  });
});

describe('Plugin: client-credentials (assertion audience never from Host)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let assertion: (aud: string) => Promise<string>;

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await startGateway({ config: { proxy: { publicUrl: PUBLIC_URL } } });
    assertion = await assertionClient(gw, 'pkj-client');
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  async function useSink(config: Record<string, unknown>): Promise<void> {
    const global = (await gw.admin('GET', '/api/global-config')).json();
    const res = await gw.admin('PUT', '/api/global-config', {
      ...global,
      plugins: [{ plugin: 'client-credentials', config: { secure: false, ...config } }],
    });
    assert.equal(res.status, 200, res.text);
  }

  it('with the configured issuer: an assertion for evil.example is refused with Host: evil.example', async () => {
    await useSink({});
    assertRefused(
      await postAssertion(gw, CC_TOKEN_PATH, 'evil.example', await assertion(`http://evil.example${CC_TOKEN_PATH}`)),
      'aud of the forged host',
    );
    assertRefused(
      await postAssertion(gw, CC_TOKEN_PATH, 'evil.example', await assertion('http://evil.example')),
      'issuer of the forged host',
    );
    assert.equal(
      (await postAssertion(gw, CC_TOKEN_PATH, 'evil.example', await assertion(`${PUBLIC_URL}${CC_TOKEN_PATH}`))).status,
      200,
    );
  });

  it('with issuerFromHost: a host outside domain gets no token endpoint, a listed host its own issuer only', async () => {
    await useSink({ issuerFromHost: true, domain: 'auth\\.a\\.test' });
    const outside = await postAssertion(
      gw,
      CC_TOKEN_PATH,
      'evil.example',
      await assertion(`http://evil.example${CC_TOKEN_PATH}`),
    );
    assert.equal(outside.status, 404, outside.text);
    assertRefused(
      await postAssertion(gw, CC_TOKEN_PATH, 'auth.a.test', await assertion(`http://evil.example${CC_TOKEN_PATH}`)),
      'aud of an unlisted host',
    );
    assert.equal(
      (await postAssertion(gw, CC_TOKEN_PATH, 'auth.a.test', await assertion(`http://auth.a.test${CC_TOKEN_PATH}`)))
        .status,
      200,
    );
  });
});

describe('Plugin: oauth2 (a route without an issuer is refused when written)', () => {
  let gw: TestGateway;
  let upstream: Upstream;

  before(async () => {
    upstream = await startUpstream(echo);
    // No proxy.publicUrl: the listener's own address does not count as the routes' issuer.
    gw = await startGateway();
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  const shapes = [['*.wild.test'], ['*'], ['a.test', 'b.test'], ['a.test/v1', 'a.test/v2']];
  shapes.forEach((domains, index) => {
    it(`refuses domains ${JSON.stringify(domains)} without issuer or proxy.publicUrl, naming both; accepts them with issuer`, async () => {
      const id = `no-issuer-${index}`;
      const refused = await gw.admin(
        'POST',
        '/api/routes',
        route(id, upstream.url, { frontend: { domains }, plugins: [oauth2()] }),
      );
      assert.equal(refused.status, 400, refused.text);
      const detail = refused.json().details.find((d: { path: string }) => d.path === '/plugins/0/config');
      assert.ok(detail, refused.text);
      assert.match(detail.message, /`issuer`/);
      if (new Set(domains.map((d) => d.split('/')[1])).size === 1) assert.match(detail.message, /proxy\.publicUrl/);
      const accepted = await gw.admin(
        'POST',
        '/api/routes',
        route(id, upstream.url, { frontend: { domains }, plugins: [oauth2({ issuer: 'https://auth.example.com' })] }),
      );
      assert.equal(accepted.status, 201, accepted.text);
    });
  });

  it('a route with one fixed host takes its issuer from that host (https, http without requireHttps), not from Host', async () => {
    await createRoute(
      gw,
      route('fixed', upstream.url, { frontend: { domains: ['Fixed.test/v1'] }, plugins: [oauth2()] }),
    );
    const res = await gw.proxy(`/v1${METADATA}`, { host: 'fixed.test:4443' });
    assert.equal(res.json().issuer, 'http://fixed.test/v1');
    assert.deepEqual(routeIssuer({ requireHttps: true }, [{ host: 'tls.test', prefix: '' }], undefined), {
      issuer: 'https://tls.test',
    });
  });

  it('refuses a global oauth2 instance that a wildcard route would inherit without an issuer, naming the route', async () => {
    await createRoute(gw, route('inherits', upstream.url, { frontend: { domains: ['*.inherit.test'] } }));
    const global = (await gw.admin('GET', '/api/global-config')).json();
    const refused = await gw.admin('PUT', '/api/global-config', { ...global, plugins: [oauth2()] });
    assert.equal(refused.status, 400, refused.text);
    const detail = refused.json().details.find((d: { message: string }) => d.message.includes('"inherits"'));
    assert.ok(detail, refused.text);
    assert.equal(detail.path, '/plugins/0/config');
    assert.match(detail.message, /`issuer`/);
    const fixed = await gw.admin('PUT', '/api/global-config', {
      ...global,
      plugins: [oauth2({ issuer: 'https://auth.example.com' })],
    });
    assert.equal(fixed.status, 200, fixed.text);
    assert.equal(
      (
        await gw.admin('PUT', '/api/global-config', {
          ...(await gw.admin('GET', '/api/global-config')).json(),
          plugins: [],
        })
      ).status,
      200,
    );
    assert.equal((await gw.admin('DELETE', '/api/routes/inherits')).status, 204);
  });

  it('an issuer that is not a URL is refused at /issuer', async () => {
    const res = await gw.admin(
      'POST',
      '/api/routes',
      route('bad-issuer', upstream.url, { plugins: [oauth2({ issuer: 'http://[::1' })] }),
    );
    assert.equal(res.status, 400, res.text);
    assert.ok(
      res.json().details.some((d: { path: string }) => d.path.endsWith('/issuer')),
      res.text,
    );
  });
});

describe('Plugin: oauth2 (jwks_uri for RFC 9068 validators)', () => {
  let gw: TestGateway;
  let upstream: Upstream;

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await startGateway();
    // oauth4webapi fetches what the issuer names, so the issuer is the loopback URL the test reaches.
    await createRoute(
      gw,
      route('jwt-api', upstream.url, {
        frontend: { domains: ['127.0.0.1'] },
        plugins: [oauth2({ tokenFormat: 'jwt', issuer: gw.proxyUrl })],
      }),
    );
    const created = await gw.admin('POST', '/api/apikeys', {
      clientId: 'rs-client',
      clientName: 'Resource server',
      clientSecret: SECRET,
    });
    assert.equal(created.status, 201, created.text);
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  it('oauth4webapi validates an access token with validateJwtAccessToken from the discovered metadata alone', async () => {
    const issuer = new URL(gw.proxyUrl);
    const options = { algorithm: 'oauth2' as const, [oauth.allowInsecureRequests]: true };
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, options));
    assert.equal(as.jwks_uri, `${gw.proxyUrl}/oauth2/jwks`);
    const issued = await gw.proxy('/oauth2/token', {
      method: 'POST',
      host: '127.0.0.1',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('rs-client', SECRET) },
      body: form({ grant_type: 'client_credentials' }),
    });
    assert.equal(issued.status, 200, issued.text);
    const request = new Request(`${gw.proxyUrl}/orders`, {
      headers: { authorization: `Bearer ${issued.json().access_token}` },
    });
    const claims = await oauth.validateJwtAccessToken(as, request, 'urn:portcullis:oauth2:route:jwt-api', {
      [oauth.allowInsecureRequests]: true,
    });
    assert.equal(claims.iss, gw.proxyUrl);
    assert.equal(claims.client_id, 'rs-client');
  });

  it('serves the JWK Set at {issuer}/oauth2/jwks and no jwks_uri for opaque tokens', async () => {
    const jwks = await gw.proxy('/oauth2/jwks', { host: '127.0.0.1' });
    assert.equal(jwks.status, 200, jwks.text);
    assert.match(String(jwks.headers['content-type']), /application\/jwk-set\+json/);
    assert.ok(jwks.json().keys.length > 0);
    await createRoute(
      gw,
      route('opaque-api', upstream.url, { frontend: { domains: ['opaque.test'] }, plugins: [oauth2()] }),
    );
    assert.equal((await gw.proxy(METADATA, { host: 'opaque.test' })).json().jwks_uri, undefined);
  });
});
