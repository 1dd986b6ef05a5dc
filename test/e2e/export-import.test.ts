/**
 * `portcullis export` / `portcullis import` between the embedded store and a real Redis, and
 * `POST /api/import` on the Redis store.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basic, send, sendJson } from '../helpers/http.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';
import { exec, run, started, type Running } from '../helpers/cli.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

const PASSWORD = 'export-import-password';
const auth = { authorization: basic('admin', PASSWORD) };

function route(id: string, domain: string, upstream: string, plugins: unknown[] = []) {
  return { id, name: id, frontend: { domains: [domain] }, backend: { targets: [{ url: upstream }] }, plugins };
}

/**
 * An export without what differs between two exports of the same configuration: the times of the
 * export and of the import, and the order of a kind's entities (each store lists them its own way).
 */
function comparable(document: Record<string, unknown>): unknown {
  const { exportedAt: _, ...rest } = document;
  const byId = (list: unknown) =>
    Array.isArray(list) ? [...list].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))) : list;
  const sorted = Object.fromEntries(Object.entries(rest).map(([kind, value]) => [kind, byId(value)]));
  return JSON.parse(JSON.stringify(sorted, (key, value: unknown) => (key === 'updatedAt' ? undefined : value)));
}

async function stop(gateway: Running): Promise<void> {
  if (gateway.child.exitCode !== null) return;
  gateway.child.kill('SIGTERM');
  await gateway.exited;
}

