/**
 * Issue 21: a request header the gateway built that HTTP cannot carry made undici refuse the request
 * before it left; the gateway answered 502 and logged an upstream failure. It is the gateway's own
 * fault: 500 `server_error` naming the header, logged at error level, the upstream never called.
 * The shipped plugins refuse such values when configured (the `headers` plugin's values, identities
 * percent-encoded), so a plugin of this test's own sets one: the last line of defence is tested.
 */
import 'reflect-metadata';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Type } from '@sinclair/typebox';
import { startGateway, createRoute, route, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import { BUILTIN_PLUGINS } from '../../../plugins/index.js';
import { type Plugin, type PluginModule } from '../../../core/plugin-api.js';

/** A plugin that sets a request header value HTTP cannot carry. */
const unsendable: Plugin<ReturnType<typeof Type.Object>> = {
  id: 'unsendable-header',
  name: 'Unsendable header',
  description: 'Sets x-shop to non-Latin text (tests only).',
  configSchema: Type.Object({}),
  steps: ['transformRequest'],
  instantiate: () => ({
    transformRequest(ctx) {
      ctx.upstreamHeaders['x-shop'] = '靴屋';
    },
  }),
};
const unsendableModule: PluginModule = {
  id: 'unsendable',
  register(host) {
    host.plugins.add(unsendable);
  },
};

describe('Proxy: a header value HTTP cannot carry', () => {
  let gw: TestGateway;
  let upstream: Upstream;

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await startGateway({ plugins: [...BUILTIN_PLUGINS, unsendableModule] });
    await createRoute(
      gw,
      route('unsendable', upstream.url, {
        frontend: { domains: ['unsendable.test'] },
        plugins: [{ plugin: 'unsendable-header', config: {} }],
      }),
    );
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  it("is a 500 server_error naming the header, logged as the gateway's failure, never a 502 upstream failure", async () => {
    const before = gw.logs.length;
    const res = await gw.proxy('/x', { host: 'unsendable.test' });
    assert.equal(res.status, 500, res.text);
    assert.equal(res.json().error, 'server_error');
    assert.match(res.json().error_description, /x-shop header/);
    const logged = gw.logs
      .slice(before)
      .filter((line) => line.requestId !== undefined && line.msg !== undefined && line.level >= 40);
    assert.ok(
      logged.some((line) => line.level === 50 && line.msg === 'request failed'),
      JSON.stringify(logged),
    );
    assert.ok(!logged.some((line) => /upstream/i.test(line.msg)), 'not logged as an upstream failure');
  });

  it('on an upgrade (WebSocket) request too: 500 server_error, not 502', async () => {
    const url = new URL(gw.proxyUrl);
    const head = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write(
          'GET /ws HTTP/1.1\r\nHost: unsendable.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
        );
      });
      let received = '';
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('latin1');
      });
      socket.on('close', () => resolve(received));
      socket.on('error', reject);
    });
    assert.match(head, /^HTTP\/1\.1 500 /, head);
    assert.match(head, /x-shop header/);
  });
});
