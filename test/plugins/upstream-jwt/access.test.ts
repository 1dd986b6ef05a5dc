import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader, type JWTPayload } from 'jose';
import { createRoute, route, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, type Upstream, type UpstreamHandler } from '../../helpers/upstream.js';
import { oauthGateway, tokenFor, SECRET, JWKS_PATH } from '../client-credentials/fixtures.js';

/**
 * An upstream that trusts only the gateway: it verifies the token in `header` at the gateway's JWKS
 * (jose createRemoteJWKSet, as a real service would) and answers the verified claims, else 401.
 */
function verifyingUpstream(jwksUrl: () => URL, issuer: () => string): UpstreamHandler {
  let jwks: ReturnType<typeof createRemoteJWKSet> | null = null;
  return (req, res) => {
    const header = String(req.headers['x-verify-header'] ?? 'x-portcullis-jwt');
    const raw = String(req.headers[header] ?? '');
    const token = raw.replace(/^Bearer /, '');
    jwks ??= createRemoteJWKSet(jwksUrl());
    jwtVerify(token, jwks, { issuer: issuer() }).then(
      ({ payload, protectedHeader }) => {
        const body = JSON.stringify({
          payload,
          protectedHeader,
          raw,
          authorization: req.headers.authorization ?? null,
        });
        res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      },
      (error: Error) => {
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: error.message }));
      },
    );
  };
}

