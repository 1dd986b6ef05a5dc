/**
 * SSRF guard on JWKS URLs a portal submits: the gateway fetches a private_key_jwt client's key set
 * itself, so an API token (not the admin) may not register a URL that is not https or reaches an
 * internal address, unless the operator allows the host (`portal.privateJwksHosts`); and a URL a
 * portal supplied is fetched from public addresses only, checked on the address connected to.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import { PROFILE, portalGateway, type PortalWorld } from './fixtures.js';

const TOKEN_PATH = '/.well-known/otoroshi/oauth/token';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const SIGNED_PROFILE = { ...PROFILE, id: 'signed-jwks', clientAuthenticator: 'private-key-jwt-jwks-uri' };
const REQUESTER = { id: 'org-7', name: 'Signer Ltd', email: 'dev@signer.example' };

describe('Plugin: access-requests (JWKS URLs from a portal: SSRF guard)', () => {
  let upstream: Upstream;
  let jwks: Server;
  let jwksPort: number;
  let fetches = 0;
  let key: { privateKey: CryptoKey; publicKey: CryptoKey };
  let world: PortalWorld;
  let allowing: PortalWorld;

  before(async () => {
    key = await generateKeyPair('ES256');
    const publicJwk: JWK = { ...(await exportJWK(key.publicKey)), kid: 'signer-1', alg: 'ES256' };
    jwks = createServer((_req, res) => {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [publicJwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    jwksPort = (jwks.address() as AddressInfo).port;
    upstream = await startUpstream(echo);
    world = await portalGateway(upstream);
    allowing = await portalGateway(upstream, { config: { portal: { privateJwksHosts: ['127.0.0.1'] } } });
    for (const w of [world, allowing])
      assert.equal((await w.gw.admin('POST', '/api/authorization-profiles', SIGNED_PROFILE)).status, 201);
  });
  after(async () => {
    await world.gw.close();
    await allowing.gw.close();
    await upstream.close();
    jwks.closeAllConnections();
    await new Promise<void>((resolve) => jwks.close(() => resolve()));
  });

  const request = (w: PortalWorld, jwksUri: string, as: 'portal' | 'admin' = 'portal') => {
    const body = { profileId: SIGNED_PROFILE.id, requester: REQUESTER, requestedScopes: ['orders:read'], jwksUri };
    return as === 'admin'
      ? w.gw.admin('POST', '/api/access-requests', body)
      : w.as(w.portal, 'POST', '/api/access-requests', body);
  };

  async function tokenByAssertion(w: PortalWorld, clientId: string) {
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({
      iss: clientId,
      sub: clientId,
      aud: w.gw.proxyUrl + TOKEN_PATH,
      jti: randomUUID(),
      iat: now,
      exp: now + 60,
    })
      .setProtectedHeader({ alg: 'ES256', kid: 'signer-1' })
      .sign(key.privateKey);
    return w.gw.proxy(TOKEN_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: assertion,
      }).toString(),
    });
  }

  const approve = async (w: PortalWorld, id: string) =>
    assert.equal((await w.as(w.manager, 'POST', `/api/access-requests/${id}/approve`)).status, 200);

  it("a portal's JWKS URL naming an internal address, or not https, is refused with 400 naming /jwksUri, and leaves no API key behind", async () => {
    const keysBefore = (await world.gw.admin('GET', '/api/apikeys')).json().length;
    const cases: Array<[string, RegExp]> = [
      [`https://127.0.0.1:${jwksPort}/jwks.json`, /127\.0\.0\.1 is a loopback address/],
      ['https://[::1]/jwks.json', /::1 is a loopback address/],
      ['https://10.20.30.40/jwks.json', /a private address/],
      ['https://172.16.5.4/jwks.json', /a private address/],
      ['https://192.168.1.10/jwks.json', /a private address/],
      ['https://169.254.169.254/latest/meta-data/', /link-local address \(cloud metadata/],
      ['https://[fc00::1]/jwks.json', /a unique-local address/],
      ['https://[fd12:3456::7]/jwks.json', /a unique-local address/],
      ['https://[fe80::1]/jwks.json', /a link-local address/],
      ['https://[::ffff:127.0.0.1]/jwks.json', /a loopback address/],
      ['https://0.0.0.0/jwks.json', /"this network" address/],
      ['https://2130706433/jwks.json', /127\.0\.0\.1 is a loopback address/],
      ['https://0x7f.1/jwks.json', /127\.0\.0\.1 is a loopback address/],
      [
        `https://localhost:${jwksPort}/jwks.json`,
        /localhost resolves to (127\.0\.0\.1|::1), which is a loopback address/,
      ],
      ['http://keys.example.com/jwks.json', /must be https/],
    ];
    for (const [jwksUri, message] of cases) {
      const res = await request(world, jwksUri);
      assert.equal(res.status, 400, `${jwksUri}: ${res.text}`);
      assert.equal(res.json().error, 'validation_failed');
      assert.equal(res.json().details[0].path, '/jwksUri');
      assert.match(res.json().details[0].message, message, jwksUri);
    }
    assert.equal((await world.gw.admin('GET', '/api/apikeys')).json().length, keysBefore, 'no API key was created');
    assert.equal(fetches, 0, 'nothing was fetched');
  });

  it('a portal token cannot write an API key (and its jwksUri) directly: 403', async () => {
    const res = await world.as(world.portal, 'POST', '/api/apikeys', {
      clientName: 'Direct',
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwksUri: 'http://127.0.0.1:1/jwks.json',
    });
    assert.equal(res.status, 403, res.text);
  });

  it('a public https URL is accepted, and its API key is marked to be fetched from public addresses only', async () => {
    const res = await request(world, 'https://keys.acme.example/jwks.json');
    assert.equal(res.status, 201, res.text);
    const apiKey = (await world.gw.admin('GET', `/api/apikeys/${res.json().clientId}`)).json();
    assert.match(apiKey.metadata['jwks-uri-public-only'], /^token:/);
  });

  it('at fetch time, a marked key whose name now resolves to loopback (DNS rebinding) or names a loopback literal is not fetched: 401 invalid_client', async () => {
    for (const [clientId, host] of [
      ['rebound-name', 'localhost'],
      ['rebound-literal', '127.0.0.1'],
    ] as const) {
      const created = await world.gw.admin('POST', '/api/apikeys', {
        clientId,
        clientName: 'Rebound',
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwksUri: `http://${host}:${jwksPort}/jwks.json`,
        scopes: ['orders:read'],
        authorizedEntities: ['orders'],
        metadata: { 'jwks-uri-public-only': 'token:portal' },
      });
      assert.equal(created.status, 201, created.text);
      const res = await tokenByAssertion(world, clientId);
      assert.equal(res.status, 401, res.text);
      assert.equal(res.json().error, 'invalid_client');
    }
    assert.equal(fetches, 0, 'the JWKS server was never reached');
    assert.ok(
      world.gw.logs.some((l) => /resolves to .* not fetched/.test(String(l.err?.message ?? ''))),
      'the refused lookup is logged',
    );
    assert.ok(
      world.gw.logs.some((l) => /127\.0\.0\.1 is a loopback address/.test(String(l.err?.message ?? ''))),
      'the refused literal is logged',
    );
  });

  it('the admin may still register a loopback http JWKS URL: the key is not marked and its assertions work', async () => {
    const res = await request(world, `http://127.0.0.1:${jwksPort}/jwks.json`, 'admin');
    assert.equal(res.status, 201, res.text);
    const apiKey = (await world.gw.admin('GET', `/api/apikeys/${res.json().clientId}`)).json();
    assert.equal(apiKey.metadata['jwks-uri-public-only'], undefined);
    await approve(world, res.json().id);
    const before = fetches;
    const token = await tokenByAssertion(world, res.json().clientId);
    assert.equal(token.status, 200, token.text);
    assert.equal(fetches, before + 1);
  });

  it('portal.privateJwksHosts lets a portal register a host the operator allows, over http and on loopback; other internal hosts stay refused', async () => {
    const res = await request(allowing, `http://127.0.0.1:${jwksPort}/jwks.json`);
    assert.equal(res.status, 201, res.text);
    const apiKey = (await allowing.gw.admin('GET', `/api/apikeys/${res.json().clientId}`)).json();
    assert.equal(apiKey.metadata['jwks-uri-public-only'], undefined, 'an allowed host is fetched as written');
    await approve(allowing, res.json().id);
    const token = await tokenByAssertion(allowing, res.json().clientId);
    assert.equal(token.status, 200, token.text);
    const other = await request(allowing, 'https://10.0.0.1/jwks.json');
    assert.equal(other.status, 400, other.text);
  });
});
