import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = resolve(fileURLToPath(import.meta.url), '../../../bin/portcullis.js');

/** Run the CLI until it exits (killed if it is still serving after 15 s: it should have refused to start). */
function runToExit(dataFile: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [CLI], {
    cwd: tmpdir(),
    env: {
      PATH: process.env.PATH,
      PORTCULLIS_PROXY_PORT: '0',
      PORTCULLIS_ADMIN_PORT: '0',
      PORTCULLIS_LOG_LEVEL: 'warn',
      PORTCULLIS_DATA_FILE: dataFile,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c) => {
    output += c;
  });
  child.stderr.on('data', (c) => {
    output += c;
  });
  const guard = setTimeout(() => child.kill(), 15_000);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(guard);
      resolve({ code, output });
    }),
  );
}

describe('Command line: a data file that is not a store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-cli-data-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases: Array<[string, string]> = [
    ['null', 'null'],
    ['an array', '[]'],
    ['a number', '42'],
    ['a string', '"x"'],
    ['an object without schemaVersion', '{}'],
  ];
  for (const [what, content] of cases) {
    it(`exits 2 with one line and leaves a file holding ${what} untouched (no new admin password)`, async () => {
      const dataFile = join(dir, `${what.replace(/\W+/g, '-')}.json`);
      writeFileSync(dataFile, content);
      const { code, output } = await runToExit(dataFile);
      assert.equal(code, 2, output);
      const lines = output.trim().split('\n');
      assert.equal(lines.length, 1, output);
      assert.match(lines[0]!, /^portcullis: Data file .* will not be overwritten$/);
      assert.doesNotMatch(output, /Admin password/);
      assert.equal(readFileSync(dataFile, 'utf8'), content);
    });
  }
});
