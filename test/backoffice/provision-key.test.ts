/**
 * Rotating the `oauth2` plugin's provision key from the route editor, in real Chromium: the new key
 * is shown once in a dialog, the old one stops working at once, the route read never carries the
 * new key, and saving the route afterwards keeps the new key.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import type { TestGateway } from '../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';
import { stepOnGateway, post, HOST, PROVISION_KEY, REDIRECT_URI } from '../plugins/oauth2/fixtures.js';
import { launchBrowser } from './browser.js';
import { loggedInPage, path, shot } from './ui-helpers.js';

describe('Back office: oauth2 provision key rotation (real Chromium)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let browser: Browser;
  let page: Page;

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await stepOnGateway(upstream, { backOffice: true });
    browser = await launchBrowser();
    page = await loggedInPage(browser, gw.adminUrl);
  });
  after(async () => {
    await browser?.close();
    await gw?.close();
    await upstream?.close();
  });

  /** The provider's web app asking for a code with `provisionKey`. */
  const authorize = (provisionKey: string) =>
    post(
      gw,
      '/v1/oauth2/authorize',
      {
        response_type: 'code',
        client_id: 'shoefly',
        redirect_uri: REDIRECT_URI,
        provision_key: provisionKey,
        authenticated_userid: 'alice',
      },
      {},
      HOST,
    );

  it('rotates the provision key after a confirm, shows the new key once with a copy button, and the old key stops working', async () => {
    assert.equal((await authorize(PROVISION_KEY)).status, 200);
    await page.goto(`${gw.adminUrl}/#/routes/stepon/form`);
    const field = page.locator(path('/plugins/0/config/provisionKey'));
    await field.getByText('Provision key: set (hidden)').waitFor();

    // Dismissing the confirm changes nothing.
    page.once('dialog', (dialog) => {
      void dialog.dismiss();
    });
    await field.getByRole('button', { name: 'Rotate provision key' }).click();
    assert.equal(await page.locator('dialog[open]').count(), 0);
    assert.equal((await authorize(PROVISION_KEY)).status, 200);

    page.once('dialog', (dialog) => {
      void dialog.accept();
    });
    await field.getByRole('button', { name: 'Rotate provision key' }).click();
    const shown = page.locator('dialog[open]');
    await shown.getByRole('heading', { name: 'Provision key' }).waitFor();
    const newKey = (await shown.locator('#provision-key').textContent())!.trim();
    assert.ok(newKey.length >= 32 && newKey !== PROVISION_KEY, newKey);
    await shown.getByRole('button', { name: 'Copy' }).waitFor();
    await shot(page, 'provision-key');
    await shown.getByRole('button', { name: 'Done' }).click();
    assert.equal(await page.locator('dialog').count(), 0, 'shown once: the dialog is gone');

    assert.equal((await authorize(PROVISION_KEY)).status, 400, 'the old key is refused');
    assert.equal((await authorize(newKey)).status, 200, 'the new key works');
    const read = await gw.admin('GET', '/api/routes/stepon');
    assert.ok(!read.text.includes(newKey), 'route reads carry no plaintext key');

    // The editor was drawn again from the server: saving it keeps the new key.
    await field.getByText('Provision key: set (hidden)').waitFor();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Route saved').waitFor();
    assert.equal((await authorize(newKey)).status, 200, 'the new key still works after a save');
    assert.equal((await authorize(PROVISION_KEY)).status, 400);
  });
});
