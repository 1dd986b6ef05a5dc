import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:https';
import { decodeJwt } from 'jose';
import { startGateway, createRoute, route, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';
import { SECRET } from '../plugins/client-credentials/fixtures.js';

/** A self-signed certificate for 127.0.0.1 and localhost, made with the system's openssl. */
function selfSigned(dir: string): { certFile: string; keyFile: string } {
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
  return { certFile, keyFile };
}

function httpsSend(
  url: string,
  ca: Buffer,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers, ca, agent: false }, (res) => {
      let text = '';
      res.on('data', (c) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('Proxy over HTTPS (proxy.tls)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let dir: string;
  let ca: Buffer;
  let httpsUrl: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-tls-'));
    const tls = selfSigned(dir);
    ca = readFileSync(tls.certFile);
    upstream = await startUpstream(echo);
    gw = await startGateway({ config: { proxy: { tls: { port: 0, ...tls } } } });
    httpsUrl = `https://localhost:${(gw.gateway.proxyTlsServer!.address() as { port: number }).port}`;
    const global = (await gw.admin('GET', '/api/global-config')).json();
    assert.equal(
      (await gw.admin('PUT', '/api/global-config', { ...global, plugins: [{ plugin: 'client-credentials' }] })).status,
      200,
    ); // secure: true, the default
    await createRoute(
      gw,
      route('tls', upstream.url, {
        frontend: { domains: ['localhost'] },
        plugins: [
          {
            plugin: 'apikeys',
            config: { extractors: { basic: { enabled: false }, customHeaders: { enabled: false } } },
          },
        ],
      }),
    );
    assert.equal(
      (
        await gw.admin('POST', '/api/apikeys', {
          clientId: 'tls-client',
          clientSecret: SECRET,
          clientName: 'TLS',
          authorizedEntities: ['tls'],
        })
      ).status,
      201,
    );
  });
  after(async () => {
    await gw.close();
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the token endpoint over HTTPS with secure on, and forwards X-Forwarded-Proto: https', async () => {
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: 'tls-client',
      client_secret: SECRET,
    }).toString();
    const token = await httpsSend(`${httpsUrl}/.well-known/otoroshi/oauth/token`, ca, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    assert.equal(token.status, 200, token.text);
    const accessToken = JSON.parse(token.text).access_token;
    // No proxy.publicUrl configured: the issuer is the HTTPS listener's address, not the request's Host.
    assert.equal(decodeJwt(accessToken).iss, httpsUrl.replace('localhost', '127.0.0.1'));
    const called = await httpsSend(`${httpsUrl}/hello`, ca, { headers: { authorization: `Bearer ${accessToken}` } });
    assert.equal(called.status, 200);
    assert.equal(JSON.parse(called.text).headers['x-forwarded-proto'], 'https');
    const plain = await gw.proxy('/.well-known/otoroshi/oauth/token', {
      host: 'localhost',
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    assert.equal(plain.status, 400, 'the plain HTTP listener refuses it');
  });
});
