/** The CLI as a real process: start it, read its output, wait for its banner. */
import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = resolve(fileURLToPath(import.meta.url), '../../../bin/portcullis.js');

export interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

export function run(env: Record<string, string>, args: string[] = [], cwd?: string): Running {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: cwd ?? tmpdir(),
    env: {
      PATH: process.env.PATH,
      PORTCULLIS_PROXY_PORT: '0',
      PORTCULLIS_ADMIN_PORT: '0',
      PORTCULLIS_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c) => {
    out += c;
  });
  child.stderr!.on('data', (c) => {
    out += c;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

export async function waitFor(running: Running, pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = running.output().match(pattern);
    if (match) return match;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; output:\n${running.output()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Wait for the start-up banner. The deadline is generous on purpose: it is not a speed check (the
 * bench measures start-up), and several processes loading the whole module graph on a shared
 * 2-core machine under load can take tens of seconds; a process that exits fails at once instead.
 */
export async function started(running: Running): Promise<{ proxy: string; admin: string }> {
  const proxy = (
    await Promise.race([
      waitFor(running, /Proxy\s+(http:\/\/\S+)/, 90_000),
      running.exited.then((code) => {
        throw new Error(`the CLI exited (${code}) before it started:\n${running.output()}`);
      }),
    ])
  )[1]!;
  const admin = (await waitFor(running, /Admin API\s+(http:\/\/\S+)\/api/))[1]!;
  return { proxy, admin };
}

/** Run the CLI to completion (a subcommand): its exit code, stdout and stderr apart; `input` is written to its stdin. */
export function exec(
  env: Record<string, string>,
  args: string[],
  cwd?: string,
  input?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: cwd ?? tmpdir(),
    env: { PATH: process.env.PATH, PORTCULLIS_LOG_LEVEL: 'warn', ...env },
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (input !== undefined) child.stdin!.end(input);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c) => {
    stdout += c;
  });
  child.stderr!.on('data', (c) => {
    stderr += c;
  });
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}
