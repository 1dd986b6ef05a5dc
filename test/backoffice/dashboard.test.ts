/**
 * The dashboard in real Chromium: the 15-minute charts (uPlot, served by the gateway) follow the
 * traffic sent through the proxy, read from the data the chart instances draw; the per-route table
 * sorts by its headers (aria-sort) and opens a route's editor; nothing leaves loopback.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startGateway, createRoute, route, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';
import { send } from '../helpers/http.js';
import { launchBrowser } from './browser.js';
import { loggedInPage, shot } from './ui-helpers.js';

/** What a chart draws: its series' labels and data (uPlot's own arrays, kept on its container). */
interface Drawn {
  labels: string[];
  data: Array<Array<number | null>>;
}

async function drawn(page: Page, id: string): Promise<Drawn> {
  return page.locator(`#${id}`).evaluate((container) => {
    const u = (
      container as unknown as { uplot?: { series: Array<{ label?: string }>; data: Array<Array<number | null>> } }
    ).uplot;
    if (!u) return { labels: [], data: [] };
    return { labels: u.series.map((s) => String(s.label ?? '')), data: u.data.map((d) => [...d]) };
  });
}

describe('Back office: dashboard (real Chromium)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let browser: Browser;
  let page: Page;
  const requested: string[] = [];

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await startGateway({ backOffice: true });
    await createRoute(gw, route('orders', upstream.url, { frontend: { domains: ['orders.test'] } }));
    await createRoute(
      gw,
      route('keyed', upstream.url, { frontend: { domains: ['keyed.test'] }, plugins: [{ plugin: 'apikeys' }] }),
    );
    browser = await launchBrowser();
    page = await loggedInPage(browser, gw.adminUrl, {
      viewport: { width: 1280, height: 1000 },
      beforeLogIn: (p) => p.on('request', (request) => requested.push(request.url())),
    });
  });
  after(async () => {
    await browser?.close();
    await gw?.close();
    await upstream?.close();
  });

  it('draws requests per second stacked by status class and p99 per route, and follows the load sent through the proxy', async () => {
    await page.locator('#chart-requests canvas').waitFor();
    const before = await drawn(page, 'chart-requests');
    // The stack from the top down: the top series is every request, the bottom one the 2xx.
    assert.deepEqual(before.labels, ['Time', '5xx', '4xx', '3xx', '2xx']);
    assert.equal(before.data[0]!.length, 90, '90 buckets of 10 s');
    assert.ok(
      before.data.slice(1).every((series) => series.every((v) => v === 0)),
      'no traffic yet',
    );

    for (let i = 0; i < 30; i++)
      assert.equal((await send(`${gw.proxyUrl}/a`, { headers: { host: 'orders.test' } })).status, 200);
    for (let i = 0; i < 10; i++)
      assert.equal((await send(`${gw.proxyUrl}/b`, { headers: { host: 'keyed.test' } })).status, 401);

    // The page asks for the history again every two seconds: the chart moves without a reload.
    await page.locator('#chart-requests-summary', { hasText: /^All routes: 40 requests/ }).waitFor({ timeout: 10_000 });
    const after = await drawn(page, 'chart-requests');
    const [, all, upTo4xx, upTo3xx, only2xx] = after.data as number[][];
    const last = (series: number[]) => series.findLastIndex((v) => v > 0);
    assert.ok(last(all!) >= 88, 'the load is in the last two buckets');
    const at = last(all!);
    // Stacked: 2xx at the bottom, 4xx over it, nothing above 4xx (no 5xx, no 3xx).
    assert.ok(only2xx![at]! > 0);
    assert.equal(upTo3xx![at], only2xx![at]);
    assert.ok(upTo4xx![at]! > upTo3xx![at]!);
    assert.equal(all![at], upTo4xx![at]);

    const p99 = await drawn(page, 'chart-p99');
    assert.deepEqual(p99.labels.slice(1).sort(), ['keyed', 'orders']);
    for (const series of p99.data.slice(1))
      assert.ok(
        series.some((v) => v !== null && v > 0),
        'each route has a p99',
      );

    // One route's requests: its own stack (the keyed route answered 401 only).
    await page.getByLabel('Requests of').selectOption('keyed');
    await page.locator('#chart-requests-summary', { hasText: /^keyed: 10 requests/ }).waitFor({ timeout: 10_000 });
    const keyed = await drawn(page, 'chart-requests');
    assert.ok(
      keyed.data[4]!.every((v) => v === 0),
      'no 2xx on the keyed route',
    );
    assert.ok(
      keyed.data[2]!.some((v) => v! > 0),
      'its 4xx',
    );
    await page.getByLabel('Requests of').selectOption('');

    if (process.env.PORTCULLIS_SCREENSHOTS) await screenshotUnderLoad(page, gw);
  });

  it('sorts the per-route table by the column whose header is clicked, and says so with aria-sort', async () => {
    const table = page.locator('table.route-table');
    await table.locator('tbody tr[data-route="keyed"]').waitFor();
    const order = () => table.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-route')));
    const header = (name: string) =>
      table.locator('thead th', { has: page.getByRole('button', { name, exact: true }) });
    assert.equal(await header('Route').getAttribute('aria-sort'), 'ascending');
    assert.deepEqual(await order(), ['keyed', 'orders']);

    await page.getByRole('button', { name: '15 min', exact: true }).click();
    assert.equal(await header('15 min').getAttribute('aria-sort'), 'descending');
    assert.equal(await header('Route').getAttribute('aria-sort'), null);
    await table.locator('tbody tr[data-route="orders"] td:last-child', { hasNotText: /^0$/ }).waitFor();
    assert.deepEqual(await order(), ['orders', 'keyed'], 'busiest first');

    await page.getByRole('button', { name: '15 min', exact: true }).click();
    assert.equal(await header('15 min').getAttribute('aria-sort'), 'ascending');
    assert.deepEqual(await order(), ['keyed', 'orders']);
    // The order holds across the live redraws of the body (every second): wait for the next one.
    await table
      .locator('tbody tr')
      .first()
      .evaluate((row) => row.classList.add('seen'));
    await table.locator('tbody tr.seen').waitFor({ state: 'detached' });
    assert.deepEqual(await order(), ['keyed', 'orders']);
    assert.equal(await header('15 min').getAttribute('aria-sort'), 'ascending');
  });

  it("opens a route's editor when its name in the table is clicked", async () => {
    await page.locator('table.route-table tbody').getByRole('link', { name: 'orders', exact: true }).click();
    await page.waitForURL(/#\/routes\/orders$/);
    await page.getByRole('heading', { level: 1, name: /orders/ }).waitFor();
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.locator('#chart-requests canvas').waitFor();
  });

  it('loads everything from the gateway: uPlot from its npm package, no request leaves loopback', async () => {
    const assets = await send(`${gw.adminUrl}/assets/uPlot.iife.min.js`);
    assert.equal(assets.status, 200);
    assert.match(String(assets.headers['content-type']), /javascript/);
    assert.equal((await send(`${gw.adminUrl}/assets/uPlot.min.css`)).status, 200);
    assert.ok(requested.some((url) => url.endsWith('/assets/uPlot.iife.min.js')));
    const foreign = requested.filter(
      (url) =>
        !/^(ws|http)s?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\//.test(url) &&
        !url.startsWith('data:') &&
        !url.startsWith('blob:'),
    );
    assert.deepEqual(foreign, []);
    assert.ok(requested.length > 5, `${requested.length} requests seen`);
  });
});

/**
 * For the docs only (PORTCULLIS_SCREENSHOTS): keep a varied load going for a few buckets so the
 * picture shows a shape, not a single spike, then take it.
 */
async function screenshotUnderLoad(page: Page, gw: TestGateway): Promise<void> {
  let running = true;
  const load = (async () => {
    for (let n = 0; running; n++) {
      const batch = 8 + Math.round(6 * Math.sin(n / 40));
      await Promise.all(
        Array.from({ length: batch }, (_, i) =>
          send(`${gw.proxyUrl}/x${i}`, { headers: { host: (n + i) % 5 === 0 ? 'keyed.test' : 'orders.test' } }),
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  await page.waitForTimeout(35_000);
  await shot(page, 'dashboard');
  running = false;
  await load;
}
