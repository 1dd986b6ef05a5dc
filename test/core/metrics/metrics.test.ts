import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { randomBytes } from 'node:crypto';
import { startGateway, createRoute, route, ADMIN_PASSWORD, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, deadPort, type Upstream } from '../../helpers/upstream.js';
import { send, basic } from '../../helpers/http.js';
import { parseExposition, type Exposition } from '../../helpers/prometheus.js';

const METRICS_TOKEN = 'prometheus-scrape-token-0123456789';
const SECRET = 'the-right-secret-0123456789';
const keyAuth = (id: string) => ({ authorization: basic(id, SECRET) });

describe('Metrics: /metrics on the admin listener', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let silent: Upstream;
  const scrape = async (): Promise<Exposition> => {
    const res = await send(`${gw.adminUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    assert.equal(res.status, 200, res.text);
    return parseExposition(res.text);
  };

  before(async () => {
    gw = await startGateway({ config: { metrics: { token: METRICS_TOKEN, consumers: 2 } } });
    upstream = await startUpstream(echo);
    // An upstream that never answers: the route's headers timeout fires.
    silent = await startUpstream(() => {});
    await createRoute(gw, route('open', upstream.url, { frontend: { domains: ['open.test'] } }));
    await createRoute(
      gw,
      route('keyed', upstream.url, { frontend: { domains: ['keyed.test'] }, plugins: [{ plugin: 'apikeys' }] }),
    );
    await createRoute(
      gw,
      route('slow', silent.url, {
        frontend: { domains: ['slow.test'] },
        backend: { targets: [{ url: silent.url }], timeouts: { headersMs: 150 } },
      }),
    );
    await createRoute(
      gw,
      route('gone', `http://127.0.0.1:${await deadPort()}`, { frontend: { domains: ['gone.test'] } }),
    );
    for (const id of ['alice', 'bob', 'carol', 'dave']) {
      const res = await gw.admin('POST', '/api/apikeys', {
        clientId: id,
        clientSecret: SECRET,
        clientName: id,
        authorizedEntities: ['keyed'],
      });
      assert.equal(res.status, 201, res.text);
    }
  });
  after(async () => {
    await gw.close();
    await upstream.close();
    await silent.close();
  });

  it('refuses a scrape without credentials or with a wrong token, with the admin challenge', async () => {
    const none = await send(`${gw.adminUrl}/metrics`);
    assert.equal(none.status, 401);
    assert.match(String(none.headers['www-authenticate']), /^Basic /);
    assert.equal(
      (await send(`${gw.adminUrl}/metrics`, { headers: { authorization: 'Bearer not-the-token-0123456789' } })).status,
      401,
    );
    assert.equal(
      (await send(`${gw.adminUrl}/metrics`, { headers: { authorization: basic('admin', 'wrong-password') } })).status,
      401,
    );
  });

  it('answers the metrics token and the admin credentials in the Prometheus text format', async () => {
    const withToken = await send(`${gw.adminUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    assert.equal(withToken.status, 200);
    assert.equal(withToken.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(withToken.headers['cache-control'], 'no-store');
    const withAdmin = await send(`${gw.adminUrl}/metrics`, {
      headers: { authorization: basic('admin', ADMIN_PASSWORD) },
    });
    assert.equal(withAdmin.status, 200);
    const parsed = parseExposition(withAdmin.text);
    assert.equal(parsed.types.get('portcullis_requests_total'), 'counter');
    assert.equal(parsed.types.get('portcullis_request_duration_seconds'), 'histogram');
    // prom-client's default process metrics
    assert.ok(parsed.value('process_cpu_user_seconds_total') > 0);
    assert.ok(parsed.value('nodejs_heap_size_used_bytes') > 0);
    const refused = await send(`${gw.adminUrl}/metrics`, {
      method: 'POST',
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    assert.equal(refused.status, 405);
  });

  it('counts requests by route, decision and status class, and times them, as real traffic flows', async () => {
    const before = await scrape();
    for (let i = 0; i < 3; i++) assert.equal((await gw.proxy(`/items/${i}`, { host: 'open.test' })).status, 200);
    const after = await scrape();
    const labels = { route: 'open', decision: 'allowed', plugin: '', status_class: '2xx' };
    assert.equal(
      after.value('portcullis_requests_total', labels) - before.value('portcullis_requests_total', labels),
      3,
    );
    for (const histogram of [
      'portcullis_request_duration_seconds',
      'portcullis_gateway_overhead_seconds',
      'portcullis_upstream_duration_seconds',
    ]) {
      assert.equal(
        after.value(`${histogram}_count`, { route: 'open' }) - before.value(`${histogram}_count`, { route: 'open' }),
        3,
        histogram,
      );
      assert.equal(
        after.value(`${histogram}_bucket`, { route: 'open', le: '+Inf' }),
        after.value(`${histogram}_count`, { route: 'open' }),
      );
      assert.ok(after.value(`${histogram}_sum`, { route: 'open' }) > 0);
    }
    // the gateway's own share is part of the whole
    assert.ok(
      after.value('portcullis_gateway_overhead_seconds_sum', { route: 'open' }) <
        after.value('portcullis_request_duration_seconds_sum', { route: 'open' }),
    );
  });

  it('labels a denial with the plugin that denied it', async () => {
    assert.equal((await gw.proxy('/', { host: 'keyed.test' })).status, 401);
    assert.equal((await gw.proxy('/', { host: 'keyed.test', headers: keyAuth('alice') })).status, 200);
    const parsed = await scrape();
    assert.equal(
      parsed.value('portcullis_requests_total', {
        route: 'keyed',
        decision: 'denied',
        plugin: 'apikeys',
        status_class: '4xx',
      }),
      1,
    );
    assert.equal(
      parsed.value('portcullis_requests_total', { route: 'keyed', decision: 'allowed', status_class: '2xx' }),
      1,
    );
    // a denied request never went upstream: no upstream time recorded
    assert.equal(parsed.value('portcullis_upstream_duration_seconds_count', { route: 'keyed' }), 1);
    assert.equal(parsed.value('portcullis_request_duration_seconds_count', { route: 'keyed' }), 2);
  });

  it('counts upstream failures by kind: a timeout and a refused connection', async () => {
    assert.equal((await gw.proxy('/', { host: 'slow.test' })).status, 504);
    assert.equal((await gw.proxy('/', { host: 'gone.test' })).status, 502);
    const parsed = await scrape();
    assert.equal(parsed.value('portcullis_upstream_errors_total', { route: 'slow', kind: 'timeout' }), 1);
    assert.equal(parsed.value('portcullis_upstream_errors_total', { route: 'gone', kind: 'refused' }), 1);
    assert.equal(
      parsed.value('portcullis_requests_total', { route: 'slow', decision: 'allowed', status_class: '5xx' }),
      1,
    );
  });

  it('keeps the series count when 10 000 requests go to random unknown paths and random hosts', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    const random = () => randomBytes(6).toString('hex');
    const request = (i: number) =>
      i % 2 === 0
        ? send(`${gw.proxyUrl}/${random()}/${random()}?q=${random()}`, {
            headers: { host: `${random()}.example` },
            agent,
          })
        : send(`${gw.proxyUrl}/${random()}/${random()}`, { headers: { host: 'open.test' }, agent });
    // One of each kind first: the series they need exist from then on.
    await request(0);
    await request(1);
    const before = await scrape();
    const count = before.value('portcullis_metrics_series');
    assert.equal(count, before.series.length);
    for (let i = 0; i < 10_000; i += 100) {
      const answers = await Promise.all(Array.from({ length: 100 }, (_, j) => request(i + j)));
      assert.deepEqual([...new Set(answers.map((a) => a.status))].sort(), [200, 404]);
    }
    agent.destroy();
    const after = await scrape();
    const key = (s: { name: string; labels: Record<string, string> }) => `${s.name}${JSON.stringify(s.labels)}`;
    const known = new Set(before.series.map(key));
    assert.deepEqual(
      after.series.map(key).filter((k) => !known.has(k)),
      [],
    );
    assert.equal(after.value('portcullis_metrics_series'), count);
    assert.equal(after.series.length, before.series.length);
    assert.equal(
      after.value('portcullis_requests_total', { route: '(none)', decision: 'unrouted', status_class: '4xx' }) -
        before.value('portcullis_requests_total', { route: '(none)', decision: 'unrouted', status_class: '4xx' }),
      5000,
    );
    // no label value comes from what the client sent
    for (const series of after.series)
      for (const value of Object.values(series.labels)) assert.doesNotMatch(value, /[0-9a-f]{12}|example/);
  });

  it('labels consumers only up to metrics.consumers, then counts them as other', async () => {
    for (const id of ['alice', 'bob', 'carol', 'dave'])
      assert.equal((await gw.proxy('/', { host: 'keyed.test', headers: keyAuth(id) })).status, 200);
    const parsed = await scrape();
    const consumers = parsed
      .find('portcullis_consumer_requests_total')
      .map((s) => s.labels.consumer)
      .sort();
    // alice was first (the denial test), then bob; carol and dave share `other`
    assert.deepEqual(consumers, ['alice', 'bob', 'other']);
    assert.equal(parsed.value('portcullis_consumer_requests_total', { consumer: 'other', status_class: '2xx' }), 2);
    assert.equal(parsed.value('portcullis_consumer_requests_total', { consumer: 'alice', status_class: '2xx' }), 2);
  });

  it('times configuration writes', async () => {
    const parsed = await scrape();
    assert.ok(parsed.value('portcullis_config_store_write_seconds_count', { operation: 'create', result: 'ok' }) >= 8);
    assert.equal(parsed.value('portcullis_state_store_ready'), 1);
  });
});

describe('Metrics: consumers are left out unless asked for', () => {
  it('has no consumer series by default', async () => {
    const gw = await startGateway();
    try {
      const res = await gw.admin('GET', '/metrics');
      assert.equal(res.status, 200);
      assert.equal(parseExposition(res.text).find('portcullis_consumer_requests_total').length, 0);
      assert.doesNotMatch(res.text, /portcullis_consumer_requests_total/);
    } finally {
      await gw.close();
    }
  });
});

describe('Metrics: metrics.enabled false', () => {
  it('leaves proxied requests out of the per-route series and still serves /metrics', async () => {
    const gw = await startGateway({ config: { metrics: { enabled: false } } });
    const upstream = await startUpstream(echo);
    try {
      await createRoute(gw, route('uncounted', upstream.url, { frontend: { domains: ['uncounted.test'] } }));
      assert.equal((await gw.proxy('/', { host: 'uncounted.test' })).status, 200);
      assert.equal((await gw.proxy('/', { host: 'nowhere.test' })).status, 404);
      const res = await gw.admin('GET', '/metrics');
      assert.equal(res.status, 200);
      const parsed = parseExposition(res.text);
      assert.equal(parsed.find('portcullis_requests_total').length, 0);
      assert.equal(parsed.find('portcullis_request_duration_seconds_count').length, 0);
      assert.ok(parsed.find('portcullis_config_store_write_seconds_count').length > 0, 'the other metrics stay');
    } finally {
      await gw.close();
      await upstream.close();
    }
  });
});
