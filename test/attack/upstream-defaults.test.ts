/**
 * Attack: an impostor upstream (a self-signed certificate, or a trusted one for another name) on
 * an `https` target, as an attacker who can redirect the gateway's traffic would present. The
 * gateway's defaults must fail closed — 502 JSON, no request written to the impostor, so neither
 * the client's request nor the token `upstream-jwt` adds leaks — unless the route says whom to
 * trust (`tls.ca`, `tls.servername`) or turns verification off explicitly.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { startGateway, createRoute, route, type TestGateway } from '../helpers/gateway.js';
import { certificateAuthority, issueCertificate, type Pem } from '../helpers/certificates.js';

interface TlsUpstream {
  url: string;
  requests: Array<{ url: string; headers: Record<string, unknown> }>;
  handshakes: () => number;
  close(): Promise<void>;
}

async function startTlsUpstream(identity: { cert: string; key: string }): Promise<TlsUpstream> {
  const requests: TlsUpstream['requests'] = [];
  let handshakes = 0;
  const server: Server = createServer(identity, (req, res) => {
    requests.push({ url: req.url ?? '', headers: req.headers });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  server.on('secureConnection', () => {
    handshakes++;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    handshakes: () => handshakes,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A self-signed certificate that names 127.0.0.1 correctly: only the trust is missing. */
function selfSigned(dir: string): Pem {
  const certFile = join(dir, 'self.pem');
  const keyFile = join(dir, 'self.key');
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
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  return { certFile, keyFile, cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
}

describe('Attack: impostor upstreams against the TLS defaults (rejectUnauthorized) and upstream-jwt', () => {
  let dir: string;
  let ca: Pem;
  let selfSignedPem: Pem;
  let impostor: TlsUpstream;
  let misnamed: TlsUpstream;
  let gw: TestGateway;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-impostor-'));
    selfSignedPem = selfSigned(dir);
    ca = certificateAuthority(dir, 'trusted-ca');
    const otherName = issueCertificate(
      dir,
      ca,
      'other-name',
      'other.example',
      'subjectAltName=DNS:other.example\nextendedKeyUsage=serverAuth\n',
    );
    impostor = await startTlsUpstream(selfSignedPem);
    misnamed = await startTlsUpstream(otherName);
    gw = await startGateway({ logLevel: 'silent' });
  });
  after(async () => {
    await gw.close();
    await impostor.close();
    await misnamed.close();
    rmSync(dir, { recursive: true, force: true });
  });

  let routes = 0;
  /** A route to `url` with `backend` settings, answering on its own host; the response to `GET /`. */
  async function through(
    url: string,
    backend: Record<string, unknown>,
    plugins: unknown[] = [],
    targetTls?: Record<string, unknown>,
  ) {
    const id = `r${++routes}`;
    await createRoute(
      gw,
      route(id, url, {
        frontend: { domains: [`${id}.test`] },
        backend: { ...backend, ...(targetTls ? { targets: [{ url, tls: targetTls }] } : {}) },
        plugins,
      }),
    );
    return gw.proxy('/secret-path?token=client-data', {
      host: `${id}.test`,
      headers: { authorization: 'Bearer client-credential' },
    });
  }

  function assertFailedClosed(
    res: { status: number; headers: Record<string, unknown>; text: string; json(): any },
    upstream: TlsUpstream,
    requestsBefore: number,
    why: string,
  ): void {
    assert.equal(res.status, 502, `${why}: ${res.text}`);
    assert.match(String(res.headers['content-type']), /json/, why);
    assert.equal(typeof res.json().error, 'string', why);
    assert.doesNotMatch(res.text, /\bat \w+ \(|node:internal/, `${why}: no stack trace`);
    assert.equal(upstream.requests.length, requestsBefore, `${why}: a request reached the impostor`);
  }

  it('a self-signed upstream without any tls settings: 502 JSON, nothing sent after the handshake', async () => {
    const before = impostor.requests.length;
    const handshakes = impostor.handshakes();
    assertFailedClosed(await through(impostor.url, {}), impostor, before, 'no tls');
    assert.ok(impostor.handshakes() >= handshakes, 'the gateway did try to connect');
  });

  it('an empty tls object keeps the default (verification on): 502', async () => {
    const before = impostor.requests.length;
    assertFailedClosed(await through(impostor.url, { tls: {} }), impostor, before, 'tls {}');
    assertFailedClosed(
      await through(impostor.url, { tls: { servername: 'localhost' } }),
      impostor,
      before,
      'only a servername',
    );
  });

  it('upstream-jwt on a self-signed upstream: 502, the signed token is never written to it', async () => {
    const before = impostor.requests.length;
    const res = await through(impostor.url, {}, [{ plugin: 'upstream-jwt', config: {} }]);
    assertFailedClosed(res, impostor, before, 'upstream-jwt');
  });

  it('a certificate from a trusted CA for another name: 502 (the name is checked, not only the signature)', async () => {
    const before = misnamed.requests.length;
    assertFailedClosed(await through(misnamed.url, { tls: { ca: ca.cert } }), misnamed, before, 'wrong name');
  });

  it("a target's own tls replaces the route's: an empty target tls drops the route's CA and fails closed", async () => {
    const before = impostor.requests.length;
    assertFailedClosed(
      await through(impostor.url, { tls: { ca: selfSignedPem.cert } }, [], {}),
      impostor,
      before,
      'target tls {}',
    );
  });

  it("control: the impostor's certificate trusted explicitly (ca), the other name declared (servername), or verification turned off, is served", async () => {
    assert.equal((await through(impostor.url, { tls: { ca: selfSignedPem.cert } })).status, 200);
    const withName = await through(misnamed.url, { tls: { ca: ca.cert, servername: 'other.example' } }, [
      { plugin: 'upstream-jwt', config: {} },
    ]);
    assert.equal(withName.status, 200, withName.text);
    assert.equal(
      typeof misnamed.requests.at(-1)!.headers['x-portcullis-jwt'],
      'string',
      'the token reaches a verified upstream',
    );
    assert.equal((await through(impostor.url, { tls: { rejectUnauthorized: false } })).status, 200);
  });

  it('the stored route shows the default: rejectUnauthorized true when tls is given without it', async () => {
    await createRoute(
      gw,
      route('shown', impostor.url, {
        frontend: { domains: ['shown.test'] },
        backend: { tls: { servername: 'localhost' } },
      }),
    );
    assert.equal((await gw.admin('GET', '/api/routes/shown')).json().backend.tls.rejectUnauthorized, true);
  });
});
