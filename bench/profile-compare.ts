/**
 * `node dist/bench/profile-compare.js [seconds] [scenario]`: the bare undici proxy and the default
 * gateway on one scenario, each under `--cpu-prof` and the same load (pinned as `npm run bench`),
 * one after the other. Prints each function's self time in **µs per request** for both, sorted by
 * what the gateway pays more: where its extra CPU goes, in the unit the targets use. Only samples
 * taken while the load ran count (the profile's clock is the monotonic one `process.hrtime` reads),
 * so neither start-up is charged to the requests. PROFILE_TOP (30) rows each way.
 */
import 'reflect-metadata';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLoad, type LoadOptions } from './load.js';
import { SCENARIOS } from './scenarios.js';
import { adminClient, children, here, runMain, start, startGateway } from './harness.js';
import { LOAD_CORE, PROXY_CORE, pinSelfToLoadCore } from './cpus.js';
import { selfMicros, type CpuProfile } from './profile-samples.js';

const SECONDS = Number(process.argv[2] ?? 8);
const SCENARIO = process.argv[3] ?? 'gateway: route, no plugins';
const TOP = Number(process.env.PROFILE_TOP ?? 30);

const nowMicros = () => Number(process.hrtime.bigint() / 1000n);

/** Run the load once for warm-up, then once measured; stop the server so it writes its profile. */
async function profiled(load: Omit<LoadOptions, 'durationSeconds'>, dir: string, pid: number) {
  await runLoad({ ...load, durationSeconds: 2 });
  const from = nowMicros();
  const result = await runLoad({ ...load, durationSeconds: SECONDS });
  const to = nowMicros();
  const child = children.find((c) => c.pid === pid)!;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  await exited;
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))!;
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
  const self = selfMicros(profile, from, to);
  for (const [key, micros] of self) self.set(key, micros / result.requests);
  return { self, result };
}

function table(bare: Map<string, number>, gateway: Map<string, number>): string[] {
  const names = new Set([...bare.keys(), ...gateway.keys()]);
  const rows = [...names].map((name) => ({ name, bare: bare.get(name) ?? 0, gateway: gateway.get(name) ?? 0 }));
  rows.sort((a, b) => b.gateway - b.bare - (a.gateway - a.bare));
  const line = (r: (typeof rows)[number]) =>
    `| ${(r.gateway - r.bare).toFixed(2)} | ${r.gateway.toFixed(2)} | ${r.bare.toFixed(2)} | \`${r.name}\` |`;
  return [...rows.slice(0, TOP).map(line), '| … | | | |', ...rows.slice(-Math.ceil(TOP / 3)).map(line)];
}

const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

async function main(): Promise<void> {
  pinSelfToLoadCore();
  const upstream = await start(join(here, 'upstream.js'), [], LOAD_CORE);
  const upstreamUrl = `http://127.0.0.1:${upstream.firstLine.trim()}`;
  const bareDir = mkdtempSync(join(tmpdir(), 'portcullis-profile-bare-'));
  const bare = await start(join(here, 'bare-proxy.js'), [upstreamUrl], PROXY_CORE, [
    '--cpu-prof',
    '--cpu-prof-dir',
    bareDir,
  ]);
  const bareRun = await profiled(
    { url: `http://127.0.0.1:${bare.firstLine.trim()}/`, headers: {}, connections: 50 },
    bareDir,
    bare.child.pid!,
  );
  const gatewayDir = mkdtempSync(join(tmpdir(), 'portcullis-profile-gateway-'));
  const gateway = await startGateway('info', { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', gatewayDir] });
  const headers = await SCENARIOS.find((s) => s.name === SCENARIO)!.setup(adminClient(gateway.admin), upstreamUrl);
  const gatewayRun = await profiled({ url: `${gateway.proxy}/`, headers, connections: 50 }, gatewayDir, gateway.pid);
  upstream.child.kill('SIGTERM');
  process.stdout.write(
    `${SCENARIO} against the bare undici proxy, ${SECONDS} s each, profiler on: main-thread CPU ${sum(gatewayRun.self).toFixed(1)} vs ${sum(bareRun.self).toFixed(1)} µs/req (${gatewayRun.result.requestsPerSecond.toFixed(0)} vs ${bareRun.result.requestsPerSecond.toFixed(0)} req/s)\n\n| gateway − bare | gateway | bare | function (self µs/req) |\n|---:|---:|---:|---|\n${table(bareRun.self, gatewayRun.self).join('\n')}\n`,
  );
}

runMain('profile-compare', main);
