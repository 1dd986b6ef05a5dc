/**
 * One owner per embedded data file (issue 21): real CLI processes on one file. The second gateway,
 * an import or `admin-password` while a gateway runs are refused with one line naming the holder's
 * pid; the first gateway's acknowledged writes survive; a holder that is gone (SIGKILL, a pid
 * reused by another process) is taken over, by one of several starters racing on it.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basic, send, sendJson } from '../helpers/http.js';
import { CLI, exec, run, started, type Running } from '../helpers/cli.js';

const PASSWORD = 'data-file-owner-password';
const auth = { authorization: basic('admin', PASSWORD) };

/** Start the gateway CLI and wait for it to exit (killed after 60 s: it should have refused to start). */
function startToExit(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI], {
    cwd: tmpdir(),
    env: {
      PATH: process.env.PATH,
      PORTCULLIS_PROXY_PORT: '0',
      PORTCULLIS_ADMIN_PORT: '0',
      PORTCULLIS_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => {
    stdout += c;
  });
  child.stderr.on('data', (c) => {
    stderr += c;
  });
  const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(guard);
      resolve({ code, stdout, stderr });
    }),
  );
}

async function stop(gateway: Running): Promise<void> {
  if (gateway.child.exitCode !== null) return;
  gateway.child.kill('SIGTERM');
  await gateway.exited;
}

function route(id: string) {
  return { id, name: id, frontend: { domains: [`${id}.test`] }, backend: { targets: [{ url: 'http://127.0.0.1:9' }] } };
}

function inUse(dataFile: string, pid: number, adminUrl: string): string {
  return `${dataFile} is in use by the gateway running as pid ${pid} (admin API ${adminUrl}): stop it first`;
}

