/**
 * Attack: request smuggling and deep or huge JSON on every listener the gateway opens — the proxy,
 * the admin API, the authorizer and the back office (served on the admin listener). Each framing
 * attack is written on a raw socket (node:net), as a desync attacker would, with a second request
 * smuggled behind the first: the listener must answer one 400 JSON and close, and the smuggled
 * request must never be served (the upstream never sees it, no second response comes back).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startGateway, createRoute, route, ADMIN_PASSWORD, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';
import { basic, send } from '../helpers/http.js';
import { TOKEN_PATH } from '../plugins/client-credentials/fixtures.js';

/** What came back on a raw connection once the server closed it (or after a cut-off, if it never does). */
interface RawExchange {
  text: string;
  statuses: number[];
}

/** Write `bytes` on a new connection and read everything until the server closes it. */
function exchange(url: string, bytes: string): Promise<RawExchange> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let text = '';
    // Not an assertion on time: a server that keeps a smuggled connection open is cut off here and
    // the test then asserts on what it answered.
    socket.setTimeout(5_000, () => socket.end());
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
    });
    socket.on('error', (error: NodeJS.ErrnoException) =>
      error.code === 'ECONNRESET' ? resolve(done(text)) : reject(error),
    );
    socket.on('close', () => resolve(done(text)));
    socket.write(bytes);
  });
}

function done(text: string): RawExchange {
  return { text, statuses: [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1])) };
}

/** The first response's JSON body (the listener's error document). */
function bodyOf(text: string): any {
  const start = text.indexOf('\r\n\r\n');
  const body = text.slice(start + 4);
  const end = body.lastIndexOf('}');
  return JSON.parse(body.slice(0, end + 1));
}

const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: api.test\r\n\r\n';

/** Framing attacks, each a request head and body with a second request riding behind. */
function framingAttacks(head: string, host: string): Array<{ name: string; bytes: string }> {
  const smuggled = SMUGGLED.replace('api.test', host);
  const chunkedSmuggle = `0\r\n\r\n${smuggled}`;
  return [
    {
      name: 'CL.TE (Content-Length then Transfer-Encoding)',
      bytes: `${head}Host: ${host}\r\nContent-Length: ${chunkedSmuggle.length}\r\nTransfer-Encoding: chunked\r\n\r\n${chunkedSmuggle}`,
    },
    {
      name: 'TE.CL (Transfer-Encoding then Content-Length)',
      bytes: `${head}Host: ${host}\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n${chunkedSmuggle}`,
    },
    {
      name: 'two different Content-Length headers',
      bytes: `${head}Host: ${host}\r\nContent-Length: 0\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}`,
    },
    {
      name: 'a Content-Length list "0, N"',
      bytes: `${head}Host: ${host}\r\nContent-Length: 0, ${smuggled.length}\r\n\r\n${smuggled}`,
    },
    {
      name: 'obs-fold hiding Transfer-Encoding',
      bytes: `${head}Host: ${host}\r\nX-Padding: a\r\n Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n${chunkedSmuggle}`,
    },
    {
      name: 'obs-fold continuing Transfer-Encoding',
      bytes: `${head}Host: ${host}\r\nTransfer-Encoding: identity\r\n chunked\r\n\r\n${chunkedSmuggle}`,
    },
    {
      name: 'bare LF line endings',
      bytes: `${head.replace(/\r\n$/, '\n')}Host: ${host}\nContent-Length: ${chunkedSmuggle.length}\nTransfer-Encoding: chunked\n\n${chunkedSmuggle}`,
    },
    {
      name: 'Transfer-Encoding "chunked, identity" (chunked not last)',
      bytes: `${head}Host: ${host}\r\nTransfer-Encoding: chunked, identity\r\n\r\n${chunkedSmuggle}`,
    },
    {
      name: 'Transfer-Encoding "xchunked"',
      bytes: `${head}Host: ${host}\r\nTransfer-Encoding: xchunked\r\n\r\n${chunkedSmuggle}`,
    },
    {
      name: 'Transfer-Encoding with a space before the colon',
      bytes: `${head}Host: ${host}\r\nTransfer-Encoding : chunked\r\nContent-Length: 0\r\n\r\n${chunkedSmuggle}`,
    },
    {
      name: 'an over-long chunk size (integer overflow)',
      bytes: `${head}Host: ${host}\r\nTransfer-Encoding: chunked\r\n\r\n1${'0'.repeat(20)}\r\nx\r\n${chunkedSmuggle}`,
    },
    {
      name: 'a chunk size with junk after it',
      bytes: `${head}Host: ${host}\r\nTransfer-Encoding: chunked\r\n\r\n5 junk\r\nhello\r\n${chunkedSmuggle}`,
    },
  ];
}

/** Every attack: one 400 JSON answer, then the connection closes; nothing smuggled is served. */
async function assertRefusesEveryFraming(url: string, head: string, host: string): Promise<void> {
  for (const attack of framingAttacks(head, host)) {
    const { text, statuses } = await exchange(url, attack.bytes);
    assert.deepEqual(statuses, [400], `${attack.name}: ${text.slice(0, 300)}`);
    assert.match(text, /\r\ncontent-type: application\/(problem\+)?json/i, attack.name);
    assert.equal(typeof bodyOf(text).error, 'string', `${attack.name}: an error document`);
    assert.doesNotMatch(text, /smuggled/, attack.name);
  }
}

/** `[[[…]]]` nested `depth` times inside `{"<key>": …}`. */
function deepJson(depth: number, key = 'name'): string {
  return `{"${key}":${'['.repeat(depth)}${']'.repeat(depth)}}`;
}

