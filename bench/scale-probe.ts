/**
 * `node dist/bench/scale-probe.js [keys|routes|all]`: what a large configuration costs without the
 * load of `npm run bench`, so it can run on a busy machine. Medians of PROBE_RUNS (default 3).
 *
 * - keys: a gateway started on a data file with PROBE_KEYS (100 000) API keys; wall time from spawn
 *   to listening, the process's CPU time by then, RSS at listening and after a settle; twice per run:
 *   the first start on a restored file (which bootstraps the admin password, the global configuration
 *   and the default key pair: writes) and a restart on the file that start left. One request checks
 *   that the key in the file authenticates.
 * - routes: the route table alone, in this process: nanoseconds per lookup of the benchmark's two
 *   worst-case requests with 10 and PROBE_ROUTES (10 000) routes; then a gateway started on each.
 */
import 'reflect-metadata';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { BENCH_SECRET, manyKeysDataFile } from './scenarios.js';
import { hashSecret } from '../plugins/apikeys/entity.js';
import { manyRoutesDataFile, ROUTES_HOST } from './routes.js';
import { children, here, rssMiB, runMain, start, startGateway } from './harness.js';
import { cpuSeconds } from './cpu-time.js';
import { LOAD_CORE } from './cpus.js';
import { RouteTable, type CompiledRoute } from '../core/compiler/router.js';
import type { Route } from '../core/config/entities.js';

const RUNS = Number(process.env.PROBE_RUNS ?? 3);
const KEYS = Number(process.env.PROBE_KEYS ?? 100_000);
const ROUTES = Number(process.env.PROBE_ROUTES ?? 10_000);

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface StartSample {
  wallMs: number;
  cpuMs: number;
  rssMiB: number;
  settledRssMiB: number;
}

async function startOn(dataFile: string): Promise<StartSample & { proxy: string; stop(): void }> {
  const gateway = await startGateway('warn', { pinned: false, dataFile });
  const cpuMs = cpuSeconds(gateway.pid) * 1000;
  const rss = rssMiB(gateway.pid);
  await settle(2000);
  const child = children.find((c) => c.pid === gateway.pid)!;
  return {
    wallMs: gateway.startMs,
    cpuMs,
    rssMiB: rss,
    settledRssMiB: rssMiB(gateway.pid),
    proxy: gateway.proxy,
    stop: () => {
      child.kill('SIGTERM');
    },
  };
}

function summary(label: string, samples: StartSample[]): string {
  const f = (pick: (s: StartSample) => number) => median(samples.map(pick)).toFixed(0);
  return `${label.padEnd(34)} wall ${f((s) => s.wallMs).padStart(5)} ms   CPU ${f((s) => s.cpuMs).padStart(5)} ms   RSS ${f((s) => s.rssMiB).padStart(4)} MiB, ${f((s) => s.settledRssMiB).padStart(4)} MiB 2 s later`;
}

async function probeKeys(): Promise<void> {
  const upstream = await start(join(here, 'upstream.js'), [], LOAD_CORE);
  const upstreamUrl = `http://127.0.0.1:${upstream.firstLine.trim()}`;
  const content = manyKeysDataFile(KEYS, upstreamUrl, hashSecret(BENCH_SECRET));
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-probe-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const pristine = join(dir, 'restored.json');
  writeFileSync(pristine, content);
  const first: StartSample[] = [];
  const again: StartSample[] = [];
  for (let run = 0; run < RUNS; run++) {
    const dataFile = join(dir, `data-${run}.json`);
    copyFileSync(pristine, dataFile);
    const a = await startOn(dataFile);
    const res = await request(`${a.proxy}/`, {
      headers: {
        host: 'apikeys.bench',
        authorization: 'Basic ' + Buffer.from(`bench-client:${BENCH_SECRET}`).toString('base64'),
      },
    });
    await res.body.dump();
    if (res.statusCode !== 200) throw new Error(`the bench key was refused: ${res.statusCode}`);
    a.stop();
    first.push(a);
    await settle(500);
    const b = await startOn(dataFile);
    b.stop();
    again.push(b);
    await settle(500);
  }
  process.stdout.write(
    `${KEYS.toLocaleString('en')} API keys (data file ${(content.length / 1048576).toFixed(1)} MiB), median of ${RUNS}:\n`,
  );
  process.stdout.write(`${summary('  first start (restored file)', first)}\n${summary('  restart', again)}\n`);
}

/** Compiled routes with what matching reads (domains, id, methods, headers, query). */
function tableOf(count: number): RouteTable {
  const file = JSON.parse(manyRoutesDataFile(count, 'http://127.0.0.1:1')) as {
    entities: { routes: Record<string, Route> };
  };
  const compiled = Object.values(file.entities.routes).map(
    (route) => ({ id: route.id, route, tags: [], methods: null, headers: [], query: [] }) as unknown as CompiledRoute,
  );
  return new RouteTable(compiled);
}

function nsPerLookup(table: RouteTable, host: string, path: string): number {
  const rounds = 200_000;
  let found = 0;
  for (let i = 0; i < 20_000; i++) if (table.match(host, path, 'GET', {}, '')) found++; // warm-up
  const started = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) if (table.match(host, path, 'GET', {}, '')) found++;
  const ns = Number(process.hrtime.bigint() - started) / rounds;
  if (found !== rounds + 20_000) throw new Error(`${host}${path} did not match`);
  return ns;
}

async function probeRoutes(): Promise<void> {
  process.stdout.write(`route lookup (in process, median of ${RUNS}):\n`);
  for (const count of [10, ROUTES]) {
    const table = tableOf(count);
    const wildcard = median(Array.from({ length: RUNS }, () => nsPerLookup(table, 'x.w1.routes.bench', '/')));
    const prefix = median(Array.from({ length: RUNS }, () => nsPerLookup(table, ROUTES_HOST, '/p2/')));
    process.stdout.write(
      `  ${String(count).padStart(6)} routes: wildcard host ${wildcard.toFixed(0).padStart(7)} ns   path prefix ${prefix.toFixed(0).padStart(7)} ns\n`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-probe-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  for (const count of [10, ROUTES]) {
    const samples: StartSample[] = [];
    for (let run = 0; run < RUNS; run++) {
      const dataFile = join(dir, `routes-${count}-${run}.json`);
      writeFileSync(dataFile, manyRoutesDataFile(count, 'http://127.0.0.1:1'));
      const started = await startOn(dataFile);
      started.stop();
      samples.push(started);
      await settle(500);
    }
    process.stdout.write(`${summary(`  gateway, ${count} routes`, samples)}\n`);
  }
}

async function main(): Promise<void> {
  const what = process.argv[2] ?? 'all';
  if (what === 'keys' || what === 'all') await probeKeys();
  if (what === 'routes' || what === 'all') await probeRoutes();
}

runMain('probe', main);
