import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { decodeProtectedHeader } from 'jose';
import WebSocket from 'ws';
import type { Browser } from 'playwright-core';
import { startGateway, ADMIN_PASSWORD, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';
import { send } from '../helpers/http.js';
import { launchBrowser } from './browser.js';
import { logIn, shot, path } from './ui-helpers.js';

describe('Back office (real Chromium)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let browser: Browser;

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await startGateway({ backOffice: true });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await gw.close();
    await upstream.close();
  });

  it('runs the whole client credentials tutorial from the UI', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await logIn(page, gw.adminUrl);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await page.locator('#status.live').waitFor();

    // 1. enable the client credentials service (plain HTTP here, so not HTTPS-only)
    await page.getByRole('link', { name: 'Global plugins' }).click();
    const card = page.locator('section.card', {
      has: page.getByRole('heading', { name: /Client credentials service/ }),
    });
    await card.locator('summary', { hasText: /^Configuration$/ }).click();
    await card.locator(`${path('/secure')} input`).uncheck();
    await card.getByLabel('Enabled globally').check();
    await page.getByText('Client credentials service enabled globally').waitFor();
    await shot(page, 'global-plugins');

    // 2. generate a key pair
    // A click that lands while the previous page re-renders after its save may be lost: click again.
    const keyPairsHeading = page.getByRole('heading', { name: 'Key pairs', level: 1 });
    for (let attempt = 0; attempt < 5 && !(await keyPairsHeading.isVisible()); attempt++) {
      await page.getByRole('link', { name: 'Key pairs' }).click();
      await keyPairsHeading.waitFor({ timeout: 3000 }).catch(() => {});
    }
    await keyPairsHeading.waitFor(); // the previous page's fields are gone
    await page.getByLabel('Id', { exact: true }).fill('ui-pair');
    await page.getByLabel('Name').fill('UI key pair');
    await page.getByLabel('Algorithm').selectOption('ES256');
    await page.getByRole('button', { name: 'Generate' }).click();
    await page.getByRole('heading', { name: /UI key pair/ }).waitFor();
    await shot(page, 'key-pairs');

    // 3. a route with apikeys, only the jwt extractor
    await page.getByRole('link', { name: 'Routes' }).click();
    await page.getByRole('link', { name: 'New route' }).click();
    // the designer is the route screen; the whole route as one form stays one click away
    await page.getByRole('link', { name: 'Edit as form' }).click();
    await page.locator(`${path('/id')} input`).fill('ui-route');
    await page.locator(`${path('/name')} input`).fill('UI route');
    await page.locator(`${path('/frontend/domains')} textarea`).fill('ui.test');
    await page.locator(`${path('/backend/targets/0/url')} input`).fill(upstream.url);
    await page.getByRole('button', { name: 'Add plugin' }).click();
    await page.locator(`${path('/plugins/0/plugin')} select`).selectOption('apikeys');
    await page.locator(`${path('/plugins/0/config/extractors/basic/enabled')} input`).uncheck();
    await page.locator(`${path('/plugins/0/config/extractors/customHeaders/enabled')} input`).uncheck();
    await page.locator(`${path('/plugins/0/config/extractors/jwt/enabled')} input`).check();
    await shot(page, 'route-editor');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { name: 'Route: UI route' }).waitFor();

    // 4. an API key signed by that key pair
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('link', { name: 'New API key' }).click();
    await page.locator(`${path('/clientId')} input`).fill('ui-client');
    await page.locator(`${path('/clientName')} input`).fill('UI client');
    await page.locator(`${path('/authorizedEntities')} input[value="ui-route"]`).check();
    await page.locator(`${path('/scopes')} textarea`).fill('read');
    await page.getByLabel('JWT signing key pair (metadata jwt-sign-keypair)').selectOption('ui-pair');
    await page.getByRole('button', { name: 'Create' }).click();
    const secret = (await page.locator('#client-secret').textContent())!.trim();
    assert.match(secret, /^[A-Za-z0-9_-]{43,}$/);
    await shot(page, 'api-key-secret');
    await page.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('link', { name: 'UI client' }).waitFor();
    await shot(page, 'api-keys');

    // 5. outside the browser: a token, then the route
    const tokenRes = await send(`${gw.proxyUrl}/.well-known/otoroshi/oauth/token`, {
      method: 'POST',
      headers: { host: 'ui.test', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: 'ui-client',
        client_secret: secret,
      }).toString(),
    });
    assert.equal(tokenRes.status, 200, tokenRes.text);
    const token = tokenRes.json().access_token;
    const called = await send(`${gw.proxyUrl}/anything`, {
      headers: { host: 'ui.test', authorization: `Bearer ${token}` },
    });
    assert.equal(called.status, 200);
    const pair = (await gw.admin('GET', '/api/keypairs/ui-pair')).json();
    assert.equal(decodeProtectedHeader(token).kid, pair.kid);

    // the dashboard shows the traffic within a second or two
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.getByRole('rowheader', { name: 'ui-route', exact: true }).waitFor({ timeout: 5000 });
    await page.getByRole('link', { name: 'JWT verifiers' }).click();
    await page.getByRole('link', { name: 'New JWT verifier' }).click();
    await page.locator(`${path('/name')} input`).waitFor();
    await shot(page, 'jwt-verifier-editor');
    await context.close();
  });

  it('shows server-side validation errors beside the field', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await logIn(page, gw.adminUrl);
    await page.goto(`${gw.adminUrl}/#/routes/new/form`);
    await page.locator(`${path('/name')} input`).fill('Broken');
    await page.locator(`${path('/frontend/domains')} textarea`).fill('not a domain!');
    await page.locator(`${path('/backend/targets/0/url')} input`).fill('ftp://nope');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.locator(`${path('/frontend/domains')}.invalid .field-error`).waitFor();
    assert.match(
      (await page.locator(`${path('/backend/targets/0/url')} .field-error`).textContent()) ?? '',
      /pattern|match/i,
    );
    await context.close();
  });

  it("makes a JWT verifier with the form's defaults: no token source and no key pair named are sent as absent (an empty header source was sent and refused, and ids: [] trusted no key pair)", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await logIn(page, gw.adminUrl);
    await page.goto(`${gw.adminUrl}/#/verifiers/new`);
    await page.locator(`${path('/name')} input`).fill('Form verifier');
    await page.getByLabel('ES256', { exact: true }).uncheck(); // algorithms: one checkbox per allowed value
    // An error on a choice of shapes shows beside it (showErrors used to throw there, showing nothing).
    await page.locator(`${path('/source/kind')} select`).selectOption('header');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.locator(`${path('/source')}.invalid > .field-error`).waitFor();
    await page.locator(`${path('/source/kind')} select`).selectOption('');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { name: 'JWT verifier: Form verifier' }).waitFor();
    const stored = (await gw.admin('GET', '/api/jwt-verifiers')).json().find((v: any) => v.name === 'Form verifier');
    assert.equal(stored.source, undefined);
    assert.deepEqual(stored.keys, { kind: 'keypairs' });
    assert.deepEqual(stored.algorithms, ['RS256']);
    await context.close();
  });

  it('keeps two tabs in sync: a change in one, or through the admin API, shows in the other without a reload', async () => {
    const a = await browser.newContext();
    const b = await browser.newContext();
    const pageA = await a.newPage();
    const pageB = await b.newPage();
    await logIn(pageA, gw.adminUrl);
    await logIn(pageB, gw.adminUrl);
    await pageA.goto(`${gw.adminUrl}/#/apikeys`);
    await pageA.locator('#status.live').waitFor();
    await pageB.goto(`${gw.adminUrl}/#/apikeys/new`);
    await pageB.locator(`${path('/clientName')} input`).fill('Made in tab B');
    await pageB.getByRole('button', { name: 'Create' }).click();
    await pageA.getByRole('link', { name: 'Made in tab B' }).waitFor({ timeout: 10_000 });
    const viaApi = await gw.admin('POST', '/api/apikeys', { clientName: 'Made through the API' });
    assert.equal(viaApi.status, 201);
    await pageA.getByRole('link', { name: 'Made through the API' }).waitFor({ timeout: 10_000 });
    await a.close();
    await b.close();
  });

  it('refuses a wrong password, an expired session and a WebSocket from a foreign Origin', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await logIn(page, gw.adminUrl, 'not-the-password');
    await page.getByText('Wrong user name or password.').waitFor();
    await shot(page, 'login');
    assert.match(page.url(), /\/login\?error=invalid/);

    await logIn(page, gw.adminUrl);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'portcullis_session')!;
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');

    const foreign = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${gw.adminUrl.replace('http', 'ws')}/ws`, {
        headers: { cookie: `portcullis_session=${session.value}`, origin: 'http://evil.example' },
      });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => {});
    });
    assert.equal(foreign, 403, 'cross-site WebSocket hijacking refused');
    const own = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${gw.adminUrl.replace('http', 'ws')}/ws`, {
        headers: { cookie: `portcullis_session=${session.value}`, origin: gw.adminUrl },
      });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => {
        ws.close();
        resolve(101);
      });
      ws.on('error', () => {});
    });
    assert.equal(own, 101);
    const anonymous = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${gw.adminUrl.replace('http', 'ws')}/ws`, { headers: { origin: gw.adminUrl } });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => {});
    });
    assert.equal(anonymous, 401);

    // An idle session ends: on a gateway of its own with a 1 s idle limit, so that a slow machine
    // cannot end the sessions of the other tests.
    const short = await startGateway({ backOffice: true, config: { admin: { sessionIdleSeconds: 1 } } });
    try {
      await logIn(page, short.adminUrl);
      await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
      await page.goto('about:blank');
      await new Promise((r) => setTimeout(r, 1500)); // past the idle limit, with no page keeping the session alive
      await page.goto(`${short.adminUrl}/`);
      await page.waitForURL(/\/login/);
    } finally {
      await short.close();
    }
    await context.close();
  });

  it('rate-limits failed logins and answers malformed WebSocket messages without dropping the connection', async () => {
    const login = (password: string) =>
      send(`${gw.adminUrl}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password }),
      });
    const good = await login(ADMIN_PASSWORD);
    const cookie = String(good.headers['set-cookie']).split(';')[0]!;
    const ws = new WebSocket(`${gw.adminUrl.replace('http', 'ws')}/ws`, { headers: { cookie, origin: gw.adminUrl } });
    const replies: any[] = [];
    ws.on('message', (d) => replies.push(JSON.parse(String(d))));
    await new Promise((r) => ws.on('open', r));
    ws.send('{not json');
    ws.send(JSON.stringify({ id: 7, op: 'explode', entity: 'routes' }));
    ws.send('x'.repeat(1024 * 1024 + 10));
    ws.send(JSON.stringify({ id: 8, op: 'list', entity: 'routes' }));
    while (replies.filter((r) => r.event === undefined).length < 4) await new Promise((r) => setTimeout(r, 20));
    const answers = replies.filter((r) => r.event === undefined);
    assert.equal(answers[0].error.error_description, 'The message is not valid JSON');
    assert.equal(answers[1].id, 7);
    assert.equal(answers[2].error.status, 413);
    assert.equal(answers[3].ok, true);
    ws.close();

    for (let i = 0; i < 5; i++) assert.equal((await login('wrong-password')).status, 401);
    const limited = await login(ADMIN_PASSWORD);
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers['retry-after']) > 0);
  });
});
