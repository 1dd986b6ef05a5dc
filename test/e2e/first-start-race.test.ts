/**
 * Three gateway processes started at once on an empty Redis, without an admin password given: each
 * finds no password and no global configuration and writes them. Exactly one generated password
 * must win, be printed by that one instance only, and open every instance's admin API; the others
 * must start (a regression: the global configuration's first write answered "stale" and ended one).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basic, send } from '../helpers/http.js';
import { run, started, type Running } from '../helpers/cli.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

const PRINTED = /Admin password \(shown once, stored only as a hash\): (\S+)/;

describe('First start of several instances on one empty Redis', () => {
  let dir: string;
  let redis: TestRedis;
  const spawned: Running[] = [];
  const admins: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-first-start-'));
    redis = await startRedis();
    for (const name of ['one', 'two', 'three']) {
      spawned.push(run({ PORTCULLIS_STORAGE_URL: redis.url, PORTCULLIS_DATA_FILE: join(dir, `${name}.json`) }));
    }
    admins.push(...(await Promise.all(spawned.map((p) => started(p)))).map((urls) => urls.admin));
  });

  after(async () => {
    for (const process of spawned) if (process.child.exitCode === null) process.child.kill('SIGKILL');
    await Promise.all(spawned.map((p) => p.exited));
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('all start; one prints the password it stored, and that password opens every instance', async () => {
    const printed = spawned.map((p) => PRINTED.exec(p.output())?.[1]).filter((p): p is string => p !== undefined);
    assert.equal(printed.length, 1, `exactly one instance prints a generated password, got ${printed.length}`);
    for (const admin of admins) {
      const ok = await send(`${admin}/api/routes`, { headers: { authorization: basic('admin', printed[0]!) } });
      assert.equal(ok.status, 200, `the printed password opens ${admin}`);
      const global = await send(`${admin}/api/global-config`, {
        headers: { authorization: basic('admin', printed[0]!) },
      });
      assert.equal(global.status, 200);
    }
  });
});
