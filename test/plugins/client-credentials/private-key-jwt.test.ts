import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import * as client from 'openid-client';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, importPKCS8, type JWK, type CryptoKey } from 'jose';
import { createRoute, route, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import { basic } from '../../helpers/http.js';
import { oauthGateway, form, SECRET, TOKEN_PATH, INTROSPECT_PATH } from './fixtures.js';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const PROVISION_KEY = 'provision-key-0123456789abcdef-0123456789';

/** A self-signed EC P-256 certificate and its private key, made with the system's openssl. */
function selfSignedCertificate(): { certificate: string; privateKeyPem: string } {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-client-cert-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=cert-client',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    return {
      certificate: readFileSync(join(dir, 'cert.pem'), 'utf8'),
      privateKeyPem: readFileSync(join(dir, 'key.pem'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A client's JWKS published by a real local HTTP server, counting the fetches. */
async function startJwksServer(
  keys: () => JWK[],
): Promise<{ url: string; fetches: () => number; close(): Promise<void> }> {
  let fetches = 0;
  const server: Server = createServer((_req, res) => {
    fetches++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: keys() }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
    fetches: () => fetches,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('Plugin: client-credentials (private_key_jwt client authentication, RFC 7523)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let jwksServer: Awaited<ReturnType<typeof startJwksServer>>;
  let esKey: { privateKey: CryptoKey; publicKey: CryptoKey };
  let rsKey: { privateKey: CryptoKey; publicKey: CryptoKey };
  let tokenUrl: string;
  let issuer: string;
  let rotatedKey: JWK | null = null;

  before(async () => {
    esKey = await generateKeyPair('ES256', { extractable: true });
    rsKey = await generateKeyPair('RS256', { extractable: true });
    const publicJwk = { ...(await exportJWK(esKey.publicKey)), kid: 'es-1', alg: 'ES256', use: 'sig' };
    jwksServer = await startJwksServer(() => (rotatedKey ? [publicJwk, rotatedKey] : [publicJwk]));
    upstream = await startUpstream(echo);
    gw = await oauthGateway(upstream);
    issuer = gw.proxyUrl;
    tokenUrl = `${gw.proxyUrl}${TOKEN_PATH}`;
    for (const body of [
      {
        clientId: 'jwks-client',
        clientName: 'Signs with a key published at its JWKS URL',
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwksUri: jwksServer.url,
        scopes: ['read'],
        authorizedEntities: ['orders'],
      },
      {
        clientId: 'pem-client',
        clientName: 'Signs with a registered PEM key',
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwks: await exportSPKI(rsKey.publicKey),
        scopes: ['read'],
        authorizedEntities: ['orders'],
      },
    ]) {
      const created = await gw.admin('POST', '/api/apikeys', body);
      assert.equal(created.status, 201, created.text);
      assert.equal(created.json().clientSecret, undefined, 'a private_key_jwt client gets no secret');
    }
  });
  after(async () => {
    await gw.close();
    await upstream.close();
    await jwksServer.close();
  });

  function assertion(
    claims: Record<string, unknown> = {},
    options: { key?: CryptoKey | Uint8Array; alg?: string; kid?: string | null } = {},
  ): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const payload = {
      iss: 'jwks-client',
      sub: 'jwks-client',
      aud: tokenUrl,
      jti: randomUUID(),
      iat: now,
      exp: now + 60,
      ...claims,
    };
    for (const [name, value] of Object.entries(payload))
      if (value === undefined) delete (payload as Record<string, unknown>)[name];
    const kid = options.kid === undefined ? 'es-1' : options.kid;
    return new SignJWT(payload)
      .setProtectedHeader({ alg: options.alg ?? 'ES256', ...(kid === null ? {} : { kid }) })
      .sign(options.key ?? esKey.privateKey);
  }

  function tokenRequest(clientAssertion: string, extra: Record<string, string> = {}, path = TOKEN_PATH) {
    return gw.proxy(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form({
        grant_type: 'client_credentials',
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: clientAssertion,
        ...extra,
      }),
    });
  }

  function assertInvalidClient(res: { status: number; json(): any; text: string }, description?: RegExp) {
    assert.equal(res.status, 401, res.text);
    assert.equal(res.json().error, 'invalid_client');
    if (description) assert.match(res.json().error_description, description);
  }

  it('advertises private_key_jwt and its asymmetric algorithms in the server metadata', async () => {
    const meta = (await gw.proxy('/.well-known/oauth-authorization-server')).json();
    assert.deepEqual(meta.token_endpoint_auth_methods_supported, [
      'client_secret_basic',
      'client_secret_post',
      'private_key_jwt',
    ]);
    assert.ok(meta.token_endpoint_auth_signing_alg_values_supported.includes('ES256'));
    assert.ok(meta.token_endpoint_auth_signing_alg_values_supported.includes('EdDSA'));
    assert.ok(
      !meta.token_endpoint_auth_signing_alg_values_supported.some(
        (alg: string) => alg.startsWith('HS') || alg === 'none',
      ),
    );
  });

  it('openid-client obtains a token with PrivateKeyJwt (key at the JWKS URL) and the token opens the API', async () => {
    const config = await client.discovery(
      new URL(gw.proxyUrl),
      'jwks-client',
      undefined,
      client.PrivateKeyJwt({ key: esKey.privateKey, kid: 'es-1' }),
      { execute: [client.allowInsecureRequests], algorithm: 'oauth2' },
    );
    const tokens = await client.clientCredentialsGrant(config, { scope: 'read' });
    assert.equal(tokens.scope, 'read');
    const called = await gw.proxy('/', { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(called.status, 200);
    assert.equal(called.json().headers['x-consumer-client-id'], 'jwks-client');
  });

  it('openid-client obtains a token with PrivateKeyJwt (registered PEM key, RS256)', async () => {
    const config = await client.discovery(
      new URL(gw.proxyUrl),
      'pem-client',
      undefined,
      client.PrivateKeyJwt(rsKey.privateKey),
      { execute: [client.allowInsecureRequests], algorithm: 'oauth2' },
    );
    const tokens = await client.clientCredentialsGrant(config);
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
  });

  it('accepts keys registered inline: a JWK Set (EdDSA), an X.509 certificate, a PEM key whatever kid the client sends', async () => {
    const ed = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const { certificate, privateKeyPem } = selfSignedCertificate();
    for (const body of [
      {
        clientId: 'jwk-client',
        clientName: 'Inline JWK Set',
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwks: { keys: [{ ...(await exportJWK(ed.publicKey)), kid: 'ed-1', alg: 'EdDSA' }] },
      },
      {
        clientId: 'cert-client',
        clientName: 'Registered certificate',
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwks: certificate,
      },
    ])
      assert.equal((await gw.admin('POST', '/api/apikeys', body)).status, 201);
    const as = (clientId: string) => ({ iss: clientId, sub: clientId });
    assert.equal(
      (await tokenRequest(await assertion(as('jwk-client'), { key: ed.privateKey, alg: 'EdDSA', kid: 'ed-1' }))).status,
      200,
    );
    assertInvalidClient(
      await tokenRequest(await assertion(as('jwk-client'), { key: ed.privateKey, alg: 'EdDSA', kid: 'ed-2' })),
      /not registered/,
    );
    assertInvalidClient(
      await tokenRequest(await assertion(as('jwk-client'), { key: esKey.privateKey, alg: 'ES256', kid: 'ed-1' })),
      /not registered/,
    );
    const certKey = await importPKCS8(privateKeyPem, 'ES256');
    assert.equal((await tokenRequest(await assertion(as('cert-client'), { key: certKey, kid: null }))).status, 200);
    assert.equal(
      (
        await tokenRequest(
          await assertion(as('pem-client'), { key: rsKey.privateKey, alg: 'RS256', kid: 'thumbprint-from-the-client' }),
        )
      ).status,
      200,
    );
  });

  it('accepts the token endpoint URL, the issuer, and the URL of the endpoint receiving the assertion as audience', async () => {
    assert.equal((await tokenRequest(await assertion({ aud: tokenUrl }))).status, 200);
    assert.equal((await tokenRequest(await assertion({ aud: issuer }))).status, 200);
    assert.equal((await tokenRequest(await assertion({ aud: ['https://elsewhere.test', issuer] }))).status, 200);
    const token = (await tokenRequest(await assertion())).json().access_token;
    const introspected = await gw.proxy(INTROSPECT_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form({
        token,
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: await assertion({ aud: `${gw.proxyUrl}${INTROSPECT_PATH}` }),
      }),
    });
    assert.equal(introspected.status, 200, introspected.text);
    assert.equal(introspected.json().active, true);
  });

  it('refuses a replayed assertion (its jti is remembered until exp)', async () => {
    const once = await assertion();
    assert.equal((await tokenRequest(once)).status, 200);
    assertInvalidClient(await tokenRequest(once), /already used/);
  });

  it('refuses an assertion addressed to another server', async () => {
    assertInvalidClient(await tokenRequest(await assertion({ aud: 'https://other-as.test/token' })), /audience/);
  });

  it('refuses an expired assertion, one without exp, and one living longer than maxLifetimeSeconds', async () => {
    const now = Math.floor(Date.now() / 1000);
    assertInvalidClient(await tokenRequest(await assertion({ iat: now - 600, exp: now - 120 })), /expired/);
    assertInvalidClient(await tokenRequest(await assertion({ exp: undefined })), /exp/);
    assertInvalidClient(await tokenRequest(await assertion({ exp: now + 3600 })), /longer than 300 seconds/);
    assertInvalidClient(
      await tokenRequest(await assertion({ iat: undefined, exp: now + 3600 })),
      /longer than 300 seconds/,
    );
    assertInvalidClient(await tokenRequest(await assertion({ jti: undefined })), /jti/);
  });

  it("refetches the client's JWKS on an unknown kid (a rotated key is then accepted), once per request, and not again within the cooldown", async () => {
    const setCooldown = async (seconds: number) => {
      const global = (await gw.admin('GET', '/api/global-config')).json();
      const res = await gw.admin('PUT', '/api/global-config', {
        ...global,
        plugins: [
          {
            plugin: 'client-credentials',
            config: { secure: false, clientAssertion: { jwksRefetchCooldownSeconds: seconds } },
          },
        ],
      });
      assert.equal(res.status, 200, res.text);
    };
    await setCooldown(0);
    try {
      assert.equal((await tokenRequest(await assertion())).status, 200); // the key set is loaded
      const loaded = jwksServer.fetches();
      rotatedKey = { ...(await exportJWK(esKey.publicKey)), kid: 'es-2', alg: 'ES256' };
      assert.equal((await tokenRequest(await assertion({}, { kid: 'es-2' }))).status, 200);
      assert.equal(jwksServer.fetches(), loaded + 1);
      assertInvalidClient(await tokenRequest(await assertion({}, { kid: 'never-published' })), /not registered/);
      assert.equal(jwksServer.fetches(), loaded + 2, 'one refetch, then refused');
      await setCooldown(3600);
      assert.equal((await tokenRequest(await assertion())).status, 200); // a new configuration loads the set again
      const reloaded = jwksServer.fetches();
      assertInvalidClient(await tokenRequest(await assertion({}, { kid: 'never-published' })), /not registered/);
      assertInvalidClient(await tokenRequest(await assertion({}, { kid: 'another-unknown' })), /not registered/);
      assert.equal(jwksServer.fetches(), reloaded, 'no refetch within the cooldown');
    } finally {
      rotatedKey = null;
      await setCooldown(30);
    }
  });

  it('refuses an assertion signed by another key under a known kid', async () => {
    const stranger = await generateKeyPair('ES256');
    assertInvalidClient(await tokenRequest(await assertion({}, { key: stranger.privateKey })), /signature/);
  });

  it("refuses HS256 assertions, even made with a secret client's real secret", async () => {
    const hmac = new TextEncoder().encode(SECRET);
    assertInvalidClient(
      await tokenRequest(
        await assertion({ iss: 'cc-client', sub: 'cc-client' }, { key: hmac, alg: 'HS256', kid: null }),
      ),
      /algorithm/,
    );
    assertInvalidClient(await tokenRequest(await assertion({}, { key: hmac, alg: 'HS256', kid: null })), /algorithm/);
  });

  it('refuses an unsigned assertion (alg none)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const unsigned = `${part({ alg: 'none' })}.${part({ iss: 'jwks-client', sub: 'jwks-client', aud: tokenUrl, jti: randomUUID(), exp: now + 60 })}.`;
    assertInvalidClient(await tokenRequest(unsigned), /algorithm/);
  });

  it('refuses an assertion whose iss or sub is not the client, or whose client_id differs', async () => {
    assertInvalidClient(await tokenRequest(await assertion({ iss: 'someone-else' })), /iss and sub/);
    assertInvalidClient(
      await tokenRequest(await assertion({ sub: 'pem-client', iss: 'pem-client' })),
      /not registered for this client/,
    );
    assertInvalidClient(await tokenRequest(await assertion(), { client_id: 'pem-client' }), /client_id/);
  });

  it('refuses an assertion for a client registered with a secret, and a secret for a private_key_jwt client', async () => {
    assertInvalidClient(
      await tokenRequest(await assertion({ iss: 'cc-client', sub: 'cc-client' })),
      /not registered for private_key_jwt/,
    );
    const basicTry = await gw.proxy(TOKEN_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('jwks-client', SECRET) },
      body: form({ grant_type: 'client_credentials' }),
    });
    assertInvalidClient(basicTry);
    assert.match(basicTry.headers['www-authenticate'] as string, /^Basic /);
    const both = await tokenRequest(await assertion(), { client_id: 'jwks-client', client_secret: SECRET });
    assert.equal(both.status, 400);
    assert.equal(both.json().error, 'invalid_request');
  });

  it('refuses a client registered for client_secret_basic that sends its secret in the body', async () => {
    const created = await gw.admin('POST', '/api/apikeys', {
      clientId: 'basic-only',
      clientSecret: SECRET,
      clientName: 'Basic only',
      tokenEndpointAuthMethod: 'client_secret_basic',
    });
    assert.equal(created.status, 201, created.text);
    const post = await gw.proxy(TOKEN_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ grant_type: 'client_credentials', client_id: 'basic-only', client_secret: SECRET }),
    });
    assertInvalidClient(post, /registered for client_secret_basic/);
    const viaBasic = await gw.proxy(TOKEN_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('basic-only', SECRET) },
      body: form({ grant_type: 'client_credentials' }),
    });
    assert.equal(viaBasic.status, 200, viaBasic.text);
  });

  it('validates the client-authentication fields at write time', async () => {
    const base = { clientName: 'Bad', tokenEndpointAuthMethod: 'private_key_jwt' };
    const symmetric = { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] };
    const privateJwk = { keys: [{ ...(await exportJWK(esKey.privateKey)) }] };
    const hmacAlg = { keys: [{ ...(await exportJWK(esKey.publicKey)), alg: 'HS256' }] };
    for (const [body, path] of [
      [{ ...base, jwksUri: 'not a url' }, '/jwksUri'],
      [{ ...base }, '/jwksUri'],
      [{ ...base, jwksUri: jwksServer.url, jwks: symmetric }, '/jwksUri'],
      [{ ...base, jwks: symmetric }, '/jwks'],
      [{ ...base, jwks: privateJwk }, '/jwks'],
      [{ ...base, jwks: hmacAlg }, '/jwks'],
      [{ ...base, jwks: '-----BEGIN PUBLIC KEY-----\ngarbage\n-----END PUBLIC KEY-----\n' }, '/jwks'],
      [{ ...base, jwksUri: jwksServer.url, clientSecret: SECRET }, '/clientSecret'],
      [{ clientName: 'Bad', clientSecret: SECRET, jwksUri: jwksServer.url }, '/jwksUri'],
    ] as const) {
      const res = await gw.admin('POST', '/api/apikeys', body);
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
      assert.ok(
        res.json().details.some((d: { path: string }) => d.path === path),
        `${JSON.stringify(body)}: ${res.text}`,
      );
    }
    const rotate = await gw.admin('POST', '/api/apikeys/jwks-client/rotate-secret');
    assert.equal(rotate.status, 400);
  });

  it("authenticates private_key_jwt clients at the oauth2 route's token endpoint too", async () => {
    await createRoute(
      gw,
      route('users-api', upstream.url, {
        frontend: { domains: ['users.test'] },
        plugins: [
          {
            plugin: 'oauth2',
            config: { provisionKey: PROVISION_KEY, requireHttps: false, enableClientCredentials: true },
          },
        ],
      }),
    );
    const post = async (aud: string) =>
      gw.proxy('/v1/oauth2/token', {
        method: 'POST',
        host: 'users.test',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form({
          grant_type: 'client_credentials',
          client_assertion_type: ASSERTION_TYPE,
          client_assertion: await assertion({ aud }),
        }),
      });
    // The route's issuer is its one fixed host (http: requireHttps is off), its endpoints under it.
    const ok = await post('http://users.test/oauth2/token');
    assert.equal(ok.status, 200, ok.text);
    const called = await gw.proxy('/v1/profile', {
      host: 'users.test',
      headers: { authorization: `Bearer ${ok.json().access_token}` },
    });
    assert.equal(called.status, 200);
    assert.equal(called.json().headers['x-consumer-id'], 'jwks-client');
    assertInvalidClient(await post(tokenUrl), /audience/);
  });
});
