import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, createRoute, route, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';

describe('Plugin runtime: global plugins, include/exclude, route overrides', () => {
  let gw: TestGateway;
  let upstream: Upstream;

  before(async () => {
    gw = await startGateway();
    upstream = await startUpstream(echo);
    await createRoute(gw, route('plain', upstream.url, { frontend: { domains: ['plain.test'] } }));
    await createRoute(
      gw,
      route('override', upstream.url, {
        frontend: { domains: ['override.test'] },
        plugins: [{ plugin: 'headers', config: { request: { set: { 'x-layer': 'route' } } } }],
      }),
    );
    await createRoute(
      gw,
      route('disabled-override', upstream.url, {
        frontend: { domains: ['off.test'] },
        plugins: [{ plugin: 'headers', enabled: false, config: { request: { set: { 'x-layer': 'never' } } } }],
      }),
    );
    const global = (await gw.admin('GET', '/api/global-config')).json();
    const res = await gw.admin('PUT', '/api/global-config', {
      ...global,
      plugins: [
        { plugin: 'headers', exclude: ['/private(/.*)?'], config: { request: { set: { 'x-layer': 'global' } } } },
      ],
    });
    assert.equal(res.status, 200, res.text);
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  it('runs a global plugin on every route', async () => {
    const res = await gw.proxy('/anything', { host: 'plain.test' });
    assert.equal(res.json().headers['x-layer'], 'global');
  });

  it('does not run a global plugin on excluded paths', async () => {
    const res = await gw.proxy('/private/data', { host: 'plain.test' });
    assert.equal(res.json().headers['x-layer'], undefined);
  });

  it('lets a route instance replace the global instance of the same plugin', async () => {
    const res = await gw.proxy('/anything', { host: 'override.test' });
    assert.equal(res.json().headers['x-layer'], 'route');
    // the route instance has no exclude: it applies on /private too
    assert.equal((await gw.proxy('/private', { host: 'override.test' })).json().headers['x-layer'], 'route');
  });

  it('treats a disabled route instance as an override that removes the plugin there', async () => {
    const res = await gw.proxy('/anything', { host: 'off.test' });
    assert.equal(res.json().headers['x-layer'], undefined);
  });

  it('applies global changes to the very next request', async () => {
    const global = (await gw.admin('GET', '/api/global-config')).json();
    await gw.admin('PUT', '/api/global-config', {
      ...global,
      plugins: [{ plugin: 'headers', include: ['/only-here'], config: { request: { set: { 'x-layer': 'narrow' } } } }],
    });
    assert.equal((await gw.proxy('/only-here', { host: 'plain.test' })).json().headers['x-layer'], 'narrow');
    assert.equal((await gw.proxy('/elsewhere', { host: 'plain.test' })).json().headers['x-layer'], undefined);
  });
});
