/**
 * Pickers instead of typed ids, in real Chromium: where the set is known (the JWT verifiers a
 * jwt-verifier instance names), the form offers it as checkboxes and saves what is checked.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startGateway, createRoute, type TestGateway } from '../helpers/gateway.js';
import { launchBrowser } from './browser.js';
import { loggedInPage, path } from './ui-helpers.js';

describe('Back office: pickers for known ids (real Chromium)', () => {
  let gw: TestGateway;
  let browser: Browser;
  let page: Page;

  before(async () => {
    gw = await startGateway({ backOffice: true });
    for (const id of ['partners', 'staff']) {
      const res = await gw.admin('POST', '/api/jwt-verifiers', {
        id,
        name: `${id} verifier`,
        keys: { kind: 'keypairs' },
        algorithms: ['ES256'],
      });
      assert.equal(res.status, 201, res.text);
    }
    await createRoute(gw, {
      id: 'jwt-route',
      name: 'JWT route',
      frontend: { domains: ['jwt.test'] },
      backend: { targets: [{ url: 'http://127.0.0.1:9' }] },
      plugins: [{ plugin: 'jwt-verifier', config: { verifiers: ['partners'] } }],
    });
    browser = await launchBrowser();
    page = await loggedInPage(browser, gw.adminUrl);
  });
  after(async () => {
    await browser?.close();
    await gw?.close();
  });

  it('the route form offers the JWT verifiers by name, the stored one checked, and saves the ones checked', async () => {
    await page.goto(`${gw.adminUrl}/#/routes/jwt-route/form`);
    const picker = page.locator(path('/plugins/0/config/verifiers'));
    await picker.getByText('staff verifier (staff)').waitFor();
    assert.equal(await picker.locator('input[value="partners"]').isChecked(), true);
    assert.equal(await picker.locator('textarea').count(), 0, 'no free text for a known set');
    await picker.locator('input[value="staff"]').check();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Route saved').waitFor();
    const stored = (await gw.admin('GET', '/api/routes/jwt-route')).json();
    assert.deepEqual(stored.plugins[0].config.verifiers, ['partners', 'staff']);
  });
});
