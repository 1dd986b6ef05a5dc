/**
 * The upstream's response head as the client receives it through the proxy: written by a raw TCP
 * upstream so every byte is ours, read with `rawHeaders` so nothing is merged on the way.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGateway, createRoute, route, type TestGateway } from '../helpers/gateway.js';

/** An upstream that answers every request with `head` (CRLF-joined lines) and a 2-byte body. */
async function rawUpstream(head: string[]): Promise<{ server: Server; url: string }> {
  const server = createServer((socket: Socket) => {
    socket.on('data', () => socket.write(Buffer.from(`${head.join('\r\n')}\r\ncontent-length: 2\r\n\r\nok`, 'latin1')));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function get(gw: TestGateway, host: string): Promise<{ status: number; raw: string[]; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${gw.proxyUrl}/`, { headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, raw: res.rawHeaders, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const named = (raw: string[], name: string) => raw.filter((_, i) => i % 2 === 1 && raw[i - 1]!.toLowerCase() === name);

describe('Proxy: the upstream response head', () => {
  let gw: TestGateway;
  const upstreams: Server[] = [];

  before(async () => {
    gw = await startGateway();
    const plain = await rawUpstream([
      'HTTP/1.1 201 Created',
      'Connection: keep-alive, X-Resp-Hop',
      'X-Resp-Hop: secret',
      'Keep-Alive: timeout=5',
      'Proxy-Authenticate: Basic',
      'Set-Cookie: a=1',
      'Set-Cookie: b=2',
      'X-Kept: yes',
      'X-Latin1: caf\u00e9',
      'X-Request-Id: upstream-chosen',
    ]);
    const early = await rawUpstream([
      'HTTP/1.1 103 Early Hints',
      'Link: </a.css>',
      '',
      'HTTP/1.1 200 OK',
      'X-Final: 1',
    ]);
    upstreams.push(plain.server, early.server);
    await createRoute(gw, route('plain', plain.url, { frontend: { domains: ['plain.test'] } }));
    await createRoute(gw, route('early', early.url, { frontend: { domains: ['early.test'] } }));
  });
  after(async () => {
    await gw.close();
    for (const server of upstreams) server.close();
  });

  it('drops hop-by-hop headers and those Connection names, keeps the rest byte for byte', async () => {
    const res = await get(gw, 'plain.test');
    assert.equal(res.status, 201);
    assert.equal(res.body, 'ok');
    for (const name of ['x-resp-hop', 'proxy-authenticate']) assert.deepEqual(named(res.raw, name), [], name);
    // Node's own keep-alive answer to the client, not the upstream's `timeout=5`
    assert.notDeepEqual(named(res.raw, 'keep-alive'), ['timeout=5']);
    assert.deepEqual(named(res.raw, 'set-cookie'), ['a=1', 'b=2']);
    assert.deepEqual(named(res.raw, 'x-kept'), ['yes']);
    assert.deepEqual(named(res.raw, 'x-latin1'), ['caf\u00e9']);
    // An upstream's own request id is relayed, not replaced
    assert.deepEqual(named(res.raw, 'x-request-id'), ['upstream-chosen']);
  });

  it('relays the final answer after an informational one, with the request id added', async () => {
    const res = await get(gw, 'early.test');
    assert.equal(res.status, 200);
    assert.equal(res.body, 'ok');
    assert.deepEqual(named(res.raw, 'x-final'), ['1']);
    assert.equal(named(res.raw, 'link').length, 0);
    assert.match(named(res.raw, 'x-request-id')[0] ?? '', /^[0-9a-f-]{36}$/);
  });
});
