/**
 * axe-core on every back-office screen in real Chromium, with data in each (routes, keys, a
 * profile and a request, a key pair, a verifier, traffic), folded sections opened: no serious or
 * critical violation (labels, names, contrast, landmarks, ARIA). The counts by impact per screen
 * are printed at the end of the run.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startGateway, createRoute, route, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';
import { send } from '../helpers/http.js';
import { launchBrowser } from './browser.js';
import { logIn, path } from './ui-helpers.js';
import { blocking, countByImpact, describeViolations, runAxe, summaryTable, type AxeViolation } from './axe.js';

const SECRET = 'shop-secret-0123456789';

interface Screen {
  name: string;
  /** The hash to open, or null for a page of its own (the login page). */
  hash: string | null;
  /** The level-1 heading that says the screen is drawn. */
  heading: RegExp;
  /** Anything to do before the check (open a form, run the tester). */
  prepare?: (page: Page) => Promise<void>;
  /** Check only this part of the page. */
  include?: string;
  /** Leave the screen as the next one expects (a dialog closed). */
  cleanUp?: (page: Page) => Promise<void>;
}

/** Open every folded section, so that what it holds is checked too. */
const unfold = (page: Page) =>
  page.locator('details').evaluateAll((all) => all.forEach((d) => d.setAttribute('open', '')));

const SCREENS: Screen[] = [
  { name: 'login', hash: null, heading: /Portcullis/ },
  {
    name: 'dashboard',
    hash: '#/dashboard',
    heading: /^Dashboard$/,
    prepare: (page) => page.locator('table.route-table tbody tr').first().waitFor(),
  },
  { name: 'routes list', hash: '#/routes', heading: /^Routes$/ },
  { name: 'route designer', hash: '#/routes/orders', heading: /orders/ },
  { name: 'new route (designer)', hash: '#/routes/new', heading: /New route/ },
  { name: 'route editor (as a form)', hash: '#/routes/orders/form', heading: /orders/, prepare: unfold },
  {
    name: 'new route as a form (errors beside the fields)',
    hash: '#/routes/new/form',
    heading: /New route/,
    prepare: async (page) => {
      await page.locator(`${path('/frontend/domains')} textarea`).fill('not a domain!');
      await page.getByRole('button', { name: 'Create' }).click();
      await page.locator(`${path('/frontend/domains')}.invalid .field-error`).waitFor();
    },
  },
  {
    name: 'request tester panel',
    hash: '#/routes/orders/form',
    heading: /orders/,
    include: 'form.tester',
    prepare: async (page) => {
      // Sent with the key, and with a body long enough that the upstream's answer (the echo of the
      // request) scrolls in its box: a scrolling region must be reachable from the keyboard.
      const tester = page.getByRole('form', { name: 'Test' });
      await tester.getByLabel('Method').selectOption('POST');
      await tester.getByLabel('Credential').selectOption('apikey');
      await tester.getByLabel('API key').selectOption('shop');
      await tester.getByLabel('Secret of this key').fill(SECRET);
      await tester
        .getByLabel('Body')
        .fill(Array.from({ length: 200 }, (_, i) => `line ${i} of a long order note`).join('\n'));
      await tester.getByRole('button', { name: 'Send to upstream' }).click();
      await tester.locator('.upstream-answer', { hasText: 'Status 200' }).waitFor();
    },
  },
  { name: 'global plugins', hash: '#/global', heading: /Global plugins/, prepare: unfold },
  { name: 'API keys', hash: '#/apikeys', heading: /^API keys$/ },
  { name: 'API key editor', hash: '#/apikeys/shop', heading: /Shop/, prepare: unfold },
  {
    name: 'new API key (secret shown once)',
    hash: '#/apikeys/new',
    heading: /New API key/,
    prepare: async (page) => {
      await page.locator(`${path('/clientName')} input`).fill('Once');
      await page.getByRole('button', { name: 'Create' }).click();
      await page.locator('#client-secret').waitFor();
    },
    cleanUp: (page) => page.getByRole('button', { name: 'Done' }).click(),
  },
  { name: 'OAuth2 grants', hash: '#/grants', heading: /OAuth2 grants/ },
  { name: 'access requests', hash: '#/access-requests', heading: /Access requests/ },
  {
    name: 'access request (approve form)',
    hash: '#/access-requests/{request}',
    heading: /Access request/,
    prepare: async (page) => {
      await page.getByRole('button', { name: /^Approve/ }).click();
      await page.getByRole('button', { name: 'Confirm approval' }).waitFor();
    },
  },
  { name: 'authorization profiles', hash: '#/profiles', heading: /Authorization profiles/ },
  {
    name: 'authorization profile editor',
    hash: '#/profiles/orders-profile',
    heading: /Authorization profile/,
    prepare: unfold,
  },
  { name: 'key pairs', hash: '#/keypairs', heading: /Key pairs/, prepare: unfold },
  { name: 'JWT verifiers', hash: '#/verifiers', heading: /^JWT verifiers$/ },
  { name: 'JWT verifier editor', hash: '#/verifiers/partners', heading: /JWT verifier/, prepare: unfold },
  { name: 'import / export', hash: '#/settings', heading: /Import \/ export/ },
];

