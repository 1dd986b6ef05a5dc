/**
 * Issue 21 with `workers: N`: SIGTERM to the primary drains every worker at once, so the health
 * path (answered by whichever worker gets the connection) says 503 while the routes are still
 * served, and the whole cluster exits with 0 afterwards.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basic, send, sendJson, type TestResponse } from '../helpers/http.js';
import { startUpstream, echo } from '../helpers/upstream.js';
import { run, started } from '../helpers/cli.js';

const PASSWORD = 'workers-drain-password-0123456789';

describe('Workers: shutdown behind a load balancer', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('SIGTERM to the primary: every worker answers the health path 503 while still serving routes, then the cluster exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-workers-drain-'));
    dirs.push(dir);
    const upstream = await startUpstream(echo);
    const gateway = run({
      PORTCULLIS_DATA_FILE: join(dir, 'data.json'),
      PORTCULLIS_WORKERS: '2',
      PORTCULLIS_ADMIN_PASSWORD: PASSWORD,
      PORTCULLIS_PROXY_HEALTH_PATH: '/healthz',
      PORTCULLIS_DRAIN_DELAY_MS: '1500',
    });
    try {
      const urls = await started(gateway);
      const route = {
        id: 'r',
        name: 'r',
        frontend: { domains: ['api.test'] },
        backend: { targets: [{ url: upstream.url }] },
        plugins: [],
      };
      assert.equal(
        (await sendJson(urls.admin + '/api/routes', 'POST', route, { authorization: basic('admin', PASSWORD) })).status,
        201,
      );
      assert.equal((await send(urls.proxy + '/healthz')).status, 200);

      gateway.child.kill('SIGTERM');
      let exited = false;
      const exit = gateway.exited.then((code) => {
        exited = true;
        return code;
      });
      const health: TestResponse[] = [];
      const routed: TestResponse[] = [];
      // Fresh connections, as a balancer's checks and new clients make them, until the listener is gone.
      while (!exited) {
        const [probe, call] = await Promise.all([
          send(urls.proxy + '/healthz').catch(() => null),
          send(urls.proxy + '/x', { headers: { host: 'api.test' } }).catch(() => null),
        ]);
        if (probe === null || call === null) break;
        health.push(probe);
        routed.push(call);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal(await exit, 0);
      assert.ok(health.length > 0, 'the workers kept serving during the drain delay');
      // A probe sent just after the signal may reach a worker before the signal does; the last ones
      // come from workers that all drain.
      assert.deepEqual(
        [health.at(-1)!.status, health.at(-1)!.json()],
        [503, { status: 'draining' }],
        `health: ${health.map((p) => p.status)}`,
      );
      assert.deepEqual([...new Set(routed.map((r) => r.status))], [200]);
    } finally {
      if (gateway.child.exitCode === null) gateway.child.kill('SIGKILL');
      await upstream.close();
    }
  });
});
