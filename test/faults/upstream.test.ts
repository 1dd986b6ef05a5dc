/**
 * Upstream faults: for each way an upstream can fail, the client gets the right answer — a 502 or
 * 504 JSON error while no response head was sent, an aborted connection (never a hang, never a
 * truncated body passed off as complete) once it was — and no socket is left open on either side.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, createRoute, route, type TestGateway } from '../helpers/gateway.js';
import { deadPort } from '../helpers/upstream.js';
import { startRawUpstream, outcome, eventually, type RawUpstream } from '../helpers/raw-upstream.js';

const HEAD_200 = (length: number) => `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${length}\r\n\r\n`;

/** Scripted upstream behaviours, one host each. */
const FAULTS: Record<string, (socket: import('node:net').Socket) => void> = {
  'reset-before-head': (s) => s.resetAndDestroy(),
  'close-before-head': (s) => s.end(),
  'reset-mid-body': (s) => {
    s.write(HEAD_200(1000) + 'x'.repeat(100));
    setImmediate(() => s.resetAndDestroy());
  },
  'close-mid-body': (s) => {
    s.write(HEAD_200(1000) + 'x'.repeat(100));
    setImmediate(() => s.end());
  },
  'dies-mid-chunked': (s) => {
    s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n');
    setImmediate(() => s.destroy());
  },
  'slow-head': () => {
    /* never answers */
  },
  'slow-body': (s) => s.write(HEAD_200(1000) + 'x'.repeat(10)),
  'garbage-status': (s) => s.end('HTTP/1.1 abc Nope\r\n\r\n'),
  'not-http': (s) => s.end('SSH-2.0-OpenSSH_9.6\r\n\r\n'),
  'invalid-header': (s) => s.end('HTTP/1.1 200 OK\r\nbad header\r\ncontent-length: 2\r\n\r\nok'),
  'conflicting-lengths': (s) => s.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 5\r\n\r\nok'),
  'cl-and-te': (s) => s.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n'),
  healthy: (s) => s.end(HEAD_200(2) + 'ok'),
};

describe('Faults: misbehaving upstreams', { timeout: 60_000 }, () => {
  let gw: TestGateway;
  const upstreams = new Map<string, RawUpstream>();
  let baselineSockets = 0;

  before(async () => {
    baselineSockets = tcpHandles();
    gw = await startGateway({ logLevel: 'error' });
    for (const [name, behave] of Object.entries(FAULTS)) {
      const upstream = await startRawUpstream((socket) => behave(socket));
      upstreams.set(name, upstream);
      await createRoute(
        gw,
        route(name, upstream.url, {
          frontend: { domains: [`${name}.test`] },
          backend: { timeouts: { connectMs: 2_000, headersMs: 300, bodyMs: 300 } },
        }),
      );
    }
    await createRoute(
      gw,
      route('refused', `http://127.0.0.1:${await deadPort()}`, { frontend: { domains: ['refused.test'] } }),
    );
  });

  after(async () => {
    await gw.close();
    for (const upstream of upstreams.values()) await upstream.close();
  });

  /** The answer before any head was sent: a JSON error with `code`. */
  async function expectJsonError(host: string, status: number, code: string): Promise<void> {
    const result = await outcome(gw.proxyUrl, `${host}.test`);
    assert.equal(result.status, status, `${host}: ${JSON.stringify(result)}`);
    assert.ok(result.complete, `${host}: the error response was cut`);
    assert.deepEqual(Object.keys(JSON.parse(result.body)).sort(), ['error', 'error_description']);
    assert.equal(JSON.parse(result.body).error, code);
  }

  /** Once a 200 head went out, a failure must abort the client connection, not end it cleanly. */
  async function expectAborted(host: string): Promise<void> {
    const result = await outcome(gw.proxyUrl, `${host}.test`);
    assert.equal(result.status, 200, `${host}: ${JSON.stringify(result)}`);
    assert.equal(
      result.complete,
      false,
      `${host}: a truncated body (${result.body.length} bytes) was passed off as complete`,
    );
    assert.ok(result.body.length < 1000);
  }

  async function noLeak(host: string): Promise<void> {
    const upstream = upstreams.get(host);
    if (upstream)
      await eventually(() => upstream.openConnections(), 0, `${host}: connections left open to the upstream`);
  }

  it('refused connection: 502 bad_gateway JSON', async () => {
    await expectJsonError('refused', 502, 'bad_gateway');
  });

  for (const host of ['reset-before-head', 'close-before-head']) {
    it(`${host.replace(/-/g, ' ')}: 502 bad_gateway JSON, no socket left open`, async () => {
      await expectJsonError(host, 502, 'bad_gateway');
      await noLeak(host);
    });
  }

  it('slow headers (headersMs): 504 gateway_timeout JSON, the upstream connection closed', async () => {
    await expectJsonError('slow-head', 504, 'gateway_timeout');
    await noLeak('slow-head');
  });

  for (const host of ['reset-mid-body', 'close-mid-body', 'dies-mid-chunked', 'slow-body']) {
    it(`${host.replace(/-/g, ' ')}: the client connection is aborted after the 200 head, no socket left open`, async () => {
      await expectAborted(host);
      await noLeak(host);
    });
  }

  for (const host of ['garbage-status', 'not-http', 'invalid-header', 'conflicting-lengths', 'cl-and-te']) {
    it(`${host.replace(/-/g, ' ')} from the upstream: 502 bad_gateway JSON, no socket left open`, async () => {
      await expectJsonError(host, 502, 'bad_gateway');
      await noLeak(host);
    });
  }

  it('after every fault the gateway still serves a healthy upstream, whose responses end complete', async () => {
    for (let i = 0; i < 5; i++) {
      const result = await outcome(gw.proxyUrl, 'healthy.test');
      assert.equal(result.status, 200);
      assert.equal(result.body, 'ok');
      assert.equal(
        result.complete,
        true,
        'a complete response reported as aborted: the abort checks above would prove nothing',
      );
    }
    await noLeak('healthy');
  });

  it('twenty faults in parallel leave no socket open on the gateway side once it is closed', async () => {
    const hosts = ['reset-before-head', 'reset-mid-body', 'slow-head', 'slow-body', 'garbage-status'];
    await Promise.all(Array.from({ length: 20 }, (_v, i) => outcome(gw.proxyUrl, `${hosts[i % hosts.length]}.test`)));
    for (const host of hosts) await noLeak(host);
    await gw.close();
    for (const upstream of upstreams.values()) await upstream.close();
    upstreams.clear();
    await eventually(() => tcpHandles() <= baselineSockets, true, 'TCP handles left open in the process');
  });
});

/** TCP sockets and servers alive in this process. */
function tcpHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPServerWrap').length;
}
