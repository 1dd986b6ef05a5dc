/**
 * Attacks on JWT verification, one per section of RFC 8725 (JSON Web Token Best Current Practices),
 * against every place the gateway verifies tokens: a `jwt-verifier` route trusting the gateway's
 * key pairs, an `apikeys` route reading gateway tokens, the introspection endpoint, and a
 * `jwt-verifier` route with an HMAC secret. Attack tokens are signed with the gateway's real private
 * key (read from an admin export) so that each test changes exactly one thing.
 * Already covered elsewhere (not repeated): plain `alg: none`, HS256 with the RSA public key PEM on
 * `jwt-verifier` and introspection, expired and tampered tokens (test/plugins/…/access.test.ts).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as cryptoSign,
  type KeyObject,
} from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, decodeJwt, decodeProtectedHeader, type JWTPayload } from 'jose';
import { createRoute, route, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';
import { oauthGateway, tokenFor, form, SECRET, INTROSPECT_PATH } from '../plugins/client-credentials/fixtures.js';

const HMAC_SECRET = 'a-very-long-shared-secret-of-32-bytes!';
const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

describe('Attack: RFC 8725 (JWT BCP) against every token verifier', () => {
  let upstream: Upstream;
  let gw: TestGateway;
  let gatewayKey: KeyObject;
  let gatewayKid: string;
  let goodToken: string;
  let attackerHits = 0;
  let attacker: Server;
  let attackerUrl: string;
  const attackerKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });

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
          leewaySeconds: 5,
        })
      ).status,
      201,
    );
    assert.equal(
      (
        await gw.admin('POST', '/api/jwt-verifiers', {
          id: 'billing',
          name: 'Billing',
          keys: { kind: 'hmac', secret: HMAC_SECRET },
          algorithms: ['HS256'],
          issuer: 'https://idp.example',
          audience: 'billing',
          leewaySeconds: 5,
        })
      ).status,
      201,
    );
    assert.equal(
      (
        await gw.admin('POST', '/api/jwt-verifiers', {
          id: 'shipping',
          name: 'Shipping',
          keys: { kind: 'hmac', secret: HMAC_SECRET },
          algorithms: ['HS256'],
          issuer: 'https://idp.example',
          audience: 'shipping',
          leewaySeconds: 5,
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
    await createRoute(
      gw,
      route('billing', upstream.url, {
        frontend: { domains: ['billing.test'] },
        plugins: [{ plugin: 'jwt-verifier', config: { verifiers: ['billing'] } }],
      }),
    );
    await createRoute(
      gw,
      route('shipping', upstream.url, {
        frontend: { domains: ['shipping.test'] },
        plugins: [{ plugin: 'jwt-verifier', config: { verifiers: ['shipping'] } }],
      }),
    );
    const exported = (await gw.admin('GET', '/api/export?includePrivateKeys=true')).json() as {
      keypairs: Array<{ id: string; privateKeyPem: string; kid: string }>;
    };
    const pair = exported.keypairs.find((k) => k.id === 'portcullis-jwt-signing')!;
    gatewayKey = createPrivateKey(pair.privateKeyPem);
    gatewayKid = pair.kid;
    goodToken = await tokenFor(gw, 'default-client');
    attacker = createServer((_req, res) => {
      attackerHits++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          keys: [{ ...attackerKeys.publicKey.export({ format: 'jwk' }), kid: gatewayKid, alg: 'RS256', use: 'sig' }],
        }),
      );
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}/jwks.json`;
  });

  after(async () => {
    await gw.close();
    await upstream.close();
    attacker.closeAllConnections();
    await new Promise<void>((resolve) => attacker.close(() => resolve()));
  });

  /** The claims of a real token of `default-client`, as a base for forged ones. */
  const claims = (): JWTPayload => decodeJwt(goodToken);
  const sign = (payload: JWTPayload, header: Record<string, unknown> = {}, key: KeyObject | Uint8Array = gatewayKey) =>
    new SignJWT(payload)
      .setProtectedHeader({ alg: 'RS256', kid: gatewayKid, typ: 'at+jwt', ...header } as never)
      .sign(key);

  /** Every verifier of gateway tokens must refuse `token`; none may answer 5xx. */
  async function refusedEverywhere(token: string, why: string): Promise<void> {
    const onJwtRoute = await gw.proxy('/', { host: 'jwt.test', headers: { authorization: `Bearer ${token}` } });
    assert.equal(onJwtRoute.status, 401, `jwt-verifier accepted ${why}: ${onJwtRoute.text}`);
    assert.match(String(onJwtRoute.headers['www-authenticate']), /^Bearer .*error="invalid_token"/);
    const onApiKeysRoute = await gw.proxy('/', { host: 'api.test', headers: { authorization: `Bearer ${token}` } });
    assert.equal(onApiKeysRoute.status, 401, `apikeys accepted ${why}: ${onApiKeysRoute.text}`);
    const introspection = await gw.proxy(INTROSPECT_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ token, client_id: 'default-client', client_secret: SECRET }),
    });
    assert.equal(introspection.status, 200, introspection.text);
    assert.equal(introspection.json().active, false, `introspection found ${why} active`);
  }

  it('control: a token signed the same way by the test is accepted (the attacks below change one thing each)', async () => {
    const token = await sign({ ...claims(), jti: 'control' });
    assert.equal(
      (await gw.proxy('/', { host: 'jwt.test', headers: { authorization: `Bearer ${token}` } })).status,
      200,
    );
  });

  it('RFC 8725 §2.1/§3.1: alg "none" in any letter case, with or without a signature, is refused', async () => {
    const [, payload, signature] = goodToken.split('.');
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      for (const sig of ['', signature]) {
        await refusedEverywhere(
          `${b64({ alg, kid: gatewayKid, typ: 'at+jwt' })}.${payload}.${sig}`,
          `alg ${alg} (signature ${sig ? 'kept' : 'empty'})`,
        );
      }
    }
  });

  it('RFC 8725 §2.1/§3.1: HS256 keyed with the public key (PEM, DER, JWK members) is refused (algorithm confusion)', async () => {
    const pub = createPublicKey(gatewayKey);
    const jwk = pub.export({ format: 'jwk' });
    const secrets = [
      pub.export({ format: 'pem', type: 'spki' }) as string,
      pub.export({ format: 'pem', type: 'pkcs1' }) as string,
      pub.export({ format: 'der', type: 'spki' }),
      JSON.stringify(jwk),
      String(jwk.n),
    ];
    for (const secret of secrets) {
      const token = await sign(
        { ...claims(), jti: 'confusion' },
        { alg: 'HS256' },
        typeof secret === 'string' ? Buffer.from(secret) : secret,
      );
      await refusedEverywhere(token, 'HS256 keyed with the public key');
    }
  });

  it("RFC 8725 §3.2: a token whose alg is not the key pair's own algorithm (PS256 with the RS256 key) is refused", async () => {
    const token = await new SignJWT({ ...claims(), jti: 'ps' })
      .setProtectedHeader({ alg: 'PS256', kid: gatewayKid, typ: 'at+jwt' })
      .sign(gatewayKey);
    await refusedEverywhere(token, 'PS256 on an RS256 key');
  });

  it('RFC 8725 §3.10: kid injection (path traversal, SQL, absolute paths, empty) never selects a key nor errors', async () => {
    for (const kid of [
      '../../../../../../dev/null',
      '/dev/null',
      "' OR '1'='1",
      '../../etc/passwd%00',
      '',
      '__proto__',
      'constructor',
      'x'.repeat(10_000),
      `${gatewayKid}/../${gatewayKid}`,
    ]) {
      const token = await sign({ ...claims(), jti: 'kid' }, { alg: 'HS256', kid }, Buffer.alloc(32));
      await refusedEverywhere(token, `kid ${JSON.stringify(kid.slice(0, 40))}`);
      const rsaToken = await sign({ ...claims(), jti: 'kid2' }, { kid }, attackerKeys.privateKey);
      await refusedEverywhere(rsaToken, `an attacker key with kid ${JSON.stringify(kid.slice(0, 40))}`);
    }
  });

  it("RFC 8725 §3.10 (RFC 7515 §4.1.2-5): jku, x5u and embedded jwk headers are ignored; the attacker's URL is never fetched", async () => {
    const attackerJwk = { ...attackerKeys.publicKey.export({ format: 'jwk' }), kid: gatewayKid, alg: 'RS256' };
    for (const header of [
      { jku: attackerUrl },
      { x5u: attackerUrl },
      { jwk: attackerJwk },
      { jku: attackerUrl, jwk: attackerJwk, kid: 'attacker' },
    ]) {
      const token = await sign({ ...claims(), jti: 'embedded' }, header, attackerKeys.privateKey);
      await refusedEverywhere(token, `a token carrying ${Object.keys(header).join('+')}`);
    }
    assert.equal(attackerHits, 0, 'the gateway fetched a key URL named by a token');
  });

  it('RFC 8725 §3.10 (RFC 7515 §4.1.11): a token with an unknown critical header parameter is refused', async () => {
    // jose refuses to sign with an unknown crit, so these are signed by hand.
    const header = { alg: 'RS256', kid: gatewayKid, typ: 'at+jwt', crit: ['x-unknown'], 'x-unknown': true };
    const input = `${b64(header)}.${b64({ ...claims(), jti: 'crit' })}`;
    await refusedEverywhere(
      `${input}.${cryptoSign('sha256', Buffer.from(input), gatewayKey).toString('base64url')}`,
      'crit ["x-unknown"]',
    );
    const hmacInput = `${b64({ alg: 'HS256', crit: ['x-unknown'], 'x-unknown': 1 })}.${b64({ iss: 'https://idp.example', aud: 'billing', exp: Math.floor(Date.now() / 1000) + 300 })}`;
    const hmac = `${hmacInput}.${createHmac('sha256', HMAC_SECRET).update(hmacInput).digest('base64url')}`;
    assert.equal(
      (await gw.proxy('/', { host: 'billing.test', headers: { authorization: `Bearer ${hmac}` } })).status,
      401,
    );
  });

  it('RFC 8725 §3.9/§3.11: a token for one audience is refused by a service of another (substitution)', async () => {
    const forBilling = await new SignJWT({ iss: 'https://idp.example', aud: 'billing', sub: 'ann' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('5m')
      .sign(Buffer.from(HMAC_SECRET));
    assert.equal(
      (await gw.proxy('/', { host: 'billing.test', headers: { authorization: `Bearer ${forBilling}` } })).status,
      200,
    );
    const res = await gw.proxy('/', { host: 'shipping.test', headers: { authorization: `Bearer ${forBilling}` } });
    assert.equal(res.status, 401, res.text);
    const otherIssuer = await new SignJWT({ iss: 'https://evil.example', aud: 'billing' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('5m')
      .sign(Buffer.from(HMAC_SECRET));
    assert.equal(
      (await gw.proxy('/', { host: 'billing.test', headers: { authorization: `Bearer ${otherIssuer}` } })).status,
      401,
    );
  });

  it('RFC 8725 §3.11: a gateway token with another typ (an ID token or a plain JWT) is refused where at+jwt is required', async () => {
    for (const typ of ['JWT', 'id_token+jwt', 'application/at+jwt+x'])
      await refusedEverywhere(await sign({ ...claims(), jti: 'typ' }, { typ }), `typ ${typ}`);
  });

  it('RFC 8725 §3.10 / RFC 7519 §4.1.4-6: expired, not-yet-valid and future-issued tokens are refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    await refusedEverywhere(
      await sign({ ...claims(), jti: 'exp', iat: now - 7200, exp: now - 3600 }),
      'an expired token',
    );
    await refusedEverywhere(
      await sign({ ...claims(), jti: 'nbf', nbf: now + 3600 }),
      'a token not valid before an hour',
    );
    const future = await sign({ ...claims(), jti: 'iat', iat: now + 3600 });
    const res = await gw.proxy('/', { host: 'jwt.test', headers: { authorization: `Bearer ${future}` } });
    assert.equal(res.status, 401, `jwt-verifier accepted a token issued an hour in the future: ${res.text}`);
  });

  it('RFC 8725 §3.10 (issue 10 item 11): jwt-verifier refuses a token without exp unless configured to accept it', async () => {
    const { exp: _exp, ...withoutExp } = claims();
    const hmacNoExp = await new SignJWT({ iss: 'https://idp.example', aud: 'billing' })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(Buffer.from(HMAC_SECRET));
    const res = await gw.proxy('/', { host: 'billing.test', headers: { authorization: `Bearer ${hmacNoExp}` } });
    assert.equal(res.status, 401, `a token that never expires was accepted: ${res.text}`);
    await refusedEverywhere(await sign({ ...withoutExp, jti: 'no-exp-gw' }), 'a gateway-signed token without exp');
  });

  it('RFC 8725 §3.1 (RFC 7515 §5.2): a token with extra segments, bad base64url or a JSON header that is not an object is refused without a 5xx', async () => {
    const [h, p, s] = goodToken.split('.');
    // Not listed: a signature with `==` padding, which jose decodes to the same bytes (same jti, so
    // revocation still holds; the token is not forged).
    for (const token of [
      `${h}.${p}.${s}.x`,
      `${h}.${p}`,
      `${h}..${s}`,
      `${b64('[1]')}.${p}.${s}`,
      `${b64('"x"')}.${p}.${s}`,
      `${h}.${b64('null')}.${s}`,
      `${h}.${p}.${s}`.replace(/./, '!'),
      `${h} .${p}.${s}`,
    ]) {
      await refusedEverywhere(token, `the malformed token ${token.slice(0, 30)}…`);
    }
    assert.equal(decodeProtectedHeader(goodToken).kid, gatewayKid);
  });
});
