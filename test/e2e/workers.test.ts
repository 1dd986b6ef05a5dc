import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basic, send, sendJson } from '../helpers/http.js';
import { startUpstream, echo } from '../helpers/upstream.js';
import { run, started, waitFor } from '../helpers/cli.js';
import WebSocket from 'ws';
import { until } from '../helpers/wait.js';

const PASSWORD = 'workers-test-password';

/** The pids of a process's children (the cluster's workers). */
function childPids(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

describe('Workers: the proxy listener served by several processes', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('serves from 2 workers, applies admin writes on every worker, replaces a killed worker and drains on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-workers-'));
    dirs.push(dir);
    const upstream = await startUpstream(echo);
    const gateway = run({
      PORTCULLIS_DATA_FILE: join(dir, 'data.json'),
      PORTCULLIS_WORKERS: '2',
      PORTCULLIS_ADMIN_PASSWORD: PASSWORD,
    });
    try {
      const urls = await started(gateway);
      assert.match(gateway.output(), /\(2 worker processes\)/);
      const pid = gateway.child.pid!;
      assert.equal(childPids(pid).length, 2);
      const auth = { authorization: basic('admin', PASSWORD) };

      // A route and an API key written on the primary reach every worker before the write is answered.
      const route = {
        id: 'r',
        name: 'r',
        frontend: { domains: ['api.test'] },
        backend: { targets: [{ url: upstream.url }] },
        plugins: [{ plugin: 'apikeys', config: {} }],
      };
      assert.equal((await sendJson(urls.admin + '/api/routes', 'POST', route, auth)).status, 201);
      const key = await sendJson(
        urls.admin + '/api/apikeys',
        'POST',
        { clientId: 'k1', clientName: 'K', authorizedEntities: ['r'] },
        auth,
      );
      assert.equal(key.status, 201);
      const secret = key.json().clientSecret as string;
      const call = () => send(urls.proxy + '/', { headers: { host: 'api.test', authorization: basic('k1', secret) } });
      const first = await Promise.all(Array.from({ length: 40 }, call));
      assert.deepEqual([...new Set(first.map((r) => r.status))], [200]);

      // A delete takes effect on both workers at once.
      assert.equal((await send(urls.admin + '/api/apikeys/k1', { method: 'DELETE', headers: auth })).status, 204);
      const afterDelete = await Promise.all(Array.from({ length: 40 }, call));
      assert.deepEqual([...new Set(afterDelete.map((r) => r.status))], [401]);

      // The back office, served by the primary, shows the traffic the workers served.
      const login = await send(urls.admin + '/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: urls.admin },
        body: JSON.stringify({ username: 'admin', password: PASSWORD }),
      });
      const cookie = String(login.headers['set-cookie']).split(';')[0]!;
      const socket = new WebSocket(urls.admin.replace('http', 'ws') + '/ws', {
        headers: { cookie, origin: urls.admin },
      });
      const seen = new Promise<number>((resolve) => {
        let total = 0;
        socket.on('message', (data) => {
          const message = JSON.parse(String(data)) as {
            event?: string;
            routes?: Array<{ routeId: string; requests: number }>;
          };
          if (message.event !== 'traffic') return;
          total += message.routes?.find((r) => r.routeId === 'r')?.requests ?? 0;
          if (total >= 40) resolve(total);
        });
      });
      await new Promise((resolve) => socket.once('open', resolve));
      // Traffic until the primary reports it; every call settles before a worker is killed below
      // (one still in flight on the victim would end in a reset, which is not what this part tests).
      const polled: Promise<unknown>[] = [];
      const poll = setInterval(() => {
        polled.push(Promise.allSettled(Array.from({ length: 20 }, call)));
      }, 200);
      try {
        const noneAfter = new Promise<number>((resolve) => setTimeout(() => resolve(0), 10_000).unref());
        assert.ok(
          (await Promise.race([seen, noneAfter])) >= 40,
          "the workers' requests reach the primary's traffic statistics",
        );
      } finally {
        clearInterval(poll);
        socket.close();
        await Promise.all(polled);
      }

      // A worker killed with SIGKILL is replaced; the survivor keeps serving meanwhile.
      const [victim] = childPids(pid);
      process.kill(victim!, 'SIGKILL');
      await until(
        'the killed worker to be gone',
        () => childPids(pid),
        (pids) => !pids.includes(victim!),
      );
      const during = await Promise.all(
        Array.from({ length: 10 }, () => send(urls.proxy + '/', { headers: { host: 'api.test' } })),
      );
      assert.deepEqual([...new Set(during.map((r) => r.status))], [401]);
      await until(
        'a replacement worker',
        () => childPids(pid),
        (pids) => pids.length === 2 && !pids.includes(victim!),
      );
      await waitFor(gateway, /worker died; starting a new one/);

      // The replacement got the current configuration from the primary.
      const fresh = await Promise.all(
        Array.from({ length: 40 }, () => send(urls.proxy + '/', { headers: { host: 'api.test' } })),
      );
      assert.deepEqual([...new Set(fresh.map((r) => r.status))], [401]);

      // SIGTERM stops every worker, then the primary, with exit code 0.
      const workers = childPids(pid);
      gateway.child.kill('SIGTERM');
      assert.equal(await gateway.exited, 0);
      for (const worker of workers) assert.throws(() => process.kill(worker, 0), /ESRCH/);
    } finally {
      if (gateway.child.exitCode === null) gateway.child.kill('SIGKILL');
      await upstream.close();
    }
  });
});
