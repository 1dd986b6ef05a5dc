/**
 * Limits that must hold under concurrency and hostile input: login limiters counted before the
 * password is hashed, bounded hashing, JSON nesting depth, duplicate Host headers and the cap on
 * concurrent proxy connections.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway, createRoute, route, ADMIN_PASSWORD, type TestGateway } from '../helpers/gateway.js';
import { basic, type TestResponse } from '../helpers/http.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';
import { AdminAuthenticator } from '../../core/admin/admin-auth.js';

/** A request from a chosen loopback address (the limiters count per client address). */
function requestFrom(
  localAddress: string,
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<TestResponse> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: options.method ?? 'GET',
        headers: options.headers,
        localAddress,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Write raw bytes on a new connection and collect everything until the server closes it. */
function rawExchange(url: string, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname, () => socket.write(payload));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
  });
}

function tally(responses: TestResponse[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const r of responses) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  return counts;
}

const FLOOD = 300;

describe('Admin API login limiter under concurrency', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway();
  });
  after(() => gw.close());

  it('lets at most 20 of 300 parallel wrong passwords reach hashing and answers the rest 429/503 with Retry-After, while the admin is served', async () => {
    const auth = gw.gateway.container.resolve(AdminAuthenticator);
    const admin = basic('admin', ADMIN_PASSWORD);
    // The admin, from another address, has used the API before: its credential is remembered.
    assert.equal(
      (await requestFrom('127.0.0.2', `${gw.adminUrl}/api/routes`, { headers: { authorization: admin } })).status,
      200,
    );
    const hashesBefore = auth.hashesStarted;

    // A brute force: every request a different guess.
    const flood = Array.from({ length: FLOOD }, (_, i) =>
      requestFrom('127.0.0.1', `${gw.adminUrl}/api/routes`, {
        headers: { authorization: basic('admin', `guess-${i}`) },
      }),
    );
    const during = requestFrom('127.0.0.2', `${gw.adminUrl}/api/routes`, { headers: { authorization: admin } });
    const [responses, adminResponse] = await Promise.all([Promise.all(flood), during]);

    assert.equal(adminResponse.status, 200);
    const counts = tally(responses);
    assert.ok((counts.get(401) ?? 0) <= 20, `at most 20 guesses checked, got ${counts.get(401)}`);
    assert.ok((counts.get(429) ?? 0) > 0, 'the limiter answered 429');
    assert.equal(
      (counts.get(401) ?? 0) + (counts.get(429) ?? 0) + (counts.get(503) ?? 0),
      FLOOD,
      JSON.stringify([...counts]),
    );
    for (const r of responses.filter((r) => r.status !== 401)) {
      assert.ok(Number(r.headers['retry-after']) >= 1, 'Retry-After on every refusal');
      assert.match(r.json().error, /^(too_many_requests|temporarily_unavailable)$/);
    }
    assert.ok(auth.hashesStarted - hashesBefore <= 20, `hashes started: ${auth.hashesStarted - hashesBefore}`);

    // The flooding address stays blocked, even with the right password (no "429 unless right" oracle).
    assert.equal(
      (await requestFrom('127.0.0.1', `${gw.adminUrl}/api/routes`, { headers: { authorization: admin } })).status,
      429,
    );
  });

  it('refuses concurrent password checks beyond the hashing gate at once with 503 and Retry-After', async () => {
    // Many addresses, each under its own limit: only the global gate bounds the hashing.
    const auth = gw.gateway.container.resolve(AdminAuthenticator);
    const before = auth.hashesStarted;
    const responses = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        requestFrom(`127.0.3.${i + 1}`, `${gw.adminUrl}/api/routes`, {
          headers: { authorization: basic('admin', `wrong-password-${i}`) },
        }),
      ),
    );
    const counts = tally(responses);
    assert.ok((counts.get(503) ?? 0) > 0, JSON.stringify([...counts]));
    assert.equal((counts.get(401) ?? 0) + (counts.get(503) ?? 0), 40);
    assert.equal(auth.hashesStarted - before, counts.get(401) ?? 0, 'a refused attempt never hashed');
    for (const r of responses.filter((r) => r.status === 503)) assert.equal(r.headers['retry-after'], '1');
  });
});

describe("Admin API: a client's parallel first requests", () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway();
  });
  after(() => gw.close());

  it('share one password hash and are all served, beyond the failed-login limit', async () => {
    const auth = gw.gateway.container.resolve(AdminAuthenticator);
    const before = auth.hashesStarted;
    const admin = basic('admin', ADMIN_PASSWORD);
    const responses = await Promise.all(
      Array.from({ length: 30 }, () =>
        requestFrom('127.0.0.5', `${gw.adminUrl}/api/routes`, { headers: { authorization: admin } }),
      ),
    );
    assert.deepEqual([...tally(responses)], [[200, 30]]);
    assert.equal(auth.hashesStarted - before, 1);
  });
});

