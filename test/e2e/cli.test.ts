import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basic, send, sendJson } from '../helpers/http.js';
import { startUpstream, echo } from '../helpers/upstream.js';
import { run, started, waitFor } from '../helpers/cli.js';

describe('Command line: npm start', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'portcullis-cli-'));
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('prints where it listens and the generated admin password once, stores only its hash, persists across restart and stops on SIGTERM', async () => {
    const dir = tempDir();
    const dataFile = join(dir, 'data.json');
    const upstream = await startUpstream(echo);
    try {
      const first = run({ PORTCULLIS_DATA_FILE: dataFile });
      const urls = await started(first);
      const password = (await waitFor(first, /Admin password \(shown once, stored only as a hash\): (\S+)/))[1]!;
      assert.ok(first.output().includes(dataFile), 'prints the data file');
      const created = await sendJson(
        `${urls.admin}/api/routes`,
        'POST',
        {
          id: 'persisted',
          name: 'p',
          frontend: { domains: ['127.0.0.1'] },
          backend: { targets: [{ url: upstream.url }] },
        },
        { authorization: basic('admin', password) },
      );
      assert.equal(created.status, 201, created.text);
      assert.equal((await send(`${urls.proxy}/x`)).status, 200);
      first.child.kill('SIGTERM');
      assert.equal(await first.exited, 0);
      const stored = readFileSync(dataFile, 'utf8');
      assert.ok(!stored.includes(password), 'the password itself is not stored');
      assert.match(stored, /"adminPasswordHash": "scrypt\$/);

      const second = run({ PORTCULLIS_DATA_FILE: dataFile });
      const urls2 = await started(second);
      assert.doesNotMatch(second.output(), /Admin password/);
      const got = await send(`${urls2.admin}/api/routes/persisted`, {
        headers: { authorization: basic('admin', password) },
      });
      assert.equal(got.status, 200);
      assert.equal((await send(`${urls2.proxy}/again`)).json().url, '/again');
      second.child.kill('SIGINT');
      assert.equal(await second.exited, 0);
    } finally {
      await upstream.close();
    }
  });

  it('lets in-flight requests finish on SIGTERM', async () => {
    const dir = tempDir();
    const slow = await startUpstream((_req, res) => setTimeout(() => res.end('finished'), 700));
    try {
      const gw = run({
        PORTCULLIS_DATA_FILE: join(dir, 'd.json'),
        PORTCULLIS_ADMIN_PASSWORD: 'pw-for-this-test-123456',
      });
      const urls = await started(gw);
      await sendJson(
        `${urls.admin}/api/routes`,
        'POST',
        { id: 's', name: 's', frontend: { domains: ['*'] }, backend: { targets: [{ url: slow.url }] } },
        { authorization: basic('admin', 'pw-for-this-test-123456') },
      );
      const inflight = send(`${urls.proxy}/`);
      await new Promise((r) => setTimeout(r, 200));
      gw.child.kill('SIGTERM');
      const res = await inflight;
      assert.equal(res.status, 200);
      assert.equal(res.text, 'finished');
      assert.equal(await gw.exited, 0);
    } finally {
      await slow.close();
    }
  });

  it('uses PORTCULLIS_ADMIN_PASSWORD on first start instead of generating one', async () => {
    const dir = tempDir();
    const gw = run({
      PORTCULLIS_DATA_FILE: join(dir, 'd.json'),
      PORTCULLIS_ADMIN_PASSWORD: 'chosen-password-987654321',
    });
    const urls = await started(gw);
    assert.doesNotMatch(gw.output(), /Admin password/);
    assert.equal(
      (
        await send(`${urls.admin}/api/routes`, {
          headers: { authorization: basic('admin', 'chosen-password-987654321') },
        })
      ).status,
      200,
    );
    gw.child.kill('SIGTERM');
    await gw.exited;
  });

  it('refuses to start on a data file that is not JSON, and leaves it untouched', async () => {
    const dir = tempDir();
    const dataFile = join(dir, 'broken.json');
    writeFileSync(dataFile, '{"schemaVersion": 1, "entities": {');
    const gw = run({ PORTCULLIS_DATA_FILE: dataFile });
    assert.equal(await gw.exited, 2);
    assert.match(gw.output(), /is not valid JSON/);
    assert.doesNotMatch(gw.output(), /\n\s+at /, 'no stack trace');
    assert.equal(readFileSync(dataFile, 'utf8'), '{"schemaVersion": 1, "entities": {');
  });

  it('refuses to start on a data file that fails schema validation', async () => {
    const dir = tempDir();
    const dataFile = join(dir, 'invalid.json');
    const content = JSON.stringify({
      schemaVersion: 1,
      settings: {},
      entities: { routes: { r: { id: 'r', name: 'r', frontend: { domains: 'nope' }, backend: { targets: [] } } } },
    });
    writeFileSync(dataFile, content);
    const gw = run({ PORTCULLIS_DATA_FILE: dataFile });
    assert.equal(await gw.exited, 2);
    assert.match(gw.output(), /does not validate/);
    assert.match(gw.output(), /routes\/r\/frontend\/domains/);
    assert.equal(readFileSync(dataFile, 'utf8'), content);
  });

  it('stops with one line naming an invalid setting', async () => {
    const gw = run({ PORTCULLIS_PROXY_PORT: 'eighty', PORTCULLIS_DATA_FILE: join(tempDir(), 'd.json') });
    assert.equal(await gw.exited, 2);
    const lines = gw.output().trim().split('\n');
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /proxy\.port \(from PORTCULLIS_PROXY_PORT\)/);
  });

  it('reads another configuration file with --config', async () => {
    const dir = tempDir();
    const file = join(dir, 'custom.json');
    writeFileSync(file, JSON.stringify({ admin: { username: 'operator' }, store: { file: 'custom-data.json' } }));
    const gw = run({ PORTCULLIS_ADMIN_PASSWORD: 'operator-password-12345' }, ['--config', file]);
    const urls = await started(gw);
    assert.match(gw.output(), /user "operator"/);
    assert.ok(gw.output().includes(join(dir, 'custom-data.json')), 'data file relative to the config file');
    assert.equal(
      (
        await send(`${urls.admin}/api/routes`, {
          headers: { authorization: basic('operator', 'operator-password-12345') },
        })
      ).status,
      200,
    );
    gw.child.kill('SIGTERM');
    await gw.exited;
  });

  it('fails with one line when the TLS certificate cannot be read', async () => {
    const dir = tempDir();
    const file = join(dir, 'tls.json');
    writeFileSync(
      file,
      JSON.stringify({
        proxy: { tls: { port: 0, certFile: 'missing-cert.pem', keyFile: 'missing-key.pem' } },
        store: { file: 'd.json' },
      }),
    );
    const gw = run({}, ['--config', file]);
    assert.equal(await gw.exited, 2);
    assert.match(gw.output(), /Cannot read .*missing-cert\.pem \(proxy\.tls\): ENOENT/);
  });

  it('stops with one line and exit 1, no stack trace, when Redis does not answer at start', async () => {
    // A port nothing listens on: bound and closed at once.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const gw = run({
      PORTCULLIS_STORAGE_URL: `redis://127.0.0.1:${port}`,
      PORTCULLIS_ADMIN_PASSWORD: 'redis-down-password-1234',
    });
    assert.equal(await gw.exited, 1);
    const lines = gw.output().trim().split('\n');
    assert.equal(lines.length, 1, gw.output());
    assert.match(
      lines[0]!,
      new RegExp(
        `^portcullis: Redis at redis://127\\.0\\.0\\.1:${port} did not answer within \\d+ ms: connect ECONNREFUSED`,
      ),
    );
  });

  it('fails clearly when --config names a missing file', async () => {
    const gw = run({}, ['--config', '/nonexistent/portcullis.json']);
    assert.equal(await gw.exited, 2);
    assert.match(gw.output(), /Cannot read configuration file \/nonexistent\/portcullis\.json: ENOENT/);
  });
});
