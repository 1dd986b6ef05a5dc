import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  BUCKET_COUNT,
  BUCKET_SECONDS,
  RouteHistory,
  RouteSeries,
  latencyCell,
  mergeSnapshots,
  p99FromCells,
} from '../../../core/metrics/route-history.js';
import { startGateway, createRoute, route, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, type Upstream } from '../../helpers/upstream.js';
import { send } from '../../helpers/http.js';

const BUCKET_MS = BUCKET_SECONDS * 1000;
/**
 * A clock for one test: `at(n, offsetMs)` is the `performance.now()` value `offsetMs` into the n-th
 * bucket after the next bucket boundary (the history takes the time of each call, so no test waits).
 */
function clock(): (buckets: number, offsetMs?: number) => number {
  const boundary = Math.ceil((performance.timeOrigin + performance.now()) / BUCKET_MS) * BUCKET_MS;
  return (buckets, offsetMs = 1) => boundary + buckets * BUCKET_MS + offsetMs - performance.timeOrigin;
}
const OK = 1; // 2xx
const CLIENT_ERROR = 3; // 4xx

describe('Metrics: route history (15 minutes of 10-second buckets)', () => {
  it('counts requests per bucket and status class, oldest bucket first, the current one last', () => {
    const history = new RouteHistory();
    const at = clock();
    const a = new RouteSeries();
    const start = at(0);
    for (let i = 0; i < 3; i++) history.record(a, OK, 0.002, start);
    history.record(a, CLIENT_ERROR, 0.002, start + 5000);
    history.record(a, OK, 0.002, at(1, 2000));
    const snap = history.snapshot([{ routeId: 'a', history: a }], { limit: 10 }, at(1, 4000));
    assert.equal(snap.time.length, BUCKET_COUNT);
    assert.equal(snap.bucketSeconds, BUCKET_SECONDS);
    assert.equal(
      snap.time[BUCKET_COUNT - 1]! * 1000,
      Math.floor((performance.timeOrigin + at(1)) / BUCKET_MS) * BUCKET_MS,
    );
    assert.equal(snap.time[1]! - snap.time[0]!, BUCKET_SECONDS);
    assert.ok(Math.abs(snap.currentSeconds - 4) < 0.01, String(snap.currentSeconds));
    const [w] = snap.routes;
    assert.equal(w!.total, 5);
    assert.equal(w!.requests['2xx'][BUCKET_COUNT - 2], 3);
    assert.equal(w!.requests['4xx'][BUCKET_COUNT - 2], 1);
    assert.equal(w!.requests['2xx'][BUCKET_COUNT - 1], 1);
    assert.equal(
      w!.requests['2xx'].reduce((s, n) => s + n, 0),
      4,
    );
    assert.deepEqual(snap.all.requests['2xx'], w!.requests['2xx']);
  });

  it('gives each bucket its p99 latency, from a histogram accurate to one cell (~19 %)', () => {
    const history = new RouteHistory();
    const at = clock();
    const a = new RouteSeries();
    const b = new RouteSeries();
    const start = at(0);
    // Route a: 980 fast requests and 20 slow ones: the p99 is slow. Route b: all fast.
    for (let i = 0; i < 980; i++) history.record(a, OK, 0.001, start);
    for (let i = 0; i < 20; i++) history.record(a, OK, 0.1, start);
    for (let i = 0; i < 1000; i++) history.record(b, OK, 0.001, start);
    // Still the current bucket: computed from the live histogram.
    let snap = history.snapshot(
      [
        { routeId: 'a', history: a },
        { routeId: 'b', history: b },
      ],
      { limit: 10 },
      start + 1000,
    );
    const p99 = (routeId: string, i: number) =>
      (routeId === '*' ? snap.all : snap.routes.find((r) => r.routeId === routeId)!).p99Ms[i]!;
    const near = (value: number, expected: number) =>
      assert.ok(value > expected / 1.2 && value <= expected * 1.2, `${value} ≈ ${expected}`);
    near(p99('a', BUCKET_COUNT - 1), 100);
    near(p99('b', BUCKET_COUNT - 1), 1);
    // 20 slow of 2000: 1 %, at the edge; the p99 of all requests is not a mean of the routes'.
    near(p99('*', BUCKET_COUNT - 1), 1);
    // Two buckets later: kept as the finished bucket's p99, and the idle bucket between has none.
    snap = history.snapshot(
      [
        { routeId: 'a', history: a },
        { routeId: 'b', history: b },
      ],
      { limit: 10 },
      at(2),
    );
    near(p99('a', BUCKET_COUNT - 3), 100);
    near(p99('b', BUCKET_COUNT - 3), 1);
    assert.equal(p99('a', BUCKET_COUNT - 2), null);
    assert.equal(p99('a', BUCKET_COUNT - 1), null);
  });

  it('forgets what is older than the window and releases a route idle for a whole window', () => {
    const history = new RouteHistory();
    const at = clock();
    const a = new RouteSeries();
    const b = new RouteSeries();
    history.record(a, OK, 0.001, at(0));
    history.record(b, OK, 0.001, at(0));
    history.record(b, OK, 0.001, at(BUCKET_COUNT - 1));
    let snap = history.snapshot(
      [
        { routeId: 'a', history: a },
        { routeId: 'b', history: b },
      ],
      { limit: 10 },
      at(BUCKET_COUNT - 1, 10),
    );
    assert.deepEqual(
      snap.routes.map((r) => [r.routeId, r.total]),
      [
        ['b', 2],
        ['a', 1],
      ],
    );
    assert.equal(snap.all.total, 3);
    // One bucket later the first bucket left the window: a had nothing since, so its arrays are gone.
    snap = history.snapshot(
      [
        { routeId: 'a', history: a },
        { routeId: 'b', history: b },
      ],
      { limit: 10 },
      at(BUCKET_COUNT, 10),
    );
    assert.deepEqual(
      snap.routes.map((r) => [r.routeId, r.total]),
      [['b', 1]],
    );
    assert.equal(a.counts, null);
    assert.notEqual(b.counts, null);
    assert.equal(snap.all.total, 1);
    // Far later (longer than a window without a single call): everything is zero, nothing stale wraps around.
    snap = history.snapshot([{ routeId: 'b', history: b }], { limit: 10 }, at(5 * BUCKET_COUNT + 7));
    assert.deepEqual(snap.routes, []);
    assert.equal(snap.all.total, 0);
    history.record(a, OK, 0.001, at(5 * BUCKET_COUNT + 8));
    snap = history.snapshot([{ routeId: 'a', history: a }], { limit: 10 }, at(5 * BUCKET_COUNT + 8, 50));
    assert.equal(snap.routes[0]!.total, 1);
    assert.equal(snap.routes[0]!.requests['2xx'][BUCKET_COUNT - 1], 1);
  });

  it('answers the busiest routes up to the limit, and the routes asked for whatever their rank', () => {
    const history = new RouteHistory();
    const at = clock();
    const series = ['quiet', 'busy', 'medium'].map((routeId) => ({ routeId, history: new RouteSeries() }));
    const start = at(0);
    series.forEach((s, i) => {
      for (let n = 0; n < [1, 9, 5][i]!; n++) history.record(s.history, OK, 0.001, start);
    });
    assert.deepEqual(
      history.snapshot(series, { limit: 2 }, start).routes.map((r) => r.routeId),
      ['busy', 'medium'],
    );
    assert.deepEqual(
      history.snapshot(series, { limit: 1, include: new Set(['quiet']) }, start).routes.map((r) => r.routeId),
      ['busy', 'quiet'],
    );
  });

  it('merges the windows of several processes: counts add up, buckets matched by time, the worst p99', () => {
    const at = clock();
    const one = new RouteHistory();
    const two = new RouteHistory();
    const a1 = new RouteSeries();
    const a2 = new RouteSeries();
    const b2 = new RouteSeries();
    for (let i = 0; i < 4; i++) one.record(a1, OK, 0.001, at(0));
    for (let i = 0; i < 6; i++) two.record(a2, OK, 0.05, at(0));
    two.record(a2, CLIENT_ERROR, 0.05, at(1));
    two.record(b2, OK, 0.001, at(1));
    // The first process answered just before the boundary, the second just after it.
    const first = one.snapshot([{ routeId: 'a', history: a1 }], { limit: 10 }, at(0, 9999));
    const second = two.snapshot(
      [
        { routeId: 'a', history: a2 },
        { routeId: 'b', history: b2 },
      ],
      { limit: 10 },
      at(1, 10),
    );
    const merged = mergeSnapshots([first, second], { limit: 10 });
    assert.deepEqual(merged.time, second.time);
    const a = merged.routes.find((w) => w.routeId === 'a')!;
    assert.equal(a.total, 11);
    assert.equal(a.requests['2xx'][BUCKET_COUNT - 2], 10);
    assert.equal(a.requests['4xx'][BUCKET_COUNT - 1], 1);
    assert.ok(a.p99Ms[BUCKET_COUNT - 2]! > 40, "the worst process's p99");
    assert.equal(merged.all.total, 12);
    assert.deepEqual(
      merged.routes.map((w) => w.routeId),
      ['a', 'b'],
    );
    assert.deepEqual(
      mergeSnapshots([first, second], { limit: 1 }).routes.map((w) => w.routeId),
      ['a'],
    );
    assert.deepEqual(
      mergeSnapshots([first, second], { limit: 1, include: new Set(['b']) }).routes.map((w) => w.routeId),
      ['a', 'b'],
    );
  });

  it('puts durations in log-spaced cells and reads the p99 back within its cell', () => {
    assert.equal(latencyCell(0), 0);
    assert.equal(latencyCell(-1), 0);
    assert.equal(latencyCell(Number.NaN), 0);
    assert.equal(latencyCell(3600), 87);
    for (const seconds of [0.00005, 0.0003, 0.004, 0.05, 0.7, 12]) {
      const cells = new Uint32Array(88);
      cells[latencyCell(seconds)] = 100;
      const p99 = p99FromCells(cells, 100);
      assert.ok(p99 >= (seconds * 1000) / 1.2 && p99 <= seconds * 1000 * 1.2, `${seconds} s → ${p99} ms`);
    }
    assert.ok(Number.isNaN(p99FromCells(new Uint32Array(88), 0)));
  });
});