describe('Attack: request smuggling and deep JSON on every listener', () => {
  let upstream: Upstream;
  let gw: TestGateway;
  let authorizerUrl: string;
  const adminAuth = basic('admin', ADMIN_PASSWORD);

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await startGateway({
      backOffice: true,
      logLevel: 'warn',
      config: { authorizer: { host: '127.0.0.1', port: 0, trustedProxies: ['127.0.0.1'], unmatched: 401 } },
    });
    await createRoute(gw, route('open', upstream.url));
    const global = (await gw.admin('GET', '/api/global-config')).json();
    assert.equal(
      (
        await gw.admin('PUT', '/api/global-config', {
          ...global,
          plugins: [{ plugin: 'client-credentials', config: { secure: false } }],
        })
      ).status,
      200,
    );
    authorizerUrl = gw.gateway.authorizerUrl!;
    assert.ok(authorizerUrl, 'the authorizer listener is on');
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  it('control: a well-framed chunked POST followed by a second request on the same connection is served twice', async () => {
    const { statuses } = await exchange(
      gw.proxyUrl,
      `POST /first HTTP/1.1\r\nHost: api.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /second HTTP/1.1\r\nHost: api.test\r\nConnection: close\r\n\r\n`,
    );
    assert.deepEqual(statuses, [200, 200]);
    assert.ok(upstream.received.some((r) => r.url === '/second'));
  });

  it('the proxy listener refuses every framing ambiguity with one 400 and never forwards the smuggled request', async () => {
    const before = upstream.received.length;
    await assertRefusesEveryFraming(gw.proxyUrl, 'POST /orders HTTP/1.1\r\n', 'api.test');
    assert.equal(
      upstream.received.length,
      before,
      `forwarded: ${upstream.received
        .slice(before)
        .map((r) => r.url)
        .join(', ')}`,
    );
  });

  it("the proxy listener's token endpoint refuses the same framings", async () => {
    await assertRefusesEveryFraming(
      gw.proxyUrl,
      `POST ${TOKEN_PATH} HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n`,
      'api.test',
    );
  });

  it('the admin listener refuses every framing ambiguity, credentials or not', async () => {
    await assertRefusesEveryFraming(
      gw.adminUrl,
      `POST /api/routes HTTP/1.1\r\nAuthorization: ${adminAuth}\r\nContent-Type: application/json\r\n`,
      'localhost',
    );
    assert.equal((await gw.admin('GET', '/api/routes/smuggled')).status, 404);
  });

  it('the back office (login on the admin listener) refuses every framing ambiguity', async () => {
    await assertRefusesEveryFraming(
      gw.adminUrl,
      'POST /login HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n',
      'localhost',
    );
  });

  it('the authorizer listener refuses every framing ambiguity', async () => {
    await assertRefusesEveryFraming(authorizerUrl, 'POST /envoy/orders HTTP/1.1\r\n', 'api.test');
  });

  it("the proxy's token endpoint answers deep JSON with a 4xx JSON error, never 5xx", async () => {
    for (const body of [
      deepJson(100_000, 'client_id'),
      deepJson(100_000, 'unknown'),
      `${'['.repeat(200_000)}${']'.repeat(200_000)}`,
    ]) {
      const res = await send(gw.proxyUrl + TOKEN_PATH, {
        method: 'POST',
        headers: { host: 'api.test', 'content-type': 'application/json' },
        body,
      });
      assert.ok(res.status >= 400 && res.status < 500, `${res.status} ${res.text.slice(0, 200)}`);
      assert.equal(typeof res.json().error, 'string');
    }
  });

  it('the admin API refuses deep JSON with 400 naming the limit, and a huge body with 413, and keeps serving', async () => {
    for (const body of [
      deepJson(100_000),
      `{"id":"deep","name":"deep","frontend":{"domains":["a.test"]},"backend":{"targets":[{"url":"http://127.0.0.1:1"}]},"plugins":[],"tags":${'['.repeat(65)}${']'.repeat(65)}}`,
    ]) {
      const res = await send(gw.adminUrl + '/api/routes', {
        method: 'POST',
        headers: { authorization: adminAuth, 'content-type': 'application/json' },
        body,
      });
      assert.equal(res.status, 400, res.text.slice(0, 200));
      assert.match(res.json().error_description ?? res.json().detail ?? res.text, /nesting/i);
    }
    const huge = await send(gw.adminUrl + '/api/routes', {
      method: 'POST',
      headers: { authorization: adminAuth, 'content-type': 'application/json' },
      body: `{"name":"${'x'.repeat(2 * 1024 * 1024)}"}`,
    }).catch((error: NodeJS.ErrnoException) => error);
    if (!(huge instanceof Error)) {
      assert.equal(huge.status, 413, huge.text.slice(0, 200));
      assert.equal(typeof huge.json().error, 'string');
    } else assert.match(String(huge.code), /ECONNRESET|EPIPE/, 'cut off while still sending: the body was refused');
    assert.equal((await gw.admin('GET', '/api/routes')).status, 200);
  });

  it('the back-office login answers deep JSON with 400 JSON, never 5xx', async () => {
    const res = await send(gw.adminUrl + '/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: deepJson(8_000, 'username'),
    });
    assert.equal(res.status, 400, res.text.slice(0, 200));
    assert.equal(typeof res.json().error, 'string');
  });

  it('the authorizer ignores a deep JSON body (it decides on headers) and answers its usual decision', async () => {
    const res = await send(authorizerUrl + '/envoy/orders', {
      method: 'POST',
      headers: { host: 'api.test', 'content-type': 'application/json' },
      body: deepJson(100_000),
    });
    assert.ok(
      res.status === 200 || res.status === 401 || res.status === 403,
      `${res.status} ${res.text.slice(0, 200)}`,
    );
  });
});
