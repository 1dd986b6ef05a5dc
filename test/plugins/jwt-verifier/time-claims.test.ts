/**
 * Regression (issue 10, item 11): `jwt-verifier` accepted tokens without `exp` (valid forever) and
 * tokens issued in the future. A token must carry `exp` unless the verifier says `requireExp:
 * false`, and neither `iat` nor `nbf` may lie in the future beyond the leeway; refusals are RFC
 * 6750 `invalid_token` with a description saying why.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { startGateway, createRoute, route, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';

const SECRET = 'a-shared-secret-of-at-least-32-bytes!!';
const LEEWAY = 30;

describe('Plugin: jwt-verifier (exp required, iat and nbf not in the future)', () => {
  let gw: TestGateway;
  let upstream: Upstream;

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await startGateway();
    const settings = { keys: { kind: 'hmac', secret: SECRET }, algorithms: ['HS256'], leewaySeconds: LEEWAY };
    for (const [id, extra] of [
      ['strict', {}],
      ['no-exp-allowed', { requireExp: false }],
    ] as const) {
      const res = await gw.admin('POST', '/api/jwt-verifiers', { id, name: id, ...settings, ...extra });
      assert.equal(res.status, 201, res.text);
      await createRoute(
        gw,
        route(id, upstream.url, {
          frontend: { domains: [`${id}.test`] },
          plugins: [{ plugin: 'jwt-verifier', config: { verifiers: [id] } }],
        }),
      );
    }
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  const now = () => Math.floor(Date.now() / 1000);
  const sign = (claims: Record<string, unknown>) =>
    new SignJWT({ sub: 'someone', ...claims }).setProtectedHeader({ alg: 'HS256' }).sign(Buffer.from(SECRET));
  const call = (verifier: string, token: string) =>
    gw.proxy('/', { host: `${verifier}.test`, headers: { authorization: `Bearer ${token}` } });
  const expectRefused = async (verifier: string, token: string, description: RegExp) => {
    const res = await call(verifier, token);
    assert.equal(res.status, 401, res.text);
    assert.equal(res.json().error, 'invalid_token');
    assert.match(res.json().error_description, description);
    assert.match(
      String(res.headers['www-authenticate']),
      /^Bearer realm="portcullis", error="invalid_token", error_description="[^"]+"/,
    );
  };

  it('refuses a token without exp by default, and says so', async () => {
    await expectRefused('strict', await sign({ iat: now() }), /no expiration time \(exp\)/);
  });

  it('accepts a token without exp when the verifier has requireExp: false', async () => {
    assert.equal((await call('no-exp-allowed', await sign({ iat: now() }))).status, 200);
  });

  it('stores requireExp with its default (true) on a verifier written without it', async () => {
    assert.equal((await gw.admin('GET', '/api/jwt-verifiers/strict')).json().requireExp, true);
  });

  it('refuses a token issued (iat) in the future beyond the leeway, on both verifiers', async () => {
    for (const verifier of ['strict', 'no-exp-allowed']) {
      await expectRefused(
        verifier,
        await sign({ iat: now() + LEEWAY + 120, exp: now() + 3600 }),
        /issued in the future \(iat\)/,
      );
    }
  });

  it('accepts an iat ahead by less than the leeway (clock skew)', async () => {
    assert.equal((await call('strict', await sign({ iat: now() + 5, exp: now() + 3600 }))).status, 200);
  });

  it('refuses a token not valid yet (nbf) beyond the leeway, accepts one within it', async () => {
    await expectRefused(
      'strict',
      await sign({ iat: now(), nbf: now() + LEEWAY + 120, exp: now() + 3600 }),
      /not valid yet/,
    );
    assert.equal((await call('strict', await sign({ iat: now(), nbf: now() + 5, exp: now() + 3600 }))).status, 200);
  });

  it('refuses an exp that is not a number', async () => {
    await expectRefused('no-exp-allowed', await sign({ exp: 'tomorrow' }), /"exp"/);
  });
});
