/**
 * Every screen of the back office, with the data that fills them (routes, keys, a profile and a
 * request, a key pair, a verifier, traffic): the accessibility and responsive-layout tests walk
 * the same list, so a screen added here is checked by both.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { createRoute, route, type TestGateway } from '../helpers/gateway.js';
import { send } from '../helpers/http.js';
import { logIn, path } from './ui-helpers.js';

export const SECRET = 'shop-secret-0123456789';

export interface Screen {
  name: string;
  /** The hash to open, or null for a page of its own (the login page). */
  hash: string | null;
  /** The level-1 heading that says the screen is drawn. */
  heading: RegExp;
  /** Anything to do before the check (open a form, run the tester). */
  prepare?: (page: Page) => Promise<void>;
  /** Check only this part of the page. */
  include?: string;
  /** The name of its docs screenshot, written by the responsive test at each width (`dashboard-390`). */
  shot?: string;
  /** Leave the screen as the next one expects (a dialog closed). */
  cleanUp?: (page: Page) => Promise<void>;
}

/** Open every folded section, so that what it holds is checked too. */
export const unfold = (page: Page) =>
  page.locator('details').evaluateAll((all) => all.forEach((d) => d.setAttribute('open', '')));

export const SCREENS: Screen[] = [
  { name: 'login', hash: null, heading: /Portcullis/ },
  {
    name: 'dashboard',
    hash: '#/dashboard',
    heading: /^Dashboard$/,
    shot: 'dashboard',
    prepare: (page) => page.locator('table.route-table tbody tr').first().waitFor(),
  },
  { name: 'routes list', hash: '#/routes', heading: /^Routes$/ },
  {
    name: 'route designer',
    hash: '#/routes/orders',
    heading: /orders/,
    // drawn once the boxes say what each configuration does (the plugins' summaries)
    prepare: (page) =>
      page
        .getByText(/authorized for this route/)
        .first()
        .waitFor(),
    shot: 'designer',
  },
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
  { name: 'API key editor', hash: '#/apikeys/shop', heading: /Shop/, prepare: unfold, shot: 'editor' },
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

/** Fill the gateway with what the screens show; returns the id of the pending access request. */
export async function seedScreens(gw: TestGateway, upstreamUrl: string): Promise<string> {
  await createRoute(
    gw,
    route('orders', upstreamUrl, {
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
  const requestId: string = request.json().id;
  for (let i = 0; i < 5; i++) await send(`${gw.proxyUrl}/x`, { headers: { host: 'orders.test' } });
  return requestId;
}

/**
 * Open a screen: the login page as it is, any other by its hash (logging in again when the page
 * left the app), then wait for its heading and prepare it.
 */
export async function openScreen(page: Page, adminUrl: string, screen: Screen, requestId: string): Promise<void> {
  if (screen.hash === null) {
    await page.goto(`${adminUrl}/login?error=invalid`);
  } else {
    if (!page.url().startsWith(adminUrl) || page.url().includes('/login')) {
      // The login page does not end a session: log in only when the app sends there.
      await page.goto(`${adminUrl}/`);
      if (page.url().includes('/login')) await logIn(page, adminUrl);
      await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    }
    await page.goto(`${adminUrl}/${screen.hash.replace('{request}', encodeURIComponent(requestId))}`);
  }
  await page.getByRole('heading', { level: 1, name: screen.heading }).waitFor();
  await screen.prepare?.(page);
}
