/**
 * The request tester on the route page, in real Chromium: a request without a key shows the
 * apikeys denial (401 unauthorized) and nothing sent upstream; with a key picked and its secret
 * typed, every step allows, the headers plugin's header reaches the upstream request with
 * Authorization masked, and "Send to upstream" shows the upstream's answer.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Locator, Page } from 'playwright-core';
import { startGateway, createRoute, route, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';
import { launchBrowser } from './browser.js';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { logIn, orderService } from './ui-helpers.js';

const SECRET = 'tester-secret-0123456789';

/** The panel alone (the route page above it is long), when PORTCULLIS_SCREENSHOTS names a folder. */
async function shot(panel: Locator, name: string): Promise<void> {
  const folder = process.env.PORTCULLIS_SCREENSHOTS;
  if (!folder) return;
  mkdirSync(folder, { recursive: true });
  await panel.screenshot({ path: join(folder, `${name}.png`) });
}

describe('Back office: request tester (real Chromium)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let browser: Browser;
  let page: Page;
  let tester: Locator;

  before(async () => {
    upstream = await startUpstream(orderService);
    gw = await startGateway({ backOffice: true });
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
      clientId: 'shop',
      clientSecret: SECRET,
      clientName: 'Shop',
      authorizedEntities: ['orders'],
    });
    assert.equal(key.status, 201, key.text);
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    await logIn(page, gw.adminUrl);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await page.goto(`${gw.adminUrl}/#/routes/orders`);
    await page.getByRole('button', { name: 'Test this route' }).click(); // the route designer's side panel
    tester = page.getByRole('form', { name: 'Test' });
    await tester.waitFor();
  });
  after(async () => {
    await browser?.close();
    await gw?.close();
    await upstream?.close();
  });

  it('shows why a request without a key is refused: apikeys denied 401 unauthorized, nothing sent upstream', async () => {
    await tester.getByLabel('Path').fill('/orders/42');
    await tester.getByRole('button', { name: 'Send (dry run)' }).click();
    const step = tester.locator('.trace-step').first();
    await step.waitFor();
    assert.equal(await step.getAttribute('data-decision'), 'denied');
    const text = (await step.textContent())!;
    assert.match(text, /apikeys/);
    assert.match(text, /401/);
    assert.match(text, /unauthorized/);
    assert.match((await tester.locator('.upstream-answer').textContent())!, /Not sent: apikeys refused the request/);
    assert.equal(upstream.received.length, 0);
    await shot(tester, 'request-tester-denied');
  });

  it('with an API key and its secret every step allows; the upstream request carries the added header and a masked Authorization', async () => {
    await tester.getByLabel('Credential').selectOption('apikey');
    await tester.getByLabel('API key').selectOption('shop');
    await tester.getByLabel('Secret of this key').fill(SECRET);
    await tester.getByRole('button', { name: 'Add header' }).click();
    await tester.getByLabel('Header name').last().fill('Accept');
    await tester.getByLabel('Header value').last().fill('application/json');
    await tester.getByRole('button', { name: 'Send (dry run)' }).click();
    await tester.locator('.trace-step[data-decision="allowed"]').nth(2).waitFor();
    assert.deepEqual(
      await tester.locator('.trace-step').evaluateAll((items) => items.map((li) => li.getAttribute('data-decision'))),
      ['allowed', 'allowed', 'allowed'],
    );
    assert.equal((await tester.locator('.upstream-line').textContent())!.trim(), `GET ${upstream.url}/42`);
    const headers = tester.locator('.header-list').first();
    assert.match((await headers.textContent())!, /x-tested-byportcullis/);
    assert.match((await headers.textContent())!, /authorizationBasic \*\*\*\*/);
    assert.match((await headers.textContent())!, /acceptapplication\/json/);
    assert.match((await tester.locator('.upstream-answer').textContent())!, /Dry run/);
    assert.equal(upstream.received.length, 0);

    await tester.getByRole('button', { name: 'Send to upstream' }).click();
    await tester.locator('.upstream-answer', { hasText: 'Status 200' }).waitFor();
    assert.equal(upstream.received.length, 1);
    assert.equal(upstream.received[0]!.headers['x-tested-by'], 'portcullis');
    assert.match((await tester.locator('.trace-result pre').last().textContent())!, /"order":"42"/);
    await shot(tester, 'request-tester');
  });
});
