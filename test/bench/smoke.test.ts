/**
 * `npm run bench` keeps working: the script runs in its smoke mode (1 s per scenario, one round, a
 * thousand keys and routes, output to a temporary directory) and every scenario it documents, peers
 * included, is measured with requests answered, in the JSON, the table and the chart.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasNginx } from '../../bench/nginx.js';

const SCRIPT = fileURLToPath(new URL('../../bench/run.js', import.meta.url));

const EXPECTED = [
  'upstream direct',
  'bare proxy',
  'bare proxy on undici dispatch',
  '@fastify/http-proxy',
  'gateway: route, no plugins',
  'gateway: route + headers + cors',
  'gateway: route + apikeys (Basic)',
  'gateway: route + ip-restriction',
  'gateway: route, no plugins, access log off',
  'gateway: route, no plugins, metrics off',
  'gateway: route + apikeys (Basic), 1k keys loaded',
  'gateway: 10 routes, wildcard host',
  'gateway: 10 routes, path prefix',
  'gateway: 1k routes, wildcard host',
  'gateway: 1k routes, path prefix',
  'token endpoint, RS256',
  'token endpoint, ES256',
  'token endpoint, EdDSA',
  'introspection (ES256 token)',
  'jwt-verifier RS256, cache',
  'jwt-verifier RS256, no cache',
  'jwt-verifier ES256, cache',
  'jwt-verifier ES256, no cache',
  'gateway: route + oauth2-introspection, warm cache',
  'gateway: route + oauth2 (opaque token)',
  ...(hasNginx() ? ['nginx'] : []),
];

interface Result {
  section: string;
  name: string;
  requests: number;
  errors: number;
  requestsPerSecond: number;
  cpuUsPerRequest: number | null;
}

function runSmoke(outDir: string): Promise<{ code: number | null; output: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, BENCH_SMOKE: '1', BENCH_OUT_DIR: outDir };
  // A developer's own knobs must not turn the smoke run into a long one.
  for (const knob of ['BENCH_DURATION', 'BENCH_ROUNDS', 'BENCH_CONNECTIONS', 'BENCH_SCALING']) delete env[knob];
  const child = spawn(process.execPath, [SCRIPT], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk;
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk;
  });
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, output })));
}

/** Opening and closing tags nest: the chart is well-formed markup, not a string cut short. */
function assertBalanced(svg: string): void {
  const stack: string[] = [];
  for (const match of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = match;
    if (selfClosing) continue;
    if (closing) assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    else stack.push(name!);
  }
  assert.deepEqual(stack, [], 'every element is closed');
}

describe('npm run bench, smoke mode', () => {
  let outDir: string;
  let run: { code: number | null; output: string };
  before(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'portcullis-bench-smoke-'));
    run = await runSmoke(outDir);
  });
  after(() => rmSync(outDir, { recursive: true, force: true }));

  it('runs to the end and writes the table, the raw JSON and the chart', () => {
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /written to/);
  });

  it('measures every scenario, the peers included, with requests answered and most of them successfully', () => {
    const json = JSON.parse(readFileSync(join(outDir, 'benchmarks.json'), 'utf8')) as {
      smoke: boolean;
      results: Result[];
      pinning: { description: string };
      machine: { cores: number };
    };
    assert.equal(json.smoke, true);
    assert.ok(json.machine.cores >= 1);
    assert.ok(json.pinning.description.length > 0);
    for (const expected of EXPECTED) {
      const found = json.results.filter((r) => r.name.includes(expected));
      assert.ok(found.length > 0, `no result for ${expected}: ${json.results.map((r) => r.name).join(', ')}`);
      for (const r of found) {
        assert.ok(r.requests > 0, `${r.name}: no requests`);
        // A scenario set up wrong answers 401/403/404 to everything: errors would be all the requests.
        assert.ok(r.errors < r.requests / 2, `${r.name}: ${r.errors} errors in ${r.requests} requests`);
      }
    }
    if (process.platform === 'linux') {
      for (const r of json.results)
        assert.ok(
          typeof r.cpuUsPerRequest === 'number' && r.cpuUsPerRequest >= 0,
          `${r.name}: CPU time per request ${r.cpuUsPerRequest}`,
        );
    }
  });

  it('writes a table naming every scenario, linking the JSON and the chart', () => {
    const doc = readFileSync(join(outDir, 'benchmarks.md'), 'utf8');
    for (const expected of EXPECTED)
      assert.ok(doc.includes(`| ${expected}`) || doc.includes(expected), `the table lacks ${expected}`);
    assert.match(doc, /\(benchmarks\.json\)/);
    assert.match(doc, /!\[[^\]]*\]\(benchmarks\.svg\)/);
    assert.match(doc, /CPU µs\/req/);
  });

  it('draws the chart as well-formed SVG with one labelled row per proxied scenario', () => {
    const svg = readFileSync(join(outDir, 'benchmarks.svg'), 'utf8');
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(svg.trimEnd(), /<\/svg>$/);
    assertBalanced(svg);
    for (const name of [
      'bare proxy',
      '@fastify/http-proxy',
      'gateway: route + ip-restriction',
      'gateway: 1k routes, path prefix',
    ]) {
      assert.ok(svg.includes(name.replace('&', '&amp;')), `the chart lacks ${name}`);
    }
    assert.ok(!svg.includes('NaN'), 'no NaN coordinates');
  });
});
