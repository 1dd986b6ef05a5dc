/**
 * The back office's WebSocket protocol under malformed and hostile messages: every message gets a
 * reply (never a 5xx, never a dropped connection), and a client that stops reading is closed with
 * 1013 instead of making the server buffer without bound.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import WebSocket from 'ws';
import { startGateway, ADMIN_PASSWORD, type TestGateway } from '../helpers/gateway.js';
import { send } from '../helpers/http.js';

const RUNS = Number(process.env.PORTCULLIS_FUZZ_RUNS ?? 1000);

interface Reply {
  id: string | number | null;
  ok: boolean;
  result?: unknown;
  error?: { status: number; error: string; error_description: string };
}

async function openSocket(gw: TestGateway): Promise<WebSocket> {
  const login = await send(`${gw.adminUrl}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  assert.equal(login.status, 200);
  const cookie = String(login.headers['set-cookie']).split(';')[0]!;
  const ws = new WebSocket(`${gw.adminUrl.replace('http', 'ws')}/ws`, { headers: { cookie, origin: gw.adminUrl } });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return ws;
}

/** A client that sends one message at a time and waits for its reply (pushes are skipped). */
function conversation(ws: WebSocket): (message: string) => Promise<Reply> {
  const waiting: Array<(reply: Reply) => void> = [];
  ws.on('message', (data) => {
    const message = JSON.parse(String(data));
    if (message.event === undefined) waiting.shift()?.(message);
  });
  return (message) =>
    new Promise((resolve, reject) => {
      if (ws.readyState !== WebSocket.OPEN) return reject(new Error(`socket is ${ws.readyState}`));
      waiting.push(resolve);
      ws.send(message);
    });
}

function assertClientError(reply: Reply, message: string): void {
  assert.equal(typeof reply, 'object', message);
  if (reply.ok) return;
  assert.ok(
    reply.error && reply.error.status >= 400 && reply.error.status < 500,
    `${message} → ${JSON.stringify(reply).slice(0, 300)}`,
  );
  assert.equal(typeof reply.error.error, 'string');
  assert.equal(typeof reply.error.error_description, 'string');
}

const OPS = ['list', 'get', 'create', 'update', 'delete', 'action'];
const ENTITIES = [
  'routes',
  'global-config',
  'apikeys',
  'keypairs',
  'jwt-verifiers',
  'authorization-profiles',
  'access-requests',
  'plugins',
  'schemas',
  'export',
  'import',
  'oauth2-grants',
];

