/**
 * `requireHttps` and Kong's `acceptHttpIfAlreadyTerminated`: a TLS connection to the gateway
 * always counts; plain HTTP counts only when the route accepts TLS terminated by a trusted proxy
 * (`X-Forwarded-Proto: https` from `proxy.trustedProxies`), or when HTTPS is not required at all.
 */
import 'reflect-metadata';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRoute, route, startGateway, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import { PROVISION_KEY } from './fixtures.js';

const HTTPS_REFUSED = { error: 'invalid_request', error_description: 'This endpoint is only served over HTTPS' };

function httpsGet(url: string, ca: Buffer, host: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host, ...headers }, ca, agent: false, servername: 'localhost' }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

async function oauth2Routes(gw: TestGateway, upstream: Upstream): Promise<void> {
  const variants: Array<[string, Record<string, unknown>]> = [
    ['strict', {}],
    ['terminated', { acceptHttpIfAlreadyTerminated: true }],
    ['dev', { requireHttps: false }],
  ];
  for (const [id, extra] of variants) {
    await createRoute(
      gw,
      route(id, upstream.url, {
        frontend: { domains: [`${id}.test`] },
        plugins: [{ plugin: 'oauth2', config: { provisionKey: PROVISION_KEY, ...extra } }],
      }),
    );
  }
}

describe('Plugin: oauth2 (requireHttps, acceptHttpIfAlreadyTerminated)', () => {
  let gw: TestGateway;
  let untrusting: TestGateway;
  let upstream: Upstream;
  let dir: string;
  let ca: Buffer;

  before(async () => {
    upstream = await startUpstream(echo);
    dir = mkdtempSync(join(tmpdir(), 'portcullis-oauth2-tls-'));
    const certFile = join(dir, 'cert.pem');
    const keyFile = join(dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout',
        keyFile,
        '-out',
        certFile,
      ],
      { stdio: 'ignore' },
    );
    ca = readFileSync(certFile);
    gw = await startGateway({
      config: { proxy: { trustedProxies: ['127.0.0.1', '::1'], tls: { port: 0, certFile, keyFile } } },
    });
    untrusting = await startGateway();
    await oauth2Routes(gw, upstream);
    await oauth2Routes(untrusting, upstream);
  });
  after(async () => {
    await gw.close();
    await untrusting.close();
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const plain = (target: TestGateway, id: string, headers: Record<string, string> = {}) =>
    target.proxy('/api', { host: `${id}.test`, headers });

  it('refuses plain HTTP by default, even when a trusted proxy says it terminated TLS', async () => {
    for (const headers of [{}, { 'x-forwarded-proto': 'https' }] as Array<Record<string, string>>) {
      const res = await plain(gw, 'strict', headers);
      assert.equal(res.status, 400, res.text);
      assert.deepEqual(res.json(), HTTPS_REFUSED);
    }
  });

  it('serves a TLS connection to the gateway (401 asks for a token)', async () => {
    const httpsUrl = gw.gateway.proxyTlsServer
      ? `https://127.0.0.1:${(gw.gateway.proxyTlsServer.address() as { port: number }).port}`
      : '';
    assert.ok(httpsUrl);
    assert.equal(await httpsGet(`${httpsUrl}/api`, ca, 'strict.test'), 401);
  });

  it('refuses a TLS connection from a trusted proxy that says the client came over plain HTTP (one transport rule with the client-credentials sink)', async () => {
    const httpsUrl = `https://127.0.0.1:${(gw.gateway.proxyTlsServer!.address() as { port: number }).port}`;
    for (const id of ['strict', 'terminated']) {
      assert.equal(await httpsGet(`${httpsUrl}/api`, ca, `${id}.test`, { 'x-forwarded-proto': 'http' }), 400, id);
      assert.equal(await httpsGet(`${httpsUrl}/api`, ca, `${id}.test`, { 'x-forwarded-proto': 'https' }), 401, id);
    }
  });

  it('acceptHttpIfAlreadyTerminated: accepts plain HTTP that a trusted proxy marks https, only that', async () => {
    assert.equal((await plain(gw, 'terminated', { 'x-forwarded-proto': 'https' })).status, 401);
    assert.deepEqual((await plain(gw, 'terminated')).json(), HTTPS_REFUSED);
    assert.deepEqual((await plain(gw, 'terminated', { 'x-forwarded-proto': 'http' })).json(), HTTPS_REFUSED);
    // From a peer that is not a trusted proxy, the header is anyone's to send: ignored.
    assert.deepEqual((await plain(untrusting, 'terminated', { 'x-forwarded-proto': 'https' })).json(), HTTPS_REFUSED);
  });

  it('requireHttps: false serves plain HTTP (development)', async () => {
    assert.equal((await plain(untrusting, 'dev')).status, 401);
  });
});
