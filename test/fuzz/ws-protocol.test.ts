/**
 * Fuzz family 2: the back office's WebSocket protocol, logged in as a browser would be (session
 * cookie, same Origin) but driven by `ws`. Properties: every message gets exactly one reply; an
 * error reply carries a client status (< 500) and `{error, error_description}`; the connection
 * stays open; every write answered ok leaves a configuration that compiles.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import fc from 'fast-check';
import WebSocket from 'ws';
import { startGateway, createRoute, route, ADMIN_PASSWORD, type TestGateway } from '../helpers/gateway.js';
import { send } from '../helpers/http.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';
import { checkProperty, compiledStateProblem, fuzzDataDir, fuzzRuns } from '../helpers/fuzz.js';
import { adminOp, mutated, type AdminOp } from './admin-inputs.js';

interface Reply {
  id: unknown;
  ok?: boolean;
  result?: unknown;
  error?: { status?: unknown; error?: unknown; error_description?: unknown };
  event?: string;
}

/** The WebSocket message of an admin operation, as the back office's client would send it. */
function wsMessage(o: AdminOp, id: number): Record<string, unknown> {
  const entity = o.kind;
  switch (o.op) {
    case 'list':
      return { id, op: 'list', entity, payload: { query: o.query ?? {} } };
    case 'get':
      return { id, op: 'get', entity, payload: { id: o.id } };
    case 'create':
      return { id, op: 'create', entity, payload: { entity: o.body } };
    case 'update':
      return { id, op: 'update', entity, payload: { id: o.id, entity: o.body } };
    case 'delete':
      return { id, op: 'delete', entity, payload: { id: o.id } };
    case 'rotate':
      return { id, op: 'action', entity: 'keypairs', payload: { id: o.id, action: 'rotate', body: o.body } };
    case 'rotate-secret':
      return { id, op: 'action', entity: 'apikeys', payload: { id: o.id, action: 'rotate-secret' } };
    case 'import':
      return { id, op: 'action', entity: 'import', payload: { document: o.body } };
    case 'export':
      return { id, op: 'get', entity: 'export', payload: o.query ?? {} };
  }
}

/** Raw frames: broken JSON, wrong types in every field, nested payloads, binary. */
const RAW_FRAME = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.json({ maxDepth: 4 }),
  fc.constantFrom(
    '',
    'null',
    '[]',
    '{}',
    '1',
    '"x"',
    '{"id":null}',
    '{"id":{}}',
    '{"id":1}',
    '{"id":1,"op":"list"}',
    '{"id":1,"op":"list","entity":"__proto__"}',
    '{"id":1,"op":"list","entity":"routes","payload":{"query":{"tag":{"a":1}}}}',
    '{"id":1,"op":"list","entity":"routes","payload":{"query":[1,2]}}',
    '{"id":1,"op":"list","entity":"routes","payload":{"query":"x"}}',
    '{"id":1,"op":"list","entity":"routes","payload":null}',
    '{"id":1,"op":"get","entity":"routes","payload":{"id":{"toString":1}}}',
    '{"id":1,"op":"action","entity":"routes","payload":{"id":"a","action":"constructor"}}',
    '{"id":1,"op":"action","entity":"keypairs","payload":{"id":"portcullis-jwt-signing","action":"rotate","body":{"retireAfterSeconds":1e300}}}',
    '{"id":1,"op":"get","entity":"export","payload":{"includePrivateKeys":"yes"}}',
    '{"id":1,"op":"update","entity":"global-config","payload":{"entity":"x"}}',
    '{"__proto__":{"id":1},"op":"list","entity":"routes"}',
    '{"id":1,"op":"list","entity":"routes","payload":{"query":{"limit":"1e400"}}}',
    '{"id":"\\ud800","op":"list","entity":"plugins"}',
    '['.repeat(50_000),
    '{"id":1,"op":"create","entity":"routes","payload":{"entity":' + '['.repeat(20_000) + ']'.repeat(20_000) + '}}',
  ),
  fc
    .record(
      {
        id: fc.oneof(fc.integer(), fc.string({ maxLength: 5 }), fc.constant(null), fc.double()),
        op: fc.oneof(
          fc.constantFrom('list', 'get', 'create', 'update', 'delete', 'action', 'explode'),
          fc.string({ maxLength: 5 }),
        ),
        entity: fc.oneof(
          fc.constantFrom(
            'routes',
            'apikeys',
            'keypairs',
            'jwt-verifiers',
            'global-config',
            'plugins',
            'schemas',
            'export',
            'import',
            'revoked-tokens',
            'oauth2-grants',
            'constructor',
          ),
          fc.string({ maxLength: 5 }),
        ),
        payload: fc.oneof(
          fc.jsonValue({ maxDepth: 3 }),
          mutated(
            fc.record({
              id: fc.constantFrom('a', 'constructor'),
              entity: fc.jsonValue({ maxDepth: 2 }),
              query: fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 1 })),
              action: fc.constantFrom('rotate', 'rotate-secret', 'revoke', 'plugins/oauth2/provision-key', 'x'),
              body: fc.jsonValue({ maxDepth: 2 }),
            }),
          ),
        ),
      },
      { requiredKeys: [] },
    )
    .map((m) => JSON.stringify(m)),
);

