import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { request as httpRequest } from 'node:http';
import { WebSocketServer, WebSocket } from 'ws';
import { startGateway, createRoute, route, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, deadPort, echo, type Upstream } from '../helpers/upstream.js';
import { send } from '../helpers/http.js';

const MB = 1024 * 1024;

/** A readable that produces `total` bytes in 64 KiB chunks without holding them. */
function generated(total: number): Readable {
  let sent = 0;
  const chunk = Buffer.alloc(64 * 1024, 97);
  return new Readable({
    read() {
      if (sent >= total) return void this.push(null);
      const size = Math.min(chunk.length, total - sent);
      sent += size;
      this.push(size === chunk.length ? chunk : chunk.subarray(0, size));
    },
  });
}

/** Sample RSS while `work` runs; resolves to the peak growth over the starting RSS. */
async function peakRssGrowth(work: () => Promise<void>): Promise<number> {
  globalThis.gc?.();
  const start = process.memoryUsage().rss;
  let peak = start;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, process.memoryUsage().rss) - start;
}

describe('Proxy: headers, errors and streaming', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let slow: Upstream;
  let sink: Upstream;
  let big: Upstream;
  let hanging: Upstream;
  const hangingClosed: Array<Promise<void>> = [];

  before(async () => {
    gw = await startGateway();
    upstream = await startUpstream(echo);
    slow = await startUpstream((_req, res) => {
      setTimeout(() => {
        if (!res.destroyed) res.end('late');
      }, 2_000);
    });
    sink = await startUpstream(
      (req, res) => {
        let bytes = 0;
        req.on('data', (c: Buffer) => {
          bytes += c.length;
        });
        req.on('end', () => res.end(JSON.stringify({ bytes })));
      },
      { streaming: true },
    );
    big = await startUpstream(
      (req, res) => {
        const size = Number(new URL(req.url!, 'http://x').searchParams.get('size'));
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
        generated(size).pipe(res);
      },
      { streaming: true },
    );
    hanging = await startUpstream(
      (req) => {
        hangingClosed.push(new Promise((resolve) => req.socket.once('close', () => resolve())));
      },
      { streaming: true },
    );
    await createRoute(gw, route('echo', upstream.url, { frontend: { domains: ['api.test'] } }));
    await createRoute(
      gw,
      route('keephost', upstream.url, { frontend: { domains: ['keep.test'] }, backend: { rewriteHost: false } }),
    );
    await createRoute(gw, route('base', `${upstream.url}/base/`, { frontend: { domains: ['base.test/api'] } }));
    await createRoute(
      gw,
      route('dead', `http://127.0.0.1:${await deadPort()}`, { frontend: { domains: ['dead.test'] } }),
    );
    await createRoute(
      gw,
      route('slow', slow.url, { frontend: { domains: ['slow.test'] }, backend: { timeouts: { headersMs: 300 } } }),
    );
    await createRoute(gw, route('sink', sink.url, { frontend: { domains: ['sink.test'] } }));
    await createRoute(gw, route('big', big.url, { frontend: { domains: ['big.test'] } }));
    await createRoute(gw, route('hanging', hanging.url, { frontend: { domains: ['hang.test'] } }));
  });
  after(async () => {
    await gw.close();
    await Promise.all([upstream, slow, sink, big, hanging].map((u) => u.close()));
  });

  it('removes hop-by-hop headers, including those named by Connection', async () => {
    const res = await gw.proxy('/h', {
      headers: {
        connection: 'keep-alive, x-secret-hop',
        'x-secret-hop': '1',
        te: 'trailers',
        'keep-alive': 'timeout=5',
        'proxy-authorization': 'Basic x',
        'x-kept': 'yes',
      },
    });
    const headers = res.json().headers;
    for (const name of ['x-secret-hop', 'te', 'keep-alive', 'proxy-authorization'])
      assert.equal(headers[name], undefined, name);
    assert.equal(headers['x-kept'], 'yes');
  });

  it('sets X-Forwarded-For/-Proto/-Host and rewrites Host to the target by default', async () => {
    const res = await gw.proxy('/h', {
      host: 'api.test',
      headers: { 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'https' },
    });
    const headers = res.json().headers;
    assert.equal(headers['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
    // The client is not a trusted proxy: its X-Forwarded-Proto is replaced by what we saw.
    assert.equal(headers['x-forwarded-proto'], 'http');
    assert.equal(headers['x-forwarded-host'], 'api.test');
    assert.equal(headers.host, `127.0.0.1:${upstream.port}`);
  });

  it('keeps the client Host when rewriteHost is false', async () => {
    const res = await gw.proxy('/h', { host: 'keep.test' });
    assert.equal(res.json().headers.host, 'keep.test');
  });

  it('adds X-Request-Id when absent and keeps the client one', async () => {
    const generatedId = await gw.proxy('/h');
    assert.match(generatedId.json().headers['x-request-id'], /^[0-9a-f-]{36}$/);
    assert.equal(generatedId.headers['x-request-id'], generatedId.json().headers['x-request-id']);
    const given = await gw.proxy('/h', { headers: { 'x-request-id': 'abc-123' } });
    assert.equal(given.json().headers['x-request-id'], 'abc-123');
  });

  it('prefixes the target path and keeps the query string', async () => {
    const res = await gw.proxy('/api/items?x=1&y=2', { host: 'base.test' });
    assert.equal(res.json().url, '/base/items?x=1&y=2');
  });

  it('answers 502 JSON when the upstream cannot be reached', async () => {
    const res = await gw.proxy('/', { host: 'dead.test' });
    assert.equal(res.status, 502);
    assert.deepEqual(res.json(), {
      error: 'bad_gateway',
      error_description: 'The upstream service could not be reached',
    });
  });

  it('answers 504 JSON when the upstream is too slow', async () => {
    const res = await gw.proxy('/', { host: 'slow.test' });
    assert.equal(res.status, 504);
    assert.equal(res.json().error, 'gateway_timeout');
  });

  it('writes one access-log line per request, without credentials', async () => {
    await gw.proxy('/logged?token=1', { headers: { authorization: 'Bearer very-secret', 'x-request-id': 'log-me' } });
    const line = gw.logs.find((l) => l.requestId === 'log-me' && l.msg === 'request');
    assert.ok(line, 'access log line present');
    assert.equal(line.method, 'GET');
    assert.equal(line.path, '/logged');
    assert.equal(line.status, 200);
    assert.equal(line.routeId, 'echo');
    assert.equal(line.target, upstream.url);
    assert.equal(typeof line.durationMs, 'number');
    assert.ok(!JSON.stringify(gw.logs).includes('very-secret'));
  });

  it('streams a 200 MB upload without buffering it', async () => {
    let result: any;
    const growth = await peakRssGrowth(async () => {
      const res = await send(`${gw.proxyUrl}/upload`, {
        method: 'POST',
        headers: { host: 'sink.test', 'content-type': 'application/octet-stream' },
        body: generated(200 * MB),
      });
      result = res.json();
    });
    assert.equal(result.bytes, 200 * MB);
    assert.ok(growth < 100 * MB, `RSS grew by ${Math.round(growth / MB)} MB`);
  });

  it('streams a 200 MB download without buffering it', async () => {
    let bytes = 0;
    const growth = await peakRssGrowth(
      () =>
        new Promise<void>((resolve, reject) => {
          const req = httpRequest(
            {
              host: '127.0.0.1',
              port: new URL(gw.proxyUrl).port,
              path: `/?size=${200 * MB}`,
              headers: { host: 'big.test' },
              agent: false,
            },
            (res) => {
              assert.equal(res.statusCode, 200);
              res.on('data', (c: Buffer) => {
                bytes += c.length;
              });
              res.on('end', resolve);
              res.on('error', reject);
            },
          );
          req.on('error', reject);
          req.end();
        }),
    );
    assert.equal(bytes, 200 * MB);
    assert.ok(growth < 100 * MB, `RSS grew by ${Math.round(growth / MB)} MB`);
  });

  it('aborts the upstream request when the client disconnects', async () => {
    const req = httpRequest({
      host: '127.0.0.1',
      port: new URL(gw.proxyUrl).port,
      path: '/',
      headers: { host: 'hang.test' },
      agent: false,
    });
    req.on('error', () => {});
    req.end();
    while (hangingClosed.length === 0) await new Promise((r) => setTimeout(r, 10));
    req.destroy();
    const closed = await Promise.race([
      hangingClosed[0]!.then(() => true),
      new Promise((r) => setTimeout(() => r(false), 3_000)),
    ]);
    assert.equal(closed, true, 'upstream connection closed after the client left');
  });

  it('answers 400 JSON to a request the HTTP parser rejects', async () => {
    const { connect } = await import('node:net');
    const port = Number(new URL(gw.proxyUrl).port);
    const raw = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => socket.write('GARBAGE\r\n\r\n'));
      let data = '';
      socket.on('data', (c) => {
        data += c;
      });
      socket.on('close', () => resolve(data));
    });
    assert.match(raw, /^HTTP\/1.1 400/);
    assert.match(raw, /invalid_request/);
  });
});

