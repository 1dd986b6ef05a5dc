/**
 * Configuration warnings in the back office, in real Chromium: the designer says, beside the
 * route's domains, that another route already serves the same domain and path (and stops saying so
 * once the draft's path differs, before any save); the global plugins page says that the
 * client-credentials service left HTTPS-only cannot answer on a plain-HTTP gateway, and its button
 * turns `secure` off in one click.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startGateway, createRoute, route, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';
import { launchBrowser } from './browser.js';
import { loggedInPage, path } from './ui-helpers.js';
import { blocking, describeViolations, runAxe } from './axe.js';

const TOKEN_PATH = '/.well-known/otoroshi/oauth/token';

describe('Back office: configuration warnings (real Chromium)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let browser: Browser;
  let page: Page;

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await startGateway({ backOffice: true });
    await createRoute(gw, route('orders', upstream.url, { frontend: { domains: ['api.test/v1'] } }));
    const copy = await gw.admin(
      'POST',
      '/api/routes',
      route('orders-copy', upstream.url, { frontend: { domains: ['api.test/v1'] } }),
    );
    assert.equal(copy.status, 201, 'accepted, with a warning');
    browser = await launchBrowser();
    page = await loggedInPage(browser, gw.adminUrl);
  });
  after(async () => {
    await browser?.close();
    await gw?.close();
    await upstream?.close();
  });

  it('warns in the designer, beside the domains, that another route serves the same domain and path', async () => {
    await page.goto(`${gw.adminUrl}/#/routes/orders-copy`);
    const frontendBox = page.locator('[data-box="frontend"]');
    const note = frontendBox.locator('.warning-note');
    await note.waitFor();
    assert.match(await note.innerText(), /Route "orders" already serves api\.test\/v1/);

    await page.getByRole('button', { name: 'Frontend', exact: true }).click();
    const panel = page.getByRole('dialog', { name: 'Frontend' });
    const domains = panel.locator(path('/domains'));
    await domains.locator('.warning-note').waitFor();
    assert.match(await domains.locator('.warning-note').innerText(), /never to "orders-copy"/);
    const found = blocking(await runAxe(page));
    assert.deepEqual(found, [], describeViolations(found));

    // The draft's own domain decides, before any save.
    await domains.locator('textarea').fill('api.test/v2');
    await domains.locator('.warning-note').waitFor({ state: 'detached' });
    await note.waitFor({ state: 'detached' });
    await panel.getByRole('button', { name: 'Close Frontend' }).click();
  });

  it('warns on the global plugins page that the HTTPS-only token service cannot answer here, and fixes it in one click', async () => {
    const enabled = await gw.admin('PUT', '/api/global-config', { plugins: [{ plugin: 'client-credentials' }] });
    assert.equal(enabled.status, 200, enabled.text);
    const refused = await gw.proxy(TOKEN_PATH, { method: 'POST', body: 'grant_type=client_credentials' });
    assert.match(refused.text, /only served over HTTPS/);

    await page.goto(`${gw.adminUrl}/#/global`);
    const card = page.locator('section.card', { has: page.getByRole('heading', { name: /Client credentials/ }) });
    const note = card.locator('> .warning-note');
    await note.waitFor();
    const text = await note.innerText();
    assert.match(text, /no HTTPS listener \(proxy\.tls\)/);
    assert.match(text, /In production/);
    await card.locator('summary', { hasText: /^Configuration$/ }).click();
    await card.locator(`${path('/secure')} .warning-note`).waitFor();
    const found = blocking(await runAxe(page));
    assert.deepEqual(found, [], describeViolations(found));

    await note.getByRole('button', { name: 'Turn "secure" off (plain HTTP)' }).click();
    await note.waitFor({ state: 'detached' });
    const stored = (await gw.admin('GET', '/api/global-config')).json();
    assert.equal(stored.plugins[0].config.secure, false);
    const left: Array<{ code: string }> = (await gw.admin('GET', '/api/warnings')).json();
    assert.deepEqual(
      left.filter((w) => w.code === 'https-only-without-https'),
      [],
    );
    const answered = await gw.proxy(TOKEN_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    assert.doesNotMatch(answered.text, /only served over HTTPS/);
  });
});
