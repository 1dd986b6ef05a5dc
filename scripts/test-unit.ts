/**
 * `npm run test:unit`: the tests that need no program beyond Node (no browser, Redis, nginx,
 * HAProxy, no gateway started as a child process), run concurrently. A test file counts as such when
 * it lives outside the end-to-end, browser, attack, fault, fuzz and benchmark folders and imports no
 * helper that starts an outside program, so a new test is classified by what it uses, not by a list.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const TEST_DIR = fileURLToPath(new URL('../test/', import.meta.url));
/** Folders whose tests run whole gateways, browsers or long property runs. */
const SLOW_FOLDERS = new Set(['e2e', 'backoffice', 'attack', 'faults', 'fuzz', 'bench']);
/** Helpers that start a program beyond this process (their compiled import paths). */
const OUTSIDE_PROGRAMS = [
  /helpers\/redis\.js/,
  /helpers\/nginx\.js/,
  /helpers\/haproxy\.js/,
  /helpers\/cli\.js/,
  /helpers\/gateway-process\.js/,
  /backoffice\/browser\.js/,
  /playwright-core/,
];

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return dir === TEST_DIR && SLOW_FOLDERS.has(entry.name) ? [] : testFiles(path);
    return entry.name.endsWith('.test.js') ? [path] : [];
  });
}

/** The unit test files: outside the slow folders, importing no helper that starts a program. */
export function unitTestFiles(): string[] {
  return testFiles(TEST_DIR).filter((file) => {
    const source = readFileSync(file, 'utf8');
    return !OUTSIDE_PROGRAMS.some((pattern) => pattern.test(source));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const files = unitTestFiles();
  process.stderr.write(
    `${files.length} test files without outside programs (${files
      .map((f) => relative(TEST_DIR, f))
      .join(', ')
      .slice(0, 160)}…)\n`,
  );
  const result = spawnSync(process.execPath, ['--test', `--test-concurrency=${availableParallelism()}`, ...files], {
    stdio: 'inherit',
  });
  process.exitCode = result.status ?? 1;
}
