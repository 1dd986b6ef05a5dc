/**
 * `npm run bench`: starts a real upstream, the bare reference proxy, nginx, @fastify/http-proxy and
 * the gateway (each its own process), loads each with wrk (or autocannon), and writes the results,
 * their ratios to the bare proxy and each server's CPU time per request into docs/benchmarks.md, the
 * raw numbers into docs/benchmarks.json and a chart into docs/benchmarks.svg.
 * Knobs: BENCH_DURATION (s, default 10), BENCH_CONNECTIONS (50), BENCH_ROUNDS (3), BENCH_SCALING=0
 * (skip the unpinned workers section), BENCH_OUT_DIR (default docs/), BENCH_SMOKE=1 (seconds-long
 * run with fewer keys and routes, the one `npm test` runs).
 */
// The apikeys entity module reaches tsyringe (through the plugin API), which needs the polyfill first.
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { LOAD_TOOL } from './load.js';
import { SCENARIOS, BENCH_SECRET, manyKeysDataFile } from './scenarios.js';
import { hashSecret } from '../plugins/apikeys/entity.js';
import { setupOAuth, OAUTH_ALGORITHMS } from './oauth.js';
import { setupJwt } from './jwt.js';
import { setupIntrospection } from './introspection.js';
import { manyRoutesDataFile, manyRoutesTargets } from './routes.js';

/** The section bench/keystore-probe.ts's figures go in (kept as it is). */
import { PINNED, onCore, pinSelfToLoadCore, LOAD_CORE, PROXY_CORE } from './cpus.js';
import {
  here,
  ROOT,
  SMOKE,
  DURATION,
  CONNECTIONS,
  ROUNDS,
  children,
  runMain,
  start,
  startGateway,
  rssMiB,
  adminClient,
  measureAll,
  type Measured,
  type RunningGateway,
  type Target,
} from './harness.js';
import { measureScaling } from './scaling.js';
import { hasNginx, startNginx } from './nginx.js';
import { chartSvg } from './chart.js';

const OUT_DIR = process.env.BENCH_OUT_DIR ?? join(ROOT, 'docs');
const MANY_KEYS = SMOKE ? 1_000 : 100_000;
const MANY_ROUTES = SMOKE ? 1_000 : 10_000;
const FEW_ROUTES = 10;
const BARE = 'bare proxy (node:http + undici pool.stream)';
const BARE_DISPATCH = 'bare proxy on undici dispatch (the API the gateway uses)';
const NGINX_NAME = 'nginx (1 worker, upstream keep-alive)';
const FASTIFY_NAME = '@fastify/http-proxy';
const PLAIN_NAME = 'gateway: route, no plugins';
const METRICS_OFF = 'gateway: route, no plugins, metrics off';

/** jose's raw rate, measured in a process on the proxy's core (not in a smoke run: NaN). */
function rawRate(args: string[]): number {
  return rawFigures(args)[0]!;
}

/** What `raw-crypto.js` prints: the rate, then (signing) the CPU µs per operation. */
function rawFigures(args: string[]): number[] {
  if (SMOKE) return [NaN, NaN];
  const [command, commandArgs] = onCore(PROXY_CORE, process.execPath, [join(here, 'raw-crypto.js'), ...args]);
  return execFileSync(command, commandArgs, { encoding: 'utf8' }).trim().split(' ').map(Number);
}

/** Where the hand-written profile summaries start: kept from the existing file when it is written again. */

/**
 * The sections written by hand or by other scripts (profile summaries, `keystore-probe.ts`'s 100 000 keys),
 * kept in `bench/kept/*.md` and appended in file-name order each time the measured tables are written.
 */
function keptSections(): string {
  const dir = join(ROOT, 'bench/kept');
  return readdirSync(dir)
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => readFileSync(join(dir, name), 'utf8'))
    .join('\n');
}

const thousands = (n: number) => (n >= 1000 ? `${n / 1000}k` : String(n));
const fixed = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '—');
const cpu = (r: Measured) => fixed(r.cpuUsPerRequest);

interface Section {
  id: string;
  results: Measured[];
}