describe('Back-office login limiter under concurrency', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway({ backOffice: true });
  });
  after(() => gw.close());

  const login = (from: string, password: string) =>
    requestFrom(from, `${gw.adminUrl}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password }),
    });

  it('lets at most 5 of 300 parallel wrong passwords reach hashing and answers the rest 429/503, while the admin logs in', async () => {
    const auth = gw.gateway.container.resolve(AdminAuthenticator);
    assert.equal((await login('127.0.0.2', ADMIN_PASSWORD)).status, 200);
    const hashesBefore = auth.hashesStarted;
    const flood = Array.from({ length: FLOOD }, (_, i) => login('127.0.0.1', `guess-${i}`));
    const during = login('127.0.0.2', ADMIN_PASSWORD);
    const [responses, adminLogin] = await Promise.all([Promise.all(flood), during]);

    assert.equal(adminLogin.status, 200);
    assert.match(String(adminLogin.headers['set-cookie']), /portcullis_session=/);
    const counts = tally(responses);
    assert.ok((counts.get(401) ?? 0) <= 5, `at most 5 guesses checked, got ${counts.get(401)}`);
    assert.ok((counts.get(429) ?? 0) > 0);
    assert.equal(
      (counts.get(401) ?? 0) + (counts.get(429) ?? 0) + (counts.get(503) ?? 0),
      FLOOD,
      JSON.stringify([...counts]),
    );
    for (const r of responses.filter((r) => r.status !== 401)) assert.ok(Number(r.headers['retry-after']) >= 1);
    assert.ok(auth.hashesStarted - hashesBefore <= 5, `hashes started: ${auth.hashesStarted - hashesBefore}`);
  });
});

describe('Admin API: deeply nested JSON', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway();
  });
  after(() => gw.close());

  const post = (path: string, text: string) =>
    requestFrom('127.0.0.1', `${gw.adminUrl}${path}`, {
      method: 'POST',
      headers: { authorization: basic('admin', ADMIN_PASSWORD), 'content-type': 'application/json' },
      body: text,
    });

  for (const [name, open, close] of [
    ['arrays', '[', ']'],
    ['objects', '{"a":', '}'],
  ] as const) {
    it(`answers 400 invalid_request to 10 000 nested ${name}, on writes and on import`, async () => {
      const deep = open.repeat(10_000) + '1' + close.repeat(10_000);
      for (const path of ['/api/routes', '/api/import', '/api/apikeys']) {
        for (const body of [deep, `{"id":"deep","name":"deep","metadata":${deep}}`]) {
          const res = await post(path, body);
          assert.equal(res.status, 400, `${path}: ${res.text.slice(0, 200)}`);
          assert.equal(res.json().error, 'invalid_request');
          assert.match(res.json().error_description, /nesting/);
        }
      }
    });
  }

  it('still parses nesting within the limit and brackets inside strings', async () => {
    const res = await post(
      '/api/routes',
      JSON.stringify({ ...route('nested-ok', 'http://127.0.0.1:9'), name: '[[[[{{{{'.repeat(20) }),
    );
    assert.equal(res.status, 201, res.text);
    // 60 levels reach the schema, which names the unknown field (not a parse refusal).
    const within = await post(
      '/api/routes',
      JSON.stringify({
        ...route('nested-60', 'http://127.0.0.1:9'),
        extra: JSON.parse('['.repeat(60) + ']'.repeat(60)),
      }),
    );
    assert.equal(within.status, 400);
    assert.equal(within.json().error, 'validation_failed');
  });
});

describe('Two Host headers', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  before(async () => {
    upstream = await startUpstream();
    gw = await startGateway({ backOffice: true });
    await createRoute(gw, route('hosts', upstream.url));
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  it('are refused with 400 on the proxy listener, and never reach the upstream', async () => {
    const before = upstream.received.length;
    const reply = await rawExchange(gw.proxyUrl, 'GET / HTTP/1.1\r\nHost: api.test\r\nHost: evil.test\r\n\r\n');
    assert.match(reply, /^HTTP\/1\.1 400 /);
    assert.match(reply, /"error":"invalid_request"/);
    assert.equal(upstream.received.length, before);
    // One Host is served.
    assert.match(
      await rawExchange(gw.proxyUrl, 'GET / HTTP/1.1\r\nHost: api.test\r\nConnection: close\r\n\r\n'),
      /^HTTP\/1\.1 200 /,
    );
  });

  it('are refused with 400 on a proxied WebSocket upgrade', async () => {
    const reply = await rawExchange(
      gw.proxyUrl,
      'GET / HTTP/1.1\r\nHost: api.test\r\nhost: api.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    assert.match(reply, /^HTTP\/1\.1 400 /);
  });

  it('are refused with 400 on the admin listener (API, back office and its WebSocket)', async () => {
    const auth = basic('admin', ADMIN_PASSWORD);
    assert.match(
      await rawExchange(
        gw.adminUrl,
        `GET /api/routes HTTP/1.1\r\nHost: a\r\nHost: b\r\nAuthorization: ${auth}\r\n\r\n`,
      ),
      /^HTTP\/1\.1 400 /,
    );
    assert.match(
      await rawExchange(gw.adminUrl, 'GET /login HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'),
      /^HTTP\/1\.1 400 /,
    );
    assert.match(
      await rawExchange(
        gw.adminUrl,
        'GET /ws HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
      ),
      /^HTTP\/1\.1 400 /,
    );
  });
});

describe('Cap on concurrent proxy connections (proxy.maxConnections)', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  before(async () => {
    upstream = await startUpstream();
    gw = await startGateway({ config: { proxy: { maxConnections: 5 } } });
    await createRoute(gw, route('capped', upstream.url));
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  /** Open a keep-alive connection and make one request on it; resolves with the status line. */
  function keepAlive(): Promise<{ socket: Socket; statusLine: string }> {
    return new Promise((resolve, reject) => {
      const { hostname, port } = new URL(gw.proxyUrl);
      const socket = connect(Number(port), hostname, () => socket.write('GET / HTTP/1.1\r\nHost: api.test\r\n\r\n'));
      socket.once('data', (c: Buffer) => resolve({ socket, statusLine: c.toString('latin1').split('\r\n')[0]! }));
      socket.on('error', reject);
    });
  }

  it('refuses the 6th connection with 503 JSON and Retry-After, and admits another once one closes', async () => {
    const open: Socket[] = [];
    for (let i = 0; i < 5; i++) {
      const { socket, statusLine } = await keepAlive();
      assert.equal(statusLine, 'HTTP/1.1 200 OK');
      open.push(socket);
    }
    const refused = await rawExchange(gw.proxyUrl, 'GET / HTTP/1.1\r\nHost: api.test\r\nConnection: close\r\n\r\n');
    assert.match(refused, /^HTTP\/1\.1 503 /);
    assert.match(refused, /retry-after: 1/i);
    assert.match(refused, /"error":"temporarily_unavailable"/);

    const closed = open.pop()!;
    await new Promise<void>((resolve) => {
      closed.once('close', () => resolve());
      closed.end();
    });
    // The gateway learns of the close asynchronously: a bounded number of tries, no timing.
    let admitted = '';
    for (let attempt = 0; attempt < 50 && !admitted.startsWith('HTTP/1.1 200'); attempt++) {
      const { socket, statusLine } = await keepAlive();
      admitted = statusLine;
      if (admitted.startsWith('HTTP/1.1 200')) open.push(socket);
      else await new Promise((r) => setImmediate(r));
    }
    assert.equal(admitted, 'HTTP/1.1 200 OK');
    for (const socket of open) socket.destroy();
  });
});

describe('Cap on concurrent proxy connections over HTTPS', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let dir: string;
  let ca: Buffer;
  let port: number;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-tls-cap-'));
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
    upstream = await startUpstream();
    gw = await startGateway({ config: { proxy: { maxConnections: 1, tls: { port: 0, certFile, keyFile } } } });
    port = (gw.gateway.proxyTlsServer!.address() as { port: number }).port;
    await createRoute(gw, route('tls-capped', upstream.url));
  });
  after(async () => {
    await gw.close();
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A TLS connection sending one keep-alive request; resolves with the first chunk of the answer. */
  function tlsRequest(): Promise<{ socket: TLSSocket; head: string }> {
    return new Promise((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () =>
        socket.write('GET / HTTP/1.1\r\nHost: api.test\r\n\r\n'),
      );
      socket.once('data', (c: Buffer) => resolve({ socket, head: c.toString('latin1') }));
      socket.on('error', reject);
    });
  }

  it('answers the connection over the cap with 503 inside TLS', async () => {
    const first = await tlsRequest();
    assert.match(first.head, /^HTTP\/1\.1 200 /);
    const second = await tlsRequest();
    assert.match(second.head, /^HTTP\/1\.1 503 /);
    assert.match(second.head, /temporarily_unavailable/);
    first.socket.destroy();
    second.socket.destroy();
  });
});
