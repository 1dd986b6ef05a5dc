/**
 * Pickers instead of typed ids, in real Chromium: where the set is known (the JWT verifiers a
 * jwt-verifier instance names, the authorization profile an API key or access request names), the
 * form offers it as checkboxes or a select and saves what is picked.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startGateway, createRoute, type TestGateway } from '../helpers/gateway.js';
import { launchBrowser } from './browser.js';
import { loggedInPage, path } from './ui-helpers.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';
import { PROFILE, portalGateway, requestAccess, type PortalWorld } from '../plugins/access-requests/fixtures.js';

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

/**
 * The authorization profiles an API key (its `authorization-profile` metadata) and the access requests
 * name, picked from the live list of profiles.
 */
describe('Back office: authorization profile pickers (real Chromium)', () => {
  let upstream: Upstream;
  let world: PortalWorld;
  let browser: Browser;
  let page: Page;
  const BILLING = { ...PROFILE, id: 'billing', name: 'Billing', scopes: ['billing:read'] };

  before(async () => {
    upstream = await startUpstream(echo);
    world = await portalGateway(upstream, { backOffice: true });
    const profile = await world.gw.admin('POST', '/api/authorization-profiles', BILLING);
    assert.equal(profile.status, 201, profile.text);
    await requestAccess(world);
    await requestAccess(world, {
      profileId: 'billing',
      requester: { id: 'org-7', name: 'Globex', email: 'dev@globex.example' },
      requestedScopes: ['billing:read'],
    });
    const key = await world.gw.admin('POST', '/api/apikeys', {
      clientId: 'partner',
      clientName: 'Partner',
      metadata: { 'authorization-profile': PROFILE.id, team: 'sales' },
    });
    assert.equal(key.status, 201, key.text);
    browser = await launchBrowser();
    page = await loggedInPage(browser, world.gw.adminUrl);
  });
  after(async () => {
    await browser?.close();
    await world?.gw.close();
    await upstream?.close();
  });

  it('the API key form picks its authorization profile from the live list and saves the one chosen', async () => {
    await page.goto(`${world.gw.adminUrl}/#/apikeys/partner`);
    const picker = page.getByLabel('Authorization profile (metadata authorization-profile)');
    await picker.waitFor();
    const options = await picker.locator('option').allTextContents();
    assert.deepEqual(options, ['none', `${PROFILE.name} (${PROFILE.id})`, 'Billing (billing)']);
    assert.equal(await picker.inputValue(), PROFILE.id, 'the stored profile is the one selected');
    const text = await page.locator(`${path('/metadata')} textarea`).inputValue();
    assert.equal(text, 'team=sales', 'a picked entry is not typed as well');
    await picker.selectOption('billing');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('API key saved').waitFor();
    const stored = (await world.gw.admin('GET', '/api/apikeys/partner')).json();
    assert.deepEqual(stored.metadata, { team: 'sales', 'authorization-profile': 'billing' });
  });

  it('the access request queue is filtered by a profile picked from the live list', async () => {
    await page.goto(`${world.gw.adminUrl}/#/access-requests`);
    const picker = page.getByLabel('Profile', { exact: true });
    await page.getByRole('link', { name: 'Globex' }).waitFor();
    assert.deepEqual(await picker.locator('option').allTextContents(), [
      'Any profile',
      `${PROFILE.name} (${PROFILE.id})`,
      'Billing (billing)',
    ]);
    await picker.selectOption('billing');
    await page.getByRole('status').filter({ hasText: 'profile Billing' }).waitFor();
    assert.deepEqual(await page.locator('tr[data-request] th').allTextContents(), ['Globex']);
  });
});
