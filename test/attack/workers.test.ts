/**
 * Attack: playing the workers of one gateway (`workers: 2`) against each other. A client that
 * spreads its calls over many connections reaches both processes; quotas must still be exact, and
 * once a key change has been acknowledged no worker may accept the old credential on any later
 * request — not "eventually": the attacker's next call is the one that counts. (Revocations
 * through the revocation endpoint and the admin's cut-off hold on every worker from their
 * acknowledgement on: test/e2e/state-revocations.test.ts.)
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basic, send, sendJson, type TestResponse } from '../helpers/http.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';
import { run, started, type Running } from '../helpers/cli.js';

const PASSWORD = 'workers-attack-password';
const SECRET = 'workers-attack-secret-0123456789';

function tally(responses: TestResponse[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const r of responses) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
}

describe('Attack: quotas and key changes across 2 workers', () => {
  let dir: string;
  let upstream: Upstream;
  let gateway: Running;
  let urls: { proxy: string; admin: string };
  const auth = { authorization: basic('admin', PASSWORD) };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-workers-attack-'));
    upstream = await startUpstream(echo);
    gateway = run({
      PORTCULLIS_DATA_FILE: join(dir, 'data.json'),
      PORTCULLIS_WORKERS: '2',
      PORTCULLIS_ADMIN_PASSWORD: PASSWORD,
    });
    urls = await started(gateway);
    const r = {
      id: 'orders',
      name: 'orders',
      frontend: { domains: ['api.test'] },
      backend: { targets: [{ url: upstream.url }] },
      plugins: [{ plugin: 'apikeys', config: {} }],
    };
    assert.equal((await sendJson(urls.admin + '/api/routes', 'POST', r, auth)).status, 201);
    for (const [clientId, extra] of [
      ['quota', { dailyQuota: 37 }],
      ['rotated', {}],
      ['disabled', {}],
    ] as const) {
      const created = await sendJson(
        urls.admin + '/api/apikeys',
        'POST',
        { clientId, clientSecret: SECRET, clientName: clientId, authorizedEntities: ['orders'], ...extra },
        auth,
      );
      assert.equal(created.status, 201, created.text);
    }
  });
  after(async () => {
    gateway.child.kill('SIGTERM');
    await gateway.exited;
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** `count` calls at once, on new connections (spread over both workers) or over a few kept-alive ones. */
  function burst(count: number, headers: Record<string, string>, agent?: Agent): Promise<TestResponse[]> {
    return Promise.all(
      Array.from({ length: count }, () => send(urls.proxy + '/', { headers: { host: 'api.test', ...headers }, agent })),
    );
  }

  it('a daily quota of 37 allows exactly 37 of 300 concurrent calls, half on fresh connections and half over 12 kept-alive ones', async () => {
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 12 });
    try {
      const headers = { authorization: basic('quota', SECRET) };
      const responses = (await Promise.all([burst(150, headers), burst(150, headers, keepAlive)])).flat();
      assert.deepEqual(tally(responses), { 200: 37, 429: 263 });
      const remaining = responses
        .filter((r) => r.status === 200)
        .map((r) => Number(r.headers['ratelimit-remaining']))
        .sort((a, b) => a - b);
      assert.deepEqual(
        remaining,
        Array.from({ length: 37 }, (_, i) => i),
        'each allowed call had its own count',
      );
    } finally {
      keepAlive.destroy();
    }
  });

  /** PUT the key back with `changes` (a PUT without a secret keeps the stored one). */
  async function update(clientId: string, changes: Record<string, unknown>): Promise<TestResponse> {
    const {
      version: _version,
      createdAt: _created,
      updatedAt: _updated,
      ...current
    } = (await send(`${urls.admin}/api/apikeys/${clientId}`, { headers: auth })).json();
    return sendJson(`${urls.admin}/api/apikeys/${clientId}`, 'PUT', { ...current, ...changes }, auth);
  }

  it('a rotated secret and a disabled key are refused by every worker as soon as the admin write is answered', async () => {
    const old = { authorization: basic('rotated', SECRET) };
    assert.deepEqual(tally(await burst(20, old)), { 200: 20 });
    const rotated = await update('rotated', { clientSecret: `${SECRET}-new` });
    assert.equal(rotated.status, 200, rotated.text);
    assert.deepEqual(tally(await burst(40, old)), { 401: 40 });
    assert.deepEqual(tally(await burst(20, { authorization: basic('rotated', `${SECRET}-new`) })), { 200: 20 });

    const disabled = { authorization: basic('disabled', SECRET) };
    assert.deepEqual(tally(await burst(20, disabled)), { 200: 20 });
    const off = await update('disabled', { enabled: false });
    assert.equal(off.status, 200, off.text);
    const after = await burst(40, disabled);
    assert.equal(after.filter((r) => r.status === 200).length, 0, JSON.stringify(tally(after)));
  });
});
