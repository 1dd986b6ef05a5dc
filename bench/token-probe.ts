/**
 * `node dist/bench/token-probe.js [roots…]`: the token endpoint (ES256 and EdDSA, `POST /token`,
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
import { topInclusiveTime, topSelfTime } from './profile.js';

const ALGORITHMS = (process.env.TOKEN_PROBE_ALGS ?? 'ES256,EdDSA').split(',');
const PROFILE = process.env.TOKEN_PROBE_PROF === '1';

async function gatewayTargets(root: string, label: string, profileDir: string): Promise<Target[]> {
  const harness = (await import(join(root, 'dist/bench/harness.js'))) as typeof import('./harness.js');
  const oauth = (await import(join(root, 'dist/bench/oauth.js'))) as typeof import('./oauth.js');
  const nodeArgs = PROFILE ? ['--cpu-prof', '--cpu-prof-dir', join(profileDir, label)] : [];
  const gateway = await harness.startGateway('info', { nodeArgs });
  if (harness.children !== children) children.push(...harness.children);
  const targets = await oauth.setupOAuth(adminClient(gateway.admin), gateway.proxy);
  return targets
    .filter((t) => t.name.startsWith('token') && ALGORITHMS.includes(t.alg!))
    .map((t) => ({ ...t, name: `${label}: ${t.alg}`, pid: gateway.pid }));
}

function rawSign(alg: string): { perSecond: number; cpuUs: number } {
  const [command, args] = onCore(PROXY_CORE, process.execPath, [join(here, 'raw-crypto.js'), 'sign', alg, '3', '50']);
  const [perSecond, cpuUs] = execFileSync(command, args, { encoding: 'utf8' }).trim().split(' ').map(Number);
  return { perSecond: perSecond!, cpuUs: cpuUs! };
}

async function main(): Promise<void> {
  pinSelfToLoadCore();
  const roots = process.argv.length > 2 ? process.argv.slice(2).map((r) => resolve(r)) : [ROOT];
  const profileDir = mkdtempSync(join(tmpdir(), 'token-probe-'));
  const targets: Target[] = [];
  for (const [i, root] of roots.entries()) targets.push(...(await gatewayTargets(root, `#${i + 1}`, profileDir)));
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
  if (!PROFILE) return;
  for (const child of children) child.kill('SIGINT');
  await new Promise((r) => setTimeout(r, 3000));
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
