/**
 * The pieces every benchmark shares: child processes (killed on exit), a gateway started from the
 * CLI, an admin client, and interleaved measurement rounds with medians.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { runLoad, type LoadResult } from './load.js';
import type { Admin } from './scenarios.js';
import { onCore, PROXY_CORE } from './cpus.js';
import { cpuSeconds } from './cpu-time.js';
import { gatewayNodeFlags } from '../bin/launch-flags.js';

export const here = fileURLToPath(new URL('.', import.meta.url));
export const ROOT = resolve(here, '../..');
/** BENCH_SMOKE=1: a seconds-long run that only shows the script still works (npm test runs it). */
export const SMOKE = process.env.BENCH_SMOKE === '1';
export const DURATION = Number(process.env.BENCH_DURATION ?? (SMOKE ? 1 : 10));
export const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? (SMOKE ? 10 : 50));
export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (SMOKE ? 1 : 3));
const WARM_UP_SECONDS = SMOKE ? 0 : Math.min(2, DURATION);
const ADMIN_PASSWORD = 'bench-admin-password-0123456789';
export const children: ChildProcess[] = [];

/** Run a benchmark script's `main`: its failure printed with the script's name, every child started stopped either way. */
export function runMain(name: string, main: () => Promise<void>): void {
  main()
    .catch((error: unknown) => {
      process.stderr.write(`${name} failed: ${(error as Error).stack}\n`);
      process.exitCode = 1;
    })
    .finally(() => {
      for (const child of children) child.kill('SIGTERM');
    });
}

