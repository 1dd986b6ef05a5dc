/**
 * The request tester (`POST /api/routes/:id/test`): a composed request runs through the route's
 * real compiled pipeline; the trace names each step's decision, the request as the upstream would
 * get it with credentials masked, and the upstream's answer only when `send` is true.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, createRoute, route, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';
import { basic, send } from '../helpers/http.js';

const SECRET = 'tester-secret-0123456789';

describe('Request tester (admin API)', () => {
  let gw: TestGateway;
  let upstream: Upstream;

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await startGateway();
    await createRoute(
      gw,
      route('orders', upstream.url, {
        frontend: { domains: ['api.test/orders'] },
        plugins: [
          { plugin: 'apikeys' },
          { plugin: 'headers', config: { request: { set: { 'X-Tested-By': 'portcullis' } } } },
        ],
      }),
    );
    const key = await gw.admin('POST', '/api/apikeys', {
      clientId: 'tester',
      clientSecret: SECRET,
      clientName: 'Tester',
      authorizedEntities: ['orders'],
    });
    assert.equal(key.status, 201, key.text);
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  it('shows apikeys denying a request without a key with 401 unauthorized, and nothing sent upstream', async () => {
    const res = await gw.admin('POST', '/api/routes/orders/test', { method: 'GET', path: '/orders/42', send: true });
    assert.equal(res.status, 200, res.text);
    const trace = res.json();
    assert.equal(trace.route, 'orders');
    assert.equal(trace.routedTo, 'orders');
    const denied = trace.steps.find((s: any) => s.plugin === 'apikeys');
    assert.equal(denied.decision, 'denied');
    assert.equal(denied.status, 401);
    assert.equal(denied.error, 'unauthorized');
    assert.equal(typeof denied.durationUs, 'number');
    assert.ok(!trace.steps.some((s: any) => s.plugin === 'headers'), 'no step runs after the denial');
    assert.deepEqual(
      { decision: trace.outcome.decision, plugin: trace.outcome.plugin, status: trace.outcome.status },
      { decision: 'denied', plugin: 'apikeys', status: 401 },
    );
    assert.equal(trace.upstreamRequest, null);
    assert.equal(trace.upstream.sent, false);
    assert.match(trace.upstream.reason, /not sent/i);
    assert.equal(upstream.received.length, 0);
  });

  it("shows an allowed request as the upstream would get it: the headers plugin's header added, Authorization masked, not sent on a dry run", async () => {
    const res = await gw.admin('POST', '/api/routes/orders/test', {
      method: 'POST',
      path: '/orders/42',
      query: { page: '2' },
      headers: { Authorization: basic('tester', SECRET), 'Content-Type': 'application/json' },
      body: '{"a":1}',
    });
    assert.equal(res.status, 200, res.text);
    const trace = res.json();
    // apikeys checks the key in validateAccess and sets its consumer headers in transformRequest.
    assert.deepEqual(
      trace.steps.map((s: any) => [s.phase, s.plugin, s.decision]),
      [
        ['validateAccess', 'apikeys', 'allowed'],
        ['transformRequest', 'apikeys', 'allowed'],
        ['transformRequest', 'headers', 'allowed'],
      ],
    );
    assert.equal(trace.outcome.decision, 'allowed');
    const sent = trace.upstreamRequest;
    assert.equal(sent.method, 'POST');
    assert.equal(sent.url, `${upstream.url}/42?page=2`);
    assert.equal(sent.headers['x-tested-by'], 'portcullis');
    assert.equal(sent.headers.authorization, 'Basic ****');
    assert.ok(
      !JSON.stringify(trace).includes(Buffer.from(`tester:${SECRET}`).toString('base64')),
      'the credential appears nowhere in the trace',
    );
    assert.equal(sent.headers['x-consumer-id'] ?? sent.headers['x-client-id'] ?? 'tester', 'tester');
    assert.deepEqual(trace.upstream, {
      sent: false,
      reason: 'Dry run: the request was not sent (send: true sends it)',
    });
    assert.equal(upstream.received.length, 0);
  });

  it('sends the request to the real upstream with send: true and returns its answer', async () => {
    const res = await gw.admin('POST', '/api/routes/orders/test', {
      method: 'POST',
      path: '/orders/42',
      headers: { Authorization: basic('tester', SECRET) },
      body: 'hello',
      send: true,
    });
    assert.equal(res.status, 200, res.text);
    const answer = res.json().upstream;
    assert.equal(answer.sent, true);
    assert.equal(answer.status, 200);
    assert.equal(answer.truncated, false);
    const echoed = JSON.parse(answer.body);
    assert.equal(echoed.url, '/42');
    assert.equal(echoed.body, 'hello');
    assert.equal(echoed.headers['x-tested-by'], 'portcullis');
    assert.equal(upstream.received.length, 1);
  });

  it('is not reachable from the proxy listener', async () => {
    await createRoute(gw, route('catch-all', upstream.url, { frontend: { domains: ['*'] } }));
    const before = upstream.received.length;
    for (const host of ['api.test', 'admin.test', 'localhost']) {
      const res = await gw.proxy('/api/routes/orders/test', {
        host,
        method: 'POST',
        headers: { authorization: basic('admin', 'x'), 'content-type': 'application/json' },
        body: '{"method":"GET","path":"/orders"}',
      });
      // The proxy routes it like any request (here the apikeys route refuses it or the catch-all
      // forwards it upstream): never a trace.
      assert.ok(!res.text.includes('"steps"'), res.text);
    }
    assert.ok(upstream.received.length > before, 'the catch-all route forwarded the request upstream');
    assert.equal(upstream.received.at(-1)!.url, '/api/routes/orders/test');
    assert.equal((await gw.admin('DELETE', '/api/routes/catch-all')).status, 204);
  });

  it("includes the global plugins as they apply to the route: a global instance's step, and a global sink that answers before routing", async () => {
    const global = await gw.admin('PUT', '/api/global-config', {
      plugins: [
        { plugin: 'client-credentials', config: { secure: false, basePath: '/oauth' } },
        { plugin: 'headers', config: { request: { set: { 'X-Global': 'yes' } } } },
      ],
    });
    assert.equal(global.status, 200, global.text);
    await createRoute(gw, route('plain', upstream.url, { frontend: { domains: ['plain.test'] } }));
    const received = upstream.received.length;
    try {
      const routed = (await gw.admin('POST', '/api/routes/plain/test', { method: 'GET', path: '/items' })).json();
      assert.deepEqual(
        routed.steps.map((s: any) => [s.phase, s.plugin, s.decision]),
        [['transformRequest', 'headers', 'allowed']],
      );
      assert.equal(routed.upstreamRequest.headers['x-global'], 'yes');
      // The orders route's own headers instance replaces the global one.
      const own = (
        await gw.admin('POST', '/api/routes/orders/test', {
          method: 'GET',
          path: '/orders/1',
          headers: { authorization: basic('tester', SECRET) },
        })
      ).json();
      assert.equal(own.upstreamRequest.headers['x-global'], undefined);
      assert.equal(own.upstreamRequest.headers['x-tested-by'], 'portcullis');

      const sunk = (
        await gw.admin('POST', '/api/routes/plain/test', {
          method: 'POST',
          path: '/oauth/token',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=client_credentials',
          send: true,
        })
      ).json();
      assert.equal(sunk.steps.length, 1);
      assert.equal(sunk.steps[0].phase, 'sink');
      assert.equal(sunk.steps[0].plugin, 'client-credentials');
      assert.ok(['denied', 'answered'].includes(sunk.outcome.decision), JSON.stringify(sunk.outcome));
      assert.equal(sunk.upstream.sent, false);
      assert.equal(upstream.received.length, received, 'nothing reached the upstream');
    } finally {
      await gw.admin('PUT', '/api/global-config', { plugins: [] });
      await gw.admin('DELETE', '/api/routes/plain');
    }
  });

  it('answers 404 for an unknown route', async () => {
    const res = await gw.admin('POST', '/api/routes/nope/test', { method: 'GET', path: '/' });
    assert.equal(res.status, 404, res.text);
    assert.equal(res.json().error, 'not_found');
  });

  it('answers 400 for bad input', async () => {
    for (const body of [
      { path: 'no-slash' },
      { method: 'GET' },
      { method: 'get me', path: '/' },
      { method: 'GET', path: '/', unexpected: true },
      { method: 'GET', path: '/', headers: { 'bad header': 'x' } },
      { method: 'GET', path: '/', send: 'yes' },
    ]) {
      const res = await gw.admin('POST', '/api/routes/orders/test', body);
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
      assert.equal(res.json().error, 'validation_failed');
    }
    const malformed = await gw.admin('POST', '/api/routes/orders/test', { method: 'GET', path: '/%zz/../..' });
    assert.ok([200, 400].includes(malformed.status), malformed.text);
  });

  it('refuses an API token: the tester is for the admin alone', async () => {
    const token = await gw.admin('POST', '/api/tokens', { name: 'ci', scopes: ['access-requests:create'] });
    assert.equal(token.status, 201, token.text);
    const secret = token.json().token;
    const res = await send(`${gw.adminUrl}/api/routes/orders/test`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: '{"method":"GET","path":"/orders"}',
    });
    assert.equal(res.status, 403, res.text);
  });
});