async function main(): Promise<void> {
  pinSelfToLoadCore();
  const upstream = await start(join(here, 'upstream.js'), [], LOAD_CORE);
  const upstreamUrl = `http://127.0.0.1:${upstream.firstLine.trim()}`;
  const bare = await start(join(here, 'bare-proxy.js'), [upstreamUrl], PROXY_CORE);
  const bareDispatch = await start(join(here, 'bare-dispatch-proxy.js'), [upstreamUrl], PROXY_CORE);
  const fastify = await start(join(here, 'fastify-proxy.js'), [upstreamUrl], PROXY_CORE);
  const nginx = hasNginx() ? await startNginx(upstreamUrl, 1, PROXY_CORE) : null;
  if (nginx) children.push(nginx.child);
  const logLevel = process.env.PORTCULLIS_LOG_LEVEL ?? 'info';
  // A smoke run starts the gateways at once and anywhere (it reports no start-up times); a real run one
  // after the other on the proxy core, so that each start-up time is its own.
  const pinned = !SMOKE;
  const gatewayStarts = [
    () => startGateway(logLevel, { pinned }),
    // A second gateway with the access log off shows what one JSON log line per request costs; started
    // with a few routes of the route-table benchmark, it is also the one that table is compared with.
    () => startGateway('warn', { pinned, dataFileContent: manyRoutesDataFile(FEW_ROUTES, upstreamUrl) }),
    // Gateways started on data files: many API keys, many routes.
    () =>
      startGateway(logLevel, {
        pinned,
        dataFileContent: manyKeysDataFile(MANY_KEYS, upstreamUrl, hashSecret(BENCH_SECRET)),
      }),
    () => startGateway('warn', { pinned, dataFileContent: manyRoutesDataFile(MANY_ROUTES, upstreamUrl) }),
    // The same as the first, without the per-route request metrics: what counting costs the hot path.
    () => startGateway(logLevel, { pinned, config: { metrics: { enabled: false } } }),
  ];
  const started = [];
  if (SMOKE) started.push(...(await Promise.all(gatewayStarts.map((startOne) => startOne()))));
  else for (const startOne of gatewayStarts) started.push(await startOne());
  const [gateway, quiet, many, manyRoutes, uncounted] = started as [
    RunningGateway,
    RunningGateway,
    RunningGateway,
    RunningGateway,
    RunningGateway,
  ];
  const fewRoutes = quiet;
  const admin = adminClient(gateway.admin);

  const pinning =
    (PINNED
      ? 'load generator and upstream on core 0, each server under test alone on core 1 (taskset)'
      : 'not pinned (no taskset or one core)') + (SMOKE && PINNED ? '; smoke run: the gateways not pinned' : '');
  process.stdout.write(
    `load: ${LOAD_TOOL}, ${CONNECTIONS} connections, ${DURATION}s per run, ${cpus().length} cores, ${pinning}, node ${process.version}${SMOKE ? ', SMOKE run' : ''}\n\n`,
  );
  const targets: Target[] = [
    { name: 'upstream direct', url: `${upstreamUrl}/`, headers: {}, pid: upstream.child.pid },
    { name: BARE, url: `http://127.0.0.1:${bare.firstLine.trim()}/`, headers: {}, pid: bare.child.pid },
    {
      name: BARE_DISPATCH,
      url: `http://127.0.0.1:${bareDispatch.firstLine.trim()}/`,
      headers: {},
      pid: bareDispatch.child.pid,
    },
    ...(nginx ? [{ name: NGINX_NAME, url: `${nginx.url}/`, headers: {}, pid: nginx.child.pid }] : []),
    { name: FASTIFY_NAME, url: `http://127.0.0.1:${fastify.firstLine.trim()}/`, headers: {}, pid: fastify.child.pid },
  ];
  for (const scenario of SCENARIOS) {
    targets.push({
      name: scenario.name,
      url: `${gateway.proxy}/`,
      headers: await scenario.setup(admin, upstreamUrl),
      pid: gateway.pid,
    });
  }
  targets.push({
    name: 'gateway: route, no plugins, access log off',
    url: `${quiet.proxy}/`,
    headers: await SCENARIOS[0]!.setup(adminClient(quiet.admin), upstreamUrl),
    pid: quiet.pid,
  });
  targets.push({
    name: METRICS_OFF,
    url: `${uncounted.proxy}/`,
    headers: await SCENARIOS[0]!.setup(adminClient(uncounted.admin), upstreamUrl),
    pid: uncounted.pid,
  });
  const apikeyHeaders = targets.find((t) => t.name.includes('apikeys'))!.headers;
  targets.push({
    name: `gateway: route + apikeys (Basic), ${thousands(MANY_KEYS)} keys loaded`,
    url: `${many.proxy}/`,
    headers: apikeyHeaders,
    pid: many.pid,
  });
  const routeTargets = [
    ...manyRoutesTargets(FEW_ROUTES, fewRoutes.proxy, fewRoutes.pid),
    ...manyRoutesTargets(MANY_ROUTES, manyRoutes.proxy, manyRoutes.pid),
  ];
  const rssFew = rssMiB(gateway.pid);
  const rssMany = rssMiB(many.pid);
  const rssFewRoutes = rssMiB(fewRoutes.pid);
  const rssManyRoutes = rssMiB(manyRoutes.pid);
  const measured = await measureAll([...targets, ...routeTargets]);
  const results = measured.slice(0, targets.length);
  const routeResults = measured.slice(targets.length);
  const floor = results.find((r) => r.name === BARE)!;
  const plainRoute = results.find((r) => r.name === PLAIN_NAME)!;
  process.stdout.write('\nmedians:\n');
  for (const r of measured)
    process.stdout.write(
      `${r.name.padEnd(48)} ${r.requestsPerSecond.toFixed(0).padStart(8)} req/s   p50 ${r.p50Ms.toFixed(2)} ms   p99 ${r.p99Ms.toFixed(2)} ms   ${(r.requestsPerSecond / floor.requestsPerSecond).toFixed(2)}× bare   ${cpu(r)} µs CPU/req\n`,
    );

  process.stdout.write('\nclient credentials service:\n');
  const oauthTargets = (await setupOAuth(admin, gateway.proxy)).map((t) => ({ ...t, pid: gateway.pid }));
  const oauthResults = await measureAll(oauthTargets);
  const signRates = new Map<string, number>();
  const signCpu = new Map<string, number>();
  for (const alg of OAUTH_ALGORITHMS) {
    const [perSecond, cpuUs] = rawFigures(['sign', alg, '3', String(CONNECTIONS)]);
    signRates.set(alg, perSecond!);
    signCpu.set(alg, cpuUs!);
  }
  const oauthRows = oauthTargets.map((t, i) => {
    const r = oauthResults[i]!;
    const raw = t.alg ? signRates.get(t.alg)! : NaN;
    const rawCpu = t.alg ? signCpu.get(t.alg)! : NaN;
    // CPU per token against CPU per raw signature: the ratio that does not follow the scheduler.
    const signs = t.name.startsWith('token')
      ? `${raw.toFixed(0)} | ${(r.requestsPerSecond / raw).toFixed(2)}× | ${rawCpu.toFixed(0)} | ${(rawCpu / r.cpuUsPerRequest).toFixed(2)}×`
      : '— | — | — | —';
    return `| ${t.name} | ${r.requestsPerSecond.toFixed(0)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${cpu(r)} | ${signs} | ${r.errors} |`;
  });

  process.stdout.write('\njwt-verifier:\n');
  const jwt = await setupJwt(admin, gateway.proxy, upstreamUrl);
  const jwtResults = await measureAll(jwt.targets.map((t) => ({ ...t, pid: gateway.pid })));
  const verifyRates = new Map<string, number>();
  for (const alg of ['RS256', 'ES256'])
    verifyRates.set(
      alg,
      rawRate([
        'verify',
        alg,
        '3',
        String(CONNECTIONS),
        jwt.tokens[alg]!.token,
        JSON.stringify(jwt.tokens[alg]!.publicJwk),
      ]),
    );
  const vsPlain = (r: Measured) =>
    `${(r.requestsPerSecond / plainRoute.requestsPerSecond).toFixed(2)}× the no-plugin route`;
  const jwtRows = jwt.targets.map((t, i) => {
    const r = jwtResults[i]!;
    const comparison = t.cached
      ? vsPlain(r)
      : `${(r.requestsPerSecond / verifyRates.get(t.alg)!).toFixed(2)}× jose's raw verify rate (${verifyRates.get(t.alg)!.toFixed(0)}/s)`;
    return `| ${t.name} | ${r.requestsPerSecond.toFixed(0)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${cpu(r)} | ${comparison} | ${r.errors} |`;
  });

  process.stdout.write('\noauth2 and oauth2-introspection:\n');
  const tokenRoutes = await setupIntrospection(admin, gateway.proxy, upstreamUrl);
  const tokenRouteResults = await measureAll(
    [tokenRoutes.introspection, tokenRoutes.oauth2Route].map((t) => ({ ...t, pid: gateway.pid })),
  );
  const tokenRouteRows = tokenRouteResults.map(
    (r) =>
      `| ${r.name} | ${r.requestsPerSecond.toFixed(0)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${cpu(r)} | ${vsPlain(r)} | ${r.errors} |`,
  );

  const vsBare = (r: Measured) => r.requestsPerSecond / floor.requestsPerSecond;
  const rows = results.map(
    (r) =>
      `| ${r.name} | ${r.requestsPerSecond.toFixed(0)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${cpu(r)} | ${vsBare(r).toFixed(2)}× | ${(r.p99Ms / floor.p99Ms).toFixed(2)}× | ${r.errors} |`,
  );
  const routeRows = routeResults.map((r, i) => {
    const sameRequestFewRoutes = routeResults[i % 2]!;
    return `| ${r.name} | ${r.requestsPerSecond.toFixed(0)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${cpu(r)} | ${vsBare(r).toFixed(2)}× | ${(r.requestsPerSecond / sameRequestFewRoutes.requestsPerSecond).toFixed(2)}× | ${r.errors} |`;
  });
  // What the access log, the metrics and the API-key check cost the no-plugin route, on both measures.
  const costOf = (label: string, without: string, withIt: string) => {
    const a = results.find((r) => r.name === without)!;
    const b = results.find((r) => r.name === withIt)!;
    return `- **${label}**: ${fixed(b.cpuUsPerRequest)} vs ${fixed(a.cpuUsPerRequest)} CPU µs/req (${fixed((b.cpuUsPerRequest / a.cpuUsPerRequest - 1) * 100, 1)}%), ${(b.requestsPerSecond / a.requestsPerSecond).toFixed(2)}× the requests/s (\`${withIt}\` vs \`${without}\`)`;
  };
  const costLines = [
    costOf('Metrics (target ≤ 3%)', METRICS_OFF, PLAIN_NAME),
    costOf('Access log (target ≤ 5%)', 'gateway: route, no plugins, access log off', PLAIN_NAME),
    costOf('apikeys, Basic (target ≥ 0.95×)', PLAIN_NAME, 'gateway: route + apikeys (Basic)'),
  ];
  // Issue 24's targets for the default gateway, on both measures, against the bare proxy and the peers.
  const peer = (name: string) => results.find((r) => r.name === name);
  const versus = (label: string, other: Measured | undefined, target: string) =>
    other
      ? `- **vs ${label} (target ${target})**: ${(plainRoute.requestsPerSecond / other.requestsPerSecond).toFixed(2)}× its requests/s, ${(plainRoute.cpuUsPerRequest / other.cpuUsPerRequest).toFixed(2)}× its CPU µs/req, ${(plainRoute.p99Ms / other.p99Ms).toFixed(2)}× its p99`
      : `- **vs ${label}**: not measured`;
  costLines.unshift(
    versus('the bare proxy', floor, '≥ 0.95× req/s, ≤ 1.1× CPU, ≤ 1.1× p99'),
    versus('@fastify/http-proxy', peer(FASTIFY_NAME), '≥ 1.3× req/s'),
    versus('nginx, 1 worker', peer(NGINX_NAME), '≥ 0.6× req/s'),
  );
  const date = new Date().toISOString();
  const machine = `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}`;
  const settings = `${LOAD_TOOL}, ${CONNECTIONS} connections, ${DURATION} s per run${SMOKE ? '' : ' after a warm-up'}, the median of ${ROUNDS} interleaved round${ROUNDS > 1 ? 's' : ''}`;

  const sections: Section[] = [
    { id: 'proxy', results },
    { id: 'routes', results: routeResults },
    { id: 'client-credentials', results: oauthResults },
    { id: 'jwt-verifier', results: jwtResults },
    { id: 'oauth2', results: tokenRouteResults },
  ];
  const chartRows = [...results, ...routeResults, ...jwtResults, ...tokenRouteResults]
    .filter((r) => r.name !== 'upstream direct')
    .map((r) => ({ name: r.name, ratio: vsBare(r), cpuUsPerRequest: r.cpuUsPerRequest }));
  const json = {
    generatedAt: date,
    smoke: SMOKE,
    machine: {
      cores: cpus().length,
      cpuModel: cpus()[0]?.model ?? null,
      node: process.version,
      platform: process.platform,
    },
    load: { tool: LOAD_TOOL, connections: CONNECTIONS, durationSeconds: DURATION, rounds: ROUNDS },
    pinning: { pinned: PINNED, description: pinning },
    bareProxy: BARE,
    results: sections.flatMap((s) => s.results.map((r) => ({ section: s.id, ...r, vsBareProxy: vsBare(r) }))),
    rawCrypto: {
      signPerSecond: Object.fromEntries(signRates),
      signCpuUs: Object.fromEntries(signCpu),
      verifyPerSecond: Object.fromEntries(verifyRates),
    },
    startup: {
      fewKeys: { startMs: gateway.startMs, rssMiB: rssFew },
      manyKeys: { count: MANY_KEYS, startMs: many.startMs, rssMiB: rssMany },
      fewRoutes: { count: FEW_ROUTES, startMs: fewRoutes.startMs, rssMiB: rssFewRoutes },
      manyRoutes: { count: MANY_ROUTES, startMs: manyRoutes.startMs, rssMiB: rssManyRoutes },
    },
  };

  const doc = `# Benchmarks

Produced by \`npm run bench\` (${date.slice(0, 10)}): ${settings}, on ${machine}. The upstream and every server under test
(the bare proxy, nginx, @fastify/http-proxy, the gateways) run in their own process on loopback${
    PINNED
      ? `; the load generator and the upstream share core 0 and
each server under test runs alone on core 1 (\`taskset\`), so every proxy gets the same single core and the
ratios compare cost per core (without pinning, the scheduler moving processes between the two cores made
run-to-run noise larger than the differences measured)${SMOKE ? '. This smoke run starts the gateways unpinned' : ''}`
      : '; nothing is pinned: the load generator shares the same cores'
  }. Absolute numbers are low on this
machine; the ratios are what carries over. Raw numbers: [benchmarks.json](benchmarks.json).

![requests/s vs the bare proxy and server CPU per request](benchmarks.svg)

The **bare proxy** is the issue's reference, the usual way to write a Node.js proxy on undici: \`node:http\` + one undici \`Pool\` with
\`pool.stream()\`, hop-by-hop headers removed, nothing else. The gateway calls undici's dispatcher
directly (the request is its own handler), which costs less than \`pool.stream()\`; the second bare
proxy, written the same way, shows what that choice alone is worth. The gateway does everything the bare proxy
does plus route matching, forwarded headers, request ids, the compiled plugin pipeline and one JSON
access-log line per request (pino, level info), metrics and the dashboard's history on. Targets (issue 24):
≥ 0.95× the bare proxy's requests/s, ≤ 1.1× its CPU per request and ≤ 1.1× its p99. Peers measured the same way: Debian's **nginx** (\`worker_processes 1\`,
upstream keep-alive, access log off) and **@fastify/http-proxy** (Fastify, logging off, reply-from
over an undici pool).

**CPU µs/req** is the server's own CPU time per request: \`utime + stime\` of its process and of its
direct children (nginx's worker) read from \`/proc/<pid>/stat\` before and after each run, divided by the
requests the load generator completed. It does not depend on how busy the load generator's core is, so it
is steadier than requests/s on a shared machine.

| scenario | req/s | p50 ms | p99 ms | CPU µs/req | req/s vs bare | p99 vs bare | errors |
|---|---:|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}

${costLines.join('\n')}

On this shared 2-core VM, full runs a few minutes apart gave the no-plugin route between 0.67× and 0.99×
the bare proxy (the bare proxy itself moved between 6 400 and 8 700 req/s): compare several runs, not one
number.

## Route table size

Gateways started on data files with ${FEW_ROUTES} and ${MANY_ROUTES.toLocaleString('en')} routes (no plugins, access log off; the first is the
access-log-off gateway above, which also holds its no-plugin route): a third each
of exact hosts, wildcard hosts (\`*.w<i>.routes.bench\`) and path prefixes on one host (\`paths.routes.bench/p<i>\`).
Each request hits the binding the router tries last of its kind (the wildcard with the shortest suffix, the
shortest path prefix), the table's worst case.

| scenario | req/s | p50 ms | p99 ms | CPU µs/req | req/s vs bare | vs ${FEW_ROUTES} routes | errors |
|---|---:|---:|---:|---:|---:|---:|---:|
${routeRows.join('\n')}

| | ${FEW_ROUTES} routes | ${MANY_ROUTES.toLocaleString('en')} routes |
|---|---:|---:|
| start-up (spawn to listening) | ${fewRoutes.startMs.toFixed(0)} ms | ${manyRoutes.startMs.toFixed(0)} ms |
| RSS before the load | ${rssFewRoutes.toFixed(0)} MiB | ${rssManyRoutes.toFixed(0)} MiB |

## Client credentials service

Token issuance (\`POST /token\`, client_secret_post, one JWT signed per request) per algorithm, and
introspection, against jose's raw signing rate measured in the same run (a process on the proxy's core
signing with as many signatures in flight as the load has connections, WebCrypto using the thread pool
like the gateway). Target: ≥ 0.7× the raw rate, so that HTTP and credential checks do not dominate.
Both are pinned to the same core; \`vs raw\` compares requests/s with signatures/s, \`vs raw (CPU)\` the
raw process's CPU µs per signature (all its threads) with the gateway's CPU µs per token (from /proc,
its thread pool included): on a shared machine the second follows the code, the first the scheduler too.

| endpoint | req/s | p50 ms | p99 ms | CPU µs/req | jose raw sign/s | vs raw | jose raw CPU µs/sign | vs raw (CPU) | errors |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${oauthRows.join('\n')}

## JWT verifier

Routes with \`jwt-verifier\` (gateway tokens, a required scope) with and without the verified-token cache.
Targets: with the cache ≥ 0.95× the no-plugin route; without it, compared with jose's raw verification
rate for the same token in the same run.

| scenario | req/s | p50 ms | p99 ms | CPU µs/req | compared with | errors |
|---|---:|---:|---:|---:|---|---:|
${jwtRows.join('\n')}

## OAuth2 routes and introspection

A route with \`oauth2-introspection\` (Kyma's \`read\` rule) whose token's introspection response is
cached in the runtime state store (embedded LMDB here): each request reads the cached response and checks
it again. The identity provider is the gateway's own \`oauth2\` route, itself measured with the same opaque
token (looked up in the state store on every request). Target: ≥ 0.9× the no-plugin route.

| scenario | req/s | p50 ms | p99 ms | CPU µs/req | compared with | errors |
|---|---:|---:|---:|---:|---|---:|
${tokenRouteRows.join('\n')}

## API keys at scale

| | gateway with a few keys | gateway with ${MANY_KEYS.toLocaleString('en')} keys |
|---|---:|---:|
| start-up (spawn to listening) | ${gateway.startMs.toFixed(0)} ms | ${many.startMs.toFixed(0)} ms |
| RSS before the load | ${rssFew.toFixed(0)} MiB | ${rssMany.toFixed(0)} MiB |

Keys are looked up in the store's \`Map\` (O(1)) and indexed on first use. RSS is read once every
gateway has started, seconds after this one listened: ${(rssMany - rssFew).toFixed(0)} MiB more than the few-key gateway
(${(((rssMany - rssFew) * 1024 * 1024) / MANY_KEYS).toFixed(0)} bytes per key), most of it the young generation the load grew, which
the gateway gives back once it has been quiet ~7 s (the idle figure is in "100 000 keys" below, from
\`bench/keystore-probe.ts\`). The API-key target is ≥ 0.95× the requests/s of the same route without the plugin.

Run it yourself: \`npm run bench\` (installs nothing; uses \`wrk\` when present — \`apt-get install -y wrk\` —
and autocannon otherwise; nginx when \`/usr/sbin/nginx\` exists). \`BENCH_DURATION=30 npm run bench\` for longer runs.
`;
  const scaling = SMOKE || process.env.BENCH_SCALING === '0' ? '' : await measureScaling(upstreamUrl);
  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(join(OUT_DIR, 'benchmarks.md'), doc + scaling + '\n' + keptSections());
  writeFileSync(join(OUT_DIR, 'benchmarks.json'), JSON.stringify(json, null, 2) + '\n');
  writeFileSync(join(OUT_DIR, 'benchmarks.svg'), chartSvg(chartRows, `${settings}; ${machine}; ${pinning}`));
  await nginx?.stop();
  process.stdout.write(`\nwritten to ${join(OUT_DIR, 'benchmarks.md')}, benchmarks.json and benchmarks.svg\n`);
}

runMain('bench', main);
