/**
 * Revocations on the runtime state store: a token revoked on one gateway is refused by another on
 * the same Redis within 1 s, and by every cluster worker on the embedded engine from the acknowledgement on; a revoked token
 * stays refused from the local mirror while Redis is down; `kill -9` during 1 000 revocations keeps
 * every acknowledged one; a data file of an earlier release, with revocations stored as entities,
 * loads and its revocations move to the state store.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { basic, send, sendJson } from '../helpers/http.js';
import { run, started } from '../helpers/cli.js';
import {
  oauthGateway,
  form,
  tokenFor,
  SECRET,
  TOKEN_PATH,
  REVOKE_PATH,
} from '../plugins/client-credentials/fixtures.js';
import { EntityRegistry } from '../../core/config/entities.js';
import { LowdbStore } from '../../core/config/lowdb-store.js';
import { LmdbStateStore } from '../../core/state/lmdb-state.js';
import { RevocationList } from '../../core/keys/revocations.js';
import { until } from '../helpers/wait.js';
import { storedDocument } from '../helpers/data-file.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** Milliseconds until `probe` holds, failing past `limitMs`. */
async function within(what: string, limitMs: number, probe: () => Promise<boolean>): Promise<number> {
  const start = Date.now();
  await until(what, probe, (ok) => ok, limitMs);
  return Date.now() - start;
}

describe('Revocations across 2 gateways on one Redis', () => {
  let redis: TestRedis;
  let upstream: Upstream;
  let a: TestGateway;
  let b: TestGateway;
  after(async () => {
    await b?.close();
    await a?.close();
    await upstream?.close();
    await redis?.stop();
  });

  it('refuses on B within 1 s a token revoked on A, and a client cut-off too; B keeps refusing it from its mirror while Redis is down', async () => {
    redis = await startRedis();
    upstream = await startUpstream(echo);
    // One issuer for both instances, as behind a load balancer.
    const config = { storage: { kind: 'redis' as const, url: redis.url }, proxy: { publicUrl: 'http://gateway.test' } };
    a = await oauthGateway(upstream, { config });
    b = await startGateway({ config });
    const onB = (token: string) => b.proxy('/', { headers: { authorization: `Bearer ${token}` } });
    const token = await tokenFor(a, 'cc-client');
    const kept = await tokenFor(a, 'default-client');
    await until(
      'B to accept the tokens of A',
      () => onB(token),
      (r) => r.status === 200,
    );

    const revoked = await a.proxy(REVOKE_PATH, {
      method: 'POST',
      headers: { ...FORM, authorization: basic('cc-client', SECRET) },
      body: form({ token }),
    });
    assert.equal(revoked.status, 200, revoked.text);
    const tokenMs = await within('B to refuse the revoked token', 1000, async () => (await onB(token)).status === 401);
    assert.match((await onB(token)).json().error_description, /revoked/);
    assert.equal((await onB(kept)).status, 200);

    const other = await tokenFor(b, 'cc-client');
    assert.equal((await a.admin('POST', '/api/apikeys/cc-client/revoke-tokens')).status, 200);
    const cutoffMs = await within(
      'B to refuse the tokens issued before the cut-off',
      1000,
      async () => (await onB(other)).status === 401,
    );
    assert.ok(tokenMs < 1000 && cutoffMs < 1000);

    await redis.halt();
    await until(
      'B to see the outage',
      () => send(b.adminUrl + '/ready'),
      (r) => r.status === 503,
    );
    assert.equal((await onB(token)).status, 401, 'refused from the mirror');
    assert.equal((await onB(kept)).status, 200, 'other tokens still served');
    const during = await b.proxy(REVOKE_PATH, {
      method: 'POST',
      headers: { ...FORM, authorization: basic('default-client', SECRET) },
      body: form({ token: kept }),
    });
    assert.equal(during.status, 503, 'a revocation that cannot be made durable is not acknowledged');
    assert.equal(during.json().error, 'state_unavailable');
  });
});

