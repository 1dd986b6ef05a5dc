/**
 * The README's OAuth2 walkthrough runs with bash, as a reader pastes it, against a test gateway:
 * only the documented origins are replaced by the test servers'.
 */
import 'reflect-metadata';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway, ADMIN_PASSWORD, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import { parseExposition } from '../../helpers/prometheus.js';

const README = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8');

function walkthrough(): string {
  const start = README.indexOf('## Users: the OAuth2 authorization code walkthrough');
  const block = /```sh\n([\s\S]*?)```/.exec(README.slice(start));
  assert.ok(start >= 0 && block, 'the README has the OAuth2 walkthrough');
  return block[1]!;
}

function run(script: string, cwd: string, env: Record<string, string>): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', script], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let out = '';
    child.stdout.on('data', (c) => { out += c; });
    child.stderr.on('data', (c) => { out += c; });
    child.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
}

describe('Plugin: oauth2 (README walkthrough)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  const cwd = mkdtempSync(join(tmpdir(), 'portcullis-oauth2-readme-'));

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await startGateway();
  });
  after(async () => {
    await gw.close();
    await upstream.close();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('runs the tutorial as written: the upstream sees the user, the revoked token is refused', async () => {
    const proxyPort = new URL(gw.proxyUrl).port;
    const script = 'set -euo pipefail\n' + walkthrough()
      .replaceAll('http://localhost:8080', `http://localhost:${proxyPort}`)
      .replaceAll('http://127.0.0.1:9080', gw.adminUrl)
      .replaceAll('http://127.0.0.1:3000', upstream.url);
    const { code, out } = await run(script, cwd, { PORTCULLIS_PW: ADMIN_PASSWORD });
    assert.equal(code, 0, out);
    assert.match(out, /https:\/\/shoefly\.example\/callback\?code=[\w-]+&state=xyz/);
    const statuses = [...out.matchAll(/^HTTP\/1\.1 (\d+)/gm)].map((m) => m[1]);
    assert.deepEqual(statuses, ['200', '401', '401']);
    assert.match(out, /"refresh_token":/);
    assert.match(out, /"active":true/);
    assert.match(out, /error="invalid_token"/);
    const metadata = JSON.parse(out.slice(out.lastIndexOf('{"issuer"')).split('\n')[0]!);
    assert.equal(metadata.issuer, `http://localhost:${proxyPort}/stepon`);
    assert.equal(metadata.token_endpoint, `http://localhost:${proxyPort}/stepon/oauth2/token`);
    assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
    const seen = upstream.received.find((r) => r.headers['x-authenticated-userid'] === 'alice');
    assert.ok(seen, 'the upstream saw alice');
    assert.equal(seen.headers['x-consumer-id'], 'shoefly');
    assert.equal(seen.headers['x-consumer-username'], 'Shoe Fly Shoe');
    assert.equal(seen.headers['x-authenticated-scope'], 'email');
    // what the walkthrough did, as Prometheus sees it
    const metrics = parseExposition((await gw.admin('GET', '/metrics')).text);
    assert.equal(metrics.value('portcullis_tokens_issued_total', { plugin: 'oauth2', grant_type: 'authorization_code' }), 1);
    assert.ok(metrics.value('portcullis_tokens_issued_total', { plugin: 'oauth2', grant_type: 'refresh_token' }) >= 1);
    assert.equal(metrics.value('portcullis_token_introspections_total', { plugin: 'oauth2', active: 'true' }), 1);
    assert.equal(metrics.value('portcullis_token_revocations_total', { plugin: 'oauth2' }), 1);
  });
});
