/**
 * `node dist/bench/profile.js [seconds] [scenario]`: the default gateway (log level info, metrics on)
 * under load on the no-plugin route, profiled twice: once with `--cpu-prof` (the top self-time
 * functions, printed as a table for docs/benchmarks.md) and once with `--trace-gc` (scavenges and
 * mark-compacts, their count and time per 10 000 requests). Pinned like `npm run bench`.
 * PROFILE_LOG_LEVEL (info), PROFILE_METRICS=0 and PROFILE_TOP (15) vary it.
 */
import 'reflect-metadata';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runLoad } from './load.js';
import { SCENARIOS } from './scenarios.js';
import { adminClient, children, here, runMain, start, startGateway } from './harness.js';
import { LOAD_CORE, pinSelfToLoadCore } from './cpus.js';
import { cpuSeconds } from './cpu-time.js';
import { selfMicros, type CpuProfile, type ProfileNode } from './profile-samples.js';

const SECONDS = Number(process.argv[2] ?? 10);
const SCENARIO = process.argv[3] ?? 'gateway: route, no plugins';
const LOG_LEVEL = process.env.PROFILE_LOG_LEVEL ?? 'info';
const TOP = Number(process.env.PROFILE_TOP ?? 15);
const CONNECTIONS = 50;

/** Self time by function (name, file, line), as a share of the non-idle samples. */
export function topSelfTime(profile: CpuProfile, top: number): string[] {
  const self = selfMicros(profile, -Infinity, Infinity);
  let busy = 0;
  for (const micros of self.values()) busy += micros;
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, micros]) => `| ${((micros / busy) * 100).toFixed(1)} % | \`${name}\` |`);
}

/**
 * Inclusive time (self and callees) of the gateway's own functions (`dist/core`, `dist/plugins`),
 * as a share of the non-idle samples: what each part of the hot path costs with what it calls.
 */
export function topInclusiveTime(profile: CpuProfile, top: number): string[] {
  const parent = new Map<number, ProfileNode>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const total = new Map<string, number>();
  let busy = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    let node: ProfileNode | undefined = byId.get(profile.samples[i]!)!;
    if (node.callFrame.functionName === '(idle)') continue;
    const micros = profile.timeDeltas[i] ?? 0;
    busy += micros;
    const seen = new Set<string>();
    for (; node; node = parent.get(node.id)) {
      const { functionName, url, lineNumber } = node.callFrame;
      const own = /\/dist\/(core|plugins)\//.exec(url);
      if (!own) continue;
      const key = `${functionName || '(anonymous)'} ${url.replace(/^.*\/dist\//, '')}:${lineNumber + 1}`;
      if (seen.has(key)) continue;
      seen.add(key);
      total.set(key, (total.get(key) ?? 0) + micros);
    }
  }
  return [...total]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, micros]) => `| ${((micros / busy) * 100).toFixed(1)} % | \`${name}\` |`);
}

async function loadedGateway(nodeArgs: string[]) {
  const upstream = await start(join(here, 'upstream.js'), [], LOAD_CORE);
  const upstreamUrl = `http://127.0.0.1:${upstream.firstLine.trim()}`;
  const config = process.env.PROFILE_METRICS === '0' ? { metrics: { enabled: false } } : undefined;
  const gateway = await startGateway(LOG_LEVEL, { nodeArgs, config });
  const scenario = SCENARIOS.find((s) => s.name === SCENARIO)!;
  const headers = await scenario.setup(adminClient(gateway.admin), upstreamUrl);
  const load = { url: `${gateway.proxy}/`, headers, connections: CONNECTIONS };
  await runLoad({ ...load, durationSeconds: 2 }); // warm-up
  const cpuBefore = cpuSeconds(gateway.pid);
  const result = await runLoad({ ...load, durationSeconds: SECONDS });
  const cpuUs = ((cpuSeconds(gateway.pid) - cpuBefore) * 1e6) / result.requests;
  const child = children.find((c) => c.pid === gateway.pid)!;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  await exited;
  upstream.child.kill('SIGTERM');
  return { result, cpuUs, gateway };
}

async function main(): Promise<void> {
  pinSelfToLoadCore();
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-profile-'));
  const profiled = await loadedGateway(['--cpu-prof', '--cpu-prof-dir', dir]);
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))!;
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
  process.stdout.write(
    `${SCENARIO}, log level ${LOG_LEVEL}, ${SECONDS} s: ${profiled.result.requestsPerSecond.toFixed(0)} req/s, ${profiled.cpuUs.toFixed(0)} CPU µs/req (profiler on)\n\n| self | function |\n|---:|---|\n${topSelfTime(profile, TOP).join('\n')}\n\n| with callees | gateway function |\n|---:|---|\n${topInclusiveTime(profile, TOP).join('\n')}\n\nprofile: ${join(dir, file)}\n\n`,
  );
  const traced = await loadedGateway(['--trace-gc']);
  const log = readFileSync(traced.gateway.logFile, 'utf8');
  const gc = (kind: string) => {
    const lines = log.split('\n').filter((l) => l.includes(kind));
    const ms = lines.reduce((sum, l) => sum + Number(/([\d.]+) \/ [\d.]+ ms/.exec(l)?.[1] ?? 0), 0);
    return { count: lines.length, ms };
  };
  const per = 10_000 / traced.result.requests;
  const scavenge = gc('Scavenge');
  const markCompact = gc('Mark-Compact');
  process.stdout.write(
    `trace-gc: ${traced.result.requests} requests, ${traced.cpuUs.toFixed(0)} CPU µs/req; per 10 000 requests: ${(scavenge.count * per).toFixed(1)} scavenges (${(scavenge.ms * per).toFixed(1)} ms), ${(markCompact.count * per).toFixed(2)} mark-compacts (${(markCompact.ms * per).toFixed(1)} ms)\n`,
  );
}

// Run as a script only: token-probe.ts imports the tables.
if (process.argv[1] === fileURLToPath(import.meta.url)) runMain('profile', main);
