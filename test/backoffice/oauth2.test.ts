/**
 * The back office's OAuth2 screens in real Chromium: an OAuth client (redirect URIs, client type,
 * grant types) made through the API key form, and the grants screen, whose revocations are checked
 * where they matter: on the protected route.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import type { TestGateway } from '../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';
import {
  stepOnGateway,
  startProviderApp,
  codeFor,
  exchange,
  post,
  pkcePair,
  HOST,
  PROVISION_KEY,
  REDIRECT_URI,
  type ProviderApp,
} from '../plugins/oauth2/fixtures.js';
import { launchBrowser } from './browser.js';
import { loggedInPage, path, shot } from './ui-helpers.js';

const digest = (token: string) => createHash('sha256').update(token).digest('base64url');

describe('Back office: OAuth2 clients and grants (real Chromium)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let app: ProviderApp;
  let browser: Browser;
  let page: Page;

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await stepOnGateway(upstream, { backOffice: true });
    app = await startProviderApp(gw.proxyUrl);
    browser = await launchBrowser();
    // The confirms of revocations are accepted.
    page = await loggedInPage(browser, gw.adminUrl, {
      beforeLogIn: (p) =>
        p.on('dialog', (dialog) => {
          void dialog.accept();
        }),
    });
  });
  after(async () => {
    await browser?.close();
    await app?.close();
    await gw?.close();
    await upstream?.close();
  });

  const api = (token: string) => gw.proxy('/v1/orders', { host: HOST, headers: { authorization: `Bearer ${token}` } });
  const grantFor = async (user: string, scope?: string): Promise<{ access_token: string; refresh_token: string }> => {
    const res = await exchange(gw, await codeFor(app, user, { scope }));
    assert.equal(res.status, 200, res.text);
    return res.json();
  };

  it('creates a public OAuth client with redirect URIs through the form: no secret asked or shown, the fields stored as entered, and the client gets tokens with PKCE', async () => {
    await page.goto(`${gw.adminUrl}/#/apikeys/new`);
    await page.locator(`${path('/clientId')} input`).fill('ui-spa');
    await page.locator(`${path('/clientName')} input`).fill('UI single-page app');
    const secretField = page.locator(path('/clientSecret'));
    await secretField.waitFor();
    await page.getByLabel('Client type').selectOption('public');
    await secretField.waitFor({ state: 'hidden' });
    await page.getByRole('button', { name: 'Add redirect URI' }).click();
    await page.getByLabel('Redirect URI 1', { exact: true }).fill(REDIRECT_URI);
    await page.getByRole('button', { name: 'Add redirect URI' }).click();
    await page.getByLabel('Redirect URI 2', { exact: true }).fill('https://typo.test/removed');
    await page.getByRole('button', { name: 'Add redirect URI' }).click();
    await page.getByLabel('Redirect URI 3', { exact: true }).fill('com.example.app:/oauth2/callback');
    await page.getByRole('button', { name: 'Remove Redirect URI 2' }).click();
    await page.getByLabel('authorization_code').check();
    await page.getByLabel('refresh_token').check();
    await shot(page, 'api-key-oauth2-client');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { name: 'API key: UI single-page app' }).waitFor();
    assert.equal(await page.locator('dialog').count(), 0, 'no secret dialog for a public client');
    assert.equal(await page.getByRole('button', { name: 'Rotate secret' }).count(), 0);

    const stored = (await gw.admin('GET', '/api/apikeys/ui-spa')).json();
    assert.equal(stored.clientType, 'public');
    assert.deepEqual(stored.redirectUris, [REDIRECT_URI, 'com.example.app:/oauth2/callback']);
    assert.deepEqual(stored.grantTypes, ['authorization_code', 'refresh_token']);
    assert.equal(stored.clientSecret, undefined);

    const { verifier, challenge } = pkcePair();
    const code = await codeFor(app, 'dana', {
      client_id: 'ui-spa',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    const tokens = await post(gw, '/v1/oauth2/token', {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      client_id: 'ui-spa',
      code_verifier: verifier,
    });
    assert.equal(tokens.status, 200, tokens.text);
    assert.equal((await api(tokens.json().access_token)).status, 200);
  });

  it('saves an OAuth client unchanged through the form: grant types left unchecked stay absent (an empty list was sent, and refused every grant)', async () => {
    await page.goto(`${gw.adminUrl}/#/apikeys/shoefly`);
    await page.getByRole('heading', { name: 'API key: Shoe Fly Shoe' }).waitFor();
    assert.equal(await page.getByLabel('Redirect URI 1', { exact: true }).inputValue(), REDIRECT_URI);
    assert.equal(await page.getByLabel('Client type').inputValue(), 'confidential');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('API key saved').waitFor();
    const stored = (await gw.admin('GET', '/api/apikeys/shoefly')).json();
    assert.equal(stored.grantTypes, undefined);
    assert.deepEqual(stored.redirectUris, [REDIRECT_URI]);
    assert.equal((await api((await grantFor('erin')).access_token)).status, 200);
  });

  it("shows an oauth2 plugin's provision key as set, never its value, and saving the route keeps the key working", async () => {
    await page.goto(`${gw.adminUrl}/#/routes/stepon/form`);
    const instance = page.locator(path('/plugins/0/config/provisionKey'));
    await instance.getByText('Provision key: set (hidden)').waitFor();
    await instance.getByRole('button', { name: 'Rotate provision key' }).waitFor();
    const shown = await page
      .locator('#view')
      .evaluate((view) =>
        [
          view.textContent ?? '',
          ...[...view.querySelectorAll('input, textarea')].map((f) => (f as unknown as { value: string }).value),
        ].join('\n'),
      );
    assert.ok(!shown.includes(PROVISION_KEY), 'the provision key is not on the page');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Route saved').waitFor();
    assert.equal((await api((await grantFor('frank')).access_token)).status, 200);
  });

  it('shows live grants filtered by user; revoking one refuses its token on the protected route, then all of a user, then all of a client from its API key page', async () => {
    const alice1 = await grantFor('alice', 'orders');
    const alice2 = await grantFor('alice', 'email orders');
    const bob = await grantFor('bob');

    await page.getByRole('link', { name: 'OAuth2 grants' }).click();
    await page.getByRole('heading', { name: 'OAuth2 grants', level: 1 }).waitFor();
    await page.getByLabel('Client', { exact: true }).selectOption('shoefly');
    await page.getByLabel('User', { exact: true }).fill('alice');
    await page.getByRole('button', { name: 'Show grants' }).click();
    await page.getByText('2 live grants matching the filters.').waitFor();
    const rows = page.locator('tbody tr');
    assert.equal(await rows.count(), 2);
    for (const row of await rows.all()) {
      assert.match((await row.textContent()) ?? '', /Shoe Fly Shoe.*alice/);
    }
    assert.equal(await page.getByText(digest(bob.access_token).slice(0, 10)).count(), 0, "bob's grant is filtered out");
    assert.equal(await page.getByText(alice1.access_token).count(), 0, 'token values never shown');
    await page.locator('#toast').waitFor({ state: 'hidden' }); // the previous test's "Route saved"
    await shot(page, 'oauth2-grants');

    const firstRow = page.locator('tbody tr', { has: page.getByText(digest(alice1.access_token).slice(0, 10)) });
    await firstRow.getByRole('button', { name: 'Revoke' }).click();
    await page.getByText('1 live grant matching the filters.').waitFor();
    assert.equal((await api(alice1.access_token)).status, 401);
    assert.equal((await api(alice2.access_token)).status, 200);

    await page.getByRole('button', { name: 'Revoke all for this user (alice)' }).click();
    await page.getByText('1 grant revoked').waitFor();
    await page.getByText('No live grants match these filters.').waitFor();
    assert.equal((await api(alice2.access_token)).status, 401);
    assert.equal((await api(bob.access_token)).status, 200);

    await page.goto(`${gw.adminUrl}/#/apikeys/shoefly`);
    await page.getByRole('link', { name: 'Grants of this client' }).click();
    await page.getByRole('button', { name: 'Revoke all for this client (Shoe Fly Shoe)' }).waitFor();
    assert.equal(await page.getByLabel('Client', { exact: true }).inputValue(), 'shoefly');
    await page.locator('tbody tr', { has: page.getByText(digest(bob.access_token).slice(0, 10)) }).waitFor();
    await page.getByRole('button', { name: 'Revoke all for this client (Shoe Fly Shoe)' }).click();
    await page.getByText('No live grants match these filters.').waitFor();
    assert.equal((await api(bob.access_token)).status, 401);
    assert.deepEqual((await gw.admin('GET', '/api/oauth2/grants?client=shoefly')).json(), []);
  });
});
