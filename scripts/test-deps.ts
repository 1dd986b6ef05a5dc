/**
 * `npm test`'s pretest check for the programs the suites run beyond npm packages: Chromium (the
 * back-office browser tests), redis-server, nginx and haproxy. When one is missing the check stops
 * at once with the exact command that installs it, instead of a suite failing obscurely; it installs
 * nothing itself (CI's .ci/run installs what is missing before calling npm test).
 * `PORTCULLIS_SKIP_TEST_DEPS=1` skips the check.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface TestTool {
  /** The executable looked up on PATH. */
  command: string;
  /** The Debian package that provides it. */
  debianPackage: string;
  /** Which tests need it. */
  neededBy: string;
}

export const TEST_TOOLS: readonly TestTool[] = [
  { command: 'chromium', debianPackage: 'chromium', neededBy: 'back-office browser tests' },
  { command: 'redis-server', debianPackage: 'redis-server', neededBy: 'Redis state tests' },
  { command: 'nginx', debianPackage: 'nginx', neededBy: 'reverse-proxy tests' },
  { command: 'haproxy', debianPackage: 'haproxy', neededBy: 'load-balancer drain test' },
];

/** Debian installs daemons in sbin, which a non-root PATH often lacks. */
export const SBIN_DIRS: readonly string[] = ['/usr/sbin', '/usr/local/sbin', '/sbin'];

/** Nothing to do, or the message naming what is missing and the exact command that installs it. */
export type InstallPlan = { action: 'none' } | { action: 'instruct'; message: string };

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable named `command` in `pathValue`'s directories (then `extraDirs`), or null. */
export function findExecutable(command: string, pathValue: string, extraDirs: readonly string[] = []): string | null {
  for (const dir of [...pathValue.split(delimiter), ...extraDirs]) {
    if (dir === '') continue;
    const file = join(dir, command);
    if (isExecutableFile(file)) return file;
  }
  return null;
}

/**
 * The tools not found. Chromium also counts as present when `CHROMIUM_PATH` (the browser tests'
 * override) names an executable.
 */
export function findMissing(
  env: NodeJS.ProcessEnv,
  options: { tools?: readonly TestTool[]; extraDirs?: readonly string[] } = {},
): TestTool[] {
  const pathValue = env.PATH ?? '';
  return (options.tools ?? TEST_TOOLS).filter((tool) => {
    if (tool.command === 'chromium' && env.CHROMIUM_PATH && isExecutableFile(env.CHROMIUM_PATH)) return false;
    return findExecutable(tool.command, pathValue, options.extraDirs ?? []) === null;
  });
}

/**
 * What to tell about `missing`: the programs and the one command that installs them (as root on
 * Debian; `sudo` otherwise). `npm test` installs nothing itself: CI's .ci/run does, once.
 */
export function planInstall(missing: readonly TestTool[], host: { isRoot: boolean; hasAptGet: boolean }): InstallPlan {
  if (missing.length === 0) return { action: 'none' };
  const packages = missing.map((tool) => tool.debianPackage).join(' ');
  const sudo = host.isRoot ? '' : 'sudo ';
  const lines = [
    `npm test needs programs that are not installed: ${missing.map((tool) => `${tool.command} (${tool.neededBy})`).join(', ')}.`,
    'Install them with:',
    '',
    `  ${sudo}apt-get update && ${sudo}apt-get install -y --no-install-recommends ${packages}`,
    '',
  ];
  if (!host.hasAptGet)
    lines.push(
      '(That is the Debian/Ubuntu command; elsewhere install the same programs with your package manager. CHROMIUM_PATH may name a Chromium binary.)',
    );
  return { action: 'instruct', message: lines.join('\n') };
}

function main(): number {
  if (process.env.PORTCULLIS_SKIP_TEST_DEPS === '1') return 0;
  const env = process.env;
  const missing = findMissing(env, { extraDirs: SBIN_DIRS });
  const plan = planInstall(missing, {
    isRoot: process.getuid?.() === 0,
    hasAptGet: findExecutable('apt-get', env.PATH ?? '', SBIN_DIRS) !== null,
  });
  if (plan.action === 'none') return 0;
  console.error(plan.message);
  return 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = main();
