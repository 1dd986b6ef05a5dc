/**
 * The provision key as a write-only secret: generated and shown once, kept by updates that omit
 * it, stored and exported as a SHA-256 digest only, hidden from every read (admin API, back-office
 * WebSocket), rotatable, and a plaintext stored by earlier versions still works.
 */
import 'reflect-metadata';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { ADMIN_PASSWORD, createRoute, route, type TestGateway } from '../../helpers/gateway.js';
import { send } from '../../helpers/http.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import { stepOnGateway, post, REDIRECT_URI } from './fixtures.js';
import { storedDocument, storedText } from '../../helpers/data-file.js';

const GENERATED = /^[A-Za-z0-9_-]{43}$/;
const DIGEST = /^sha256:[A-Za-z0-9_-]{43}$/;
const USER_KEY = 'my-own-provision-key-0123456789-abcdef';

function oauth2Route(id: string, upstreamUrl: string, config: Record<string, unknown> = {}): Record<string, any> {
  return route(id, upstreamUrl, {
    frontend: { domains: [`${id}.test`] },
    plugins: [{ plugin: 'oauth2', config: { requireHttps: false, ...config } }],
  });
}

/** The authorize call of the provider's backend with `provisionKey` on route `id`. */
function authorize(gw: TestGateway, id: string, provisionKey: string) {
  return post(
    gw,
    '/oauth2/authorize',
    {
      client_id: 'shoefly',
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      provision_key: provisionKey,
      authenticated_userid: 'alice',
    },
    {},
    `${id}.test`,
  );
}

async function assertKeyWorks(gw: TestGateway, id: string, provisionKey: string): Promise<void> {
  const res = await authorize(gw, id, provisionKey);
  assert.equal(res.status, 200, res.text);
  assert.match(res.json().redirect_uri, /\?code=/);
}

async function assertKeyRefused(gw: TestGateway, id: string, provisionKey: string): Promise<void> {
  const res = await authorize(gw, id, provisionKey);
  assert.equal(res.status, 400, res.text);
  assert.deepEqual(res.json(), { error: 'invalid_request', error_description: 'Invalid provision_key' });
}

function configOf(entity: any): Record<string, unknown> {
  return entity.plugins.find((p: any) => p.plugin === 'oauth2').config;
}

describe('Plugin: oauth2 (provision key)', () => {
  let gw: TestGateway;
  let upstream: Upstream;

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await stepOnGateway(upstream, { backOffice: true });
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  it('generates a key when none is given, shows it once in the creation response, and the key works', async () => {
    const created = await createRoute(gw, oauth2Route('gen', upstream.url));
    const key = configOf(created).provisionKey as string;
    assert.match(key, GENERATED);
    await assertKeyWorks(gw, 'gen', key);
    await assertKeyRefused(gw, 'gen', `${key.slice(0, -1)}x`);
  });

  it('never shows the key again: not on GET, list, export, the data file, the logs or the back-office WebSocket', async () => {
    const created = await createRoute(gw, oauth2Route('hidden', upstream.url));
    const key = configOf(created).provisionKey as string;
    const one = await gw.admin('GET', '/api/routes/hidden');
    assert.equal(configOf(one.json()).provisionKey, undefined);
    assert.equal(configOf(one.json()).requireHttps, false);
    const list = await gw.admin('GET', '/api/routes');
    assert.ok(!list.text.includes(key));
    assert.ok(!list.text.includes('sha256:'), 'reads show not even the digest');
    const exported = await gw.admin('GET', '/api/export?includePrivateKeys=true');
    assert.ok(!exported.text.includes(key));
    assert.match(configOf(exported.json().routes.find((r: any) => r.id === 'hidden')).provisionKey as string, DIGEST);
    assert.ok(!(await storedText(gw.dataFile)).includes(key), 'only the digest is stored');
    assert.ok(!JSON.stringify(gw.logs).includes(key), 'nor logged');
    const ws = await openBackOfficeSocket(gw);
    try {
      const replies = await Promise.all([
        ask(ws, { id: 1, op: 'get', entity: 'routes', payload: { id: 'hidden' } }),
        ask(ws, { id: 2, op: 'list', entity: 'routes', payload: {} }),
        ask(ws, { id: 3, op: 'list', entity: 'export', payload: { includePrivateKeys: true } }),
      ]);
      for (const reply of replies) {
        assert.equal(reply.ok, true, JSON.stringify(reply));
        assert.ok(!JSON.stringify(reply).includes(key));
      }
      assert.equal(configOf(replies[0].result).provisionKey, undefined);
    } finally {
      ws.close();
    }
  });

  it('keeps the key when an update omits it (a back-office edit of the route)', async () => {
    const created = await createRoute(gw, oauth2Route('kept', upstream.url));
    const key = configOf(created).provisionKey as string;
    const shown = (await gw.admin('GET', '/api/routes/kept')).json();
    const updated = await gw.admin('PUT', '/api/routes/kept', {
      ...shown,
      name: 'Kept, renamed',
      plugins: [{ ...shown.plugins[0], config: { ...configOf(shown), scopes: ['email'] } }],
    });
    assert.equal(updated.status, 200, updated.text);
    assert.equal(configOf(updated.json()).provisionKey, undefined, 'nothing generated, nothing shown');
    await assertKeyWorks(gw, 'kept', key);
  });

  it('accepts a key the user sets in plaintext, and stores only its digest', async () => {
    await createRoute(gw, oauth2Route('own', upstream.url, { provisionKey: USER_KEY }));
    await assertKeyWorks(gw, 'own', USER_KEY);
    assert.ok(!(await storedText(gw.dataFile)).includes(USER_KEY));
    assert.equal(configOf((await gw.admin('GET', '/api/routes/own')).json()).provisionKey, undefined);
    const replaced = await gw.admin(
      'PUT',
      '/api/routes/own',
      oauth2Route('own', upstream.url, { provisionKey: `${USER_KEY}-2` }),
    );
    assert.equal(replaced.status, 200, replaced.text);
    await assertKeyRefused(gw, 'own', USER_KEY);
    await assertKeyWorks(gw, 'own', `${USER_KEY}-2`);
  });

  it('shows the key generated when an update adds the plugin to a route', async () => {
    await createRoute(gw, route('added', upstream.url, { frontend: { domains: ['added.test'] } }));
    const updated = await gw.admin('PUT', '/api/routes/added', oauth2Route('added', upstream.url));
    assert.equal(updated.status, 200, updated.text);
    const key = configOf(updated.json()).provisionKey as string;
    assert.match(key, GENERATED);
    await assertKeyWorks(gw, 'added', key);
  });

  it('rotates the key: the new one is shown once and works, the old one is refused at once', async () => {
    const created = await createRoute(gw, oauth2Route('rotated', upstream.url));
    const old = configOf(created).provisionKey as string;
    const rotated = await gw.admin('POST', '/api/routes/rotated/plugins/oauth2/provision-key');
    assert.equal(rotated.status, 200, rotated.text);
    assert.equal(rotated.headers['cache-control'], 'no-store');
    assert.deepEqual(Object.keys(rotated.json()), ['provisionKey']);
    const fresh = rotated.json().provisionKey as string;
    assert.match(fresh, GENERATED);
    assert.notEqual(fresh, old);
    await assertKeyRefused(gw, 'rotated', old);
    await assertKeyWorks(gw, 'rotated', fresh);
    assert.equal(configOf((await gw.admin('GET', '/api/routes/rotated')).json()).provisionKey, undefined);
  });

  it('answers 404 JSON to a rotation on a route without the oauth2 plugin, or no route', async () => {
    await createRoute(gw, route('plain', upstream.url, { frontend: { domains: ['plain.test'] } }));
    for (const path of [
      '/api/routes/plain/plugins/oauth2/provision-key',
      '/api/routes/nowhere/plugins/oauth2/provision-key',
    ]) {
      const res = await gw.admin('POST', path);
      assert.equal(res.status, 404, res.text);
      assert.equal(res.json().error, 'not_found');
    }
  });

  it('keeps the key through an export and an import of that export', async () => {
    const created = await createRoute(gw, oauth2Route('roundtrip', upstream.url));
    const key = configOf(created).provisionKey as string;
    const exported = (await gw.admin('GET', '/api/export?includePrivateKeys=true')).json();
    const imported = await gw.admin('POST', '/api/import', { routes: exported.routes });
    assert.equal(imported.status, 200, imported.text);
    await assertKeyWorks(gw, 'roundtrip', key);
  });
});

