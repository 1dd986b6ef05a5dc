/**
 * Three gateway processes (the real CLI) on one real Redis: configuration changes made on one are
 * served by the others, a SIGKILLed instance loses no acknowledged write, and a Redis outage is
 * survived (snapshot served, 503 on writes and /ready) and recovered from by itself.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basic, send, sendJson, type TestResponse } from '../helpers/http.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';
import { run, started, type Running } from '../helpers/cli.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { until as poll } from '../helpers/wait.js';

/** Probes may reject while an instance is being killed or restarted: keep polling on an error. */
function until<T>(what: string, probe: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  return poll(what, () => probe().catch((error: unknown) => error as T), ok, timeoutMs);
}

const PASSWORD = 'multi-instance-password';
const auth = { authorization: basic('admin', PASSWORD) };

interface Instance {
  name: string;
  process: Running;
  proxy: string;
  admin: string;
}

function route(id: string, domain: string, upstream: string, plugins: unknown[] = []) {
  return { id, name: id, frontend: { domains: [domain] }, backend: { targets: [{ url: upstream }] }, plugins };
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

describe('Multi-instance: three gateway processes on one Redis', () => {
  let dir: string;
  let redis: TestRedis;
  let upstream: Upstream;
  let other: Upstream;
  const instances: Instance[] = [];
  /** Every process started, stopped in `after()` even when its start-up failed. */
  const spawned: Running[] = [];

  async function startInstance(name: string): Promise<Instance> {
    const process = run({
      PORTCULLIS_STORAGE_URL: redis.url,
      PORTCULLIS_ADMIN_PASSWORD: PASSWORD,
      PORTCULLIS_DATA_FILE: join(dir, `${name}.json`),
    });
    spawned.push(process);
    const urls = await started(process);
    return { name, process, ...urls };
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-multi-'));
    // Fsynced on every write: a Redis killed and restarted keeps what it acknowledged.
    redis = await startRedis({ persistent: true });
    upstream = await startUpstream(echo, { name: 'first' });
    other = await startUpstream(echo, { name: 'second' });
    // All three at once on an empty Redis: each finds no admin password, global configuration or
    // default key pair, and each creates them (a regression: the key pair's "already exists" ended all but one).
    instances.push(...(await Promise.all([startInstance('one'), startInstance('two'), startInstance('three')])));
  });

  after(async () => {
    for (const process of spawned) if (process.child.exitCode === null) process.child.kill('SIGKILL');
    await Promise.all(spawned.map((p) => p.exited));
    await redis.stop();
    await upstream.close();
    await other.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a change made on one instance is served by the two others (create, update, delete, API key disabled), well within 1 s', async (t) => {
    const [one, two, three] = instances as [Instance, Instance, Instance];
    const samples: Record<string, number[]> = { create: [], update: [], delete: [], 'disable key': [] };
    /** The same, from the moment instance one acknowledged the write. */
    const afterAck: number[] = [];

    /** Make a write on instance one, then poll both others until `seen`; the time from the write's start to each sighting. */
    const propagate = async (
      what: string,
      write: () => Promise<TestResponse>,
      request: (instance: Instance) => Promise<TestResponse>,
      seen: (r: TestResponse) => boolean,
    ) => {
      const start = performance.now();
      const answer = await write();
      const acknowledged = performance.now();
      assert.ok(answer.status < 300, `${what}: ${answer.status} ${answer.text}`);
      await Promise.all(
        [two, three].map(async (instance) => {
          await until(`${what} on ${instance.name}`, () => request(instance), seen, 5_000);
          const now = performance.now();
          samples[what]!.push(now - start);
          afterAck.push(now - acknowledged);
        }),
      );
    };

    for (let n = 0; n < 5; n++) {
      const id = `prop-${n}`;
      const host = { host: `${id}.test` };
      const call = (instance: Instance) => send(instance.proxy + '/', { headers: host });
      assert.equal((await call(two)).status, 404);
      await propagate(
        'create',
        () => sendJson(one.admin + '/api/routes', 'POST', route(id, `${id}.test`, upstream.url), auth),
        call,
        (r) => r.status === 200,
      );
      assert.equal((await call(three)).headers['x-upstream'], 'first');
      await propagate(
        'update',
        () => sendJson(one.admin + `/api/routes/${id}`, 'PUT', route(id, `${id}.test`, other.url), auth),
        call,
        (r) => r.status === 200 && r.headers['x-upstream'] === 'second',
      );
      await propagate(
        'delete',
        () => send(one.admin + `/api/routes/${id}`, { method: 'DELETE', headers: auth }),
        call,
        (r) => r.status === 404,
      );
    }

    assert.equal(
      (
        await sendJson(
          one.admin + '/api/routes',
          'POST',
          route('keyed', 'keyed.test', upstream.url, [{ plugin: 'apikeys' }]),
          auth,
        )
      ).status,
      201,
    );
    for (let n = 0; n < 5; n++) {
      const clientId = `client-${n}`;
      const created = await sendJson(
        one.admin + '/api/apikeys',
        'POST',
        { clientId, clientName: clientId, authorizedEntities: ['keyed'] },
        auth,
      );
      assert.equal(created.status, 201);
      const keyed = (instance: Instance) =>
        send(instance.proxy + '/', {
          headers: { host: 'keyed.test', authorization: basic(clientId, created.json().clientSecret as string) },
        });
      await until(
        `key ${clientId} served everywhere`,
        () => Promise.all([keyed(two), keyed(three)]),
        (rs) => rs.every((r) => r.status === 200),
      );
      await propagate(
        'disable key',
        () =>
          sendJson(
            one.admin + `/api/apikeys/${clientId}`,
            'PUT',
            { clientId, clientName: clientId, authorizedEntities: ['keyed'], enabled: false },
            auth,
          ),
        keyed,
        (r) => r.status === 401,
      );
    }

    const all = Object.values(samples).flat();
    for (const [what, values] of Object.entries(samples))
      t.diagnostic(
        `propagation ${what}: median ${percentile(values, 0.5).toFixed(1)} ms, max ${Math.max(...values).toFixed(1)} ms (${values.length} samples)`,
      );
    t.diagnostic(
      `propagation overall, from the write's start: median ${percentile(all, 0.5).toFixed(1)} ms, p90 ${percentile(all, 0.9).toFixed(1)} ms, max ${Math.max(...all).toFixed(1)} ms`,
    );
    t.diagnostic(
      `propagation overall, from its acknowledgement: median ${percentile(afterAck, 0.5).toFixed(1)} ms, p90 ${percentile(afterAck, 0.9).toFixed(1)} ms, max ${Math.max(...afterAck).toFixed(1)} ms`,
    );
    assert.ok(Math.max(...all) < 1000, `slowest propagation ${Math.max(...all)} ms`);
  });

  it('kill -9 of one instance under admin writes and proxied load: every acknowledged write is kept, the two others never fail', async () => {
    const [one, two] = instances as [Instance, Instance, Instance];
    assert.equal(
      (await sendJson(one.admin + '/api/routes', 'POST', route('steady', 'steady.test', upstream.url), auth)).status,
      201,
    );
    await until(
      'the steady route everywhere',
      () => Promise.all(instances.map((i) => send(i.proxy + '/', { headers: { host: 'steady.test' } }))),
      (rs) => rs.every((r) => r.status === 200),
    );

    const acknowledged = new Set<string>();
    const survivorFailures: string[] = [];
    const killedAnswers: string[] = [];
    let stop = false;
    const writer = async (instance: Instance, tag: string) => {
      for (let n = 0; !stop; n++) {
        const id = `load-${tag}-${n}`;
        const answer = await sendJson(
          instance.admin + '/api/routes',
          'POST',
          route(id, `${id}.test`, upstream.url),
          auth,
        ).catch(() => null);
        if (answer && answer.status < 300) acknowledged.add(id);
        else if (instance.name !== 'three')
          survivorFailures.push(`write ${id}: ${answer?.status ?? 'connection error'}`);
        else if (!answer)
          return; // the killed instance: nothing more to send it
        else killedAnswers.push(`${answer.status} ${answer.text}`);
      }
    };
    const reader = async (instance: Instance) => {
      while (!stop) {
        const answer = await send(instance.proxy + '/', { headers: { host: 'steady.test' } }).catch((error: Error) => ({
          status: 0,
          text: error.message,
        }));
        if (answer.status !== 200)
          survivorFailures.push(`proxied on ${instance.name}: ${answer.status} ${answer.text}`);
      }
    };
    const three = instances[2]!;
    const load = [
      ...instances.map((instance) => writer(instance, instance.name)),
      writer(one, 'one-b'),
      writer(two, 'two-b'),
      reader(one),
      reader(one),
      reader(two),
      reader(two),
    ];
    // Killed in the middle of its writes: once it has acknowledged a few (its first admin login hashes the password).
    await until(
      'instance three acknowledging writes',
      async () => [...acknowledged].filter((id) => id.startsWith('load-three-')).length,
      (n) => n >= 5,
    );
    three.process.child.kill('SIGKILL');
    await three.process.exited;
    await new Promise((r) => setTimeout(r, 1000));
    stop = true;
    await Promise.all(load);

    assert.deepEqual(survivorFailures, []);
    assert.ok(
      [...acknowledged].some((id) => id.startsWith('load-three-')),
      `the killed instance acknowledged writes before it died; it answered ${killedAnswers.slice(0, 3).join(', ')}`,
    );
    assert.ok(acknowledged.size > 10, `only ${acknowledged.size} writes were acknowledged`);
    const listed = async (instance: Instance) =>
      new Set(
        (await send(instance.admin + '/api/routes?limit=10000', { headers: auth }))
          .json()
          .map((r: { id: string }) => r.id) as string[],
      );
    for (const instance of [one, two]) {
      const ids = await until(
        `every acknowledged write on ${instance.name}`,
        () => listed(instance),
        (ids) => [...acknowledged].every((id) => ids.has(id)),
      );
      assert.deepEqual(
        [...acknowledged].filter((id) => !ids.has(id)),
        [],
      );
    }

    const restarted = await startInstance('three');
    instances[2] = restarted;
    const ids = await listed(restarted);
    assert.deepEqual(
      [...acknowledged].filter((id) => !ids.has(id)),
      [],
    );
    const last = [...acknowledged].at(-1)!;
    assert.equal((await send(restarted.proxy + '/', { headers: { host: `${last}.test` } })).status, 200);
  });

  it('Redis stopped: proxied traffic served from the snapshot, writes and /ready 503, /health 200; Redis back: everything recovers, nothing acknowledged lost', async () => {
    const [one, two, three] = instances as [Instance, Instance, Instance];
    assert.equal(
      (
        await sendJson(
          one.admin + '/api/routes',
          'POST',
          route('before-outage', 'before-outage.test', upstream.url),
          auth,
        )
      ).status,
      201,
    );
    await until(
      'the route everywhere',
      () => Promise.all(instances.map((i) => send(i.proxy + '/', { headers: { host: 'before-outage.test' } }))),
      (rs) => rs.every((r) => r.status === 200),
    );

    await redis.halt();
    for (const instance of instances) {
      const ready = await until(
        `/ready 503 on ${instance.name}`,
        () => send(instance.admin + '/ready'),
        (r) => r.status === 503,
      );
      assert.equal(ready.json().status, 'not_ready');
      assert.equal((await send(instance.admin + '/health')).status, 200);
      const proxied = await Promise.all(
        Array.from({ length: 20 }, () => send(instance.proxy + '/', { headers: { host: 'before-outage.test' } })),
      );
      assert.deepEqual([...new Set(proxied.map((r) => r.status))], [200]);
      const write = await sendJson(
        instance.admin + '/api/routes',
        'POST',
        route(`down-${instance.name}`, `down-${instance.name}.test`, upstream.url),
        auth,
      );
      assert.equal(write.status, 503, write.text);
      assert.match(String(write.headers['content-type']), /^application\/json/);
      assert.equal(write.json().error, 'state_unavailable');
      const update = await sendJson(
        instance.admin + '/api/routes/before-outage',
        'PUT',
        route('before-outage', 'elsewhere.test', upstream.url),
        auth,
      );
      assert.equal(update.status, 503, update.text);
      const removal = await send(instance.admin + '/api/routes/before-outage', { method: 'DELETE', headers: auth });
      assert.equal(removal.status, 503, removal.text);
    }

    await redis.start();
    for (const instance of instances)
      await until(
        `/ready 200 on ${instance.name}`,
        () => send(instance.admin + '/ready'),
        (r) => r.status === 200,
      );
    const write = await until(
      'a write on instance two after the outage',
      () => sendJson(two.admin + '/api/routes', 'POST', route('after-outage', 'after-outage.test', upstream.url), auth),
      (r) => r.status === 201,
    );
    assert.equal(write.status, 201);
    for (const instance of [one, three]) {
      await until(
        `the new route on ${instance.name}`,
        () => send(instance.proxy + '/', { headers: { host: 'after-outage.test' } }),
        (r) => r.status === 200,
      );
    }
    for (const instance of instances) {
      assert.equal((await send(instance.proxy + '/', { headers: { host: 'before-outage.test' } })).status, 200);
      assert.equal((await send(instance.proxy + '/', { headers: { host: 'down-one.test' } })).status, 404);
      const ids = new Set(
        (await send(instance.admin + '/api/routes?limit=10000', { headers: auth }))
          .json()
          .map((r: { id: string }) => r.id) as string[],
      );
      for (const id of ['steady', 'keyed', 'before-outage', 'after-outage'])
        assert.ok(ids.has(id), `${id} on ${instance.name}`);
    }
  });
});