export function start(
  script: string,
  args: string[],
  core: string,
  nodeArgs: string[] = [],
): Promise<{ child: ChildProcess; firstLine: string; output: () => string }> {
  const [command, commandArgs] = onCore(core, process.execPath, [...nodeArgs, script, ...args]);
  const child = spawn(command, commandArgs, { env: process.env, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  let out = '';
  return new Promise((resolvePromise, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk;
      if (out.includes('\n')) resolvePromise({ child, firstLine: out.split('\n')[0]!, output: () => out });
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}: ${out}`)));
  });
}

export interface RunningGateway {
  proxy: string;
  admin: string;
  pid: number;
  /** From spawn to the start-up banner. */
  startMs: number;
  /** Where its standard output (the logs) goes. */
  logFile: string;
}

export interface GatewayStartOptions {
  dataFileContent?: string;
  /** Start on this data file (kept; a restart can reuse it) instead of one in a fresh directory. */
  dataFile?: string;
  /** Processes serving the proxy (PORTCULLIS_WORKERS). */
  workers?: number;
  /** Pin the gateway to the proxy core (default); false lets it use every core. */
  pinned?: boolean;
  /** Extra node options before the script (`--cpu-prof`, which NODE_OPTIONS refuses). */
  nodeArgs?: string[];
  /** A boot configuration file's content (`--config`), beside the environment's settings. */
  config?: Record<string, unknown>;
}

export async function startGateway(logLevel: string, options: GatewayStartOptions = {}): Promise<RunningGateway> {
  const { dataFileContent, workers = 1, pinned = true, nodeArgs = [], config } = options;
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-bench-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const dataFile = options.dataFile ?? join(dir, 'data.json');
  if (dataFileContent) writeFileSync(dataFile, dataFileContent);
  const started = performance.now();
  // The gateway logs (one access line per request) to a file, as in production: a pipe to this
  // process would make the benchmark pay for reading them on the same two cores.
  const logFile = join(dir, 'gateway.log');
  // The flags of the `portcullis` command first: the benchmark measures what users run.
  const script = [...gatewayNodeFlags(), ...nodeArgs, join(ROOT, 'dist/bin/portcullis.js')];
  if (config) {
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    script.push('--config', join(dir, 'config.json'));
  }
  const [command, commandArgs] = pinned ? onCore(PROXY_CORE, process.execPath, script) : [process.execPath, script];
  const child = spawn(command, commandArgs, {
    env: {
      ...process.env,
      PORTCULLIS_PROXY_PORT: '0',
      PORTCULLIS_ADMIN_PORT: '0',
      PORTCULLIS_DATA_FILE: dataFile,
      PORTCULLIS_ADMIN_PASSWORD: ADMIN_PASSWORD,
      PORTCULLIS_LOG_LEVEL: logLevel,
      PORTCULLIS_WORKERS: String(workers),
    },
    stdio: ['ignore', openSync(logFile, 'w'), 'inherit'],
  });
  children.push(child);
  const output = () => readFileSync(logFile, 'utf8');
  for (let i = 0; i < 2400 && !/Admin API/.test(output()); i++) await new Promise((r) => setTimeout(r, 25));
  const startMs = performance.now() - started;
  const proxy = /Proxy\s+(http:\/\/\S+)/.exec(output())?.[1];
  const admin = /Admin API\s+(http:\/\/\S+)\/api/.exec(output())?.[1];
  if (!proxy || !admin) throw new Error(`gateway did not start: ${output()}`);
  return { proxy, admin, pid: child.pid!, startMs, logFile };
}

export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
}

export function adminClient(adminUrl: string): Admin {
  const authorization = 'Basic ' + Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64');
  return async (method, path, body) => {
    const res = await request(adminUrl + path, {
      method: method as any,
      reset: true, // a fresh connection per admin call: minutes of load pass between them
      headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    return { status: res.statusCode, text, json: () => JSON.parse(text) };
  };
}

export interface Target {
  name: string;
  /** Run the load generator on the load core (default) or anywhere. */
  pinned?: boolean;
  url: string;
  headers: Record<string, string>;
  method?: string;
  body?: string;
  /** The serving process whose CPU time (with its children's) is charged to this target's requests. */
  pid?: number;
}

export type Measured = {
  name: string;
  /** Server CPU time per request (µs), NaN without a pid. */ cpuUsPerRequest: number;
} & LoadResult;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * Measure every target ROUNDS times, interleaved (A B C, A B C…), and keep the median run of each:
 * on a shared 2-core machine neighbours come and go, and interleaving spreads their noise evenly.
 */
export async function measureAll(targets: Target[]): Promise<Measured[]> {
  if (WARM_UP_SECONDS > 0) {
    for (const t of targets)
      await runLoad({
        url: t.url,
        headers: t.headers,
        method: t.method,
        body: t.body,
        durationSeconds: WARM_UP_SECONDS,
        connections: CONNECTIONS,
        pinned: t.pinned,
      }); // warm-up (JIT, pools)
  }
  const runs = new Map<string, Array<LoadResult & { cpuUsPerRequest: number }>>(targets.map((t) => [t.name, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const t of targets) {
      const cpuBefore = t.pid === undefined ? NaN : cpuSeconds(t.pid);
      const result = await runLoad({
        url: t.url,
        headers: t.headers,
        method: t.method,
        body: t.body,
        durationSeconds: DURATION,
        connections: CONNECTIONS,
        pinned: t.pinned,
      });
      const cpuUsPerRequest = t.pid === undefined ? NaN : ((cpuSeconds(t.pid) - cpuBefore) * 1e6) / result.requests;
      runs.get(t.name)!.push({ ...result, cpuUsPerRequest });
      process.stdout.write(
        `[${round}/${ROUNDS}] ${t.name.padEnd(48)} ${result.requestsPerSecond.toFixed(0).padStart(8)} req/s   p50 ${result.p50Ms.toFixed(2)} ms   p99 ${result.p99Ms.toFixed(2)} ms${Number.isNaN(cpuUsPerRequest) ? '' : `   ${cpuUsPerRequest.toFixed(0)} µs CPU/req`}${result.errors ? `   errors ${result.errors}` : ''}\n`,
      );
    }
  }
  return targets.map((t) => {
    const all = runs.get(t.name)!;
    return {
      name: t.name,
      tool: all[0]!.tool,
      requestsPerSecond: median(all.map((r) => r.requestsPerSecond)),
      p50Ms: median(all.map((r) => r.p50Ms)),
      p99Ms: median(all.map((r) => r.p99Ms)),
      cpuUsPerRequest: median(all.map((r) => r.cpuUsPerRequest)),
      requests: all.reduce((sum, r) => sum + r.requests, 0),
      errors: all.reduce((sum, r) => sum + r.errors, 0),
    };
  });
}
