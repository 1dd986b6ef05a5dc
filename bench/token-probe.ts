/**
 * `node dist/bench/token-probe.js [root[@--node-flag,…]…]`: the token endpoint (ES256 and EdDSA, `POST /token`,
 * client_secret_post) of one gateway per build root (default: this checkout), all running at once,
 * measured in interleaved rounds (BENCH_DURATION, BENCH_ROUNDS), each on the proxy core, then jose's
 * raw signing on that same core: requests/s and CPU µs per token against signatures/s and CPU µs
 * per signature, in the same run. Compares a build before and after a change (`cp -r dist` of the
 * before into another root, its node_modules linked). TOKEN_PROBE_PROF=1 adds `--cpu-prof` (profiles
 * in the printed directory, summarised with `profile.js`'s tables).
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { adminClient, children, here, measureAll, ROOT, runMain, type Target } from './harness.js';
import { onCore, pinSelfToLoadCore, PROXY_CORE } from './cpus.js';
import { runLoad } from './load.js';
import { topInclusiveTime, topSelfTime } from './profile.js';

const ALGORITHMS = (process.env.TOKEN_PROBE_ALGS ?? 'ES256,EdDSA').split(',');
const PROFILE = process.env.TOKEN_PROBE_PROF === '1';

type ProbeTarget = Target & { logFile: string };

async function gatewayTargets(
  root: string,
  flags: string[],
  label: string,
  profileDir: string,
): Promise<ProbeTarget[]> {
  const harness = (await import(join(root, 'dist/bench/harness.js'))) as typeof import('./harness.js');
  const oauth = (await import(join(root, 'dist/bench/oauth.js'))) as typeof import('./oauth.js');
  const nodeArgs = [...flags, ...(PROFILE ? ['--cpu-prof', '--cpu-prof-dir', join(profileDir, label)] : [])];
  const gateway = await harness.startGateway('info', { nodeArgs });
  if (harness.children !== children) children.push(...harness.children);
  // Where `--trace-gc` writes: read by gcOf.
  process.stdout.write(`${label}: ${root} ${flags.join(' ')}, log ${gateway.logFile}\n`);
  const targets = await oauth.setupOAuth(adminClient(gateway.admin), gateway.proxy);
  return targets
    .filter((t) => t.name.startsWith('token') && ALGORITHMS.includes(t.alg!))
    .map((t) => ({ ...t, name: `${label}: ${t.alg}`, pid: gateway.pid, logFile: gateway.logFile }));
}

/** With `--trace-gc`: one more run of `target`, and the scavenges its gateway logged during it. */
async function gcOf(target: ProbeTarget): Promise<string> {
  const before = readFileSync(target.logFile, 'utf8').length;
  const load = await runLoad({ ...target, durationSeconds: 5, connections: 50 });
  const lines = readFileSync(target.logFile, 'utf8').slice(before).split('\n');
  const gc = (kind: string) => {
    const found = lines.filter((l) => l.includes(kind));
    const ms = found.reduce((sum, l) => sum + Number(/([\d.]+) \/ [\d.]+ ms/.exec(l)?.[1] ?? 0), 0);
    const per = 10_000 / load.requests;
    return `${(found.length * per).toFixed(1)} ${kind}s (${(ms * per).toFixed(1)} ms)`;
  };
  return `${target.name}: per 10 000 tokens ${gc('Scavenge')}, ${gc('Mark-Compact')}`;
}

function rawSign(alg: string): { perSecond: number; cpuUs: number } {
  const [command, args] = onCore(PROXY_CORE, process.execPath, [join(here, 'raw-crypto.js'), 'sign', alg, '3', '50']);
  const [perSecond, cpuUs] = execFileSync(command, args, { encoding: 'utf8' }).trim().split(' ').map(Number);
  return { perSecond: perSecond!, cpuUs: cpuUs! };
}

async function main(): Promise<void> {
  pinSelfToLoadCore();
  const roots = process.argv.length > 2 ? process.argv.slice(2) : [ROOT];
  const profileDir = mkdtempSync(join(tmpdir(), 'token-probe-'));
  const targets: ProbeTarget[] = [];
  for (const [i, spec] of roots.entries()) {
    const [root, flags] = spec.split('@');
    const nodeFlags = flags ? flags.split(',') : [];
    targets.push(...(await gatewayTargets(resolve(root!), nodeFlags, `#${i + 1}`, profileDir)));
  }
  const results = await measureAll(targets);
  const raw = new Map(ALGORITHMS.map((alg) => [alg, rawSign(alg)]));
  process.stdout.write(`\n${roots.map((r, i) => `#${i + 1} ${r}`).join('\n')}\n\n`);
  process.stdout.write(
    '| gateway | alg | req/s | CPU µs/token | jose raw sign/s | CPU µs/sign | vs raw | vs raw (CPU) |\n',
  );
  process.stdout.write('|---|---|---:|---:|---:|---:|---:|---:|\n');
  for (const r of results) {
    const [label, alg] = r.name.split(': ');
    const { perSecond, cpuUs } = raw.get(alg!)!;
    process.stdout.write(
      `| ${label} | ${alg} | ${r.requestsPerSecond.toFixed(0)} | ${r.cpuUsPerRequest.toFixed(0)} | ${perSecond.toFixed(0)} | ${cpuUs.toFixed(0)} | ${(r.requestsPerSecond / perSecond).toFixed(2)}× | ${(cpuUs / r.cpuUsPerRequest).toFixed(2)}× |\n`,
    );
  }
  for (const [i, spec] of roots.entries())
    if (spec.includes('--trace-gc'))
      for (const t of targets.filter((t) => t.name.startsWith(`#${i + 1}:`)))
        process.stdout.write(`${await gcOf(t)}\n`);
  if (!PROFILE) return;
  // The profile is written when a gateway exits.
  const exited = children.map((child) => new Promise((r) => child.once('exit', r)));
  for (const child of children) child.kill('SIGINT');
  await Promise.race([Promise.all(exited), new Promise((r) => setTimeout(r, 30_000))]);
  for (const label of readdirSync(profileDir)) {
    const file = readdirSync(join(profileDir, label)).find((f) => f.endsWith('.cpuprofile'));
    if (!file) continue;
    const profile = JSON.parse(readFileSync(join(profileDir, label, file), 'utf8'));
    process.stdout.write(
      `\n${label} (${join(profileDir, label, file)})\n\n| self | function |\n|---:|---|\n${topSelfTime(profile, 25).join('\n')}\n\n| with callees | gateway function |\n|---:|---|\n${topInclusiveTime(profile, 25).join('\n')}\n`,
    );
  }
}

runMain('token-probe', main);
