/**
 * The proxy listener's own health path (`proxy.healthPath`) for load balancers: answered before any
 * route, exactly the configured path, GET and HEAD only, and 503 from the moment the gateway starts
 * shutting down.
 */
import 'reflect-metadata';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, createRoute, route, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import { ProxyHandler } from '../../../core/http/proxy.js';
import { loadBootConfig } from '../../../core/config/boot-config.js';

describe('Proxy listener: health path for load balancers', () => {
  let upstream: Upstream;
  let gw: TestGateway;
  let plain: TestGateway;

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await startGateway({ config: { proxy: { healthPath: '/healthz' } } });
    plain = await startGateway();
    // A catch-all route on the same host: the health path must still be the gateway's own answer.
    await createRoute(gw, route('all', upstream.url));
    await createRoute(plain, route('all', upstream.url));
  });
  after(async () => {
    await plain.close();
    await upstream.close();
  });

  it('answers 200 {"status":"ok"} itself, before any route, never cached', async () => {
    const r = await gw.proxy('/healthz');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json(), { status: 'ok' });
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.equal(upstream.received.filter((q) => q.url === '/healthz').length, 0, 'the upstream never saw it');
    const head = await gw.proxy('/healthz', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
  });

  it('is exactly the configured path: anything else goes to the routes', async () => {
    for (const path of ['/healthz/', '/healthz?probe=1', '/HEALTHZ', '/health']) {
      const r = await gw.proxy(path);
      assert.equal(r.status, 200, path);
      assert.ok(
        upstream.received.some((q) => q.url === path),
        `${path} reached the upstream`,
      );
    }
    const off = await plain.proxy('/healthz');
    assert.ok(
      upstream.received.filter((q) => q.url === '/healthz').length === 1 && off.status === 200,
      'without healthPath the path is an ordinary request',
    );
  });

  it('refuses other methods with 405 JSON and an Allow header', async () => {
    const r = await gw.proxy('/healthz', { method: 'POST', body: 'x' });
    assert.equal(r.status, 405);
    assert.equal(r.json().error, 'method_not_allowed');
    assert.equal(r.headers.allow, 'GET, HEAD');
  });

  it('answers 503 draining once the gateway is shutting down', async () => {
    const handler = gw.gateway.container.resolve(ProxyHandler);
    assert.equal(handler.draining, false);
    const closing = gw.close();
    assert.equal(handler.draining, true, 'set as soon as close() starts');
    await closing;
    // What a balancer's probe on a still-open connection would get.
    const answered: { status?: number; body?: string } = {};
    const res = {
      shouldKeepAlive: true,
      writeHead(status: number) {
        answered.status = status;
        return this;
      },
      end(body?: string) {
        answered.body = body;
      },
    };
    handler.handleRequest(
      { url: '/healthz', method: 'GET', headers: { host: 'api.test' }, rawHeaders: ['Host', 'api.test'] } as never,
      res as never,
    );
    assert.equal(answered.status, 503);
    assert.deepEqual(JSON.parse(answered.body!), { status: 'draining' });
    assert.equal(res.shouldKeepAlive, false);
  });

  it('is validated at start: a path must start with / and hold no spaces', () => {
    assert.throws(() => loadBootConfig({ env: { PORTCULLIS_PROXY_HEALTH_PATH: 'health' } }), /healthPath/);
    assert.throws(() => loadBootConfig({ env: { PORTCULLIS_PROXY_HEALTH_PATH: '/he alth' } }), /healthPath/);
    assert.equal(loadBootConfig({ env: { PORTCULLIS_PROXY_HEALTH_PATH: '/healthz' } }).proxy.healthPath, '/healthz');
  });
});