describe('Admin API: GET /api/traffic/history', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  before(async () => {
    gw = await startGateway();
    upstream = await startUpstream((req, res) => {
      res.writeHead(req.url?.includes('missing') ? 404 : 200);
      res.end();
    });
    await createRoute(gw, route('shop', upstream.url, { frontend: { domains: ['shop.test'] } }));
    await createRoute(gw, route('idle', upstream.url, { frontend: { domains: ['idle.test'] } }));
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  it('shows proxied requests in the current bucket of their route, by status class, with unrouted ones apart', async () => {
    for (let i = 0; i < 6; i++)
      assert.equal((await send(`${gw.proxyUrl}/x`, { headers: { host: 'shop.test' } })).status, 200);
    for (let i = 0; i < 2; i++)
      assert.equal((await send(`${gw.proxyUrl}/missing`, { headers: { host: 'shop.test' } })).status, 404);
    assert.equal((await send(`${gw.proxyUrl}/x`, { headers: { host: 'nowhere.test' } })).status, 404);
    const res = await gw.admin('GET', '/api/traffic/history');
    assert.equal(res.status, 200, res.text);
    const body = res.json();
    const shop = body.routes.find((r: { routeId: string }) => r.routeId === 'shop');
    const sum = (values: number[]) => values.reduce((s, n) => s + n, 0);
    assert.equal(shop.total, 8);
    assert.equal(sum(shop.requests['2xx']), 6);
    assert.equal(sum(shop.requests['4xx']), 2);
    // A request that ended right at a bucket boundary may sit in the previous bucket.
    assert.ok(shop.requests['2xx'][BUCKET_COUNT - 1] + shop.requests['2xx'][BUCKET_COUNT - 2] === 6);
    assert.ok(shop.p99Ms.some((v: number | null) => v !== null && v > 0));
    assert.equal(body.routes.find((r: { routeId: string }) => r.routeId === '(none)').total, 1);
    assert.equal(
      body.routes.some((r: { routeId: string }) => r.routeId === 'idle'),
      false,
      'a route without traffic has no window',
    );
    assert.equal(body.all.total, 9);
    assert.equal((await gw.admin('GET', '/api/traffic/history?limit=1')).json().routes.length, 1);
    assert.equal((await gw.admin('GET', '/api/traffic/history?limit=0')).status, 400);
    assert.equal((await send(`${gw.adminUrl}/api/traffic/history`)).status, 401);
  });

  it('drops a deleted route from the answer', async () => {
    await send(`${gw.proxyUrl}/x`, { headers: { host: 'idle.test' } });
    assert.ok(
      (await gw.admin('GET', '/api/traffic/history'))
        .json()
        .routes.some((r: { routeId: string }) => r.routeId === 'idle'),
    );
    assert.equal((await gw.admin('DELETE', '/api/routes/idle')).status, 204);
    assert.equal(
      (await gw.admin('GET', '/api/traffic/history'))
        .json()
        .routes.some((r: { routeId: string }) => r.routeId === 'idle'),
      false,
    );
  });
});
