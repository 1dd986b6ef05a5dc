import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, createRoute, route, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import { parseExposition } from '../../helpers/prometheus.js';
import { startJwksServer, ecKey, signWith } from './fixtures.js';

describe('Plugin: jwt-verifier (metrics)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  before(async () => {
    upstream = await startUpstream(echo);
    gw = await startGateway();
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  it('counts key-set fetches by reason and result, and labels its denials', async () => {
    const signer = ecKey('k1');
    const jwks = await startJwksServer([signer.jwk]);
    try {
      assert.equal(
        (
          await gw.admin('POST', '/api/jwt-verifiers', {
            id: 'idp',
            name: 'idp',
            keys: { kind: 'jwks', url: jwks.url, refetchCooldownSeconds: 0 },
            algorithms: ['ES256'],
          })
        ).status,
        201,
      );
      await createRoute(
        gw,
        route('jwt', upstream.url, {
          frontend: { domains: ['jwt.test'] },
          plugins: [{ plugin: 'jwt-verifier', config: { verifiers: ['idp'], cache: { enabled: false } } }],
        }),
      );
      const good = await signWith(signer.privateKey, 'k1', { sub: 'a' });
      assert.equal(
        (await gw.proxy('/', { host: 'jwt.test', headers: { authorization: `Bearer ${good}` } })).status,
        200,
      );
      const unknown = await signWith(ecKey('other').privateKey, 'other', { sub: 'x' });
      assert.equal(
        (await gw.proxy('/', { host: 'jwt.test', headers: { authorization: `Bearer ${unknown}` } })).status,
        401,
      );
      const parsed = parseExposition((await gw.admin('GET', '/metrics')).text);
      assert.equal(parsed.value('portcullis_jwks_fetches_total', { reason: 'expired', result: 'ok' }), 1);
      assert.equal(parsed.value('portcullis_jwks_fetches_total', { reason: 'unknown_kid', result: 'ok' }), 1);
      assert.equal(parsed.value('portcullis_jwks_fetches_total', { reason: 'expired', result: 'error' }), 0);
      assert.equal(
        parsed.value('portcullis_requests_total', {
          route: 'jwt',
          decision: 'denied',
          plugin: 'jwt-verifier',
          status_class: '4xx',
        }),
        1,
      );
      assert.equal(jwks.hits, 2);
    } finally {
      await jwks.close();
    }
  });
});
