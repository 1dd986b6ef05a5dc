/**
 * `npm test`'s pretest check for the programs the suites run beyond npm packages: Chromium (the
 * back-office browser tests), redis-server, nginx and haproxy. When one is missing it is installed when that
 * can be done without asking (root on Debian: one `apt-get update`, then only the missing packages);
 * otherwise the check stops with the exact command to run, instead of a suite failing obscurely.
 * `PORTCULLIS_SKIP_TEST_DEPS=1` skips the check.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { spawnSync } from 'node:child_process';
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

export type InstallPlan =
  | { action: 'none' }
  | { action: 'install'; commands: string[][] }
  | { action: 'instruct'; message: string };

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
export function findMissing(env: NodeJS.ProcessEnv, options: { tools?: readonly TestTool[]; extraDirs?: readonly string[] } = {}): TestTool[] {
  const pathValue = env.PATH ?? '';
  return (options.tools ?? TEST_TOOLS).filter((tool) => {
    if (tool.command === 'chromium' && env.CHROMIUM_PATH && isExecutableFile(env.CHROMIUM_PATH)) return false;
    return findExecutable(tool.command, pathValue, options.extraDirs ?? []) === null;
  });
}

/** What to do about `missing`: install it (root with apt-get) or tell the user the command. */
export function planInstall(missing: readonly TestTool[], host: { isRoot: boolean; hasAptGet: boolean }): InstallPlan {
  if (missing.length === 0) return { action: 'none' };
  const packages = missing.map((tool) => tool.debianPackage);
  if (host.isRoot && host.hasAptGet) return { action: 'install', commands: [['apt-get', 'update'], ['apt-get', 'install', '-y', '--no-install-recommends', ...packages]] };
  const lines = [
    `npm test needs programs that are not installed: ${missing.map((tool) => `${tool.command} (${tool.neededBy})`).join(', ')}.`,
    'Install them with:',
    '',
    `  sudo apt-get install -y ${packages.join(' ')}`,
    '',
  ];
  if (!host.hasAptGet) lines.push('(That is the Debian/Ubuntu command; elsewhere install the same programs with your package manager. CHROMIUM_PATH may name a Chromium binary.)');
  return { action: 'instruct', message: lines.join('\n') };
}

function main(): number {
  if (process.env.PORTCULLIS_SKIP_TEST_DEPS === '1') return 0;
  const env = process.env;
  const missing = findMissing(env, { extraDirs: SBIN_DIRS });
  const plan = planInstall(missing, { isRoot: process.getuid?.() === 0, hasAptGet: findExecutable('apt-get', env.PATH ?? '', SBIN_DIRS) !== null });
  if (plan.action === 'none') return 0;
  if (plan.action === 'instruct') {
    console.error(plan.message);
    return 1;
  }
  console.error(`Installing what the tests need: ${missing.map((tool) => tool.debianPackage).join(' ')}`);
  for (const [command, ...args] of plan.commands) {
    const result = spawnSync(command!, args, { stdio: 'inherit', env: { ...env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (result.status !== 0) {
      console.error(`\`${[command, ...args].join(' ')}\` failed; install the packages yourself and run npm test again.`);
      return 1;
    }
  }
  const still = findMissing(env, { extraDirs: SBIN_DIRS });
  if (still.length > 0) {
    console.error(`Still missing after installing: ${still.map((tool) => tool.command).join(', ')}`);
    return 1;
  }
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = main();