describe('Data file: one owner per file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-owner-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("refuses a second gateway on the file with one line naming the first one's pid, and the first one's acknowledged writes stay", async () => {
    const dataFile = join(dir, 'two-gateways.json');
    const env = { PORTCULLIS_DATA_FILE: dataFile, PORTCULLIS_ADMIN_PASSWORD: PASSWORD };
    const first = run(env);
    try {
      const { admin } = await started(first);
      assert.equal((await sendJson(`${admin}/api/routes`, 'POST', route('before'), auth)).status, 201);
      const second = await startToExit(env);
      assert.equal(second.code, 2, second.stdout + second.stderr);
      assert.equal(second.stderr, `portcullis: ${inUse(dataFile, first.child.pid!, admin)}\n`);
      assert.equal(second.stdout, '');
      assert.equal((await sendJson(`${admin}/api/routes`, 'POST', route('after'), auth)).status, 201);
    } finally {
      await stop(first);
    }
    const stored = JSON.parse(readFileSync(dataFile, 'utf8')) as { entities: { routes: Record<string, unknown> } };
    assert.deepEqual(Object.keys(stored.entities.routes).sort(), ['after', 'before']);
  });

  it('refuses an import and admin-password while a gateway runs, also after a second start was refused', async () => {
    const dataFile = join(dir, 'import-refused.json');
    const env = { PORTCULLIS_DATA_FILE: dataFile, PORTCULLIS_ADMIN_PASSWORD: PASSWORD };
    const document = join(dir, 'import-refused-document.json');
    writeFileSync(document, JSON.stringify({ routes: [route('imported')] }));
    const gateway = run(env);
    try {
      const { admin } = await started(gateway);
      const before = readFileSync(dataFile);
      assert.equal((await startToExit(env)).code, 2);
      const imported = await exec({ PORTCULLIS_DATA_FILE: dataFile }, ['import', document]);
      assert.equal(imported.code, 2);
      assert.equal(
        imported.stderr,
        `portcullis import: ${inUse(dataFile, gateway.child.pid!, admin)}, or import through ${admin}/api/import\n`,
      );
      const password = await exec(
        { PORTCULLIS_DATA_FILE: dataFile, PORTCULLIS_ADMIN_PASSWORD: 'another-password-123' },
        ['admin-password'],
      );
      assert.equal(password.code, 2);
      assert.equal(password.stderr, `portcullis admin-password: ${inUse(dataFile, gateway.child.pid!, admin)}\n`);
      assert.deepEqual(readFileSync(dataFile), before);
      assert.equal((await send(`${admin}/api/routes`, { headers: auth })).status, 200);
    } finally {
      await stop(gateway);
    }
  });

  it('takes over the record of a gateway killed with SIGKILL, and then holds the file itself', async () => {
    const dataFile = join(dir, 'killed.json');
    const env = { PORTCULLIS_DATA_FILE: dataFile, PORTCULLIS_ADMIN_PASSWORD: PASSWORD };
    const killed = run(env);
    await started(killed);
    killed.child.kill('SIGKILL');
    await killed.exited;
    assert.equal((JSON.parse(readFileSync(`${dataFile}.pid`, 'utf8')) as { pid: number }).pid, killed.child.pid);
    const next = run(env);
    try {
      const { admin } = await started(next);
      const second = await startToExit(env);
      assert.equal(second.stderr, `portcullis: ${inUse(dataFile, next.child.pid!, admin)}\n`);
    } finally {
      await stop(next);
    }
  });

  it('takes over a record whose pid now belongs to another process (a pid reused after a crash)', async () => {
    const dataFile = join(dir, 'recycled.json');
    const document = join(dir, 'recycled-document.json');
    writeFileSync(document, JSON.stringify({ routes: [route('imported')] }));
    // This test's own process is alive, but did not start at the time the record says.
    writeFileSync(
      `${dataFile}.pid`,
      JSON.stringify({ pid: process.pid, adminUrl: 'http://127.0.0.1:1', startTime: 1, nonce: 'former' }) + '\n',
    );
    const imported = await exec({ PORTCULLIS_DATA_FILE: dataFile, PORTCULLIS_ADMIN_PASSWORD: PASSWORD }, [
      'import',
      document,
    ]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.throws(
      () => readFileSync(`${dataFile}.pid`),
      { code: 'ENOENT' },
      'the import removed its own record when done',
    );
  });

  it('lets one of three gateways started at once on a stale record take the file; the others name it', async () => {
    const dataFile = join(dir, 'race.json');
    writeFileSync(
      `${dataFile}.pid`,
      JSON.stringify({ pid: 2 ** 22 + 17, adminUrl: null, startTime: 1, nonce: 'dead' }) + '\n',
    );
    const env = { PORTCULLIS_DATA_FILE: dataFile, PORTCULLIS_ADMIN_PASSWORD: PASSWORD };
    const starters = Array.from({ length: 3 }, () => run(env));
    try {
      // started() fails as soon as the process exits.
      const outcomes = await Promise.all(
        starters.map((starter) =>
          started(starter).then(
            () => 'started' as const,
            () => 'refused' as const,
          ),
        ),
      );
      assert.deepEqual(
        [...outcomes].sort(),
        ['refused', 'refused', 'started'],
        starters.map((s) => s.output()).join('\n---\n'),
      );
      const winner = starters[outcomes.indexOf('started')]!;
      for (const loser of starters.filter((s) => s !== winner)) {
        assert.equal(await loser.exited, 2);
        assert.match(
          loser.output(),
          new RegExp(`^portcullis: .* is in use by the gateway running as pid ${winner.child.pid}\\b`),
        );
      }
    } finally {
      await Promise.all(starters.map(stop));
    }
  });

  it('is held by the primary of a gateway with workers (the workers open no file): a second start is refused naming the primary', async () => {
    const dataFile = join(dir, 'workers.json');
    const env = { PORTCULLIS_DATA_FILE: dataFile, PORTCULLIS_ADMIN_PASSWORD: PASSWORD, PORTCULLIS_WORKERS: '2' };
    const primary = run(env);
    try {
      const { admin } = await started(primary);
      const second = await startToExit({ PORTCULLIS_DATA_FILE: dataFile });
      assert.equal(second.code, 2);
      assert.equal(second.stderr, `portcullis: ${inUse(dataFile, primary.child.pid!, admin)}\n`);
      assert.equal((await sendJson(`${admin}/api/routes`, 'POST', route('through-primary'), auth)).status, 201);
    } finally {
      await stop(primary);
    }
    assert.throws(() => readFileSync(`${dataFile}.pid`), { code: 'ENOENT' }, 'the primary removed its record on stop');
  });
});
