import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { startGateway, createRoute, route, type TestGateway } from '../helpers/gateway.js';
import type { Received } from '../helpers/upstream.js';
import { testPki, certificateAuthority, issueCertificate, type TestPki, type Pem } from '../helpers/certificates.js';

describe('Upstream TLS: mutual TLS to an upstream that requires a client certificate', () => {
  let dir: string;
  let pki: TestPki;
  let otherCa: Pem;
  let strangerClient: Pem;
  let upstream: Server;
  let upstreamUrl: string;
  let gw: TestGateway;
  let handshakes = 0;
  const received: Received[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-mtls-'));
    pki = testPki(dir);
    otherCa = certificateAuthority(dir, 'other-ca');
    strangerClient = issueCertificate(dir, otherCa, 'stranger', 'stranger', 'extendedKeyUsage=clientAuth\n');
    // Refuses any client without a certificate signed by the test CA (the handshake fails).
    upstream = createServer(
      { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert, requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, bodyBytes: 0, body: '' });
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ client: peer.subject?.CN ?? null, url: req.url }));
      },
    );
    upstream.on('secureConnection', () => {
      handshakes++;
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    upstreamUrl = `https://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    gw = await startGateway();
  });
  after(async () => {
    await gw.close();
    upstream.closeAllConnections();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  const withTls = (id: string, tls: Record<string, unknown>, targetTls?: Record<string, unknown>) =>
    route(id, upstreamUrl, {
      frontend: { domains: [`${id}.test`] },
      backend: { tls, ...(targetTls ? { targets: [{ url: upstreamUrl, tls: targetTls }] } : {}) },
    });

  it("200 with the client certificate and key (inline PEM): the upstream sees the gateway's certificate", async () => {
    await createRoute(gw, withTls('mtls', { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key }));
    const res = await gw.proxy('/orders', { host: 'mtls.test' });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json(), { client: 'portcullis-gateway', url: '/orders' });
  });

  it('200 with the PEM given as file paths', async () => {
    await createRoute(
      gw,
      withTls('mtls-files', {
        ca: pki.ca.certFile,
        cert: pki.client.certFile,
        key: pki.client.keyFile,
        servername: 'localhost',
      }),
    );
    const res = await gw.proxy('/', { host: 'mtls-files.test' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json().client, 'portcullis-gateway');
  });

  it('502 JSON without a client certificate: the upstream refuses the handshake', async () => {
    await createRoute(gw, withTls('no-client-cert', { ca: pki.ca.cert }));
    const res = await gw.proxy('/', { host: 'no-client-cert.test' });
    assert.equal(res.status, 502, res.text);
    assert.equal(res.json().error, 'bad_gateway');
  });

  it('502 JSON with a client certificate from a CA the upstream does not trust', async () => {
    await createRoute(gw, withTls('stranger', { ca: pki.ca.cert, cert: strangerClient.cert, key: strangerClient.key }));
    const res = await gw.proxy('/', { host: 'stranger.test' });
    assert.equal(res.status, 502, res.text);
    assert.equal(res.json().error, 'bad_gateway');
  });

  it("502 JSON when the upstream's certificate is not signed by the configured CA, before any request is sent", async () => {
    const before = handshakes;
    await createRoute(gw, withTls('wrong-ca', { ca: otherCa.cert, cert: pki.client.cert, key: pki.client.key }));
    const res = await gw.proxy('/', { host: 'wrong-ca.test' });
    assert.equal(res.status, 502, res.text);
    assert.equal(res.json().error, 'bad_gateway');
    assert.equal(handshakes, before, 'the gateway aborted the handshake');
  });

  it("a target's tls replaces the route's: the right settings on the target win over a wrong CA on the route", async () => {
    await createRoute(
      gw,
      withTls('per-target', { ca: otherCa.cert }, { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key }),
    );
    const res = await gw.proxy('/', { host: 'per-target.test' });
    assert.equal(res.status, 200, res.text);
  });

  it('writes are checked: a key that does not match the certificate, an unreadable file, a certificate without key, bad PEM, tls on http', async () => {
    const cases: Array<[Record<string, unknown>, string, string?]> = [
      [{ cert: pki.client.cert, key: strangerClient.key }, '/backend/tls/key'],
      [{ ca: join(dir, 'missing.pem') }, '/backend/tls/ca'],
      [{ cert: pki.client.cert }, '/backend/tls/key'],
      [{ ca: '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n' }, '/backend/tls/ca'],
      [
        { cert: pki.client.cert, key: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' },
        '/backend/tls/key',
      ],
      [{ ca: pki.ca.cert }, '/backend/targets/0/url', 'http://127.0.0.1:1'],
    ];
    for (const [tls, path, url] of cases) {
      const body = route('bad-tls', url ?? upstreamUrl, { frontend: { domains: ['bad-tls.test'] }, backend: { tls } });
      const res = await gw.admin('POST', '/api/routes', body);
      assert.equal(res.status, 400, `${path}: ${res.text}`);
      assert.ok(
        res.json().details.some((d: { path: string }) => d.path === path),
        `${path} in ${res.text}`,
      );
      assert.ok(!res.text.includes(strangerClient.key.split('\n')[1]!), 'a problem never quotes the key');
    }
  });

  it('the inline private key is never shown: reads and exports omit it, an update without it keeps it, logs never contain it', async () => {
    const read = await gw.admin('GET', '/api/routes/mtls');
    assert.equal(read.status, 200);
    const shown = read.json();
    assert.equal(shown.backend.tls.key, undefined);
    assert.equal(shown.backend.tls.cert, pki.client.cert);
    assert.equal(
      (await gw.admin('GET', '/api/routes/mtls-files')).json().backend.tls.key,
      pki.client.keyFile,
      'a file path is not a secret',
    );
    const exported = await gw.admin('GET', '/api/export');
    assert.ok(!exported.text.includes(pki.client.key.split('\n')[1]!));
    const full = await gw.admin('GET', '/api/export?includePrivateKeys=true');
    assert.ok(full.text.includes(pki.client.key.split('\n')[1]!), 'a backup with private keys keeps it');
    // Read, edit, write back: the key stays.
    const updated = await gw.admin('PUT', '/api/routes/mtls', { ...shown, description: 'edited' });
    assert.equal(updated.status, 200, updated.text);
    assert.equal(updated.json().backend.tls.key, undefined);
    assert.equal((await gw.proxy('/', { host: 'mtls.test' })).status, 200);
    // A new certificate needs its key.
    const current = updated.json();
    const swapped = await gw.admin('PUT', '/api/routes/mtls', {
      ...current,
      backend: { ...current.backend, tls: { ...current.backend.tls, cert: strangerClient.cert } },
    });
    assert.equal(swapped.status, 400, swapped.text);
    assert.ok(!JSON.stringify(gw.logs).includes(pki.client.key.split('\n')[1]!));
  });
});