describe('Fuzz: back-office WebSocket protocol', () => {
  let upstream: Upstream;
  let gw: TestGateway;
  let dataDir: string;
  let ws: WebSocket;
  let cookie: string;
  const waiting: Array<(reply: Reply) => void> = [];
  let exported: unknown;

  async function connect(): Promise<void> {
    ws = new WebSocket(`${gw.adminUrl.replace('http', 'ws')}/ws`, { headers: { cookie, origin: gw.adminUrl } });
    ws.on('message', (data) => {
      const reply = JSON.parse(String(data)) as Reply;
      if (reply.event) return; // pushed events (changed, traffic, hello) are not replies
      const next = waiting.shift();
      if (next) next(reply);
      else throw new Error(`a reply nobody asked for: ${String(data).slice(0, 300)}`);
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
  }

  /** Send one frame and wait for its one reply. */
  let lastFrame = '';
  async function exchange(frame: string): Promise<Reply> {
    if (ws.readyState !== WebSocket.OPEN) {
      // Reconnect so that the next inputs are still tested, and report the frame that closed it.
      waiting.length = 0;
      await connect();
      throw new Error(`the server closed the connection after the frame ${lastFrame.slice(0, 300)}`);
    }
    lastFrame = frame;
    return new Promise<Reply>((resolve, reject) => {
      const onReply = (reply: Reply) => {
        clearTimeout(timer);
        resolve(reply);
      };
      const timer = setTimeout(() => {
        waiting.splice(waiting.indexOf(onReply), 1);
        reject(new Error(`no reply within 10 s to ${frame.slice(0, 300)}`));
      }, 10_000);
      waiting.push(onReply);
      ws.send(frame);
    });
  }

  before(async () => {
    upstream = await startUpstream(echo);
    dataDir = fuzzDataDir();
    gw = await startGateway({ dataDir, backOffice: true, logLevel: 'warn' });
    await createRoute(gw, route('fixed', upstream.url));
    await gw.admin('POST', '/api/jwt-verifiers', {
      id: 'hmac',
      name: 'HMAC',
      keys: { kind: 'hmac', secret: 'a-very-long-shared-secret-of-32-bytes!' },
      algorithms: ['HS256'],
    });
    exported = (await gw.admin('GET', '/api/export?includePrivateKeys=true')).json();
    const login = await send(`${gw.adminUrl}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
    });
    assert.equal(login.status, 200, login.text);
    cookie = String(login.headers['set-cookie']).split(';')[0]!;
    await connect();
  });

  after(async () => {
    ws?.terminate();
    await gw?.close();
    rmSync(dataDir, { recursive: true, force: true });
    await upstream?.close();
  });

  function checkReply(reply: Reply, what: string): void {
    if (reply.ok === true) return;
    const e = reply.error;
    if (
      reply.ok !== false ||
      !e ||
      typeof e.error !== 'string' ||
      typeof e.error_description !== 'string' ||
      typeof e.status !== 'number'
    ) {
      throw new Error(`${what}: a malformed reply ${JSON.stringify(reply).slice(0, 300)}`);
    }
    if (e.status >= 500) throw new Error(`${what}: ${e.status} ${e.error}: ${e.error_description}`);
  }

  let nextId = 1;
  it('admin operations over the WebSocket: one reply each, client errors only, every ok write compiles', async () => {
    await checkProperty(
      'websocket admin operations',
      adminOp(upstream.url, () => exported),
      async (o) => {
        const message = wsMessage(o, nextId++);
        const frame = JSON.stringify(message);
        const reply = await exchange(frame);
        const what = frame.slice(0, 400);
        assert.equal(reply.id, message.id, `${what}: the reply has another id`);
        checkReply(reply, what);
        if (reply.ok && ['create', 'update', 'delete', 'action'].includes(String(message.op))) {
          const problem = compiledStateProblem(gw);
          if (problem) throw new Error(`${what} answered ok, but the configuration no longer compiles: ${problem}`);
        }
        if (gw.gateway.store.list('routes').length > 40)
          for (const r of gw.gateway.store.list('routes').slice(0, 20))
            if (r.id !== 'fixed') await gw.admin('DELETE', `/api/routes/${encodeURIComponent(String(r.id))}`);
      },
      fuzzRuns(0.6),
    );
  });

  it('raw and malformed frames: one reply each, client errors only, the connection stays open', async () => {
    await checkProperty(
      'websocket raw frames',
      RAW_FRAME,
      async (frame) => {
        const reply = await exchange(frame);
        checkReply(reply, frame.slice(0, 300));
      },
      fuzzRuns(0.4),
    );
    assert.equal(ws.readyState, WebSocket.OPEN);
    const reply = await exchange(JSON.stringify({ id: 'last', op: 'list', entity: 'routes' }));
    assert.equal(reply.ok, true);
  });
});
