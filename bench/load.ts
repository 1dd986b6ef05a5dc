/** The load generator: wrk when installed (lighter on a 2-core machine), autocannon otherwise. */
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onCore, LOAD_CORE } from './cpus.js';

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** Requests completed in the run. */
  requests: number;
  tool: string;
}

export interface LoadOptions {
  url: string;
  headers: Record<string, string>;
  method?: string;
  body?: string;
  durationSeconds: number;
  connections: number;
  /** wrk on the load core (default), or wherever the scheduler puts it. */
  pinned?: boolean;
}

function hasWrk(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    // wrk --version exits 1 but runs
    return (error as { status?: number }).status === 1;
  }
}

export const LOAD_TOOL = hasWrk() ? 'wrk' : 'autocannon';

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  return LOAD_TOOL === 'wrk' ? runWrk(options) : runAutocannon(options);
}

function runWrk(options: LoadOptions): LoadResult {
  const args = ['-t1', `-c${options.connections}`, `-d${options.durationSeconds}s`, '--latency'];
  if (options.method || options.body) {
    const script = join(mkdtempSync(join(tmpdir(), 'wrk-')), 'request.lua');
    writeFileSync(
      script,
      `wrk.method = ${JSON.stringify(options.method ?? 'POST')}\nwrk.body = ${JSON.stringify(options.body ?? '')}\n`,
    );
    args.push('-s', script);
  }
  // wrk adds its own Host unless one is given spelled exactly `Host`
  for (const [name, value] of Object.entries(options.headers))
    args.push('-H', `${name === 'host' ? 'Host' : name}: ${value}`);
  args.push(options.url);
  const [command, commandArgs] = options.pinned === false ? ['wrk', args] : onCore(LOAD_CORE, 'wrk', args);
  const result = spawnSync(command, commandArgs, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`wrk failed: ${result.stderr || result.stdout}`);
  const out = result.stdout;
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN);
  const p50 = toMs(/\s50%\s+([\d.]+\w+)/.exec(out)?.[1]);
  const p99 = toMs(/\s99%\s+([\d.]+\w+)/.exec(out)?.[1]);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = non2xx + (socketErrors ? socketErrors.slice(1).reduce((s, n) => s + Number(n), 0) : 0);
  return { requestsPerSecond: rps, p50Ms: p50, p99Ms: p99, errors, requests, tool: 'wrk' };
}

function toMs(value: string | undefined): number {
  if (!value) return NaN;
  const match = /^([\d.]+)(us|ms|s)$/.exec(value);
  if (!match) return NaN;
  const n = Number(match[1]);
  return match[2] === 'us' ? n / 1000 : match[2] === 's' ? n * 1000 : n;
}

async function runAutocannon(options: LoadOptions): Promise<LoadResult> {
  const { default: autocannon } = await import('autocannon');
  const result: any = await autocannon({
    url: options.url,
    headers: options.headers,
    method: (options.method ?? 'GET') as any,
    body: options.body,
    connections: options.connections,
    duration: options.durationSeconds,
  });
  return {
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.non2xx,
    requests: result.requests.total,
    tool: 'autocannon',
  };
}
