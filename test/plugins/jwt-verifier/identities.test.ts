/**
 * Issue 21: claims of an external identity provider sent upstream by `claims-to-headers`, and the
 * consumer the authorizer names, are header values whatever the token says: a claim HTTP cannot
 * carry (`山田`, an emoji, U+2028, CR/LF, NUL) reaches the upstream percent-encoded (UTF-8, `%`
 * encoded too), 200, never a 502 and never a split header. A key set naming a member twice
 * (`{"keys":[],"keys":[…]}`) is refused, not read one way of two.
 */
import 'reflect-metadata';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { startGateway, createRoute, route, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ecKey, signWith } from './fixtures.js';

const SECRET = 'a-shared-secret-of-at-least-32-bytes!!';
const HOST = 'claims-idents.test';

/** Claim values HTTP cannot carry as they are, with what the upstream must receive. */
const CLAIMS: ReadonlyArray<[string, string, string]> = [
  ['Japanese characters', '山田', '%E5%B1%B1%E7%94%B0'],
  ['an emoji', 'alice😀', 'alice%F0%9F%98%80'],
  ['U+2028', 'alice\u2028bob', 'alice%E2%80%A8bob'],
  ['CR/LF', 'alice\r\nx-admin: true', 'alice%0D%0Ax-admin:%20true'],
  ['NUL', 'alice\u0000', 'alice%00'],
  ['Latin-1 letters', 'José', 'Jos%C3%A9'],
];

describe('Plugin: jwt-verifier (claims that are not header values)', () => {
  let gw: TestGateway;
  let upstream: Upstream;

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await startGateway();
    await createRoute(
      gw,
      route('claims-idents', upstream.url, {
        frontend: { domains: [HOST] },
        plugins: [
          {
            plugin: 'jwt-verifier',
            config: {
              verifier: { keys: { kind: 'hmac', secret: SECRET }, algorithms: ['HS256'] },
              rules: [{ methods: ['GET'], path: '/.*', requiredScopes: [] }],
              upstream: {
                strategy: 'claims-to-headers',
                claimsToHeaders: { sub: 'X-User-Id', name: 'X-User-Name', roles: 'X-User-Roles' },
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

  const tokenFor = (claims: Record<string, unknown>) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(Buffer.from(SECRET));
  const call = async (claims: Record<string, unknown>) =>
    gw.proxy('/me', { host: HOST, headers: { authorization: `Bearer ${await tokenFor(claims)}` } });

  for (const [what, value, sent] of CLAIMS) {
    it(`a claim with ${what} reaches the upstream percent-encoded`, async () => {
      const res = await call({ sub: value, name: value });
      assert.equal(res.status, 200, res.text);
      const headers = res.json().headers;
      assert.equal(headers['x-user-id'], sent);
      assert.equal(headers['x-user-name'], sent);
      assert.equal(decodeURIComponent(headers['x-user-id']), value);
      assert.equal(headers['x-admin'], undefined, 'no header split');
    });
  }

  it('ASCII claims reach the upstream unchanged; arrays are joined by spaces, then encoded when needed', async () => {
    const res = await call({ sub: 'alice@example.com', name: 'Alice Smith', roles: ['admin', 'ünïcode'] });
    assert.equal(res.status, 200, res.text);
    const headers = res.json().headers;
    assert.equal(headers['x-user-id'], 'alice@example.com');
    assert.equal(headers['x-user-name'], 'Alice Smith');
    assert.equal(headers['x-user-roles'], 'admin%20%C3%BCn%C3%AFcode');
  });
});

describe('Plugin: jwt-verifier (a key set naming a member twice)', () => {
  it('is not used: the token is refused 401 and the fetch is logged as failed', async () => {
    const upstream = await startUpstream(echo);
    const key = ecKey('k1');
    const { d: _d, ...publicJwk } = key.jwk;
    // JSON.parse keeps the last "keys"; a parser keeping the first sees no key at all.
    const jwks = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`{"keys":[],"keys":[${JSON.stringify(publicJwk)}]}`);
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const gw = await startGateway();
    try {
      await createRoute(
        gw,
        route('dup-jwks', upstream.url, {
          frontend: { domains: ['dup-jwks.test'] },
          plugins: [
            {
              plugin: 'jwt-verifier',
              config: {
                verifier: {
                  keys: { kind: 'jwks', url: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks` },
                  algorithms: ['ES256'],
                },
                rules: [{ methods: ['GET'], path: '/.*', requiredScopes: [] }],
              },
            },
          ],
        }),
      );
      const res = await gw.proxy('/x', {
        host: 'dup-jwks.test',
        headers: { authorization: `Bearer ${await signWith(key.privateKey, 'k1', { sub: 'alice' })}` },
      });
      assert.equal(res.status, 401, res.text);
      assert.ok(
        gw.logs.some((line) => line.level === 40 && /twice/.test(JSON.stringify(line.err ?? ''))),
        'the refused key set is logged',
      );
    } finally {
      await gw.close();
      await upstream.close();
      await new Promise<void>((resolve) => jwks.close(() => resolve()));
    }
  });
});