describe('Proxy: load balancing and failover', () => {
  let gw: TestGateway;
  let a: Upstream;
  let b: Upstream;

  before(async () => {
    gw = await startGateway();
    a = await startUpstream(echo, { name: 'a' });
    b = await startUpstream(echo, { name: 'b' });
    await createRoute(gw, {
      ...route('weighted', a.url),
      backend: {
        targets: [
          { url: a.url, weight: 3 },
          { url: b.url, weight: 1 },
        ],
      },
    });
    const dead = `http://127.0.0.1:${await deadPort()}`;
    await createRoute(gw, {
      ...route('failover', a.url, { frontend: { domains: ['failover.test'] } }),
      backend: { targets: [{ url: dead }, { url: b.url }] },
    });
  });
  after(async () => {
    await gw.close();
    await Promise.all([a.close(), b.close()]);
  });

  it('balances by weight', async () => {
    const counts: Record<string, number> = { a: 0, b: 0 };
    for (let i = 0; i < 40; i++) counts[String((await gw.proxy('/')).headers['x-upstream'])]!++;
    assert.deepEqual(counts, { a: 30, b: 10 });
  });

  it('tries the next target when a connection is refused', async () => {
    for (let i = 0; i < 4; i++) {
      const res = await gw.proxy('/', { host: 'failover.test' });
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-upstream'], 'b');
    }
  });

  it('fails over with a request body too, delivering it whole', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await gw.proxy('/', {
        host: 'failover.test',
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: 'hello body',
      });
      assert.equal(res.status, 200);
      assert.equal(res.json().body, 'hello body');
    }
  });
});

