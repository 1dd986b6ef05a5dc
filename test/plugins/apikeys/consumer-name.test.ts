/**
 * Issue 21: an API key's client name may hold any printable character (`山田商店`), and it is sent
 * upstream in X-Consumer-Name: it reaches the upstream percent-encoded (UTF-8), never a 502.
 */
import 'reflect-metadata';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, createRoute, route, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import { basic } from '../../helpers/http.js';

const SECRET = 'key-secret-0123456789-abcdef';

describe('Plugin: apikeys (a client name outside ASCII)', () => {
  let gw: TestGateway;
  let upstream: Upstream;

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await startGateway();
    await createRoute(
      gw,
      route('shop', upstream.url, { frontend: { domains: ['shop.test'] }, plugins: [{ plugin: 'apikeys' }] }),
    );
    for (const [clientId, clientName] of [
      ['yamada', '山田商店 😀\u2028'],
      ['plain', 'Plain Shop'],
    ]) {
      const res = await gw.admin('POST', '/api/apikeys', {
        clientId,
        clientSecret: SECRET,
        clientName,
        authorizedEntities: ['shop'],
      });
      assert.equal(res.status, 201, res.text);
    }
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  it('reaches the upstream percent-encoded in X-Consumer-Name; an ASCII name unchanged', async () => {
    const res = await gw.proxy('/orders', { host: 'shop.test', headers: { authorization: basic('yamada', SECRET) } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json().headers['x-consumer-name'], '%E5%B1%B1%E7%94%B0%E5%95%86%E5%BA%97%20%F0%9F%98%80%E2%80%A8');
    assert.equal(decodeURIComponent(res.json().headers['x-consumer-name']), '山田商店 😀\u2028');
    const plain = await gw.proxy('/orders', { host: 'shop.test', headers: { authorization: basic('plain', SECRET) } });
    assert.equal(plain.json().headers['x-consumer-name'], 'Plain Shop');
  });
});
