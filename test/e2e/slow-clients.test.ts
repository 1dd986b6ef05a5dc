/**
 * Slow clients on the proxy listener: headers trickled (slowloris) and bodies that never finish get
 * 408 and their connection closed, within `proxy.headersTimeoutMs` / `proxy.requestTimeoutMs`.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway, createRoute, route, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';
import { loadBootConfig, ConfigError } from '../../core/config/boot-config.js';

/**
 * Send `head` at once, then one `drip` every 50 ms until the server closes the connection;
 * resolves with everything the server wrote.
 */
function trickle(url: string, head: string, drip: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url);
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const socket = connect(Number(port), hostname, () => {
      socket.write(head);
      timer = setInterval(() => {
        if (socket.writable) socket.write(drip);
      }, 50);
    });
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
    socket.on('close', () => {
      clearInterval(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
  });
}

describe('Proxy: slow clients', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  before(async () => {
    upstream = await startUpstream();
    gw = await startGateway({ config: { proxy: { headersTimeoutMs: 300, requestTimeoutMs: 1000 } } });
    await createRoute(gw, route('slow', upstream.url));
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  it('answers 408 JSON to headers trickled past headersTimeoutMs (slowloris) and closes the connection', async () => {
    const reply = await trickle(gw.proxyUrl, 'GET / HTTP/1.1\r\nHost: api.test\r\n', 'X-Slow: 1\r\n');
    assert.match(reply, /^HTTP\/1\.1 408 /);
    assert.match(reply, /"error":"request_timeout"/);
    assert.match(reply, /connection: close/i);
  });

  it('answers 408 to a body still unfinished after requestTimeoutMs and closes the connection', async () => {
    const before = upstream.received.length;
    const reply = await trickle(
      gw.proxyUrl,
      'POST / HTTP/1.1\r\nHost: api.test\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n0123456789',
      'x',
    );
    assert.match(reply, /^HTTP\/1\.1 408 /);
    assert.match(reply, /"error":"request_timeout"/);
    // The upstream saw the request start but never a whole body.
    assert.ok(upstream.received.slice(before).every((r) => r.bodyBytes < 1000));
  });

  it('still serves a client that sends its request in time', async () => {
    const res = await gw.proxy('/', { method: 'POST', body: 'hello' });
    assert.equal(res.status, 200);
  });
});

describe('Boot config: slow-client timeouts', () => {
  it('refuses headersTimeoutMs above requestTimeoutMs with a ConfigError naming both', () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-config-'));
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({ proxy: { headersTimeoutMs: 5000, requestTimeoutMs: 2000 } }),
    );
    try {
      assert.throws(
        () => loadBootConfig({ env: {}, file: join(dir, 'config.json') }),
        (error: unknown) => error instanceof ConfigError && /headersTimeoutMs.*requestTimeoutMs/.test(error.message),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
