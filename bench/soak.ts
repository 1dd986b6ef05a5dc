/**
 * `npm run soak` (not in CI): a gateway process and an upstream process on loopback, mixed traffic
 * for a long time (plain route, API keys, jwt-verifier, the token endpoint, admin writes) at
 * bounded concurrency, and the gateway's RSS and open file descriptors sampled every few seconds
 * from /proc. Prints a table and a verdict (growth between the first and last thirds), and writes
 * the figures as JSON.
 *
 *   npm run soak                      # 10 minutes
 *   npm run soak -- --minutes 2       # or SOAK_MINUTES=2
 *   SOAK_CONCURRENCY=16 SOAK_SAMPLE_SECONDS=5 SOAK_OUT=/tmp/soak.json npm run soak
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { gatewayNodeFlags } from '../bin/launch-flags.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const ROOT = resolve(here, '../..');
const ADMIN_PASSWORD = 'soak-admin-password-0123456789';
const SECRET = 'soak-client-secret-0123456789';

function option(name: string, env: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const raw = i !== -1 ? process.argv[i + 1] : process.env[env];
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} / ${env} must be a positive number`);
  return value;
}

const MINUTES = option('minutes', 'SOAK_MINUTES', 10);
const CONCURRENCY = option('concurrency', 'SOAK_CONCURRENCY', 8);
const SAMPLE_SECONDS = option('sample-seconds', 'SOAK_SAMPLE_SECONDS', 5);
const OUT = process.env.SOAK_OUT ?? join(tmpdir(), `portcullis-soak-${Date.now()}.json`);

const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

async function startUpstream(): Promise<string> {
  const child = spawn(process.execPath, [join(here, 'upstream.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const port = await new Promise<string>((resolvePort) =>
    child.stdout!.once('data', (d: Buffer) => resolvePort(String(d).trim())),
  );
  return `http://127.0.0.1:${port}`;
}

async function startGateway(dir: string): Promise<{ proxy: string; admin: string; pid: number }> {
  const logFile = join(dir, 'gateway.log');
  const child = spawn(process.execPath, [...gatewayNodeFlags(), join(ROOT, 'dist/bin/portcullis.js')], {
    env: {
      ...process.env,
      PORTCULLIS_PROXY_PORT: '0',
      PORTCULLIS_ADMIN_PORT: '0',
      PORTCULLIS_DATA_FILE: join(dir, 'data.json'),
      PORTCULLIS_ADMIN_PASSWORD: ADMIN_PASSWORD,
      PORTCULLIS_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', openSync(logFile, 'w'), 'inherit'],
  });
  children.push(child);
  const output = () => readFileSync(logFile, 'utf8');
  for (let i = 0; i < 2400 && !/Admin API/.test(output()); i++) await new Promise((r) => setTimeout(r, 25));
  const proxy = /Proxy\s+(http:\/\/\S+)/.exec(output())?.[1];
  const admin = /Admin API\s+(http:\/\/\S+)\/api/.exec(output())?.[1];
  if (!proxy || !admin) throw new Error(`the gateway did not start: ${output()}`);
  return { proxy, admin, pid: child.pid! };
}

interface Sample {
  seconds: number;
  rssMiB: number;
  fds: number;
  requests: number;
  errors: number;
}

function sample(pid: number, started: number, requests: number, errors: number): Sample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssMiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
  return {
    seconds: Math.round((Date.now() - started) / 1000),
    rssMiB: Math.round(rssMiB * 10) / 10,
    fds: readdirSync(`/proc/${pid}/fd`).length,
    requests,
    errors,
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-soak-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const upstreamUrl = await startUpstream();
  const gw = await startGateway(dir);
  const adminPool = new Pool(gw.admin, { connections: 2 });
  const proxyPool = new Pool(gw.proxy, { connections: CONCURRENCY });
  const authorization = 'Basic ' + Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64');
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await adminPool.request({
      method: method as 'GET',
      path,
      headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`${method} ${path}: ${res.statusCode} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
  const route = (id: string, domain: string, plugins: unknown[]) => ({
    id,
    name: id,
    frontend: { domains: [domain] },
    backend: { targets: [{ url: upstreamUrl }] },
    plugins,
  });
  const global = await admin('GET', '/api/global-config');
  await admin('PUT', '/api/global-config', {
    ...global,
    plugins: [{ plugin: 'client-credentials', config: { secure: false } }],
  });
  await admin('POST', '/api/routes', route('plain', 'plain.soak', []));
  await admin('POST', '/api/routes', route('keys', 'keys.soak', [{ plugin: 'apikeys', config: {} }]));
  await admin('POST', '/api/jwt-verifiers', {
    id: 'gateway',
    name: 'Gateway tokens',
    keys: { kind: 'keypairs' },
    algorithms: ['RS256'],
    typ: 'at+jwt',
  });
  await admin(
    'POST',
    '/api/routes',
    route('jwt', 'jwt.soak', [{ plugin: 'jwt-verifier', config: { verifiers: ['gateway'] } }]),
  );
  await admin('POST', '/api/apikeys', {
    clientId: 'soak',
    clientSecret: SECRET,
    clientName: 'Soak',
    scopes: ['read'],
    authorizedEntities: ['keys'],
  });

  const tokenBody = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: 'soak',
    client_secret: SECRET,
  }).toString();
  const getToken = async () => {
    const res = await proxyPool.request({
      method: 'POST',
      path: '/.well-known/otoroshi/oauth/token',
      headers: { host: 'keys.soak', 'content-type': 'application/x-www-form-urlencoded' },
      body: tokenBody,
    });
    return (JSON.parse(await res.body.text()) as { access_token: string }).access_token;
  };
  let token = await getToken();
  const basic = 'Basic ' + Buffer.from(`soak:${SECRET}`).toString('base64');

  let requests = 0;
  let errors = 0;
  let n = 0;
  /** One request of the mix: mostly proxied traffic, some token requests, a few admin writes. */
  async function one(): Promise<void> {
    const k = n++ % 100;
    let status: number;
    if (k < 40)
      status = await proxyPool
        .request({ method: 'GET', path: '/items', headers: { host: 'plain.soak' } })
        .then(async (r) => {
          await r.body.dump();
          return r.statusCode;
        });
    else if (k < 65)
      status = await proxyPool
        .request({ method: 'GET', path: '/items', headers: { host: 'keys.soak', authorization: basic } })
        .then(async (r) => {
          await r.body.dump();
          return r.statusCode;
        });
    else if (k < 90)
      status = await proxyPool
        .request({ method: 'GET', path: '/items', headers: { host: 'jwt.soak', authorization: `Bearer ${token}` } })
        .then(async (r) => {
          await r.body.dump();
          return r.statusCode;
        });
    else if (k < 97) {
      token = await getToken();
      status = 200;
    } else {
      // Admin writes: a route created then deleted, and an API key updated (the store rewrites its file).
      const id = `churn-${n}`;
      await admin('POST', '/api/routes', route(id, `${id}.soak`, []));
      await admin('DELETE', `/api/routes/${id}`);
      const { version: _version, ...key } = await admin('GET', '/api/apikeys/soak');
      // Without its version: concurrent workers update the same key, last write wins.
      await admin('PUT', '/api/apikeys/soak', { ...key, description: `updated ${n}` });
      status = 200;
    }
    requests++;
    if (status >= 400) errors++;
  }

  const started = Date.now();
  const deadline = started + MINUTES * 60_000;
  const samples: Sample[] = [sample(gw.pid, started, 0, 0)];
  console.log(
    `soak: ${MINUTES} min, concurrency ${CONCURRENCY}, gateway pid ${gw.pid}, sampling every ${SAMPLE_SECONDS} s`,
  );
  console.log('   t (s)   RSS (MiB)   fds   requests   errors');
  const print = (s: Sample) =>
    console.log(
      `${String(s.seconds).padStart(8)}  ${s.rssMiB.toFixed(1).padStart(10)}  ${String(s.fds).padStart(4)}  ${String(s.requests).padStart(9)}  ${String(s.errors).padStart(7)}`,
    );
  print(samples[0]!);
  const timer = setInterval(() => {
    const s = sample(gw.pid, started, requests, errors);
    samples.push(s);
    print(s);
  }, SAMPLE_SECONDS * 1000);
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < deadline) {
        try {
          await one();
        } catch (error) {
          errors++;
          if (errors < 5) console.error(`request failed: ${(error as Error).message}`);
        }
      }
    }),
  );
  clearInterval(timer);
  samples.push(sample(gw.pid, started, requests, errors));
  print(samples.at(-1)!);

  // Growth compares the means of the first and last thirds, after a warm-up sample.
  const steady = samples.slice(1);
  const third = Math.max(1, Math.floor(steady.length / 3));
  const mean = (xs: Sample[], f: (s: Sample) => number) => xs.reduce((a, s) => a + f(s), 0) / xs.length;
  const rssGrowth = mean(steady.slice(-third), (s) => s.rssMiB) - mean(steady.slice(0, third), (s) => s.rssMiB);
  const fdGrowth = mean(steady.slice(-third), (s) => s.fds) - mean(steady.slice(0, third), (s) => s.fds);
  const seconds = (Date.now() - started) / 1000;
  const rssOk = rssGrowth < 20;
  const fdOk = fdGrowth < 5;
  const verdict = rssOk && fdOk && errors === 0 ? 'PASS' : 'CHECK';
  const summary = {
    minutes: MINUTES,
    concurrency: CONCURRENCY,
    requests,
    errors,
    requestsPerSecond: Math.round(requests / seconds),
    rssGrowthMiB: Math.round(rssGrowth * 10) / 10,
    fdGrowth: Math.round(fdGrowth * 10) / 10,
    rssMaxMiB: Math.max(...samples.map((s) => s.rssMiB)),
    fdMax: Math.max(...samples.map((s) => s.fds)),
    verdict,
  };
  console.log(`\n${requests} requests (${summary.requestsPerSecond}/s), ${errors} errors`);
  console.log(
    `RSS growth (last third − first third): ${summary.rssGrowthMiB} MiB ${rssOk ? 'ok' : '(over 20 MiB)'}; max ${summary.rssMaxMiB} MiB`,
  );
  console.log(`fd growth: ${summary.fdGrowth} ${fdOk ? 'ok' : '(over 5)'}; max ${summary.fdMax}`);
  console.log(`verdict: ${verdict}`);
  writeFileSync(OUT, JSON.stringify({ summary, samples }, null, 2) + '\n');
  console.log(`figures written to ${OUT}`);
  await proxyPool.close();
  await adminPool.close();
  process.exit(verdict === 'PASS' ? 0 : 1);
}

main().catch((error) => {
  console.error(error);
  process.exit(2);
});
