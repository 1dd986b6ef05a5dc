import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, createRoute, route, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, type Upstream } from '../../helpers/upstream.js';

describe('Plugin: headers (access)', () => {
  let gw: TestGateway;
  let upstream: Upstream;

  before(async () => {
    gw = await startGateway();
    upstream = await startUpstream((req, res) => {
      res.writeHead(200, {
        'content-type': 'application/json',
        server: 'upstream/1.0',
        'x-powered-by': 'php',
        'x-cache': 'miss',
      });
      res.end(JSON.stringify(req.headers));
    });
    await createRoute(
      gw,
      route('h', upstream.url, {
        plugins: [
          {
            plugin: 'headers',
            config: {
              request: {
                add: { 'X-Added': 'a', 'x-present': 'not-used' },
                set: { 'X-Set': 's' },
                remove: ['X-Remove-Me'],
              },
              response: {
                add: { 'x-frame-options': 'DENY', 'x-cache': 'not-used' },
                set: { server: 'portcullis' },
                remove: ['X-Powered-By'],
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

  it('adds, sets and removes request headers sent upstream', async () => {
    const res = await gw.proxy('/', { headers: { 'x-present': 'client', 'x-set': 'client', 'x-remove-me': '1' } });
    const seen = res.json();
    assert.equal(seen['x-added'], 'a');
    assert.equal(seen['x-present'], 'client', 'add does not replace');
    assert.equal(seen['x-set'], 's', 'set replaces');
    assert.equal(seen['x-remove-me'], undefined);
  });

  it('adds, sets and removes response headers sent to the client', async () => {
    const res = await gw.proxy('/');
    assert.equal(res.headers['x-frame-options'], 'DENY');
    assert.equal(res.headers['x-cache'], 'miss', 'add does not replace');
    assert.equal(res.headers.server, 'portcullis');
    assert.equal(res.headers['x-powered-by'], undefined);
  });

  it('refuses header values with line breaks at configuration time', async () => {
    const res = await gw.admin(
      'POST',
      '/api/routes',
      route('bad', upstream.url, {
        plugins: [{ plugin: 'headers', config: { request: { set: { 'x-a': 'b\r\nInjected: 1' } } } }],
      }),
    );
    assert.equal(res.status, 400);
  });

  // Regression (issue 21): a value Node and undici refuse to send was accepted, then every request of the route failed.
  for (const [what, value] of [
    ['non-Latin text', '靴屋'],
    ['an accented letter', 'café'],
    ['U+2028', 'a\u2028b'],
    ['NUL', 'a\u0000b'],
    ['DEL', 'a\u007fb'],
  ] as const) {
    it(`refuses a header value with ${what} at configuration time, naming the field`, async () => {
      for (const direction of ['request', 'response'] as const) {
        const res = await gw.admin(
          'POST',
          '/api/routes',
          route(`bad-${direction}`, upstream.url, {
            plugins: [{ plugin: 'headers', config: { [direction]: { add: { 'x-shop': value } } } }],
          }),
        );
        assert.equal(res.status, 400, res.text);
        assert.match(res.text, new RegExp(`/plugins/0/config/${direction}/add/x-shop`));
      }
    });
  }

  it('refuses a header name to remove that is not a token', async () => {
    const res = await gw.admin(
      'POST',
      '/api/routes',
      route('bad-name', upstream.url, { plugins: [{ plugin: 'headers', config: { request: { remove: ['x a'] } } }] }),
    );
    assert.equal(res.status, 400, res.text);
  });

  it('accepts visible ASCII, spaces and tabs in values', async () => {
    const res = await gw.admin(
      'POST',
      '/api/routes',
      route('fine', upstream.url, {
        frontend: { domains: ['fine.test'] },
        plugins: [{ plugin: 'headers', config: { request: { set: { 'x-note': 'a b\tc ~!"#' } } } }],
      }),
    );
    assert.equal(res.status, 201, res.text);
    const seen = (await gw.proxy('/', { host: 'fine.test' })).json();
    assert.equal(seen['x-note'], 'a b\tc ~!"#');
  });
});
