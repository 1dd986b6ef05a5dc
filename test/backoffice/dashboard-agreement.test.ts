/**
 * The dashboard agrees with itself, in real Chromium: the traffic no route served has one name in
 * the table and the charts (the token endpoints' sink, requests no route matched), an empty state
 * shows only while nothing was counted, and the table's 15-minute column adds up to the chart's
 * total even with more busy routes than the charts draw.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startGateway, createRoute, route, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';
import { send } from '../helpers/http.js';
import { launchBrowser } from './browser.js';
import { loggedInPage } from './ui-helpers.js';

const ROUTES = 10;
const SINK_CALLS = 20;
const UNROUTED = 15;
/** Route n (1…10) receives n requests. */
const TOTAL = (ROUTES * (ROUTES + 1)) / 2 + SINK_CALLS + UNROUTED;
const RAW_NAMES = /^\((sink|none|no route)\)$/;

const routeId = (n: number) => `r${String(n).padStart(2, '0')}`;

/** The table's rows: the route id each stands for, its name as shown, its 15-minute count. */
function tableRows(page: Page): Promise<Array<{ id: string; name: string; window: number }>> {
  return page.locator('table.route-table tbody tr').evaluateAll((rows) =>
    rows.map((row) => ({
      id: row.getAttribute('data-route') ?? '',
      name: row.querySelector('th')?.textContent?.trim() ?? '',
      window: Number(row.querySelector('td:last-child')?.textContent),
    })),
  );
}

/** The series labels the p99 chart draws (uPlot's own, kept on its container). */
function p99Labels(page: Page): Promise<string[]> {
  return page.locator('#chart-p99').evaluate((container) => {
    const u = (container as unknown as { uplot?: { series: Array<{ label?: string }> } }).uplot;
    return (u?.series ?? []).slice(1).map((s) => String(s.label ?? ''));
  });
}

describe('Back office: the dashboard agrees with itself (real Chromium)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let browser: Browser;
  let page: Page;

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await startGateway({ backOffice: true });
    const global = await gw.admin('PUT', '/api/global-config', {
      plugins: [{ plugin: 'client-credentials', config: { secure: false } }],
    });
    assert.equal(global.status, 200, global.text);
    for (let n = 1; n <= ROUTES; n++)
      await createRoute(gw, route(routeId(n), upstream.url, { frontend: { domains: [`${routeId(n)}.test`] } }));
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await gw?.close();
    await upstream?.close();
  });

  it('shows its empty states while nothing was counted', async () => {
    page = await loggedInPage(browser, gw.adminUrl);
    await page.locator('#chart-p99-summary', { hasText: 'No requests in the last 15 minutes.' }).waitFor();
    await page.getByText('No traffic yet', { exact: false }).waitFor();
    await page.getByText('No requests yet.', { exact: true }).waitFor();
    await page.close();
  });

  it('never says "No requests yet" under a table that counts requests', async () => {
    for (let n = 1; n <= ROUTES; n++)
      for (let i = 0; i < n; i++)
        assert.equal((await send(`${gw.proxyUrl}/x`, { headers: { host: `${routeId(n)}.test` } })).status, 200);
    for (let i = 0; i < SINK_CALLS; i++)
      await send(`${gw.proxyUrl}/.well-known/otoroshi/oauth/token`, { method: 'POST', headers: { host: 'any.test' } });
    for (let i = 0; i < UNROUTED; i++) await send(`${gw.proxyUrl}/x`, { headers: { host: 'nowhere.test' } });

    // A page opened after the traffic: the live list has seen nothing, the 15-minute window has.
    page = await loggedInPage(browser, gw.adminUrl);
    await page.locator('#chart-requests-summary', { hasText: `All routes: ${TOTAL} requests` }).waitFor();
    await page.locator('table.route-table tbody tr').first().waitFor();
    assert.ok((await tableRows(page)).some((r) => r.window > 0));
    assert.equal(await page.getByText('No requests yet.', { exact: true }).count(), 0);
    assert.equal(await page.getByText('No traffic yet', { exact: false }).count(), 0);
  });

  it('names the sink and unrouted traffic the same in the table and the chart', async () => {
    const rows = await tableRows(page);
    const sink = rows.find((r) => r.id === '(sink)');
    const none = rows.find((r) => r.id === '(none)');
    assert.ok(sink && none, `rows: ${rows.map((r) => r.id).join(', ')}`);
    assert.equal(sink.window, SINK_CALLS);
    assert.equal(none.window, UNROUTED);
    assert.doesNotMatch(sink.name, RAW_NAMES);
    assert.doesNotMatch(none.name, RAW_NAMES);
    assert.notEqual(sink.name, none.name);
    const labels = await p99Labels(page);
    assert.ok(labels.includes(sink.name), `p99 chart: ${labels.join(', ')}`);
    assert.ok(labels.includes(none.name), `p99 chart: ${labels.join(', ')}`);
    assert.deepEqual(
      labels.filter((l) => RAW_NAMES.test(l)),
      [],
    );
  });

  it("adds up: the table's 15-minute column sums to the chart's total, busy routes beyond the chart's included", async () => {
    const rows = await tableRows(page);
    assert.equal(
      rows.reduce((sum, r) => sum + r.window, 0),
      TOTAL,
      JSON.stringify(rows),
    );
    // The chart draws the 8 busiest; the table accounts for every request of the window.
    for (let n = ROUTES - 5; n <= ROUTES; n++)
      assert.equal(rows.find((r) => r.id === routeId(n))?.window, n, `${routeId(n)} counts its own requests`);
  });
});