describe('Plugin: upstream-jwt (access)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let edKid: string;

  before(async () => {
    let proxyUrl = '';
    upstream = await startUpstream(
      verifyingUpstream(
        () => new URL(proxyUrl + JWKS_PATH),
        () => proxyUrl,
      ),
    );
    gw = await oauthGateway(upstream);
    proxyUrl = gw.proxyUrl;
    const pair = await gw.admin('POST', '/api/keypairs', { id: 'ed-pair', name: 'Upstream JWT signer', alg: 'EdDSA' });
    assert.equal(pair.status, 201, pair.text);
    edKid = pair.json().kid;
    const verifier = await gw.admin('POST', '/api/jwt-verifiers', {
      id: 'gateway',
      name: 'Gateway tokens',
      keys: { kind: 'keypairs' },
      algorithms: ['RS256', 'ES256'],
      issuer: [gw.proxyUrl],
      typ: 'at+jwt',
    });
    assert.equal(verifier.status, 201, verifier.text);
    await createRoute(
      gw,
      route('signed-apikey', upstream.url, {
        frontend: { domains: ['apikey.test'] },
        plugins: [
          { plugin: 'apikeys', config: {} },
          { plugin: 'upstream-jwt', config: { keyPair: 'ed-pair', lifetimeSeconds: 30 } },
        ],
      }),
    );
    await createRoute(
      gw,
      route('signed-jv', upstream.url, {
        frontend: { domains: ['jv.test'] },
        plugins: [
          { plugin: 'jwt-verifier', config: { verifiers: ['gateway'] } },
          {
            plugin: 'upstream-jwt',
            config: {
              keyPair: 'ed-pair',
              header: 'Authorization',
              scheme: 'Bearer',
              audience: 'urn:orders-api',
              bindRequest: false,
            },
          },
        ],
      }),
    );
    await createRoute(
      gw,
      route('signed-open', upstream.url, {
        frontend: { domains: ['open.test'] },
        plugins: [{ plugin: 'upstream-jwt', config: {} }],
      }),
    );
    // Created before the upstream first fetches the JWKS (jose refetches an unknown kid only after a cooldown).
    const broken = await gw.admin('POST', '/api/keypairs', { id: 'broken-pair', name: 'Broken', alg: 'ES256' });
    assert.equal(broken.status, 201, broken.text);
    await createRoute(
      gw,
      route('signed-broken', upstream.url, {
        frontend: { domains: ['broken.test'] },
        plugins: [{ plugin: 'upstream-jwt', config: { keyPair: 'broken-pair' } }],
      }),
    );
    const key = await gw.admin('POST', '/api/apikeys', {
      clientId: 'uj-client',
      clientSecret: SECRET,
      clientName: 'Upstream JWT client',
      authorizedEntities: ['signed-apikey', 'signed-jv'],
    });
    assert.equal(key.status, 201, key.text);
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  const basic = `Basic ${Buffer.from(`uj-client:${SECRET}`).toString('base64')}`;

  it('after apikeys: the upstream verifies a fresh EdDSA token at the gateway JWKS with iss, aud (the route), sub (the client), jti, htm and htu', async () => {
    const first = await gw.proxy('/orders/7?full=1', {
      host: 'apikey.test',
      method: 'DELETE',
      headers: { authorization: basic },
    });
    assert.equal(first.status, 200, first.text);
    const { payload, protectedHeader } = first.json() as {
      payload: JWTPayload & Record<string, unknown>;
      protectedHeader: Record<string, unknown>;
    };
    assert.equal(protectedHeader.kid, edKid);
    assert.equal(protectedHeader.alg, 'EdDSA');
    assert.equal(payload.iss, gw.proxyUrl);
    assert.equal(payload.aud, 'signed-apikey');
    assert.equal(payload.sub, 'uj-client');
    assert.equal(payload.exp! - payload.iat!, 30);
    assert.equal(payload.htm, 'DELETE');
    assert.equal(payload.htu, '/orders/7?full=1');
    const second = await gw.proxy('/orders/7?full=1', {
      host: 'apikey.test',
      method: 'DELETE',
      headers: { authorization: basic },
    });
    assert.notEqual(second.json().payload.jti, payload.jti, 'every request gets its own token');
    assert.equal(typeof payload.jti, 'string');
  });

  it("after jwt-verifier: the gateway token replaces the client's bearer token in Authorization, with the configured audience", async () => {
    const clientToken = await tokenFor(gw, 'uj-client');
    const res = await gw.proxy('/items', {
      host: 'jv.test',
      headers: { authorization: `Bearer ${clientToken}`, 'x-verify-header': 'authorization' },
    });
    assert.equal(res.status, 200, res.text);
    const body = res.json();
    assert.equal(body.payload.aud, 'urn:orders-api');
    assert.equal(body.payload.sub, 'uj-client');
    assert.equal(body.payload.htm, undefined, 'bindRequest: false adds no request claims');
    assert.notEqual(body.authorization, `Bearer ${clientToken}`);
    assert.equal(decodeProtectedHeader(body.raw.slice('Bearer '.length)).kid, edKid);
  });

  it("a client-sent copy of the header never reaches the upstream: the gateway's token replaces it", async () => {
    const forged = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.';
    const res = await gw.proxy('/', { host: 'open.test', headers: { 'x-portcullis-jwt': forged } });
    assert.equal(res.status, 200, res.text);
    const body = res.json();
    assert.notEqual(body.raw, forged);
    assert.equal(body.payload.sub, undefined, 'no access plugin ran: no consumer');
  });

  it("without a keyPair, the upstream receives an ES256 token signed by the plugin's own default pair, not the gateway's RS256 one", async () => {
    const pair = await gw.admin('GET', '/api/keypairs/portcullis-upstream-jwt');
    assert.equal(pair.status, 200, 'created on the first start');
    assert.equal(pair.json().alg, 'ES256');
    const res = await gw.proxy('/', { host: 'open.test' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json().protectedHeader.alg, 'ES256');
    assert.equal(res.json().protectedHeader.kid, pair.json().kid);
    assert.equal(
      (await gw.admin('DELETE', '/api/keypairs/portcullis-upstream-jwt')).status,
      409,
      'a route signs with it',
    );
  });

  it('a signing key gone from the store (deleted around the admin API) fails closed: 502 JSON, nothing forwarded', async () => {
    assert.equal(
      (await gw.admin('POST', '/api/keypairs', { id: 'gone-pair', name: 'Gone', alg: 'ES256' })).status,
      201,
    );
    await createRoute(
      gw,
      route('signed-gone', upstream.url, {
        frontend: { domains: ['gone.test'] },
        plugins: [{ plugin: 'upstream-jwt', config: { keyPair: 'gone-pair' } }],
      }),
    );
    await gw.gateway.store.delete('keypairs', 'gone-pair');
    const before = upstream.received.length;
    const res = await gw.proxy('/', { host: 'gone.test' });
    assert.equal(res.status, 502, res.text);
    assert.equal(res.json().error, 'bad_gateway');
    assert.equal(upstream.received.length, before, 'the request was not forwarded');
  });

  it('a write naming a key pair that does not exist is refused, and a key pair in use cannot be deleted', async () => {
    const unknown = await gw.admin(
      'POST',
      '/api/routes',
      route('uj-bad', upstream.url, {
        frontend: { domains: ['bad.test'] },
        plugins: [{ plugin: 'upstream-jwt', config: { keyPair: 'missing' } }],
      }),
    );
    assert.equal(unknown.status, 400, unknown.text);
    assert.equal(unknown.json().details[0].path, '/plugins/0/config/keyPair');
    const deleted = await gw.admin('DELETE', '/api/keypairs/ed-pair');
    assert.equal(deleted.status, 409, deleted.text);
  });

  it('an unusable signing key fails closed: 502 JSON, logged, and nothing reaches the upstream', async () => {
    assert.equal((await gw.proxy('/', { host: 'broken.test' })).status, 200);
    // A stored key the gateway cannot load (written by another node or an older version, bypassing the admin checks).
    const stored = gw.gateway.store.get('keypairs', 'broken-pair')!;
    await gw.gateway.store.put('keypairs', 'broken-pair', {
      ...stored,
      privateKeyPem: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n',
    });
    const before = upstream.received.length;
    const res = await gw.proxy('/', { host: 'broken.test', headers: { 'x-portcullis-jwt': 'client-copy' } });
    assert.equal(res.status, 502);
    assert.equal(res.json().error, 'bad_gateway');
    assert.match(res.json().error_description, /could not sign/);
    assert.equal(upstream.received.length, before, 'the request was not forwarded');
    assert.ok(
      gw.logs.some(
        (l) => l.level === 50 && l.keyPairId === 'broken-pair' && /upstream JWT could not be signed/.test(l.msg),
      ),
    );
  });

  it("a global instance signs on every route, with the matched route's id as audience", async () => {
    const global = (await gw.admin('GET', '/api/global-config')).json();
    const updated = await gw.admin('PUT', '/api/global-config', {
      ...global,
      plugins: [...global.plugins, { plugin: 'upstream-jwt', config: { keyPair: 'ed-pair' } }],
    });
    assert.equal(updated.status, 200, updated.text);
    await createRoute(gw, route('plain-global', upstream.url, { frontend: { domains: ['global.test'] } }));
    const res = await gw.proxy('/', { host: 'global.test' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json().payload.aud, 'plain-global');
    assert.equal(res.json().protectedHeader.kid, edKid);
  });
});