describe('CLI: portcullis export / import', () => {
  let dir: string;
  let redis: TestRedis;
  let upstream: Upstream;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-export-'));
    redis = await startRedis();
    upstream = await startUpstream(echo);
  });
  after(async () => {
    await redis.stop();
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('moves a configuration from the embedded store to Redis, where a gateway serves its routes and keys; Redis exports it back equal', async () => {
    const dataFile = join(dir, 'embedded.json');
    const embedded = run({ PORTCULLIS_DATA_FILE: dataFile, PORTCULLIS_ADMIN_PASSWORD: PASSWORD });
    let secret: string;
    try {
      const urls = await started(embedded);
      assert.equal(
        (
          await sendJson(
            urls.admin + '/api/routes',
            'POST',
            route('keyed', 'keyed.test', upstream.url, [{ plugin: 'apikeys' }]),
            auth,
          )
        ).status,
        201,
      );
      assert.equal(
        (await sendJson(urls.admin + '/api/routes', 'POST', route('open', 'open.test', upstream.url), auth)).status,
        201,
      );
      const key = await sendJson(
        urls.admin + '/api/apikeys',
        'POST',
        { clientId: 'partner', clientName: 'Partner', authorizedEntities: ['keyed'] },
        auth,
      );
      assert.equal(key.status, 201);
      secret = key.json().clientSecret as string;
    } finally {
      await stop(embedded);
    }

    const exported = await exec({ PORTCULLIS_DATA_FILE: dataFile }, ['export', '--include-private-keys']);
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal(exported.stderr, '');
    const document = JSON.parse(exported.stdout) as Record<string, unknown>;
    assert.deepEqual((document.routes as Array<{ id: string }>).map((r) => r.id).sort(), ['keyed', 'open']);
    const file = join(dir, 'conf.json');
    writeFileSync(file, exported.stdout);

    const imported = await exec({ PORTCULLIS_STORAGE_URL: redis.url }, ['import', file]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(
      imported.stdout,
      /^portcullis import: imported 2 routes, .*1 apikeys.* into redis:\/\/127\.0\.0\.1:\d+\n$/,
    );

    const back = await exec({ PORTCULLIS_STORAGE_URL: redis.url }, ['export', '--include-private-keys']);
    assert.equal(back.code, 0, back.stderr);
    assert.deepEqual(comparable(JSON.parse(back.stdout) as Record<string, unknown>), comparable(document));

    const onRedis = run({ PORTCULLIS_STORAGE_URL: redis.url, PORTCULLIS_ADMIN_PASSWORD: PASSWORD });
    try {
      const urls = await started(onRedis);
      assert.equal((await send(urls.proxy + '/', { headers: { host: 'open.test' } })).status, 200);
      assert.equal((await send(urls.proxy + '/', { headers: { host: 'keyed.test' } })).status, 401);
      assert.equal(
        (await send(urls.proxy + '/', { headers: { host: 'keyed.test', authorization: basic('partner', secret) } }))
          .status,
        200,
      );

      // POST /api/import on the Redis store: validated whole, written in one step, served at once.
      const next = { routes: [route('imported', 'imported.test', upstream.url)], apikeys: [] };
      const answer = await sendJson(urls.admin + '/api/import', 'POST', next, auth);
      assert.equal(answer.status, 200, answer.text);
      assert.deepEqual(answer.json().imported, { routes: 1, apikeys: 0 });
      assert.equal((await send(urls.proxy + '/', { headers: { host: 'imported.test' } })).status, 200);
      assert.equal((await send(urls.proxy + '/', { headers: { host: 'open.test' } })).status, 404);
      const invalid = await sendJson(urls.admin + '/api/import', 'POST', { routes: [{ id: 'x' }] }, auth);
      assert.equal(invalid.status, 400);
      assert.equal((await send(urls.proxy + '/', { headers: { host: 'imported.test' } })).status, 200);
    } finally {
      await stop(onRedis);
    }
  });

  it('refuses an invalid document with one line and exit 2, writing nothing', async () => {
    const dataFile = join(dir, 'invalid.json');
    const seeded = await exec({ PORTCULLIS_DATA_FILE: dataFile }, [
      'import',
      writeDocument('seed.json', { routes: [route('kept', 'kept.test', upstream.url)] }),
    ]);
    assert.equal(seeded.code, 0, seeded.stderr);
    const before = readFileSync(dataFile);
    for (const [name, content] of [
      ['bad-entity.json', JSON.stringify({ routes: [{ id: 'x' }] })],
      ['not-json.json', '{"routes": ['],
      ['unknown-kind.json', JSON.stringify({ widgets: [] })],
    ] as const) {
      const file = join(dir, name);
      writeFileSync(file, content);
      for (const env of [{ PORTCULLIS_DATA_FILE: dataFile }, { PORTCULLIS_STORAGE_URL: redis.url }] as Array<
        Record<string, string>
      >) {
        const result = await exec(env, ['import', file]);
        assert.equal(result.code, 2, `${name}: ${result.stderr}`);
        assert.match(result.stderr, /^portcullis import: .+\n$/);
        assert.equal(result.stdout, '');
      }
    }
    assert.deepEqual(readFileSync(dataFile), before);
    const missing = await exec({ PORTCULLIS_DATA_FILE: dataFile }, ['import', join(dir, 'absent.json')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^portcullis import: cannot read .*absent\.json: ENOENT\n$/);
    const usage = await exec({ PORTCULLIS_DATA_FILE: dataFile }, ['import']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /usage: portcullis import <export\.json>/);
    const noFile = await exec({ PORTCULLIS_DATA_FILE: join(dir, 'never-created.json') }, ['export']);
    assert.equal(noFile.code, 2);
    assert.match(noFile.stderr, /^portcullis export: no data file at .*never-created\.json/);
  });

  it('refuses to import into a data file a running gateway holds, naming its admin API, and imports once it has stopped', async () => {
    const dataFile = join(dir, 'held.json');
    const gateway = run({ PORTCULLIS_DATA_FILE: dataFile, PORTCULLIS_ADMIN_PASSWORD: PASSWORD });
    const file = writeDocument('held-import.json', { routes: [route('late', 'late.test', upstream.url)] });
    let adminUrl: string;
    try {
      adminUrl = (await started(gateway)).admin;
      const before = readFileSync(dataFile);
      const refused = await exec({ PORTCULLIS_DATA_FILE: dataFile }, ['import', file]);
      assert.equal(refused.code, 2);
      assert.equal(
        refused.stderr,
        `portcullis import: ${dataFile} is in use by the gateway running as pid ${gateway.child.pid} (admin API ${adminUrl}): stop it first, or import through ${adminUrl}/api/import\n`,
      );
      assert.deepEqual(readFileSync(dataFile), before);
    } finally {
      await stop(gateway);
    }
    const imported = await exec({ PORTCULLIS_DATA_FILE: dataFile }, ['import', file]);
    assert.equal(imported.code, 0, imported.stderr);

    // A gateway killed with SIGKILL leaves its record behind: a dead pid holds nothing.
    const killed = run({ PORTCULLIS_DATA_FILE: dataFile, PORTCULLIS_ADMIN_PASSWORD: PASSWORD });
    const urls = await started(killed);
    assert.equal((await send(urls.proxy + '/', { headers: { host: 'late.test' } })).status, 200);
    killed.child.kill('SIGKILL');
    await killed.exited;
    const afterKill = await exec({ PORTCULLIS_DATA_FILE: dataFile }, ['import', file]);
    assert.equal(afterKill.code, 0, afterKill.stderr);
  });

  it('exits 1 with one line when Redis cannot be reached', async () => {
    const result = await exec({ PORTCULLIS_STORAGE_URL: `redis://127.0.0.1:${redis.port + 1}` }, ['export']);
    // (port+1 is not ours: if something answers there it is not a Redis holding our keys, and the test says so)
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stderr,
      /^portcullis export: Redis at redis:\/\/127\.0\.0\.1:\d+ did not answer within \d+ ms.*\n$/,
    );
    assert.equal(result.stdout, '');
  });

  function writeDocument(name: string, document: unknown): string {
    const file = join(dir, name);
    writeFileSync(file, JSON.stringify(document));
    return file;
  }
});
