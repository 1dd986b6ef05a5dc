/**
 * Issue 21: a request header the gateway built that HTTP cannot carry (here from the `headers`
 * plugin's configuration, which allows any character but CR and LF) made undici refuse the request
 * before it left; the gateway answered 502 and logged an upstream failure. It is the gateway's own
 * fault: 500 `server_error` naming the header, logged at error level, the upstream never called.
 */
import 'reflect-metadata';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startGateway, createRoute, route, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';

describe('Proxy: a header value HTTP cannot carry', () => {
  let gw: TestGateway;
  let upstream: Upstream;

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await startGateway();
    await createRoute(gw, route('unsendable', upstream.url, {
      frontend: { domains: ['unsendable.test'] },
      plugins: [{ plugin: 'headers', config: { request: { set: { 'x-shop': '靴屋' } } } }],
    }));
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  it('is a 500 server_error naming the header, logged as the gateway\'s failure, never a 502 upstream failure', async () => {
    const before = gw.logs.length;
    const res = await gw.proxy('/x', { host: 'unsendable.test' });
    assert.equal(res.status, 500, res.text);
    assert.equal(res.json().error, 'server_error');
    assert.match(res.json().error_description, /x-shop header/);
    const logged = gw.logs.slice(before).filter((line) => line.requestId !== undefined && line.msg !== undefined && line.level >= 40);
    assert.ok(logged.some((line) => line.level === 50 && line.msg === 'request failed'), JSON.stringify(logged));
    assert.ok(!logged.some((line) => /upstream/i.test(line.msg)), 'not logged as an upstream failure');
  });

  it('on an upgrade (WebSocket) request too: 500 server_error, not 502', async () => {
    const url = new URL(gw.proxyUrl);
    const head = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write('GET /ws HTTP/1.1\r\nHost: unsendable.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
      });
      let received = '';
      socket.on('data', (chunk: Buffer) => { received += chunk.toString('latin1'); });
      socket.on('close', () => resolve(received));
      socket.on('error', reject);
    });
    assert.match(head, /^HTTP\/1\.1 500 /, head);
    assert.match(head, /x-shop header/);
  });
});
