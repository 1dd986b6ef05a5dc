/**
 * `node dist/bench/keystore-probe.js`: what 100 000 API keys cost the embedded store, beside a
 * gateway with 10 keys (issue 24): start-up from spawn to listening, RSS at listening and 2 s later,
 * RSS 10 s later (idle: the store gives back what the load grew, `core/config/heap-after-load.ts`), the latency of one admin `POST /api/apikeys` and the bytes it writes (the process's `wchar` from
 * /proc, and the sizes of the data file and its journal), and the proxy's requests/s through the
 * API-key route on each gateway, interleaved rounds. Every key has its own secret hash, as real keys do.
 *
 * PROBE_KEYS (100 000), PROBE_WRITES (20), PROBE_LOAD_SECONDS (5), PROBE_ROUNDS (2);
 * PROBE_PROFILE=<dir>: the measured start runs with `--cpu-prof` and `--heap-prof` written there.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { BENCH_SECRET, manyKeysDataFile } from './scenarios.js';
import { hashSecret } from '../plugins/apikeys/entity.js';
import { adminClient, children, here, rssMiB, runMain, start, startGateway, type RunningGateway } from './harness.js';
import { LOAD_CORE } from './cpus.js';
import { runLoad } from './load.js';
import { cpuSeconds } from './cpu-time.js';

const KEYS = Number(process.env.PROBE_KEYS ?? 100_000);
const WRITES = Number(process.env.PROBE_WRITES ?? 20);
const LOAD_SECONDS = Number(process.env.PROBE_LOAD_SECONDS ?? 5);
const ROUNDS = Number(process.env.PROBE_ROUNDS ?? 2);
const PROFILE = process.env.PROBE_PROFILE;

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Bytes the process handed to write(2) so far (log lines included; the gateway logs at warn). */
function writtenBytes(pid: number): number {
  return Number(/wchar:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? NaN);
}

/** Bytes of the data file and of every file beside it named after it (journal, lock). */
function storeBytes(dataFile: string): { data: number; others: number } {
  const others = readdirSync(dirname(dataFile))
    .filter((name) => name.startsWith(basename(dataFile) + '.') && !name.endsWith('.state'))
    .map((name) => join(dirname(dataFile), name))
    .filter((path) => statSync(path).isFile())
    .reduce((sum, path) => sum + statSync(path).size, 0);
  return { data: statSync(dataFile).size, others };
}

function uniqueHash(): string {
  return `sha256$${randomBytes(16).toString('base64url')}$${randomBytes(32).toString('base64url')}`;
}

/** The benchmark's data file, each key but the first with a secret hash of its own. */
function dataFileOf(count: number, upstreamUrl: string): string {
  const doc = JSON.parse(manyKeysDataFile(count, upstreamUrl, hashSecret(BENCH_SECRET))) as {
    entities: { apikeys: Record<string, { clientSecretHash: string }> };
  };
  for (const [id, key] of Object.entries(doc.entities.apikeys))
    if (id !== 'bench-client') key.clientSecretHash = uniqueHash();
  return JSON.stringify(doc);
}

