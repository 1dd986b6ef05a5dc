/**
 * Attack: exhausting the metrics through label values a client controls. The only client-chosen
 * label value is the consumer (`metrics.consumers`, off by default): a JWT's `sub` on a
 * `jwt-verifier` route, which anyone holding a signing key (or an identity provider's users) picks
 * freely. A flood of distinct consumers, hosts, paths, query strings and bad tokens must create no
 * series beyond the configured cap, and a crafted `sub` (quotes, newlines, a series of its own
 * spelled out) must stay one escaped label value, never a line of the exposition.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { startGateway, createRoute, route, ADMIN_PASSWORD, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';
import { basic, send } from '../helpers/http.js';
import { parseExposition, type Exposition } from '../helpers/prometheus.js';

const SECRET = new TextEncoder().encode('a-very-long-shared-secret-of-32-bytes!');
const CONSUMER_CAP = 3;
const INJECTION = 'mallory"} 1\nportcullis_injected_total{route="x';

function tokenFor(sub: string): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuer('https://idp.example')
    .setAudience('orders')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(SECRET);
}

/** Series a client could multiply: everything but the process's own (GC kinds come and go). */
function trafficSeries(exposition: Exposition): string[] {
  return exposition.series
    .filter((s) => !/^(nodejs|process)_/.test(s.name))
    .map((s) => `${s.name}${JSON.stringify(s.labels)}`)
    .sort();
}

describe('Attack: metric cardinality through crafted consumers, hosts and paths', () => {
  let upstream: Upstream;
  let gw: TestGateway;

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await startGateway({ logLevel: 'silent', config: { metrics: { consumers: CONSUMER_CAP } } });
    assert.equal(
      (
        await gw.admin('POST', '/api/jwt-verifiers', {
          id: 'idp',
          name: 'IdP',
          keys: { kind: 'hmac', secret: 'a-very-long-shared-secret-of-32-bytes!' },
          algorithms: ['HS256'],
          issuer: 'https://idp.example',
          audience: 'orders',
        })
      ).status,
      201,
    );
    await createRoute(
      gw,
      route('orders', upstream.url, {
        frontend: { domains: ['orders.test'] },
        plugins: [{ plugin: 'jwt-verifier', config: { verifiers: ['idp'] } }],
      }),
    );
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  const scrape = async (): Promise<Exposition> => {
    const res = await send(`${gw.adminUrl}/metrics`, { headers: { authorization: basic('admin', ADMIN_PASSWORD) } });
    assert.equal(res.status, 200);
    return parseExposition(res.text); // throws on any line that is not a well-formed sample
  };
  const asConsumer = async (sub: string, path = '/') =>
    gw.proxy(path, { host: 'orders.test', headers: { authorization: `Bearer ${await tokenFor(sub)}` } });

  /** One request of every kind the floods send, so the first flood has made every label combination. */
  async function flood(prefix: string, count: number): Promise<number> {
    let served = 0;
    for (let i = 0; i < count; i++) {
      if ((await asConsumer(`${prefix}-user-${i}`, `/${prefix}/${i}?q=${i}`)).status === 200) served++;
      assert.equal(
        (
          await gw.proxy(`/${prefix}/${i}`, {
            host: 'orders.test',
            headers: { authorization: `Bearer ${prefix}.${i}.bad` },
          })
        ).status,
        401,
      );
      assert.equal((await gw.proxy(`/${prefix}/${i}`, { host: `${prefix}-${i}.unknown.test` })).status, 404);
    }
    return served;
  }

  it('a crafted sub is one escaped label value: the exposition stays well-formed and grows no injected series', async () => {
    for (const sub of [INJECTION, 'back\\slash\\', 'ünïcødé-✓']) assert.equal((await asConsumer(sub)).status, 200, sub);
    const exposition = await scrape();
    assert.equal(exposition.find('portcullis_injected_total').length, 0);
    const consumers = exposition.find('portcullis_consumer_requests_total').map((s) => s.labels.consumer);
    assert.ok(consumers.includes(INJECTION), `the crafted value round-trips as a label: ${JSON.stringify(consumers)}`);
    assert.ok(consumers.includes('back\\slash\\'));
  });

  it('a flood of distinct consumers is capped: the first N keep a series, every later one counts as other', async () => {
    const served = await flood('first', 40);
    assert.equal(served, 40);
    const exposition = await scrape();
    const consumers = new Set(exposition.find('portcullis_consumer_requests_total').map((s) => s.labels.consumer));
    assert.ok(
      consumers.size <= CONSUMER_CAP + 1,
      `${consumers.size} consumer label values: ${[...consumers].join(', ').slice(0, 300)}`,
    );
    assert.ok(consumers.has('other'));
    const total = exposition.find('portcullis_consumer_requests_total').reduce((sum, s) => sum + s.value, 0);
    assert.equal(total, 43, 'every authenticated request is counted once (3 crafted + 40)');
  });

  it('a second flood of new consumers, hosts, paths, query strings and bad tokens creates no series at all', async () => {
    const before = trafficSeries(await scrape());
    await flood('second', 100);
    const after = trafficSeries(await scrape());
    assert.deepEqual(
      after.filter((s) => !before.includes(s)),
      [],
      'new series',
    );
    assert.equal(after.length, before.length);
  });

  it('label values carry no client-chosen path, host or query: only route ids and fixed words', async () => {
    const exposition = await scrape();
    for (const s of exposition.series) {
      for (const [label, value] of Object.entries(s.labels)) {
        if (label === 'consumer') continue;
        assert.doesNotMatch(value, /first|second|unknown\.test|\?q=/, `${s.name} ${label}=${value}`);
      }
    }
  });
});

describe('Attack: metric cardinality with consumers off (the default)', () => {
  it('no consumer series exist, whatever the consumers', async () => {
    const upstream = await startUpstream(echo);
    const gw = await startGateway({ logLevel: 'silent' });
    try {
      assert.equal(
        (
          await gw.admin('POST', '/api/jwt-verifiers', {
            id: 'idp',
            name: 'IdP',
            keys: { kind: 'hmac', secret: 'a-very-long-shared-secret-of-32-bytes!' },
            algorithms: ['HS256'],
          })
        ).status,
        201,
      );
      await createRoute(
        gw,
        route('orders', upstream.url, { plugins: [{ plugin: 'jwt-verifier', config: { verifiers: ['idp'] } }] }),
      );
      for (let i = 0; i < 10; i++)
        assert.equal(
          (await gw.proxy('/', { headers: { authorization: `Bearer ${await tokenFor(`user-${i}`)}` } })).status,
          200,
        );
      const res = await send(`${gw.adminUrl}/metrics`, { headers: { authorization: basic('admin', ADMIN_PASSWORD) } });
      const exposition = parseExposition(res.text);
      assert.equal(exposition.find('portcullis_consumer_requests_total').length, 0);
      assert.ok(exposition.find('portcullis_requests_total', { route: 'orders' }).length > 0, 'the route is counted');
    } finally {
      await gw.close();
      await upstream.close();
    }
  });
});