describe('Revocations across 2 cluster workers (embedded)', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('refuses on every worker, from the acknowledgement on, a token revoked through one of them and an admin cut-off', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-revoke-workers-'));
    dirs.push(dir);
    const upstream = await startUpstream(echo);
    const gateway = run({
      PORTCULLIS_DATA_FILE: join(dir, 'data.json'),
      PORTCULLIS_WORKERS: '2',
      PORTCULLIS_ADMIN_PASSWORD: 'workers-revoke-password',
    });
    try {
      const urls = await started(gateway);
      const auth = { authorization: basic('admin', 'workers-revoke-password') };
      const global = await send(urls.admin + '/api/global-config', { headers: auth });
      assert.equal(
        (
          await sendJson(
            urls.admin + '/api/global-config',
            'PUT',
            { ...global.json(), plugins: [{ plugin: 'client-credentials', config: { secure: false } }] },
            auth,
          )
        ).status,
        200,
      );
      const r = {
        id: 'orders',
        name: 'orders',
        frontend: { domains: ['api.test'] },
        backend: { targets: [{ url: upstream.url }] },
        plugins: [{ plugin: 'apikeys', config: {} }],
      };
      assert.equal((await sendJson(urls.admin + '/api/routes', 'POST', r, auth)).status, 201);
      assert.equal(
        (
          await sendJson(
            urls.admin + '/api/apikeys',
            'POST',
            { clientId: 'w-client', clientSecret: SECRET, clientName: 'w', authorizedEntities: ['orders'] },
            auth,
          )
        ).status,
        201,
      );
      const issue = async () => {
        const issued = await send(urls.proxy + TOKEN_PATH, {
          method: 'POST',
          headers: { host: 'api.test', ...FORM },
          body: form({ grant_type: 'client_credentials', client_id: 'w-client', client_secret: SECRET }),
        });
        assert.equal(issued.status, 200, issued.text);
        return issued.json().access_token as string;
      };
      // Each call on a new connection: the cluster spreads them over both workers.
      const calls = (token: string) =>
        Promise.all(
          Array.from({ length: 40 }, () =>
            send(urls.proxy + '/', { headers: { host: 'api.test', authorization: `Bearer ${token}` } }),
          ),
        );
      const statuses = async (token: string) => [...new Set((await calls(token)).map((x) => x.status))];
      // The attacker's next call is the one that counts: no delay between the acknowledgement and the calls.
      for (let round = 0; round < 5; round++) {
        const token = await issue();
        assert.deepEqual(await statuses(token), [200]);
        const revoked = await send(urls.proxy + REVOKE_PATH, {
          method: 'POST',
          headers: { host: 'api.test', ...FORM, authorization: basic('w-client', SECRET) },
          body: form({ token }),
        });
        assert.equal(revoked.status, 200, revoked.text);
        assert.deepEqual(
          await statuses(token),
          [401],
          `round ${round}: a worker accepted the token after its revocation was acknowledged`,
        );
      }
      const token = await issue();
      assert.deepEqual(await statuses(token), [200]);
      assert.equal(
        (await sendJson(urls.admin + '/api/apikeys/w-client/revoke-tokens', 'POST', undefined, auth)).status,
        200,
      );
      assert.deepEqual(await statuses(token), [401], "a worker accepted a token issued before the admin's cut-off");
    } finally {
      gateway.child.kill('SIGTERM');
      await gateway.exited;
      await upstream.close();
    }
  });
});

describe('Revocations survive kill -9 (embedded)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-revoke-crash-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps every acknowledged revocation of a process killed with SIGKILL during 1 000 revocations', async () => {
    const script = resolve(fileURLToPath(import.meta.url), '../../helpers/revoke-until-killed.js');
    const child = spawn(process.execPath, [script, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => {
      out += c;
    });
    child.stderr.on('data', (c) => {
      err += c;
    });
    const exited = new Promise((r) => child.once('exit', r));
    // Kill once a good part, not all, has been acknowledged.
    await until(
      '300 acknowledged revocations',
      async () => out,
      (o) => (o.match(/^ack /gm)?.length ?? 0) >= 300 || child.exitCode !== null,
      30_000,
    );
    child.kill('SIGKILL');
    await exited;
    assert.doesNotMatch(out, /^done$/m, `killed before the end (stderr: ${err})`);
    const acknowledged = [...out.matchAll(/^ack (\d+)$/gm)].map((m) => Number(m[1]));
    assert.ok(acknowledged.length >= 300);

    const config = new LowdbStore(join(dir, 'data.json'), new EntityRegistry());
    const state = new LmdbStateStore({ path: join(dir, 'state') });
    await config.open();
    await state.open();
    const revocations = new RevocationList(config, state);
    try {
      await revocations.start();
      const lost = acknowledged.filter((n) => !revocations.isRevoked(`jti-${n}`));
      assert.deepEqual(lost, [], 'no acknowledged revocation lost');
    } finally {
      revocations.stop();
      await state.close();
      await config.close();
    }
  });
});

describe('A data file of an earlier release with revocations stored as entities', () => {
  it('loads, moves the live revocations into the state store, drops them from the configuration, and keeps them across a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-legacy-revocations-'));
    const now = Math.floor(Date.now() / 1000);
    const meta = {
      version: 1,
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
      revokedAt: new Date().toISOString(),
    };
    writeFileSync(
      join(dataDir, 'portcullis.json'),
      JSON.stringify({
        schemaVersion: 1,
        settings: {},
        entities: {
          'revoked-tokens': {
            'legacy-live': { jti: 'legacy-live', clientId: 'c1', exp: now + 3600, ...meta },
            'legacy-expired': { jti: 'legacy-expired', clientId: 'c1', exp: now - 10, ...meta },
          },
          'client-token-cutoffs': { c2: { clientId: 'c2', notBefore: now - 5, ...meta } },
        },
      }),
    );
    let gw = await startGateway({ dataDir });
    try {
      let revocations = gw.gateway.container.resolve(RevocationList);
      assert.equal(revocations.isRevoked('legacy-live'), true);
      assert.equal(revocations.isRevoked('legacy-expired'), false);
      assert.equal(revocations.clientNotBefore('c2'), now - 5);
      const file = await storedDocument(gw.dataFile);
      assert.deepEqual(Object.keys(file.entities['revoked-tokens'] ?? {}), []);
      assert.deepEqual(Object.keys(file.entities['client-token-cutoffs'] ?? {}), []);
      const exported = (await gw.admin('GET', '/api/export')).json();
      assert.equal(exported['revoked-tokens'], undefined);

      await gw.close({ keepData: true });
      gw = await startGateway({ dataDir });
      revocations = gw.gateway.container.resolve(RevocationList);
      assert.equal(revocations.isRevoked('legacy-live'), true, 'kept by the state store across a restart');
      assert.equal(revocations.clientNotBefore('c2'), now - 5);
    } finally {
      await gw.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
