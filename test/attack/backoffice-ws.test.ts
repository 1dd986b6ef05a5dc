/**
 * Attack: the back office and the admin API from another site. The back office authenticates with
 * a session cookie (HttpOnly, SameSite=Strict) made at login and checks the Origin of its login,
 * logout and WebSocket; the admin API authenticates with HTTP Basic, which a browser caches and
 * sends again on its own. Both must refuse what a foreign page can make a browser send:
 * cross-site WebSocket hijacking, login/logout CSRF, state-changing admin calls (a form POST with
 * no body is enough for actions such as a key rotation), and a session token chosen before login.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startGateway, ADMIN_PASSWORD, type TestGateway } from '../helpers/gateway.js';
import { basic, send, type TestResponse } from '../helpers/http.js';

const SIGNING_PAIR = 'portcullis-jwt-signing';

/** Open the back office's WebSocket; the HTTP status of a refused upgrade, or 101. */
function upgrade(gw: TestGateway, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${gw.adminUrl.replace('http', 'ws')}/ws`, { headers });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    ws.once('error', reject);
  });
}

function login(gw: TestGateway, headers: Record<string, string> = {}): Promise<TestResponse> {
  return send(`${gw.adminUrl}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: gw.adminUrl, ...headers },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
}

function cookieOf(res: TestResponse): string {
  return String(res.headers['set-cookie']).split(';')[0]!;
}

describe('Attack: the back office and the admin API from a foreign site', () => {
  let gw: TestGateway;
  let cookie: string;
  const adminAuth = basic('admin', ADMIN_PASSWORD);

  before(async () => {
    gw = await startGateway({ backOffice: true, logLevel: 'silent' });
    const res = await login(gw);
    assert.equal(res.status, 200, res.text);
    cookie = cookieOf(res);
  });
  after(async () => {
    await gw.close();
  });

  it("control: the back office's own Origin with a live session opens the WebSocket", async () => {
    assert.equal(await upgrade(gw, { cookie, origin: gw.adminUrl }), 101);
  });

  it('refuses a WebSocket from a foreign Origin even with a live session cookie (cross-site WebSocket hijacking)', async () => {
    const port = new URL(gw.adminUrl).port;
    for (const origin of [
      'https://evil.example',
      'null',
      `https://127.0.0.1:${port}`,
      `http://127.0.0.1:${port}.evil.example`,
      `http://127.0.0.1:${Number(port) + 1}`,
      `http://evil.example/${gw.adminUrl}`,
    ]) {
      assert.equal(await upgrade(gw, { cookie, origin }), 403, origin);
    }
  });

  it('refuses a WebSocket without an Origin (every browser sends one; a missing one is not our page)', async () => {
    assert.equal(await upgrade(gw, { cookie }), 403);
  });

  it('session fixation: a session cookie chosen before login is never honoured, and login issues a new one', async () => {
    const planted = 'portcullis_session=attacker-chosen-token-0123456789abcdefghijklmnop';
    const res = await login(gw, { cookie: planted });
    assert.equal(res.status, 200);
    const issued = cookieOf(res);
    assert.notEqual(issued, planted);
    assert.equal(await upgrade(gw, { cookie: planted, origin: gw.adminUrl }), 401);
    const page = await send(`${gw.adminUrl}/`, { headers: { cookie: planted } });
    assert.equal(page.status, 302);
    assert.equal(page.headers.location, '/login');
    assert.equal(await upgrade(gw, { cookie: issued, origin: gw.adminUrl }), 101);
  });

  it('each login gets its own token: a token seen before a login (e.g. on a shared machine) is not the one after it', async () => {
    const first = cookieOf(await login(gw));
    const second = cookieOf(await login(gw, { cookie: first }));
    assert.notEqual(first, second);
  });

  it('the session cookie is HttpOnly, SameSite=Strict and scoped to the whole admin origin', async () => {
    const setCookie = String((await login(gw)).headers['set-cookie']);
    assert.match(setCookie, /; HttpOnly/);
    assert.match(setCookie, /; SameSite=Strict/);
    assert.match(setCookie, /; Path=\//);
  });

  it('logout ends the session on the server: the old cookie no longer opens the WebSocket', async () => {
    const own = cookieOf(await login(gw));
    assert.equal(await upgrade(gw, { cookie: own, origin: gw.adminUrl }), 101);
    const out = await send(`${gw.adminUrl}/logout`, { method: 'POST', headers: { cookie: own, origin: gw.adminUrl } });
    assert.equal(out.status, 303);
    assert.equal(await upgrade(gw, { cookie: own, origin: gw.adminUrl }), 401);
  });

  it('refuses login and logout posted from a foreign page (login CSRF, forced logout)', async () => {
    const foreign = await login(gw, { origin: 'https://evil.example' });
    assert.equal(foreign.status, 403);
    assert.equal(foreign.headers['set-cookie'], undefined);
    assert.equal(foreign.json().error, 'forbidden');
    const out = await send(`${gw.adminUrl}/logout`, {
      method: 'POST',
      headers: { cookie, origin: 'https://evil.example' },
    });
    assert.equal(out.status, 403);
    assert.equal(await upgrade(gw, { cookie, origin: gw.adminUrl }), 101, 'the session survived');
  });

  it('refuses a state-changing admin call sent by a browser from a foreign page with cached Basic credentials (a body-less form POST rotating the signing key)', async () => {
    const kidBefore = (await gw.admin('GET', `/api/keypairs/${SIGNING_PAIR}`)).json().kid;
    // What a cross-site <form method=post> sends: no fields, the form media type, the page's Origin.
    const forged = await send(`${gw.adminUrl}/api/keypairs/${SIGNING_PAIR}/rotate`, {
      method: 'POST',
      headers: {
        authorization: adminAuth,
        origin: 'https://evil.example',
        'sec-fetch-site': 'cross-site',
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': '0',
      },
    });
    assert.equal(forged.status, 403, forged.text);
    assert.equal(forged.json().error, 'forbidden');
    assert.equal(
      (await gw.admin('GET', `/api/keypairs/${SIGNING_PAIR}`)).json().kid,
      kidBefore,
      'the key was not rotated',
    );
    for (const origin of ['null', 'https://evil.example']) {
      const res = await send(`${gw.adminUrl}/api/keypairs/${SIGNING_PAIR}/rotate`, {
        method: 'POST',
        headers: { authorization: adminAuth, origin },
      });
      assert.equal(res.status, 403, origin);
    }
  });

  it("control: the same admin call without an Origin (curl, scripts) or from the admin's own origin is served", async () => {
    const kidBefore = (await gw.admin('GET', `/api/keypairs/${SIGNING_PAIR}`)).json().kid;
    const own = await send(`${gw.adminUrl}/api/keypairs/${SIGNING_PAIR}/rotate`, {
      method: 'POST',
      headers: { authorization: adminAuth, origin: gw.adminUrl },
    });
    assert.equal(own.status, 200, own.text);
    const scripted = await send(`${gw.adminUrl}/api/keypairs/${SIGNING_PAIR}/rotate`, {
      method: 'POST',
      headers: { authorization: adminAuth },
    });
    assert.equal(scripted.status, 200, scripted.text);
    assert.notEqual((await gw.admin('GET', `/api/keypairs/${SIGNING_PAIR}`)).json().kid, kidBefore);
  });

  it('a foreign page cannot read the admin API either: no CORS grant on an authenticated GET', async () => {
    const res = await send(`${gw.adminUrl}/api/export`, {
      headers: { authorization: adminAuth, origin: 'https://evil.example' },
    });
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    assert.equal(res.headers['access-control-allow-credentials'], undefined);
  });
});
