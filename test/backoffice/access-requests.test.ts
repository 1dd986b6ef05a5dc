/**
 * The back office's access-request screens in real Chromium: an authorization profile made through
 * its form (the webhook secret write-only), requests created as a portal does (an API token), and
 * an access manager's decisions, checked where they matter: the API key, a client-credentials token
 * and the route, the audit trail, the webhook receiver.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { startGateway, createRoute, route, type TestGateway } from '../helpers/gateway.js';
import { sendJson } from '../helpers/http.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';
import { createToken } from '../plugins/access-requests/fixtures.js';
import { launchBrowser } from './browser.js';
import { loggedInPage, path, shot } from './ui-helpers.js';

const WEBHOOK_SECRET = 'a-webhook-secret-of-the-orders-team';

describe('Back office: access requests and authorization profiles (real Chromium)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let receiver: Server;
  let receiverUrl: string;
  const received: { event: string; body: any }[] = [];
  let portal: string;
  let browser: Browser;
  let page: Page;

  before(async () => {
    upstream = await startUpstream(echo);
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({
          event: String(req.headers['x-portcullis-event']),
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
        });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    gw = await startGateway({ backOffice: true });
    const global = (await gw.admin('GET', '/api/global-config')).json();
    assert.equal(
      (
        await gw.admin('PUT', '/api/global-config', {
          ...global,
          plugins: [{ plugin: 'client-credentials', config: { secure: false } }],
        })
      ).status,
      200,
    );
    await createRoute(
      gw,
      route('orders', upstream.url, {
        plugins: [
          {
            plugin: 'apikeys',
            config: {
              extractors: { basic: { enabled: false }, customHeaders: { enabled: false }, jwt: { enabled: true } },
            },
          },
        ],
      }),
    );
    portal = await createToken(gw, 'Self-service portal', ['access-requests:create']);
    browser = await launchBrowser();
    page = await loggedInPage(browser, gw.adminUrl);
  });
  after(async () => {
    await browser?.close();
    await gw?.close();
    await upstream?.close();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  /** A request as a self-service portal makes it: with its API token, over HTTP. */
  const requestAccess = async (name: string, requestedScopes: string[]): Promise<any> => {
    const slug = name.toLowerCase().replace(/\W+/g, '-');
    const res = await sendJson(
      `${gw.adminUrl}/api/access-requests`,
      'POST',
      {
        profileId: 'orders',
        requester: { id: `org-${slug}`, name, email: `dev@${slug}.example` },
        requestedScopes,
        justification: `${name} reconciles its orders nightly`,
      },
      { authorization: `Bearer ${portal}` },
    );
    assert.equal(res.status, 201, res.text);
    return res.json();
  };
  const openRequest = async (name: string) => {
    await page.getByRole('link', { name: 'Access requests' }).click();
    await page.getByRole('heading', { name: 'Access requests', level: 1 }).waitFor();
    await page.getByRole('link', { name }).click();
    await page.getByRole('heading', { name: `Access request: ${name}` }).waitFor();
  };
  const token = (clientId: string, clientSecret: string, scope?: string) =>
    gw.proxy('/.well-known/otoroshi/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: clientSecret,
        ...(scope ? { scope } : {}),
      }).toString(),
    });

  it('creates an authorization profile through its form: the webhook secret is shown as set, never its value, and saving the profile keeps it', async () => {
    await page.getByRole('link', { name: 'Authorization profiles' }).click();
    await page.getByRole('link', { name: 'New authorization profile' }).click();
    await page.locator(`${path('/id')} input`).fill('orders');
    await page.locator(`${path('/name')} input`).fill('Orders API');
    await page.locator(`${path('/owner')} input`).fill('Orders team');
    await page.locator(`${path('/scopes')} textarea`).fill('orders:read\norders:write\nFunction2/*');
    await page.locator(`${path('/authorizedEntities')} input[value="orders"]`).check();
    await page.locator(`${path('/quotas/dailyQuota')} input`).fill('1000');
    assert.equal(await page.locator(`${path('/webhook/url')}`).isVisible(), false, 'no webhook until asked for');
    await page.getByLabel('Set webhook').check();
    await page.locator(`${path('/webhook/url')} input`).fill(receiverUrl);
    await page.locator(`${path('/webhook/secret')} input`).fill(WEBHOOK_SECRET);
    await shot(page, 'authorization-profile-editor');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { name: 'Authorization profile: Orders API' }).waitFor();

    await page.locator(path('/webhook/secret')).getByText('Secret: set (hidden)').waitFor();
    const shown = await page
      .locator('#view')
      .evaluate((view) =>
        [
          view.textContent ?? '',
          ...[...view.querySelectorAll('input, textarea')].map((f) => (f as unknown as { value: string }).value),
        ].join('\n'),
      );
    assert.ok(!shown.includes(WEBHOOK_SECRET), 'the webhook secret is not on the page');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Authorization profile saved').waitFor();

    const stored = (await gw.admin('GET', '/api/authorization-profiles/orders')).json();
    assert.deepEqual(stored.scopes, ['orders:read', 'orders:write', 'Function2/*']);
    assert.deepEqual(stored.authorizedEntities, ['orders']);
    assert.equal(stored.quotas.dailyQuota, 1000);
    assert.equal(stored.webhook.url, receiverUrl);
    assert.equal(stored.webhook.secret, undefined);
    const exported = (await gw.admin('GET', '/api/export?includePrivateKeys=true')).json();
    const kept = JSON.stringify(exported).includes(WEBHOOK_SECRET);
    assert.ok(kept, 'the secret survived a save of the form that never showed it');

    await page.getByRole('button', { name: 'Replace secret' }).click();
    await page.getByLabel('New secret').fill(`${WEBHOOK_SECRET}-rotated`);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Authorization profile saved').waitFor();
    await page.locator(path('/webhook/secret')).getByText('Secret: set (hidden)').waitFor();
    const replaced = (await gw.admin('GET', '/api/export?includePrivateKeys=true')).json();
    assert.ok(JSON.stringify(replaced).includes(`${WEBHOOK_SECRET}-rotated`), 'a typed replacement is stored');
  });

  it('approves a pending request with edited scopes and quotas: its API key is enabled with them, and a client_credentials token works on the route', async () => {
    const created = await requestAccess('Acme Corp', ['orders:read', 'Function2/list']);
    await page.getByRole('link', { name: 'Access requests' }).click();
    await page.getByRole('link', { name: 'Acme Corp' }).waitFor();
    assert.equal(await page.getByLabel('State').inputValue(), 'pending', 'the queue opens on pending requests');
    await shot(page, 'access-requests-queue');
    await page.getByRole('link', { name: 'Acme Corp' }).click();
    await page.getByRole('heading', { name: 'Access request: Acme Corp' }).waitFor();
    await page.getByText('Acme Corp reconciles its orders nightly').waitFor();

    await page.getByRole('button', { name: 'Approve…' }).click();
    await page.getByLabel('orders:write').check();
    await page.getByLabel('Function2/list').uncheck();
    await page.getByLabel('Other scopes (one per line)').fill('Function2/export');
    assert.equal(
      await page.getByLabel('Calls per day (daily quota)').inputValue(),
      '1000',
      "the profile's quota, to adjust",
    );
    await page.getByLabel('Calls per day (daily quota)').fill('500');
    await page.getByLabel('Reason (optional)').fill('Known partner');
    await page.locator('#toast').waitFor({ state: 'hidden' }); // the previous test's "saved"
    await shot(page, 'access-request-approve');
    await page.getByRole('button', { name: 'Confirm approval' }).click();
    await page.getByText('Request approved').waitFor();
    await page.locator('.facts .state-approved').waitFor();
    await page.getByRole('button', { name: 'Revoke…' }).waitFor();
    await page.locator('.facts').getByText('Calls per day: 500').waitFor();

    const apiKey = (await gw.admin('GET', `/api/apikeys/${encodeURIComponent(created.clientId)}`)).json();
    assert.equal(apiKey.enabled, true);
    assert.deepEqual([...apiKey.scopes].sort(), ['Function2/export', 'orders:read', 'orders:write']);
    assert.equal(apiKey.dailyQuota, 500);
    assert.deepEqual(apiKey.authorizedEntities, ['orders']);
    const request = (await gw.admin('GET', `/api/access-requests/${created.id}`)).json();
    assert.equal(request.decidedBy, 'admin');
    assert.equal(request.reason, 'Known partner');

    const granted = await token(created.clientId, created.clientSecret, 'orders:write');
    assert.equal(granted.status, 200, granted.text);
    assert.equal(granted.json().scope, 'orders:write');
    assert.equal(
      (await gw.proxy('/orders/1', { headers: { authorization: `Bearer ${granted.json().access_token}` } })).status,
      200,
    );
    const notGranted = await token(created.clientId, created.clientSecret, 'Function2/list');
    assert.equal(notGranted.status, 400, 'the scope unchecked at approval is not granted');

    // The webhook log: the creation and the approval reached the receiver, and the page lists them.
    while (received.filter((r) => r.body.data.request.id === created.id).length < 2)
      await new Promise((r) => setTimeout(r, 50));
    await page.reload();
    await page.getByRole('cell', { name: 'access_request.approved' }).waitFor();
    await page.getByRole('cell', { name: 'access_request.created' }).waitFor();
  });

  it('rejects a request with a reason, which the audit trail shows; a rejection without a reason is not sent', async () => {
    const created = await requestAccess('Globex', ['orders:read']);
    await openRequest('Globex');
    await page.getByRole('button', { name: 'Reject…' }).click();
    await page.getByRole('button', { name: 'Confirm rejection' }).click();
    await page.getByText('A rejection needs a reason').waitFor();
    assert.equal((await gw.admin('GET', `/api/access-requests/${created.id}`)).json().state, 'pending');

    await page.getByLabel('Reason', { exact: true }).fill('No contract on file');
    await page.getByRole('button', { name: 'Confirm rejection' }).click();
    await page.getByText('Request rejected').waitFor();
    const trail = page.locator('table', { has: page.getByRole('columnheader', { name: 'Who' }) });
    await trail.getByRole('row', { name: /admin.*pending.*rejected.*No contract on file/ }).waitFor();
    await trail.getByRole('row', { name: /\(created\).*pending/ }).waitFor();
    await page.locator('#toast').waitFor({ state: 'hidden' });
    await shot(page, 'access-request-trail');

    const stored = (await gw.admin('GET', `/api/access-requests/${created.id}`)).json();
    assert.equal(stored.state, 'rejected');
    assert.equal(stored.reason, 'No contract on file');
    assert.equal((await gw.admin('GET', `/api/apikeys/${encodeURIComponent(created.clientId)}`)).json().enabled, false);
    assert.equal((await token(created.clientId, created.clientSecret)).status, 401);
  });

  it('shows the 409 of a forbidden transition: a request rejected elsewhere while its approval form was open', async () => {
    const created = await requestAccess('Initech', ['orders:read']);
    await openRequest('Initech');
    await page.getByRole('button', { name: 'Approve…' }).click();
    await page.getByRole('button', { name: 'Confirm approval' }).waitFor();
    const elsewhere = await gw.admin('POST', `/api/access-requests/${created.id}/reject`, {
      reason: 'Duplicate request',
    });
    assert.equal(elsewhere.status, 200, elsewhere.text);
    await page.locator('.facts .state-rejected').waitFor(); // the page follows the change; the open form stays
    await page.getByRole('button', { name: 'Confirm approval' }).click();
    const alert = page.locator('.decision-form [role="alert"]');
    await alert.getByText(`Cannot approve the access request "${created.id}": it is rejected`).waitFor();
    assert.equal((await gw.admin('GET', `/api/access-requests/${created.id}`)).json().state, 'rejected');
    assert.equal((await gw.admin('GET', `/api/apikeys/${encodeURIComponent(created.clientId)}`)).json().enabled, false);
  });
});
