/**
 * The gateway's Node flags are declared once, in the `portcullis` command's shebang: `npm start`
 * and the Docker image must start it with the same ones, and the benchmark reads them from there.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { flagsOfShebang, gatewayNodeFlags } from '../../bin/launch-flags.js';

const root = new URL('../../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

describe('Launch flags of the gateway', () => {
  it('the built command carries the source shebang, with the young-generation size', () => {
    const flags = gatewayNodeFlags();
    assert.deepEqual(flags, flagsOfShebang(read('bin/portcullis.ts').split('\n', 1)[0]!));
    assert.ok(flags.includes('--max-semi-space-size=32'), flags.join(' '));
  });

  it('allocation-site pretenuring is off (a large configuration made per-request objects old, see launch-flags.ts)', () => {
    assert.ok(gatewayNodeFlags().includes('--no-allocation-site-pretenuring'), gatewayNodeFlags().join(' '));
  });

  it('npm start and the Docker image start it with the same flags', () => {
    const flags = gatewayNodeFlags();
    const start = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.start!;
    assert.equal(start, ['node', ...flags, 'dist/bin/portcullis.js'].join(' '));
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(read('deploy/Dockerfile'))?.[1];
    assert.deepEqual(JSON.parse(entrypoint!), ['node', ...flags, 'dist/bin/portcullis.js']);
  });

  it('the shebang runs: executed directly (as npm installs the command), node gets its flags', () => {
    const shebang = readFileSync(new URL('dist/bin/portcullis.js', root), 'utf8').split('\n', 1)[0]!;
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-shebang-'));
    const probe = join(dir, 'probe.js');
    writeFileSync(probe, `${shebang}\nprocess.stdout.write(process.execArgv.join(' '));\n`);
    chmodSync(probe, 0o755);
    try {
      assert.equal(execFileSync(probe, { encoding: 'utf8' }), gatewayNodeFlags().join(' '));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a line that is not a node shebang', () => {
    assert.throws(() => flagsOfShebang('#!/bin/sh'), /Not a node shebang/);
    assert.deepEqual(flagsOfShebang('#!/usr/bin/env node'), []);
  });
});