describe('Proxy: WebSocket pass-through', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  let wss: WebSocketServer;

  before(async () => {
    gw = await startGateway();
    upstream = await startUpstream(echo);
    wss = new WebSocketServer({ server: upstream.server });
    wss.on('connection', (socket, req) => {
      socket.send(JSON.stringify({ hello: req.url, forwardedFor: req.headers['x-forwarded-for'] }));
      socket.on('message', (data) => socket.send(`echo:${data}`));
    });
    await createRoute(gw, route('ws', upstream.url, { frontend: { domains: ['127.0.0.1/socket'] } }));
  });
  after(async () => {
    wss.close();
    await gw.close();
    await upstream.close();
  });

  it('upgrades through the gateway and relays messages both ways', async () => {
    const client = new WebSocket(`${gw.proxyUrl.replace('http', 'ws')}/socket/chat?room=1`);
    const messages: string[] = [];
    await new Promise<void>((resolve, reject) => {
      client.on('message', (data) => {
        messages.push(String(data));
        if (messages.length === 1) client.send('ping');
        if (messages.length === 2) resolve();
      });
      client.on('error', reject);
    });
    client.close();
    const hello = JSON.parse(messages[0]!);
    assert.equal(hello.hello, '/chat?room=1');
    assert.equal(hello.forwardedFor, '127.0.0.1');
    assert.equal(messages[1], 'echo:ping');
  });

  it('answers a WebSocket upgrade with no route with 404', async () => {
    const client = new WebSocket(`${gw.proxyUrl.replace('http', 'ws')}/elsewhere`);
    const status = await new Promise<number>((resolve) => {
      client.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      client.on('error', () => resolve(-1));
    });
    assert.equal(status, 404);
  });
});
