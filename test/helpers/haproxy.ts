/**
 * Debian's HAProxy for tests: started in the foreground (`-db`) with a generated configuration in a
 * temporary directory, on ports the test chose; stopped by its own process. Nothing of the system's
 * HAProxy is touched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canConnect, eventually } from './wait.js';

export const HAPROXY = '/usr/sbin/haproxy';

export interface TestHaproxy {
  url: string;
  child: ChildProcess;
  /** What HAProxy wrote so far (its log goes to stderr): for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** Start HAProxy with `config` (the whole file; it must bind `port`); resolves once it accepts connections. */
export async function startHaproxy(config: string, port: number): Promise<TestHaproxy> {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-haproxy-'));
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, config);
  const child = spawn(HAPROXY, ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  try {
    await eventually(async () => {
      if (child.exitCode !== null) throw new Error(`haproxy exited: ${output}`);
      return canConnect(port);
    }, 'haproxy accepts connections');
  } catch (error) {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