describe('Plugin: oauth2 (provision key stored in plaintext by an earlier version)', () => {
  let upstream: Upstream;
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-oauth2-legacy-'));

  before(async () => {
    upstream = await startUpstream(echo);
  });
  after(async () => {
    await upstream.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts and accepts the stored plaintext key; reads hide it and exports turn it into the digest', async () => {
    const first = await stepOnGateway(upstream, { dataDir });
    await createRoute(first, oauth2Route('legacy', upstream.url, { provisionKey: USER_KEY }));
    await first.close({ keepData: true });
    // What an earlier version wrote: the plaintext in the route's plugin config.
    const file = readFileSync(first.dataFile, 'utf8');
    const digest = /"provisionKey":\s*"(sha256:[^"]+)"/.exec(file.slice(file.indexOf('"legacy"')))![1]!;
    writeFileSync(first.dataFile, file.replaceAll(digest, USER_KEY));

    const gw = await stepOnGateway(upstream, { dataDir });
    try {
      await assertKeyWorks(gw, 'legacy', USER_KEY);
      const shown = await gw.admin('GET', '/api/routes/legacy');
      assert.equal(configOf(shown.json()).provisionKey, undefined);
      const exported = await gw.admin('GET', '/api/export');
      assert.ok(!exported.text.includes(USER_KEY));
      assert.equal(configOf(exported.json().routes.find((r: any) => r.id === 'legacy')).provisionKey, digest);
      // The next write of the route stores the digest and the key still works.
      const updated = await gw.admin('PUT', '/api/routes/legacy', { ...shown.json(), name: 'Legacy, edited' });
      assert.equal(updated.status, 200, updated.text);
      // The data file keeps its old text until the journal is folded in; the stored state is the digest.
      assert.ok(!JSON.stringify(await storedDocument(gw.dataFile)).includes(USER_KEY));
      await assertKeyWorks(gw, 'legacy', USER_KEY);
    } finally {
      await gw.close();
    }
  });
});

async function openBackOfficeSocket(gw: TestGateway): Promise<WebSocket> {
  const login = await send(`${gw.adminUrl}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  assert.equal(login.status, 200, login.text);
  const cookie = String(login.headers['set-cookie']).split(';')[0]!;
  const ws = new WebSocket(`${gw.adminUrl.replace('http', 'ws')}/ws`, { headers: { cookie, origin: gw.adminUrl } });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return ws;
}

function ask(ws: WebSocket, message: { id: number; [field: string]: unknown }): Promise<{ ok: boolean; result?: any }> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData) => {
      const reply = JSON.parse(String(data));
      if (reply.id !== message.id) return;
      ws.off('message', onMessage);
      resolve(reply);
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify(message));
  });
}
