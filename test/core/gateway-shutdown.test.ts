/**
 * The gateway's orderly stop (issue 21), listener by listener: during the drain delay every listener
 * keeps serving, keep-alive connections included, while the proxy's health path answers 503; then
 * idle connections close at once, a busy one right after its response (`Connection: close`, or
 * the end of a response whose head was already sent), and the stop goes on as soon as the last one
 * is closed instead of waiting out the grace. Open WebSockets are closed when the grace ends; the
 * back office's are told 1001 (going away).
 */
import 'reflect-metadata';
import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Agent, request, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { startGateway, createRoute, route, ADMIN_PASSWORD, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, echo, type Upstream, type Received } from '../helpers/upstream.js';
import { basic, send } from '../helpers/http.js';
import { until } from '../helpers/wait.js';
import { testPki } from '../helpers/certificates.js';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  reused: boolean;
  socket: Socket;
}

/** A GET on `agent` (one keep-alive connection per listener), saying whether it reused the connection. */
function get(agent: Agent, url: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const send = url.startsWith('https:') ? httpsRequest : request;
    const req = send(url, { agent, headers }, (res) => {
      const socket = res.socket; // handed back to the agent (and off the response) once it ends
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, reused: req.reusedSocket, socket }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

function closed(socket: Socket): Promise<unknown> {
  return socket.destroyed ? Promise.resolve() : once(socket, 'close');
}

const GRACE_EXCEEDED = 'in-flight requests did not finish in time; closing their connections';

describe('Gateway shutdown: drain, then close each connection after its last response', { timeout: 60_000 }, () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function gatewayWith(
    upstream: Upstream,
    options: Parameters<typeof startGateway>[0] = {},
  ): Promise<TestGateway> {
    const gw = await startGateway(options);
    cleanups.push(() => gw.close());
    await createRoute(gw, route('all', upstream.url));
    return gw;
  }

  async function upstreamWith(handler = echo, options: { streaming?: boolean } = {}): Promise<Upstream> {
    const upstream = await startUpstream(handler, options);
    cleanups.push(() => upstream.close());
    return upstream;
  }

  it('keeps every listener serving, on its open keep-alive connections too, while the health path answers 503 during the drain delay', async () => {
    const upstream = await upstreamWith();
    const gw = await gatewayWith(upstream, {
      config: {
        proxy: { healthPath: '/healthz' },
        authorizer: { host: '127.0.0.1', port: 0, trustedProxies: [], unmatched: 401 },
      },
    });
    const agents = {
      proxy: new Agent({ keepAlive: true, maxSockets: 1 }),
      admin: new Agent({ keepAlive: true, maxSockets: 1 }),
      authorizer: new Agent({ keepAlive: true, maxSockets: 1 }),
    };
    cleanups.push(() => {
      for (const agent of Object.values(agents)) agent.destroy();
    });
    const auth = { authorization: basic('admin', ADMIN_PASSWORD) };
    const authorizerUrl = gw.gateway.authorizerUrl!;
    const first = [
      await get(agents.proxy, `${gw.proxyUrl}/a`, { host: 'api.test' }),
      await get(agents.admin, `${gw.adminUrl}/api/routes`, auth),
      await get(agents.authorizer, `${authorizerUrl}/envoy/a`, { host: 'api.test' }),
    ];
    assert.deepEqual(
      first.map((a) => a.status),
      [200, 200, 200],
    );

    const stopping = gw.gateway.close(5_000, 1_000);
    const during = [
      await get(agents.proxy, `${gw.proxyUrl}/b`, { host: 'api.test' }),
      await get(agents.admin, `${gw.adminUrl}/api/routes`, auth),
      await get(agents.authorizer, `${authorizerUrl}/envoy/b`, { host: 'api.test' }),
    ];
    assert.deepEqual(
      during.map((a) => [a.status, a.reused]),
      [
        [200, true],
        [200, true],
        [200, true],
      ],
      'same connections, still served',
    );
    const fresh = await send(`${gw.proxyUrl}/c`, { headers: { host: 'api.test' } });
    assert.equal(fresh.status, 200, 'the listener still accepts connections');
    const health = await get(agents.proxy, `${gw.proxyUrl}/healthz`);
    assert.equal(health.status, 503);
    assert.deepEqual(JSON.parse(health.text), { status: 'draining' });
    assert.equal(health.headers.connection, 'close', 'a balancer does not keep a connection to a draining gateway');

    await stopping;
    await Promise.all(during.map((a) => closed(a.socket)));
    assert.ok(!gw.logs.some((line) => line.msg === GRACE_EXCEEDED), 'nothing was left for the grace to cut');
  });

  it('answers a request in progress when the listener closes with Connection: close, closes that connection, and stops without waiting for the grace', async () => {
    const held: Array<() => void> = [];
    const upstream = await upstreamWith((req, res, received) => {
      held.push(() => echo(req, res, received));
    });
    const gw = await gatewayWith(upstream);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(() => agent.destroy());
    const answer = get(agent, `${gw.proxyUrl}/slow`, { host: 'api.test' });
    await until(
      'the upstream holds the request',
      () => held.length,
      (n) => n === 1,
    );

    const stopping = gw.gateway.close(5_000, 0);
    await until(
      'the proxy listener closed',
      () => gw.gateway.proxyServer.listening,
      (listening) => !listening,
    );
    held[0]!();
    const res = await answer;
    assert.equal(res.status, 200);
    assert.equal(res.headers.connection, 'close');
    await closed(res.socket);
    await stopping;
    assert.ok(!gw.logs.some((line) => line.msg === GRACE_EXCEEDED), 'the stop went on when the response was done');
  });

  it('does the same on the HTTPS listener (proxy.tls)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-shutdown-tls-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const { server } = testPki(dir);
    const held: Array<() => void> = [];
    const upstream = await upstreamWith((req, res, received) => {
      held.push(() => echo(req, res, received));
    });
    const gw = await gatewayWith(upstream, {
      config: { proxy: { tls: { port: 0, certFile: server.certFile, keyFile: server.keyFile } } },
    });
    const agent = new HttpsAgent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
    cleanups.push(() => agent.destroy());
    const port = (gw.gateway.proxyTlsServer!.address() as { port: number }).port;
    const answer = get(agent, `https://127.0.0.1:${port}/slow`, { host: 'api.test' });
    await until(
      'the upstream holds the request',
      () => held.length,
      (n) => n === 1,
    );

    const stopping = gw.gateway.close(5_000, 0);
    await until(
      'the HTTPS listener closed',
      () => gw.gateway.proxyTlsServer!.listening,
      (listening) => !listening,
    );
    held[0]!();
    const res = await answer;
    assert.equal(res.status, 200);
    assert.equal(res.headers.connection, 'close');
    await closed(res.socket);
    await stopping;
    assert.ok(!gw.logs.some((line) => line.msg === GRACE_EXCEEDED), 'the stop went on when the response was done');
  });

  it('closes the connection of a response whose head was sent before the listener closed once that response ends', async () => {
    const held: Array<() => void> = [];
    const upstream = await upstreamWith(
      (_req, res: ServerResponse, _received: Received) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first half;');
        held.push(() => res.end('second half'));
      },
      { streaming: true },
    );
    const gw = await gatewayWith(upstream);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(() => agent.destroy());
    const answer = get(agent, `${gw.proxyUrl}/stream`, { host: 'api.test' });
    await until(
      'the upstream began its answer',
      () => held.length,
      (n) => n === 1,
    );

    const stopping = gw.gateway.close(5_000, 0);
    await until(
      'the proxy listener closed',
      () => gw.gateway.proxyServer.listening,
      (listening) => !listening,
    );
    held[0]!();
    const res = await answer;
    assert.equal(res.text, 'first half;second half');
    await closed(res.socket);
    await stopping;
    assert.ok(!gw.logs.some((line) => line.msg === GRACE_EXCEEDED), 'the stop went on when the response was done');
  });

  it('closes a WebSocket passing through when the grace ends, and the stop completes', async () => {
    const upstream = await upstreamWith();
    const wss = new WebSocketServer({ server: upstream.server });
    cleanups.push(() => wss.close());
    const gw = await gatewayWith(upstream);
    const client = new WebSocket(`${gw.proxyUrl.replace('http', 'ws')}/socket`, { headers: { host: 'api.test' } });
    await once(client, 'open');
    const clientClosed = once(client, 'close');

    await gw.gateway.close(300, 0);
    await clientClosed;
    assert.ok(
      gw.logs.some((line) => line.msg === GRACE_EXCEEDED && line.connections === 1),
      'the WebSocket was the connection left',
    );
  });

  it("tells the back office's WebSocket that the server is going away (1001)", async () => {
    const upstream = await upstreamWith();
    const gw = await gatewayWith(upstream, { backOffice: true });
    const login = await send(`${gw.adminUrl}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
    });
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    const ws = new WebSocket(`${gw.adminUrl.replace('http', 'ws')}/ws`, { headers: { cookie, origin: gw.adminUrl } });
    await once(ws, 'open');
    const wsClosed = once(ws, 'close') as Promise<[number, Buffer]>;

    await gw.gateway.close(5_000, 0);
    const [code] = await wsClosed;
    assert.equal(code, 1001);
  });
});