// A crash in the server's message handler leaves a reply pending forever: fail, do not hang.
describe('Back office WebSocket: malformed messages', { timeout: 300_000 }, () => {
  let gw: TestGateway;
  let ws: WebSocket;
  let ask: (message: string) => Promise<Reply>;
  before(async () => {
    gw = await startGateway({ backOffice: true, logLevel: 'silent' });
    ws = await openSocket(gw);
    ask = conversation(ws);
  });
  after(async () => {
    ws.terminate();
    await gw.close();
  });

  it('answers any JSON value sent as a message with a 4xx reply or a result', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (value) => {
        const text = JSON.stringify(value) ?? 'null';
        assertClientError(await ask(text), text);
      }),
      { numRuns: RUNS },
    );
  });

  it('answers messages with wrong types in every field (ids, ops, entities, payloads) without a 5xx', async () => {
    const id = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.double(),
      fc.constant(1e308),
      fc.string({ minLength: 129, maxLength: 2000 }),
      fc.jsonValue(),
    );
    const payload = fc.oneof(
      fc.jsonValue(),
      fc.record(
        {
          id: fc.oneof(fc.string(), fc.jsonValue(), fc.constant('\ud800'), fc.constant('../../api/export')),
          query: fc.oneof(fc.jsonValue(), fc.dictionary(fc.string(), fc.jsonValue())),
          action: fc.oneof(fc.constantFrom('rotate', 'revoke', 'disable'), fc.jsonValue()),
          includePrivateKeys: fc.jsonValue(),
        },
        { requiredKeys: [] },
      ),
    );
    const message = fc.record(
      {
        id,
        op: fc.oneof(fc.constantFrom(...OPS), fc.jsonValue()),
        entity: fc.oneof(fc.constantFrom(...ENTITIES), fc.jsonValue()),
        payload,
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(message, async (m) => {
        // Writes with generated bodies could succeed and change the configuration: keep the
        // property about the protocol layer by making them read-only or refused.
        const safe =
          m.op === 'create' || m.op === 'update' || m.entity === 'import' ? { ...m, payload: 'not an object' } : m;
        const text = JSON.stringify(safe);
        assertClientError(await ask(text), text);
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses 10 000 levels of nesting, in the message or in its payload, with 400', async () => {
    for (const [open, close] of [
      ['[', ']'],
      ['{"a":', '}'],
    ]) {
      const deep = open!.repeat(10_000) + '1' + close!.repeat(10_000);
      for (const text of [deep, `{"id":1,"op":"create","entity":"routes","payload":{"entity":${deep}}}`]) {
        const reply = await ask(text);
        assert.equal(reply.ok, false);
        assert.equal(reply.error!.status, 400);
        assert.match(reply.error!.error_description, /nesting/);
      }
    }
  });

  it('refuses ids that are too long or not finite, and lone surrogates in payload ids, with 400', async () => {
    assert.equal(
      (await ask(JSON.stringify({ id: 'x'.repeat(10_000), op: 'list', entity: 'routes' }))).error?.status,
      400,
    );
    assert.equal((await ask('{"id":1e999,"op":"list","entity":"routes"}')).error?.status, 400);
    const surrogate = await ask('{"id":2,"op":"get","entity":"routes","payload":{"id":"\\ud800"}}');
    assert.equal(surrogate.id, 2);
    assert.equal(surrogate.error?.status, 400);
    const badQuery = await ask(JSON.stringify({ id: 3, op: 'list', entity: 'routes', payload: { query: [1, 2] } }));
    assert.equal(badQuery.error?.status, 400);
  });

  it('answers an op, entity or action that is an object with a toString key with 400 (String() on it threw and ended the process)', async () => {
    for (const message of [
      { id: 1, op: { toString: 1 }, entity: 'routes' },
      { id: 2, op: 'list', entity: { toString: 1, valueOf: 2 } },
      { id: 3, op: 'action', entity: 'keypairs', payload: { id: 'k', action: { toString: 1 } } },
    ]) {
      const reply = await ask(JSON.stringify(message));
      assert.equal(reply.id, message.id);
      assert.equal(reply.error?.status, 400, JSON.stringify(reply));
    }
  });

  it('reaches the oauth2 grants through list, delete and the revoke action only, and actions through lower-case path segments only', async () => {
    const listed = await ask(
      JSON.stringify({ id: 1, op: 'list', entity: 'oauth2-grants', payload: { query: { user: 'nobody' } } }),
    );
    assert.deepEqual(listed.result, []);
    const revoked = await ask(
      JSON.stringify({
        id: 2,
        op: 'action',
        entity: 'oauth2-grants',
        payload: { action: 'revoke', query: { client: 'nobody' } },
      }),
    );
    assert.deepEqual(revoked.result, { revoked: 0 });
    assert.equal(
      (await ask(JSON.stringify({ id: 3, op: 'action', entity: 'oauth2-grants', payload: { action: 'revoke' } }))).error
        ?.status,
      400,
      'revoke names a client or a user',
    );
    assert.equal(
      (await ask(JSON.stringify({ id: 4, op: 'delete', entity: 'oauth2-grants', payload: { id: 'no-such-grant' } })))
        .error?.status,
      404,
    );
    for (const op of ['get', 'create', 'update'])
      assert.equal(
        (await ask(JSON.stringify({ id: 5, op, entity: 'oauth2-grants', payload: { id: 'x' } }))).error?.status,
        400,
        op,
      );
    for (const action of ['../export', 'plugins//x', 'Rotate', 'plugins/oauth2/']) {
      assert.equal(
        (await ask(JSON.stringify({ id: 6, op: 'action', entity: 'routes', payload: { id: 'r', action } }))).error
          ?.error_description,
        'payload.action is required',
        action,
      );
    }
  });

  it("reads an access request's events and deliveries with get and payload.part, and refuses a part elsewhere or unknown with 400", async () => {
    assert.deepEqual((await ask(JSON.stringify({ id: 1, op: 'list', entity: 'access-requests' }))).result, []);
    assert.equal(
      (
        await ask(
          JSON.stringify({ id: 2, op: 'get', entity: 'access-requests', payload: { id: 'none', part: 'events' } }),
        )
      ).error?.status,
      404,
    );
    assert.equal(
      (
        await ask(
          JSON.stringify({ id: 3, op: 'get', entity: 'access-requests', payload: { id: 'none', part: 'deliveries' } }),
        )
      ).error?.status,
      404,
    );
    for (const [entity, part] of [
      ['access-requests', '../../export'],
      ['access-requests', 'approve'],
      ['routes', 'events'],
      ['access-requests', { toString: 1 }],
    ] as const) {
      const reply = await ask(JSON.stringify({ id: 4, op: 'get', entity, payload: { id: 'r', part } }));
      assert.equal(reply.error?.status, 400, JSON.stringify([entity, part]));
    }
  });

  it('keeps the connection open and serving after all of it', async () => {
    assert.equal(ws.readyState, WebSocket.OPEN);
    const reply = await ask(JSON.stringify({ id: 'last', op: 'list', entity: 'routes' }));
    assert.equal(reply.ok, true);
    assert.ok(Array.isArray(reply.result));
  });
});

describe('Back office WebSocket: backpressure', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway({
      backOffice: true,
      logLevel: 'warn',
      config: { admin: { webSocketMaxBufferedBytes: 16_384 } },
    });
  });
  after(() => gw.close());

  it(
    'closes a client that stops reading with 1013 instead of buffering its replies without bound',
    { timeout: 60_000 },
    async () => {
      const ws = await openSocket(gw);
      let replies = 0;
      ws.on('message', (data) => {
        if (JSON.parse(String(data)).event === undefined) replies++;
      });
      const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
      ws.pause(); // stop reading: the server's replies pile up in the kernel, then in its own buffer
      const sent = 2000;
      for (let i = 0; i < sent; i++) ws.send(JSON.stringify({ id: i, op: 'get', entity: 'schemas' }));
      // Resume only once the server has given up on this client (it logs why).
      while (!gw.logs.some((l) => /does not read/.test(l.msg))) await new Promise((r) => setTimeout(r, 20));
      ws.resume();
      assert.equal(await closed, 1013);
      assert.ok(replies < sent, `the server stopped replying (got ${replies} of ${sent})`);
    },
  );
});