describe('Back office: accessibility (axe-core in real Chromium)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let browser: Browser;
  let page: Page;
  let requestId = '';
  const results = new Map<string, AxeViolation[]>();

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await startGateway({ backOffice: true });
    await createRoute(
      gw,
      route('orders', upstream.url, {
        frontend: { domains: ['orders.test'] },
        plugins: [{ plugin: 'apikeys' }, { plugin: 'headers', config: { request: { set: { 'X-From': 'gateway' } } } }],
      }),
    );
    const created = [
      await gw.admin('POST', '/api/apikeys', {
        clientId: 'shop',
        clientName: 'Shop',
        clientSecret: SECRET,
        authorizedEntities: ['orders'],
        scopes: ['read'],
      }),
      await gw.admin('POST', '/api/keypairs', { id: 'signing', name: 'Signing', alg: 'ES256' }),
      await gw.admin('POST', '/api/jwt-verifiers', {
        id: 'partners',
        name: 'Partners',
        keys: { kind: 'keypairs' },
        algorithms: ['ES256'],
      }),
      await gw.admin('POST', '/api/authorization-profiles', {
        id: 'orders-profile',
        name: 'Orders',
        owner: 'orders team',
        flow: 'client-credentials',
        clientAuthenticator: 'client-secret',
        scopes: ['read', 'write'],
        authorizedEntities: ['orders'],
      }),
    ];
    for (const res of created) assert.equal(res.status, 201, res.text);
    const request = await gw.admin('POST', '/api/access-requests', {
      profileId: 'orders-profile',
      requester: { id: 'acme', name: 'Acme', email: 'dev@acme.example' },
      requestedScopes: ['read'],
      justification: 'nightly reconciliation',
    });
    assert.equal(request.status, 201, request.text);
    requestId = request.json().id;
    for (let i = 0; i < 5; i++) await send(`${gw.proxyUrl}/x`, { headers: { host: 'orders.test' } });
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
  });
  after(async () => {
    if (results.size > 0)
      console.log(`axe-core: elements in violation by impact, per screen\n${summaryTable(results)}`);
    await browser?.close();
    await gw?.close();
    await upstream?.close();
  });

  for (const screen of SCREENS) {
    it(`has no serious or critical accessibility violation: ${screen.name}`, async (t) => {
      if (screen.hash === null) {
        await page.goto(`${gw.adminUrl}/login?error=invalid`);
      } else {
        if (!page.url().startsWith(gw.adminUrl) || page.url().includes('/login')) {
          await logIn(page, gw.adminUrl);
          await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
        }
        await page.goto(`${gw.adminUrl}/${screen.hash.replace('{request}', encodeURIComponent(requestId))}`);
      }
      await page.getByRole('heading', { level: 1, name: screen.heading }).waitFor();
      await screen.prepare?.(page);
      const violations = await runAxe(page, screen.include);
      results.set(screen.name, violations);
      await screen.cleanUp?.(page);
      const counts = countByImpact(violations);
      t.diagnostic(
        `${screen.name}: critical ${counts.critical}, serious ${counts.serious}, moderate ${counts.moderate}, minor ${counts.minor}${violations.length ? `\n${describeViolations(violations)}` : ''}`,
      );
      assert.deepEqual(
        blocking(violations).map((v) => v.id),
        [],
        describeViolations(blocking(violations)),
      );
    });
  }
});
