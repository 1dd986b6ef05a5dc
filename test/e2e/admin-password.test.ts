/**
 * The first admin password is never lost (issue 21): a first start that fails stores no password
 * no one saw; `portcullis admin-password` replaces the password of a stopped gateway's data file;
 * PORTCULLIS_ADMIN_PASSWORD does not override a stored password, and says so.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basic, send } from '../helpers/http.js';
import { exec, run, started, waitFor, type Running } from '../helpers/cli.js';

const GENERATED = /Admin password \(shown once, stored only as a hash\): (\S+)/;

async function stop(gateway: Running): Promise<void> {
  if (gateway.child.exitCode !== null) return;
  gateway.child.kill('SIGTERM');
  await gateway.exited;
}

/** The status of an admin API call with this password. */
async function statusWith(adminUrl: string, password: string): Promise<number> {
  return (await send(`${adminUrl}/api/routes`, { headers: { authorization: basic('admin', password) } })).status;
}

/** Start a gateway on the file, run `check` with its admin URL, stop it. */
async function withGateway(
  env: Record<string, string>,
  check: (adminUrl: string, gateway: Running) => Promise<void>,
): Promise<void> {
  const gateway = run(env);
  try {
    await check((await started(gateway)).admin, gateway);
  } finally {
    await stop(gateway);
  }
}

function occupiedPort(): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

describe('Admin password: never lost', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-admin-password-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('stores no generated password when the first start fails (proxy port in use); the next start prints one that works', async () => {
    const dataFile = join(dir, 'port-in-use.json');
    const blocker = await occupiedPort();
    const port = String((blocker.address() as { port: number }).port);
    const failed = run({ PORTCULLIS_DATA_FILE: dataFile, PORTCULLIS_PROXY_PORT: port });
    try {
      assert.equal(await failed.exited, 2, failed.output());
      assert.match(failed.output(), /^portcullis: cannot listen on .*EADDRINUSE\n$/);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
    if (existsSync(dataFile)) assert.doesNotMatch(readFileSync(dataFile, 'utf8'), /adminPasswordHash/);
    await withGateway({ PORTCULLIS_DATA_FILE: dataFile }, async (adminUrl, gateway) => {
      const password = (await waitFor(gateway, GENERATED))[1]!;
      assert.equal(await statusWith(adminUrl, password), 200);
    });
  });

  it("admin-password replaces the password of a stopped gateway's file (from PORTCULLIS_ADMIN_PASSWORD, stdin, or generated); the old one is refused", async () => {
    const dataFile = join(dir, 'replaced.json');
    await withGateway(
      { PORTCULLIS_DATA_FILE: dataFile, PORTCULLIS_ADMIN_PASSWORD: 'first-password-123' },
      async () => {},
    );

    const fromEnv = await exec({ PORTCULLIS_DATA_FILE: dataFile, PORTCULLIS_ADMIN_PASSWORD: 'from-env-password-456' }, [
      'admin-password',
    ]);
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    assert.equal(fromEnv.stdout, `portcullis admin-password: the admin password of ${dataFile} is replaced\n`);
    const fromStdin = await exec(
      { PORTCULLIS_DATA_FILE: dataFile },
      ['admin-password'],
      undefined,
      'from-stdin-password-789\n',
    );
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    assert.doesNotMatch(fromStdin.stdout, /from-stdin/);
    await withGateway({ PORTCULLIS_DATA_FILE: dataFile }, async (adminUrl, gateway) => {
      assert.equal(await statusWith(adminUrl, 'from-stdin-password-789'), 200);
      assert.equal(await statusWith(adminUrl, 'from-env-password-456'), 401);
      assert.equal(await statusWith(adminUrl, 'first-password-123'), 401);
      assert.doesNotMatch(gateway.output(), /Admin password/);
    });

    const generated = await exec({ PORTCULLIS_DATA_FILE: dataFile }, ['admin-password']);
    assert.equal(generated.code, 0, generated.stderr);
    const password = GENERATED.exec(generated.stdout)?.[1];
    assert.ok(password, generated.stdout);
    const stored = readFileSync(dataFile, 'utf8');
    assert.ok(!stored.includes(password), 'only the hash is stored');
    assert.match(stored, /"adminPasswordHash": "scrypt\$/);
    await withGateway({ PORTCULLIS_DATA_FILE: dataFile }, async (adminUrl) => {
      assert.equal(await statusWith(adminUrl, password), 200);
      assert.equal(await statusWith(adminUrl, 'from-stdin-password-789'), 401);
    });
  });

  it('admin-password exits 2 with one line when there is no data file', async () => {
    const missing = join(dir, 'never-started.json');
    const result = await exec({ PORTCULLIS_DATA_FILE: missing, PORTCULLIS_ADMIN_PASSWORD: 'whatever-password-1' }, [
      'admin-password',
    ]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^portcullis admin-password: no data file at .*never-started\.json .*\n$/);
    assert.equal(existsSync(missing), false);
  });

  it('PORTCULLIS_ADMIN_PASSWORD does not override a stored password: the start says so, the stored one still works', async () => {
    const dataFile = join(dir, 'env-ignored.json');
    await withGateway(
      { PORTCULLIS_DATA_FILE: dataFile, PORTCULLIS_ADMIN_PASSWORD: 'stored-password-123' },
      async () => {},
    );
    await withGateway(
      { PORTCULLIS_DATA_FILE: dataFile, PORTCULLIS_ADMIN_PASSWORD: 'other-password-456' },
      async (adminUrl, gateway) => {
        await waitFor(gateway, /PORTCULLIS_ADMIN_PASSWORD is ignored: the store already holds another admin password/);
        assert.doesNotMatch(gateway.output(), /other-password-456/);
        assert.equal(await statusWith(adminUrl, 'stored-password-123'), 200);
        assert.equal(await statusWith(adminUrl, 'other-password-456'), 401);
      },
    );
    // The same password again is no news.
    await withGateway(
      { PORTCULLIS_DATA_FILE: dataFile, PORTCULLIS_ADMIN_PASSWORD: 'stored-password-123' },
      async (_adminUrl, gateway) => {
        assert.doesNotMatch(gateway.output(), /is ignored/);
      },
    );
  });
});
