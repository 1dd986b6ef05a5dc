/**
 * The route designer in real Chromium: a route built box by box (route, frontend, backend, two
 * plugins from the catalog), reordered with buttons and the keyboard, a plugin disabled and enabled
 * again, the diff reviewed, saved, and checked through the admin API; the request tester opened from
 * the designer reads a denial and an allowed trace; a first-time user builds the client credentials
 * walkthrough's route and finds out why a request without a key is refused; a refused save shows
 * the server's error beside its field in the box's side panel. Focus moves into each side panel and
 * back to what opened it; Escape closes.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Locator, Page } from 'playwright-core';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';
import { launchBrowser } from './browser.js';
import { loggedInPage, orderService, path, shot } from './ui-helpers.js';
import { blocking, describeViolations, runAxe } from './axe.js';

const SECRET = 'designer-secret-0123456789';

/** axe-core on the page as it is (side panel or dialog open): no serious or critical violation. */
async function assertAccessible(page: Page, what: string): Promise<void> {
  const found = blocking(await runAxe(page));
  assert.deepEqual(found, [], `${what}:\n${describeViolations(found)}`);
}

describe('Back office: route designer (real Chromium)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let browser: Browser;
  let page: Page;

  before(async () => {
    upstream = await startUpstream(orderService);
    gw = await startGateway({ backOffice: true });
    browser = await launchBrowser();
    page = await loggedInPage(browser, gw.adminUrl, { viewport: { width: 1600, height: 1000 } });
  });
  after(async () => {
    await browser?.close();
    await gw?.close();
    await upstream?.close();
  });

  const box = (name: string) => page.getByRole('button', { name, exact: true });
  const panel = (name: string) => page.getByRole('dialog', { name });
  const focusedText = async () => (await page.locator(':focus').textContent()) ?? '';
  const stepBoxes = (step: string) =>
    page
      .getByRole('region', { name: `Step ${step}` })
      .locator('.plugin-box .box-open')
      .allTextContents();

  async function newRoute(id: string, name: string, domain: string): Promise<void> {
    await page.goto(`${gw.adminUrl}/#/routes`);
    await page.getByRole('link', { name: 'New route' }).click();
    await page.getByRole('heading', { name: 'New route', level: 1 }).waitFor();
    await box('Route').click();
    const route = panel('Route');
    await route.locator(`${path('/id')} input`).fill(id);
    await route.locator(`${path('/name')} input`).fill(name);
    await page.keyboard.press('Escape');
    await route.waitFor({ state: 'detached' });
    assert.equal(await focusedText(), 'Route', 'focus is back on the box that opened the panel');
    await box('Frontend').click();
    const frontend = panel('Frontend');
    // focus moved into the panel, on its first field: typing starts at once
    assert.equal(await frontend.locator(':focus').count(), 1);
    await frontend.locator(`${path('/domains')} textarea`).fill(domain);
    await frontend.getByRole('button', { name: 'Close Frontend' }).click();
    await box('Backend').click();
    await panel('Backend')
      .locator(`${path('/targets/0/url')} input`)
      .fill(upstream.url);
    await page.keyboard.press('Escape');
  }

  /** Add a plugin from the catalog, searching for it; its side panel opens. */
  async function addPlugin(search: string, name: string): Promise<Locator> {
    await page.getByRole('button', { name: 'Add plugin' }).click();
    const catalog = panel('Add a plugin');
    await catalog.getByLabel('Search plugins').fill(search);
    await catalog.getByRole('button', { name: `Add ${name}` }).click();
    const opened = panel(name);
    await opened.waitFor();
    return opened;
  }

  it('builds a route with two plugins in the designer, reorders them with buttons and keys, disables and enables one, shows the diff and saves what the admin API then returns', async () => {
    await newRoute('orders', 'Orders', 'api.test/orders');
    await addPlugin('key', 'API keys');
    await page.keyboard.press('Escape');
    const headers = await addPlugin('header', 'Headers');
    await headers.locator(`${path('/config/request/set')} textarea`).fill('X-Tested-By=portcullis');
    await page.keyboard.press('Escape');
    // The catalog searches names and descriptions; a plugin added by mistake is removed again.
    await page.getByRole('button', { name: 'Add plugin' }).click();
    await panel('Add a plugin').getByLabel('Search plugins').fill('no such plugin');
    await panel('Add a plugin').getByText('No plugin matches.').waitFor();
    await page.keyboard.press('Escape');
    await addPlugin('cross-origin', 'CORS');
    await page.keyboard.press('Escape');
    assert.deepEqual(await stepBoxes('preRoute'), ['CORS']);
    await page.getByRole('button', { name: 'Remove CORS' }).click();
    assert.deepEqual(await stepBoxes('preRoute'), []);
    assert.equal(await focusedText(), 'Add plugin');

    // Each box says what it does with its configuration, in the words of the plugin's describe().
    const keysBox = page.locator('.plugin-box[data-plugin="apikeys"]');
    await keysBox
      .getByText('API key by Basic, Portcullis-Client-Id/-Secret headers or bearer JWT; authorized for this route')
      .waitFor();
    await page.locator('.plugin-box[data-plugin="headers"]').getByText('Sets X-Tested-By on the request').waitFor();
    assert.deepEqual(await stepBoxes('validateAccess'), ['API keys']);
    assert.deepEqual(await stepBoxes('transformResponse'), ['Headers']);
    assert.deepEqual(await stepBoxes('transformRequest'), ['API keys', 'Headers']);

    // Reorder: a button, then Alt+↓ and Alt+↑ on the focused box (focus follows the moved box).
    await page.getByRole('button', { name: 'Move Headers earlier' }).click();
    assert.deepEqual(await stepBoxes('transformRequest'), ['Headers', 'API keys']);
    await page.locator('.plugin-box[data-plugin="headers"] .box-open').focus();
    await page.keyboard.press('Alt+ArrowDown');
    assert.deepEqual(await stepBoxes('transformRequest'), ['API keys', 'Headers']);
    assert.equal(await focusedText(), 'Headers');
    await page.keyboard.press('Alt+ArrowUp');
    assert.deepEqual(await stepBoxes('transformRequest'), ['Headers', 'API keys']);

    // Disable, then enable again: the box says so; nothing is saved meanwhile.
    await keysBox.getByLabel('Enabled').uncheck();
    await page.locator('.plugin-box.disabled[data-plugin="apikeys"]').getByText('disabled', { exact: true }).waitFor();
    await keysBox.getByLabel('Enabled').check();
    await page.locator('.plugin-box:not(.disabled)[data-plugin="apikeys"]').waitFor();
    assert.equal((await gw.admin('GET', '/api/routes/orders')).status, 404, 'nothing saved before the operator saves');

    await page.getByRole('button', { name: 'Review and create…' }).click();
    const diff = page.getByRole('dialog', { name: 'Review the new route' });
    assert.match((await diff.locator('.diff').textContent())!, /"plugin": "headers"/);
    assert.equal(await diff.locator('.diff-del').count(), 0);
    await diff.getByRole('button', { name: 'Create route' }).click();
    await page.getByRole('heading', { name: 'Route: Orders' }).waitFor();
    await page.getByText('No unsaved changes.').waitFor();

    const saved = (await gw.admin('GET', '/api/routes/orders')).json();
    assert.deepEqual(saved.frontend.domains, ['api.test/orders']);
    assert.equal(saved.backend.targets[0].url, upstream.url);
    assert.deepEqual(
      saved.plugins.map((p: any) => [p.plugin, p.enabled]),
      [
        ['headers', true],
        ['apikeys', true],
      ],
    );
    assert.deepEqual(saved.plugins[0].config.request.set, { 'X-Tested-By': 'portcullis' });

    // An edit of the saved route: the panel, then the diff of just that change.
    await page.locator('.plugin-box[data-plugin="headers"] .box-open').click();
    const edit = panel('Headers');
    await edit.locator(`${path('/config/request/set')} textarea`).fill('X-Tested-By=portcullis\nX-Route=orders');
    await page
      .locator('.plugin-box[data-plugin="headers"]')
      .getByText('Sets X-Tested-By and sets X-Route on the request')
      .waitFor();
    await shot(page, 'route-designer-panel');
    await assertAccessible(page, "a plugin's side panel");
    await edit.getByRole('button', { name: 'Close Headers' }).click();
    assert.equal(await focusedText(), 'Headers', 'focus is back on the box');
    await page.getByText('Unsaved changes: 2 lines added, 1 removed.').waitFor();
    await page.getByRole('button', { name: 'Review and save…' }).click();
    const review = page.getByRole('dialog', { name: 'Review changes' });
    assert.match((await review.locator('.diff-add').allTextContents()).join('\n'), /"X-Route": "orders"/);
    assert.match((await review.locator('.diff-del').allTextContents()).join('\n'), /"X-Tested-By": "portcullis"$/m);
    await shot(page, 'route-designer-diff');
    await assertAccessible(page, 'the diff');
    await review.getByRole('button', { name: 'Save route' }).click();
    await page.getByText('No unsaved changes.').waitFor();
    assert.deepEqual((await gw.admin('GET', '/api/routes/orders')).json().plugins[0].config.request.set, {
      'X-Tested-By': 'portcullis',
      'X-Route': 'orders',
    });
  });

  it('opens the request tester from the designer: without a key apikeys denies 401, with a key every step allows', async () => {
    const key = await gw.admin('POST', '/api/apikeys', {
      clientId: 'shop',
      clientSecret: SECRET,
      clientName: 'Shop',
      authorizedEntities: ['orders'],
    });
    assert.equal(key.status, 201, key.text);
    await page.goto(`${gw.adminUrl}/#/routes/orders`);
    await page.getByRole('heading', { name: 'Route: Orders' }).waitFor();
    await page.locator('.plugin-box[data-plugin="apikeys"]').getByText('API key by Basic').waitFor();
    await shot(page, 'route-designer');
    await assertAccessible(page, 'the designer');
    await page.getByRole('button', { name: 'Test this route' }).click();
    const tester = panel('Request tester').getByRole('form', { name: 'Test' });
    await tester.getByLabel('Path').fill('/orders/42');
    await tester.getByRole('button', { name: 'Send (dry run)' }).click();
    const denied = tester.locator('.trace-step').first();
    await denied.waitFor();
    assert.equal(await denied.getAttribute('data-decision'), 'denied');
    assert.match((await denied.textContent())!, /apikeys.*401.*unauthorized.*No API key provided/);
    assert.match((await tester.locator('.trace-outcome').textContent())!, /denied by apikeys \(401 unauthorized\)/);
    await assertAccessible(page, 'the request tester panel');

    await tester.getByLabel('Credential').selectOption('apikey');
    await tester.getByLabel('API key').selectOption('shop');
    await tester.getByLabel('Secret of this key').fill(SECRET);
    await tester.getByRole('button', { name: 'Send (dry run)' }).click();
    await tester.locator('.trace-step[data-decision="allowed"]').nth(2).waitFor();
    assert.deepEqual(
      await tester.locator('.trace-step').evaluateAll((items) => items.map((li) => li.getAttribute('data-decision'))),
      ['allowed', 'allowed', 'allowed'],
    );
    // headers runs first in transformRequest now: it was moved earlier in the designer
    assert.deepEqual(await tester.locator('.trace-step strong').allTextContents(), ['apikeys', 'headers', 'apikeys']);
    assert.match((await tester.locator('.header-list').first().textContent())!, /x-routeorders/);
    await page.keyboard.press('Escape');
    await panel('Request tester').waitFor({ state: 'detached' });
    assert.equal(await focusedText(), 'Test this route');
  });

  it("lets a first-time user build the client credentials walkthrough's route in the designer, and the tester explains why a request without a key is refused", async () => {
    // Step 1 of the walkthrough: the client credentials service, enabled globally.
    assert.equal(
      (
        await gw.admin('PUT', '/api/global-config', {
          plugins: [{ plugin: 'client-credentials', config: { secure: false } }],
        })
      ).status,
      200,
    );
    await newRoute('demo', 'Demo service', 'localhost/demo');
    const globals = page.getByRole('region', { name: 'Global plugins' });
    await globals.getByText('Token endpoints at /.well-known/otoroshi/oauth on any host; tokens for 1 h').waitFor();
    await globals.getByText('On every request, before routing.').waitFor();
    // Step 3: the route accepts only bearer tokens issued by the gateway.
    const keys = await addPlugin('api key', 'API keys');
    // defaults visible; fields the plugin marks advanced (and include/exclude) folded
    assert.equal(await keys.locator(`${path('/config/extractors/jwt/enabled')} input`).isChecked(), true);
    const folded = keys.locator(`${path('/config')} details.advanced`);
    assert.equal(await folded.evaluate((d) => (d as unknown as { open: boolean }).open), false);
    assert.equal(await folded.locator(path('/config/consumerHeaders')).count(), 1);
    assert.equal(await keys.locator(`details.advanced ${path('/include')}`).count(), 1);
    await keys.locator(`${path('/config/extractors/basic/enabled')} input`).uncheck();
    await keys.locator(`${path('/config/extractors/customHeaders/enabled')} input`).uncheck();
    await page.keyboard.press('Escape');
    await page
      .locator('.plugin-box[data-plugin="apikeys"]')
      .getByText('API key by bearer JWT; authorized for this route')
      .waitFor();
    await page.getByRole('button', { name: 'Review and create…' }).click();
    await page
      .getByRole('dialog', { name: 'Review the new route' })
      .getByRole('button', { name: 'Create route' })
      .click();
    await page.getByRole('heading', { name: 'Route: Demo service' }).waitFor();
    const stored = (await gw.admin('GET', '/api/routes/demo')).json();
    assert.deepEqual(stored.plugins[0].config.extractors, {
      basic: { enabled: false },
      customHeaders: {
        enabled: false,
        clientIdHeader: 'Portcullis-Client-Id',
        clientSecretHeader: 'Portcullis-Client-Secret',
      },
      clientId: { enabled: false, header: 'Portcullis-Client-Id' },
      jwt: { enabled: true },
    });

    await page.getByRole('button', { name: 'Test this route' }).click();
    const tester = panel('Request tester').getByRole('form', { name: 'Test' });
    await tester.getByLabel('Path').fill('/demo/');
    await tester.getByRole('button', { name: 'Send (dry run)' }).click();
    await tester.locator('.trace-step').first().waitFor();
    assert.match(
      (await tester.locator('.trace-step').first().textContent())!,
      /denied.*apikeys.*validateAccess.*401.*unauthorized.*No API key provided/,
    );
    assert.match((await tester.locator('.upstream-answer').textContent())!, /Not sent: apikeys refused the request/);
    await page.keyboard.press('Escape');
  });

  it("shows a refused save's error beside its field in the box's side panel, and saves nothing", async () => {
    await page.goto(`${gw.adminUrl}/#/routes`);
    await page.getByRole('link', { name: 'New route' }).click();
    await box('Frontend').click();
    await panel('Frontend')
      .locator(`${path('/domains')} textarea`)
      .fill('broken.test');
    await page.keyboard.press('Escape');
    await box('Backend').click();
    await panel('Backend')
      .locator(`${path('/targets/0/url')} input`)
      .fill('ftp://nope');
    await page.keyboard.press('Escape');
    await box('Route').click();
    await panel('Route')
      .locator(`${path('/name')} input`)
      .fill('Broken');
    await page.keyboard.press('Escape');
    const before = (await gw.admin('GET', '/api/routes')).json().length;
    await page.getByRole('button', { name: 'Review and create…' }).click();
    await page
      .getByRole('dialog', { name: 'Review the new route' })
      .getByRole('button', { name: 'Create route' })
      .click();
    const backend = panel('Backend');
    const error = backend.locator(`${path('/targets/0/url')}.invalid .field-error`);
    await error.waitFor();
    assert.match((await error.textContent())!, /pattern|match/i);
    assert.equal(await page.locator('.core-box.invalid[data-box="backend"]').count(), 1);
    assert.equal((await gw.admin('GET', '/api/routes')).json().length, before);
  });
});
