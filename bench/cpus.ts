/**
 * CPU placement for the benchmark. On a machine this small the scheduler moving the load generator,
 * the upstream and the proxy between cores adds more noise than the differences being measured, so
 * when `taskset` exists and there are at least two cores: the load generator and the upstream share
 * core 0, the proxy under test (and jose's raw crypto, for the same comparison) runs alone on core 1.
 * Every proxy gets the same single core: the ratios compare their cost per core.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const PINNED = process.env.BENCH_NO_PIN !== '1' && cpus().length >= 2 && hasTaskset();
export const LOAD_CORE = '0';
export const PROXY_CORE = '1';

/** The command and arguments to run `command args` on `core` (unchanged when not pinning). */
export function onCore(core: string, command: string, args: string[]): [string, string[]] {
  return PINNED ? ['taskset', ['-c', core, command, ...args]] : [command, args];
}

/** Pin this process (where autocannon would run) to the load core. */
export function pinSelfToLoadCore(): void {
  if (PINNED) execFileSync('taskset', ['-pc', LOAD_CORE, String(process.pid)], { stdio: 'ignore' });
}
