/**
 * The pretest check (scripts/test-deps.ts): which programs count as missing on a given PATH, and
 * what it then does: stop with the exact command that installs them (it installs nothing itself).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findMissing, planInstall, TEST_TOOLS } from '../../scripts/test-deps.js';

const SCRIPT = fileURLToPath(new URL('../../scripts/test-deps.js', import.meta.url));

describe('Pretest check: programs the tests need', () => {
  let bin: string;
  before(() => {
    bin = mkdtempSync(join(tmpdir(), 'portcullis-fake-path-'));
    for (const name of ['chromium', 'nginx', 'haproxy']) {
      writeFileSync(join(bin, name), '#!/bin/sh\nexit 0\n');
      chmodSync(join(bin, name), 0o755);
    }
    writeFileSync(join(bin, 'redis-server'), 'not executable');
    chmodSync(join(bin, 'redis-server'), 0o644);
  });
  after(() => rmSync(bin, { recursive: true, force: true }));

  it('counts a program as missing when no executable of that name is on PATH', () => {
    assert.deepEqual(
      findMissing({ PATH: bin }).map((t) => t.command),
      ['redis-server'],
    );
    assert.deepEqual(
      findMissing({ PATH: '' }).map((t) => t.command),
      ['chromium', 'redis-server', 'nginx', 'haproxy'],
    );
    assert.deepEqual(
      findMissing({ PATH: `/nonexistent:${bin}` }).map((t) => t.command),
      ['redis-server'],
    );
  });

  it('accepts CHROMIUM_PATH for Chromium when it names an executable', () => {
    assert.deepEqual(
      findMissing({ PATH: '', CHROMIUM_PATH: join(bin, 'chromium') }).map((t) => t.command),
      ['redis-server', 'nginx', 'haproxy'],
    );
    assert.deepEqual(
      findMissing({ PATH: '', CHROMIUM_PATH: join(bin, 'nope') }).map((t) => t.command),
      ['chromium', 'redis-server', 'nginx', 'haproxy'],
    );
  });

  it('does nothing when nothing is missing', () => {
    assert.deepEqual(planInstall([], { isRoot: false, hasAptGet: false }), { action: 'none' });
  });

  it('installs nothing, even as root with apt-get: it names the one command for the missing packages only', () => {
    const missing = TEST_TOOLS.filter((t) => t.command !== 'chromium');
    const plan = planInstall(missing, { isRoot: true, hasAptGet: true });
    assert.equal(plan.action, 'instruct');
    assert.match(
      (plan as { message: string }).message,
      /^ {2}apt-get update && apt-get install -y --no-install-recommends redis-server nginx haproxy$/m,
    );
  });

  it('otherwise prints the exact command naming only the missing packages, with sudo when not root', () => {
    for (const host of [
      { isRoot: false, hasAptGet: true },
      { isRoot: false, hasAptGet: false },
    ]) {
      const plan = planInstall(
        TEST_TOOLS.filter((t) => t.command === 'chromium'),
        host,
      );
      assert.equal(plan.action, 'instruct');
      assert.match(
        (plan as { message: string }).message,
        /^ {2}sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium$/m,
      );
    }
  });

  it('exits 1 at once with the command when run on a PATH without them, installing nothing', () => {
    // nginx and haproxy are given on the fake PATH: the real sbin directories the script also searches may hold one.
    const env = { PATH: bin, HOME: process.env.HOME ?? '/tmp' };
    const result = spawnSync(process.execPath, [SCRIPT], { env, encoding: 'utf8' });
    assert.equal(result.status, 1, result.stderr);
    const sudo = process.getuid?.() === 0 ? '' : 'sudo ';
    assert.ok(
      result.stderr.includes(
        `  ${sudo}apt-get update && ${sudo}apt-get install -y --no-install-recommends redis-server\n`,
      ),
      result.stderr,
    );
    assert.doesNotMatch(result.stderr, /Installing/);
    assert.match(result.stderr, /redis-server \(Redis state tests\)/);
  });

  it('exits 0 when everything is on PATH, and when told to skip the check', () => {
    chmodSync(join(bin, 'redis-server'), 0o755);
    try {
      assert.equal(spawnSync(process.execPath, [SCRIPT], { env: { PATH: bin }, encoding: 'utf8' }).status, 0);
    } finally {
      chmodSync(join(bin, 'redis-server'), 0o644);
    }
    assert.equal(
      spawnSync(process.execPath, [SCRIPT], { env: { PATH: '', PORTCULLIS_SKIP_TEST_DEPS: '1' }, encoding: 'utf8' })
        .status,
      0,
    );
  });
});
