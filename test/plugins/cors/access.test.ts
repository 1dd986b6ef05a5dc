import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, createRoute, route, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';

describe('Plugin: cors (access)', () => {
  let gw: TestGateway;
  let upstream: Upstream;

  before(async () => {
    gw = await startGateway();
    upstream = await startUpstream(echo);
    await createRoute(
      gw,
      route('cors', upstream.url, {
        frontend: { domains: ['cors.test'] },
        plugins: [
          {
            plugin: 'cors',
            config: {
              allowOrigins: ['https://app.example.com', 'https://*.trusted.dev'],
              allowCredentials: true,
              exposeHeaders: ['x-request-id'],
              maxAgeSeconds: 120,
              allowMethods: ['GET', 'POST'],
            },
          },
        ],
      }),
    );
    await createRoute(
      gw,
      route('open', upstream.url, { frontend: { domains: ['open.test'] }, plugins: [{ plugin: 'cors' }] }),
    );
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  it('answers an allowed preflight at the gateway without calling the upstream', async () => {
    const before = upstream.received.length;
    const res = await gw.proxy('/items', {
      host: 'cors.test',
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, x-custom',
      },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers['access-control-allow-origin'], 'https://app.example.com');
    assert.equal(res.headers['access-control-allow-credentials'], 'true');
    assert.equal(res.headers['access-control-allow-methods'], 'GET, POST');
    assert.equal(res.headers['access-control-allow-headers'], 'content-type, x-custom');
    assert.equal(res.headers['access-control-max-age'], '120');
    assert.equal(upstream.received.length, before);
  });

  it('accepts a subdomain wildcard origin', async () => {
    const res = await gw.proxy('/', { host: 'cors.test', headers: { origin: 'https://a.b.trusted.dev' } });
    assert.equal(res.headers['access-control-allow-origin'], 'https://a.b.trusted.dev');
    assert.equal(res.headers['access-control-expose-headers'], 'x-request-id');
    assert.match(String(res.headers.vary), /Origin/);
  });

  it('refuses a preflight from another origin with 403', async () => {
    const res = await gw.proxy('/', {
      host: 'cors.test',
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    });
    assert.equal(res.status, 403);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
  });

  it('adds no CORS headers to a simple request from another origin', async () => {
    const res = await gw.proxy('/', { host: 'cors.test', headers: { origin: 'https://evil.example' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
  });

  it('answers * for any origin when credentials are off', async () => {
    const res = await gw.proxy('/', { host: 'open.test', headers: { origin: 'https://whoever.example' } });
    assert.equal(res.headers['access-control-allow-origin'], '*');
    assert.equal(res.headers['access-control-allow-credentials'], undefined);
  });

  it('passes a plain OPTIONS request (not a preflight) to the upstream', async () => {
    const res = await gw.proxy('/', { host: 'open.test', method: 'OPTIONS' });
    assert.equal(res.status, 200);
    assert.equal(res.json().method, 'OPTIONS');
  });
});