async function stop(gateway: RunningGateway): Promise<void> {
  const child = children.find((c) => c.pid === gateway.pid)!;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

interface Started {
  gateway: RunningGateway;
  /** CPU time of the process from spawn to listening: unlike wall time, not stretched by a busy machine. */
  cpuMs: number;
  rssMiB: number;
  settledRssMiB: number;
  /** After 10 s idle. */
  idleRssMiB: number;
}

/** A first start (it bootstraps the admin password and the key pair: writes), then the restart measured. */
async function startMeasured(dataFile: string, label: string): Promise<Started> {
  await stop(await startGateway('warn', { pinned: false, dataFile }));
  const nodeArgs = PROFILE
    ? [
        `--cpu-prof`,
        `--cpu-prof-dir=${PROFILE}`,
        `--cpu-prof-name=${label}.cpuprofile`,
        '--heap-prof',
        `--heap-prof-dir=${PROFILE}`,
        `--heap-prof-name=${label}.heapprofile`,
      ]
    : [];
  const gateway = await startGateway('warn', { pinned: false, dataFile, nodeArgs });
  const cpuMs = cpuSeconds(gateway.pid) * 1000;
  const rss = rssMiB(gateway.pid);
  await settle(2000);
  const settled = rssMiB(gateway.pid);
  await settle(8000);
  return { gateway, cpuMs, rssMiB: rss, settledRssMiB: settled, idleRssMiB: rssMiB(gateway.pid) };
}

async function measureWrites(started: Started, dataFile: string): Promise<string> {
  const admin = adminClient(started.gateway.admin);
  const before = storeBytes(dataFile);
  const inode = statSync(dataFile).ino;
  const wcharBefore = writtenBytes(started.gateway.pid);
  const times: number[] = [];
  for (let i = 0; i < WRITES; i++) {
    const began = performance.now();
    const res = await admin('POST', '/api/apikeys', {
      clientId: `probe-${i}`,
      clientName: `Probe ${i}`,
      authorizedEntities: ['bench-apikeys'],
    });
    times.push(performance.now() - began);
    if (res.status !== 201) throw new Error(`POST /api/apikeys answered ${res.status}: ${res.text}`);
  }
  const wchar = (writtenBytes(started.gateway.pid) - wcharBefore) / WRITES;
  const after = storeBytes(dataFile);
  const same = statSync(dataFile).ino === inode && after.data === before.data;
  return [
    `  one admin POST /api/apikeys: median ${median(times).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms (${WRITES} writes)`,
    `  bytes written per key write: ${wchar.toFixed(0)} (wchar); data file ${same ? 'untouched' : `rewritten (${before.data} → ${after.data} bytes)`}, files beside it ${before.others} → ${after.others} bytes`,
  ].join('\n');
}

async function throughput(few: RunningGateway, many: RunningGateway): Promise<string> {
  const headers = {
    host: 'apikeys.bench',
    authorization: 'Basic ' + Buffer.from(`bench-client:${BENCH_SECRET}`).toString('base64'),
  };
  const load = async (gateway: RunningGateway) => {
    const cpuBefore = cpuSeconds(gateway.pid);
    const result = await runLoad({
      url: `${gateway.proxy}/`,
      headers,
      durationSeconds: LOAD_SECONDS,
      connections: 50,
      pinned: false,
    });
    if (result.errors > 0) throw new Error(`${result.errors} errors under load`);
    return { rps: result.requestsPerSecond, cpuUs: ((cpuSeconds(gateway.pid) - cpuBefore) * 1e6) / result.requests };
  };
  await load(few); // warm-up of both
  await load(many);
  const fewRuns: Array<{ rps: number; cpuUs: number }> = [];
  const manyRuns: Array<{ rps: number; cpuUs: number }> = [];
  for (let round = 0; round < ROUNDS; round++) {
    fewRuns.push(await load(few));
    manyRuns.push(await load(many));
  }
  const rps = (runs: typeof fewRuns) => median(runs.map((r) => r.rps));
  const cpu = (runs: typeof fewRuns) => median(runs.map((r) => r.cpuUs));
  return [
    `  requests/s through the API-key route: 10 keys ${rps(fewRuns).toFixed(0)}, ${KEYS.toLocaleString('en')} keys ${rps(manyRuns).toFixed(0)} (${(rps(manyRuns) / rps(fewRuns)).toFixed(3)}×; rounds ${fewRuns.map((r) => r.rps.toFixed(0)).join('/')} vs ${manyRuns.map((r) => r.rps.toFixed(0)).join('/')})`,
    `  gateway CPU per request: 10 keys ${cpu(fewRuns).toFixed(1)} µs, ${KEYS.toLocaleString('en')} keys ${cpu(manyRuns).toFixed(1)} µs (${(cpu(fewRuns) / cpu(manyRuns)).toFixed(3)}× the throughput a core allows)`,
  ].join('\n');
}

async function main(): Promise<void> {
  const upstream = await start(join(here, 'upstream.js'), [], LOAD_CORE);
  const upstreamUrl = `http://127.0.0.1:${upstream.firstLine.trim()}`;
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-keystore-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  if (PROFILE && !existsSync(PROFILE)) mkdirSync(PROFILE, { recursive: true });
  const fewFile = join(dir, 'few.json');
  const manyFile = join(dir, 'many.json');
  writeFileSync(fewFile, dataFileOf(10, upstreamUrl));
  const content = dataFileOf(KEYS, upstreamUrl);
  writeFileSync(manyFile, content);
  const few = await startMeasured(fewFile, 'few');
  const many = await startMeasured(manyFile, 'many');
  const line = (label: string, s: Started) =>
    `  ${label.padEnd(14)} start ${s.gateway.startMs.toFixed(0).padStart(5)} ms (CPU ${s.cpuMs.toFixed(0).padStart(5)} ms)   RSS ${s.rssMiB.toFixed(0)} MiB at listening, ${s.settledRssMiB.toFixed(0)} MiB 2 s later, ${s.idleRssMiB.toFixed(0)} MiB 10 s later`;
  const out = [
    `${KEYS.toLocaleString('en')} API keys (restored file ${(content.length / 1048576).toFixed(1)} MiB), restart on the file the first start left:`,
    line('10 keys', few),
    line(`${KEYS.toLocaleString('en')} keys`, many),
    await measureWrites(many, manyFile),
    await throughput(few.gateway, many.gateway),
  ];
  process.stdout.write(out.join('\n') + '\n');
  await stop(few.gateway);
  await stop(many.gateway);
}

runMain('probe', main);
