import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basic, send, sendJson } from '../helpers/http.js';
import { startUpstream, echo } from '../helpers/upstream.js';
import { run, started } from '../helpers/cli.js';
import { parseExposition } from '../helpers/prometheus.js';

const PASSWORD = 'workers-metrics-password';
const TOKEN = 'workers-metrics-scrape-token';

describe('Metrics: workers', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('answers /metrics on the primary with the requests of every worker added up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-workers-metrics-'));
    dirs.push(dir);
    const upstream = await startUpstream(echo);
    const gateway = run({
      PORTCULLIS_DATA_FILE: join(dir, 'data.json'),
      PORTCULLIS_WORKERS: '2',
      PORTCULLIS_ADMIN_PASSWORD: PASSWORD,
      PORTCULLIS_METRICS_TOKEN: TOKEN,
    });
    try {
      const urls = await started(gateway);
      const route = {
        id: 'r',
        name: 'r',
        frontend: { domains: ['api.test'] },
        backend: { targets: [{ url: upstream.url }] },
      };
      assert.equal(
        (await sendJson(urls.admin + '/api/routes', 'POST', route, { authorization: basic('admin', PASSWORD) })).status,
        201,
      );
      // New connections each: the kernel spreads them over both workers.
      const answers = await Promise.all(
        Array.from({ length: 60 }, () => send(urls.proxy + '/', { headers: { host: 'api.test' } })),
      );
      assert.deepEqual([...new Set(answers.map((a) => a.status))], [200]);
      const res = await send(urls.admin + '/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(res.status, 200);
      const parsed = parseExposition(res.text);
      assert.equal(
        parsed.value('portcullis_requests_total', { route: 'r', decision: 'allowed', status_class: '2xx' }),
        60,
      );
      assert.equal(parsed.value('portcullis_request_duration_seconds_count', { route: 'r' }), 60);
      // the primary's own series are there too: the route (and the default key pair) were written there
      assert.ok(
        parsed.value('portcullis_config_store_write_seconds_count', { operation: 'create', result: 'ok' }) >= 1,
      );
      assert.equal(parsed.value('portcullis_metrics_series'), parsed.series.length);
    } finally {
      gateway.child.kill('SIGTERM');
      await gateway.exited;
      await upstream.close();
    }
  });

  it("answers the dashboard's 15 minutes on the primary with the requests of every worker added up", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-workers-history-'));
    dirs.push(dir);
    const upstream = await startUpstream(echo);
    const gateway = run({
      PORTCULLIS_DATA_FILE: join(dir, 'data.json'),
      PORTCULLIS_WORKERS: '2',
      PORTCULLIS_ADMIN_PASSWORD: PASSWORD,
    });
    try {
      const urls = await started(gateway);
      const route = {
        id: 'r',
        name: 'r',
        frontend: { domains: ['api.test'] },
        backend: { targets: [{ url: upstream.url }] },
      };
      assert.equal(
        (await sendJson(urls.admin + '/api/routes', 'POST', route, { authorization: basic('admin', PASSWORD) })).status,
        201,
      );
      const answers = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          send(urls.proxy + (i % 4 === 0 ? '/nowhere' : '/'), {
            headers: { host: i % 4 === 0 ? 'other.test' : 'api.test' },
          }),
        ),
      );
      assert.equal(answers.filter((a) => a.status === 200).length, 30);
      const res = await send(urls.admin + '/api/traffic/history', {
        headers: { authorization: basic('admin', PASSWORD) },
      });
      assert.equal(res.status, 200, res.text);
      const history = res.json();
      const sum = (values: number[]) => values.reduce((s, n) => s + n, 0);
      const r = history.routes.find((w: { routeId: string }) => w.routeId === 'r');
      assert.equal(r.total, 30);
      assert.equal(sum(r.requests['2xx']), 30);
      assert.equal(history.routes.find((w: { routeId: string }) => w.routeId === '(none)').total, 10);
      assert.equal(history.all.total, 40);
    } finally {
      gateway.child.kill('SIGTERM');
      await gateway.exited;
      await upstream.close();
    }
  });
});
