/**
 * Attacks from RFC 6819 (OAuth 2.0 Threat Model and Security Considerations) on the client
 * credentials service and the routes that accept its tokens. Each test is named after the section
 * of the threat it plays; docs/security.md maps every threat to its mitigation and test.
 * Already covered elsewhere (not repeated): plain HTTP refused at the token endpoint, revocation
 * seen everywhere and after a restart, wrong/unknown/disabled clients (client-credentials tests).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRoute, route, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';
import {
  oauthGateway,
  tokenFor,
  form,
  SECRET,
  TOKEN_PATH,
  INTROSPECT_PATH,
  REVOKE_PATH,
} from '../plugins/client-credentials/fixtures.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const METADATA_PATH = '/.well-known/oauth-authorization-server';

describe('Attack: RFC 6819 (OAuth threat model) against the client credentials service', () => {
  let upstream: Upstream;
  let gw: TestGateway;

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await oauthGateway(upstream, { logLevel: 'warn' });
    assert.equal(
      (
        await gw.admin('POST', '/api/jwt-verifiers', {
          id: 'gateway',
          name: 'Gateway tokens',
          keys: { kind: 'keypairs' },
          algorithms: ['RS256', 'ES256'],
          typ: 'at+jwt',
        })
      ).status,
      201,
    );
    await createRoute(
      gw,
      route('jwt', upstream.url, {
        frontend: { domains: ['jwt.test'] },
        plugins: [{ plugin: 'jwt-verifier', config: { verifiers: ['gateway'] } }],
      }),
    );
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  const token = (params: Record<string, string>, headers: Record<string, string> = {}) =>
    gw.proxy(TOKEN_PATH, {
      method: 'POST',
      headers: { ...FORM, ...headers },
      body: form({ grant_type: 'client_credentials', ...params }),
    });

  it('RFC 6819 §4.3.2/§5.2.3.3: guessing client secrets — a wrong secret and an unknown client get the same invalid_client answer', async () => {
    const wrong = await token({ client_id: 'cc-client', client_secret: 'guess-0123456789abcdef' });
    const unknown = await token({ client_id: 'no-such-client', client_secret: 'guess-0123456789abcdef' });
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, 401);
    assert.deepEqual(wrong.json(), unknown.json(), 'the answer tells which client ids exist');
    const { date: _d1, ...wrongHeaders } = wrong.headers;
    const { date: _d2, ...unknownHeaders } = unknown.headers;
    assert.deepEqual(wrongHeaders, unknownHeaders);
  });

  it('RFC 6819 §4.3.2/§5.1.4.2.2: a burst of 200 parallel guesses gets only invalid_client, and the real client still gets its token', async () => {
    const guesses = Array.from({ length: 200 }, (_v, i) =>
      token({ client_id: 'cc-client', client_secret: `guess-${i}-0123456789abcdef` }),
    );
    const legit = token({ client_id: 'cc-client', client_secret: SECRET });
    const results = await Promise.all(guesses);
    for (const res of results) {
      assert.ok(res.status === 401 || res.status === 429, `a guess got ${res.status}: ${res.text}`);
      assert.ok(['invalid_client', 'too_many_requests'].includes(res.json().error));
    }
    assert.equal((await legit).status, 200);
  });

  it('RFC 6819 §4.3.2: Basic credentials with a wrong secret get 401 invalid_client and a Basic challenge (RFC 6749 §5.2)', async () => {
    const res = await gw.proxy(TOKEN_PATH, {
      method: 'POST',
      headers: {
        ...FORM,
        authorization: 'Basic ' + Buffer.from('cc-client:wrong-secret-0123456789').toString('base64'),
      },
      body: form({ grant_type: 'client_credentials' }),
    });
    assert.equal(res.status, 401);
    assert.equal(res.json().error, 'invalid_client');
    assert.match(String(res.headers['www-authenticate']), /^Basic /);
  });

  it('RFC 6819 §5.1.5.1 (limited scope): a client cannot obtain a scope beyond its own, however it asks', async () => {
    for (const scope of ['read admin', 'admin', 'READ', 'read write', 'read%20write', '*', 'read\u0000write']) {
      const res = await token({ client_id: 'default-client', client_secret: SECRET, scope });
      assert.equal(res.status, 400, `scope ${JSON.stringify(scope)}: ${res.text}`);
      assert.equal(res.json().error, 'invalid_scope');
    }
    const twice = await gw.proxy(TOKEN_PATH, {
      method: 'POST',
      headers: FORM,
      body: `grant_type=client_credentials&client_id=default-client&client_secret=${SECRET}&scope=read&scope=write`,
    });
    assert.equal(twice.status, 400);
    const inQuery = await gw.proxy(`${TOKEN_PATH}?scope=write`, {
      method: 'POST',
      headers: FORM,
      body: form({ grant_type: 'client_credentials', client_id: 'default-client', client_secret: SECRET }),
    });
    if (inQuery.status === 200) {
      const claims = JSON.parse(Buffer.from(inQuery.json().access_token.split('.')[1], 'base64url').toString()) as {
        scope?: string;
      };
      assert.ok(
        !String(claims.scope ?? '')
          .split(' ')
          .includes('write'),
        'a scope in the query string was granted',
      );
    }
  });

  it('RFC 6819 §4.6.x (issue 10 item 9): a forged Host header does not choose the token issuer nor the metadata endpoints', async () => {
    const res = await token({ client_id: 'cc-client', client_secret: SECRET }, { host: 'evil.example' });
    assert.equal(res.status, 200);
    const iss = JSON.parse(Buffer.from(res.json().access_token.split('.')[1], 'base64url').toString()).iss;
    assert.notEqual(iss, 'http://evil.example', 'any client picks the iss of its tokens with the Host header');
    const metadata = await gw.proxy(METADATA_PATH, { host: 'evil.example' });
    if (metadata.status === 200) {
      assert.ok(
        !String(metadata.json().issuer).includes('evil.example'),
        `metadata issuer follows Host: ${metadata.text}`,
      );
      // A shared cache may keep one copy for every Host only when the document is the same for every Host.
      const other = await gw.proxy(METADATA_PATH, { host: 'api.test' });
      const hostDependent = other.text !== metadata.text;
      assert.ok(
        !hostDependent ||
          !/public/.test(String(metadata.headers['cache-control'])) ||
          /host/i.test(String(metadata.headers.vary)),
        'Host-dependent metadata is cached publicly without Vary: Host',
      );
    }
  });

  it('RFC 6819 §4.6.1/§5.1.6: a token revoked by its client is refused on jwt-verifier and apikeys routes and inactive at introspection', async () => {
    const access = await tokenFor(gw, 'default-client');
    assert.equal(
      (await gw.proxy('/', { host: 'jwt.test', headers: { authorization: `Bearer ${access}` } })).status,
      200,
    );
    const revoked = await gw.proxy(REVOKE_PATH, {
      method: 'POST',
      headers: FORM,
      body: form({ token: access, client_id: 'default-client', client_secret: SECRET }),
    });
    assert.equal(revoked.status, 200);
    for (const host of ['jwt.test', 'api.test'])
      assert.equal(
        (await gw.proxy('/', { host, headers: { authorization: `Bearer ${access}` } })).status,
        401,
        `replayed on ${host}`,
      );
    const introspected = await gw.proxy(INTROSPECT_PATH, {
      method: 'POST',
      headers: FORM,
      body: form({ token: access, client_id: 'default-client', client_secret: SECRET }),
    });
    assert.equal(introspected.json().active, false);
  });

  it('RFC 6819 §5.2.2.3/§5.1.6 (issue 10 item 4): disabling an API key stops its tokens on jwt-verifier routes too', async () => {
    const created = await gw.admin('POST', '/api/apikeys', {
      clientId: 'to-disable',
      clientSecret: SECRET,
      clientName: 'Soon disabled',
      scopes: ['read'],
    });
    assert.equal(created.status, 201, created.text);
    const access = await tokenFor(gw, 'to-disable');
    assert.equal(
      (await gw.proxy('/', { host: 'jwt.test', headers: { authorization: `Bearer ${access}` } })).status,
      200,
    );
    const key = (await gw.admin('GET', '/api/apikeys/to-disable')).json();
    assert.equal((await gw.admin('PUT', '/api/apikeys/to-disable', { ...key, enabled: false })).status, 200);
    const res = await gw.proxy('/', { host: 'jwt.test', headers: { authorization: `Bearer ${access}` } });
    assert.equal(res.status, 401, `a disabled key's token still passes jwt-verifier: ${res.text.slice(0, 200)}`);
  });

  it('RFC 6819 §4.3.x/§5.1.4.1.5 (resource exhaustion): oversized bodies, parameters and headers get a 4xx and the gateway keeps serving', async () => {
    const big = await gw.proxy(TOKEN_PATH, {
      method: 'POST',
      headers: FORM,
      body: form({
        grant_type: 'client_credentials',
        client_id: 'cc-client',
        client_secret: SECRET,
        pad: 'x'.repeat(70 * 1024),
      }),
    });
    assert.equal(big.status, 413);
    assert.equal(typeof big.json().error, 'string');
    const hugeToken = 'a'.repeat(64 * 1024);
    for (const host of ['jwt.test', 'api.test']) {
      const res = await gw
        .proxy('/', { host, headers: { authorization: `Bearer ${hugeToken}` } })
        .catch((error: Error) => ({ status: -1, text: error.message }));
      assert.equal(res.status, 431, `a 64 KiB Authorization header on ${host}: ${res.status}`);
    }
    const manyHeaders: Record<string, string> = {};
    for (let i = 0; i < 2000; i++) manyHeaders[`x-h${i}`] = 'v';
    const crowded = await gw.proxy('/', { host: 'jwt.test', headers: manyHeaders }).catch(() => ({ status: -1 }));
    assert.ok(
      crowded.status === 431 || crowded.status === 400 || crowded.status === 401 || crowded.status === -1,
      `2000 headers: ${crowded.status}`,
    );
    const nestedJson = await gw.proxy(TOKEN_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '['.repeat(60_000),
    });
    assert.equal(nestedJson.status, 400);
    assert.equal(
      (await token({ client_id: 'cc-client', client_secret: SECRET })).status,
      200,
      'the gateway no longer serves',
    );
  });

  it('RFC 6819 §4.4.1/§4.5 (not applicable yet, issue 12): the authorization code and refresh token grants are refused as unsupported', async () => {
    for (const grant of [
      'authorization_code',
      'refresh_token',
      'password',
      'urn:ietf:params:oauth:grant-type:jwt-bearer',
    ]) {
      const res = await token({
        client_id: 'cc-client',
        client_secret: SECRET,
        grant_type: grant,
        code: 'x',
        refresh_token: 'x',
        username: 'u',
        password: 'p',
      });
      assert.equal(res.status, 400, `${grant}: ${res.text}`);
      assert.equal(res.json().error, 'unsupported_grant_type');
    }
    assert.equal(
      (
        await gw.proxy(
          '/.well-known/otoroshi/oauth/authorize?response_type=code&client_id=cc-client&redirect_uri=https://evil.example',
        )
      ).status,
      404,
    );
  });

  it('RFC 6819 §4.3.x (RFC 6749 §3.2, issue 10 item 10): the token endpoint accepts multipart/form-data and ignores unknown parameters', async () => {
    const boundary = 'attackboundary';
    const body =
      Object.entries({
        grant_type: 'client_credentials',
        client_id: 'cc-client',
        client_secret: SECRET,
        unknown_param: 'x',
      })
        .map(([k, v]) => `--${boundary}\r\ncontent-disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`)
        .join('') + `--${boundary}--\r\n`;
    const res = await gw.proxy(TOKEN_PATH, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      body,
    });
    assert.equal(res.status, 200, res.text);
    const withUnknown = await token({
      client_id: 'cc-client',
      client_secret: SECRET,
      unknown_param: 'x',
      resource: 'urn:x',
    });
    assert.equal(withUnknown.status, 200, withUnknown.text);
  });

  it('RFC 6819 §4.3.1/§5.1.6: token, introspection and revocation answers are never cacheable', async () => {
    const access = await tokenFor(gw, 'cc-client');
    for (const [path, params] of [
      [TOKEN_PATH, { grant_type: 'client_credentials' }],
      [INTROSPECT_PATH, { token: access }],
      [REVOKE_PATH, { token: access }],
    ] as const) {
      const res = await gw.proxy(path, {
        method: 'POST',
        headers: FORM,
        body: form({ ...params, client_id: 'cc-client', client_secret: SECRET }),
      });
      assert.equal(res.status, 200, `${path}: ${res.text}`);
      assert.match(String(res.headers['cache-control']), /no-store/, path);
    }
  });

  it('RFC 6819 §4.6.x: requests smuggled past the token endpoint (two Host headers, CL+TE) are refused with 400', async () => {
    const raw = (payload: string) =>
      new Promise<string>((resolve, reject) => {
        import('node:net').then(({ connect }) => {
          const url = new URL(gw.proxyUrl);
          const socket = connect(Number(url.port), url.hostname, () => socket.end(payload));
          let data = '';
          socket.on('data', (c) => {
            data += String(c);
          });
          socket.on('end', () => resolve(data));
          socket.on('error', reject);
        }, reject);
      });
    const twoHosts = await raw(`GET / HTTP/1.1\r\nHost: jwt.test\r\nHost: api.test\r\nConnection: close\r\n\r\n`);
    assert.match(twoHosts, /^HTTP\/1\.1 400/, `two Host headers: ${twoHosts.split('\r\n')[0]}`);
    const clte = await raw(
      `POST ${TOKEN_PATH} HTTP/1.1\r\nHost: api.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\nGET /x HTTP/1.1\r\nHost: jwt.test\r\n\r\n`,
    );
    assert.match(clte, /^HTTP\/1\.1 400/);
    assert.equal((clte.match(/HTTP\/1\.1/g) ?? []).length, 1, 'a second, smuggled request was answered');
  });
});
