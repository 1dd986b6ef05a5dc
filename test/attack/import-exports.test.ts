/**
 * Attack: crafted export documents on `POST /api/import`. An export is a file an operator moves
 * between gateways, so whoever can edit it in between chooses what the gateway loads: prototype
 * gadgets (`__proto__` anywhere; `constructor.prototype` and `prototype` holding objects, the shape
 * a pollution gadget needs), references to entities that do not exist, and secrets written in plain text. The
 * import must refuse the first two with 400 naming the path (nothing written, no prototype touched)
 * and store secrets only as hashes.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startGateway, ADMIN_PASSWORD, type TestGateway } from '../helpers/gateway.js';
import { until } from '../helpers/wait.js';
import { startUpstream, echo, type Upstream } from '../helpers/upstream.js';
import { basic, send, type TestResponse } from '../helpers/http.js';
import WebSocket from 'ws';

const SECRET = 'plain-text-secret-in-an-export-0123';

describe('Attack: crafted export documents on import', () => {
  let gw: TestGateway;
  let upstream: Upstream;
  const auth = basic('admin', ADMIN_PASSWORD);

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await startGateway({ logLevel: 'silent', backOffice: true });
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  const importText = (text: string): Promise<TestResponse> =>
    send(`${gw.adminUrl}/api/import`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: text,
    });
  const routeDoc = (extra: Record<string, unknown> = {}) => ({
    id: 'imported',
    name: 'imported',
    frontend: { domains: ['api.test'] },
    backend: { targets: [{ url: upstream.url }] },
    plugins: [],
    ...extra,
  });
  const routeIds = async () => (await gw.admin('GET', '/api/routes')).json().map((r: { id: string }) => r.id);

  /** Refused with 400, at `path` when given; nothing written; Object.prototype untouched. */
  async function assertRefused(text: string, path: RegExp | null, why: string): Promise<void> {
    const before = JSON.stringify(await routeIds());
    const res = await importText(text);
    assert.equal(res.status, 400, `${why}: ${res.text.slice(0, 300)}`);
    const body = res.json();
    assert.equal(typeof body.error, 'string', why);
    if (path)
      assert.ok(
        (body.details ?? []).some((d: { path: string }) => path.test(d.path)),
        `${why}: ${res.text.slice(0, 400)}`,
      );
    assert.equal(({} as Record<string, unknown>).polluted, undefined, `${why}: Object.prototype polluted`);
    assert.equal(JSON.stringify(await routeIds()), before, `${why}: something was imported`);
  }

  it('control: a well-formed export is imported', async () => {
    const res = await importText(JSON.stringify({ routes: [routeDoc()] }));
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(await routeIds(), ['imported']);
    assert.equal((await gw.admin('DELETE', '/api/routes/imported')).status, 204);
  });

  it('refuses "__proto__" at every depth and in every spelling, without touching Object.prototype', async () => {
    const gadget = '{"polluted":"yes"}';
    const texts = [
      `{"__proto__":${gadget},"routes":[]}`,
      `{"routes":[{"__proto__":${gadget},"id":"a","name":"a","frontend":{"domains":["a.test"]},"backend":{"targets":[{"url":"${upstream.url}"}]},"plugins":[]}]}`,
      `{"routes":[{"id":"a","name":"a","frontend":{"domains":["a.test"]},"backend":{"targets":[{"url":"${upstream.url}"}]},"plugins":[{"plugin":"headers","config":{"__proto__":${gadget}}}]}]}`,
      `{"apikeys":[{"clientId":"c","clientName":"c","clientSecret":"${SECRET}","authorizedEntities":[],"metadata":{"__proto__":${gadget}}}]}`,
      `{"keypairs":[{"id":"k","name":"k","alg":"ES256","publicJwk":{"\\u005f_proto__":${gadget}}}]}`,
      `{"routes":[],"\\u005f\\u005fproto\\u005f\\u005f":${gadget}}`,
    ];
    for (const text of texts) await assertRefused(text, null, text.slice(0, 80));
  });

  it('refuses the constructor.prototype gadget and "prototype" holding an object, anywhere, naming the path', async () => {
    const gadget = { prototype: { polluted: 'yes' } };
    const verifier = (extra: Record<string, unknown>) => ({
      id: 'v',
      name: 'v',
      keys: { kind: 'hmac', secret: 'a-very-long-shared-secret-of-32-bytes!' },
      algorithms: ['HS256'],
      ...extra,
    });
    const cases: Array<[unknown, RegExp]> = [
      [
        { 'jwt-verifiers': [verifier({ requiredClaims: { constructor: { equals: gadget } } })] },
        /^\/jwt-verifiers\/0\/requiredClaims\/constructor(\/|$)/,
      ],
      [
        { 'jwt-verifiers': [verifier({ requiredClaims: { sub: { equals: { constructor: gadget } } } })] },
        /^\/jwt-verifiers\/0\/requiredClaims\/sub\/equals\/constructor$/,
      ],
      [
        {
          'jwt-verifiers': [verifier({ requiredClaims: { roles: { contains: { prototype: { polluted: 'yes' } } } } })],
        },
        /^\/jwt-verifiers\/0\/requiredClaims\/roles\/contains\/prototype$/,
      ],
      [
        { 'jwt-verifiers': [verifier({ keys: { kind: 'jwk', jwk: { kty: 'oct', constructor: gadget } } })] },
        /^\/jwt-verifiers\/0\/keys\/jwk\/constructor$/,
      ],
    ];
    for (const [doc, path] of cases) await assertRefused(JSON.stringify(doc), path, JSON.stringify(doc).slice(0, 120));
    assert.equal((await gw.admin('GET', '/api/jwt-verifiers')).json().length, 0);
  });

  it('keeps a required claim named "constructor" (a claim name is data, only constructor.prototype is a gadget)', async () => {
    const res = await importText(
      JSON.stringify({
        'jwt-verifiers': [
          {
            id: 'claims',
            name: 'claims',
            keys: { kind: 'hmac', secret: 'a-very-long-shared-secret-of-32-bytes!' },
            algorithms: ['HS256'],
            requiredClaims: { constructor: {} },
          },
        ],
      }),
    );
    assert.equal(res.status, 200, res.text);
    assert.deepEqual((await gw.admin('GET', '/api/jwt-verifiers/claims')).json().requiredClaims, { constructor: {} });
    assert.equal((await gw.admin('DELETE', '/api/jwt-verifiers/claims')).status, 204);
  });

  it('keeps "constructor" and "prototype" as plain string data (a metadata entry is not a gadget)', async () => {
    const res = await importText(
      JSON.stringify({
        apikeys: [
          {
            clientId: 'meta',
            clientName: 'meta',
            clientSecret: SECRET,
            authorizedEntities: [],
            metadata: { constructor: 'team-a', prototype: 'v2' },
          },
        ],
      }),
    );
    assert.equal(res.status, 200, res.text);
    assert.deepEqual((await gw.admin('GET', '/api/apikeys/meta')).json().metadata, {
      constructor: 'team-a',
      prototype: 'v2',
    });
    assert.equal((await gw.admin('DELETE', '/api/apikeys/meta')).status, 204);
  });

  it('refuses dangling references with 400 naming each path, and writes nothing', async () => {
    await assertRefused(
      JSON.stringify({
        routes: [routeDoc({ plugins: [{ plugin: 'jwt-verifier', config: { verifiers: ['missing-verifier'] } }] })],
      }),
      /^\/routes\/0\/plugins\/0\/config\/verifiers\/0$/,
      'a route naming a missing verifier',
    );
    await assertRefused(
      JSON.stringify({
        routes: [routeDoc()],
        apikeys: [
          { clientId: 'c', clientName: 'c', clientSecret: SECRET, authorizedEntities: ['imported', 'missing-route'] },
        ],
      }),
      /^\/apikeys\/0\/authorizedEntities\/1$/,
      'a key authorized for a missing route',
    );
    await assertRefused(
      JSON.stringify({
        apikeys: [
          {
            clientId: 'c',
            clientName: 'c',
            clientSecret: SECRET,
            authorizedEntities: [],
            metadata: { 'jwt-sign-keypair': 'missing-pair' },
          },
        ],
      }),
      /^\/apikeys\/0\/metadata\/jwt-sign-keypair$/,
      'a key signed by a missing key pair',
    );
  });

  it('refuses an import that would leave a stored entity referring to something it removes, naming the stored entity', async () => {
    assert.equal(
      (
        await importText(
          JSON.stringify({
            routes: [routeDoc()],
            apikeys: [
              { clientId: 'holder', clientName: 'holder', clientSecret: SECRET, authorizedEntities: ['imported'] },
            ],
          }),
        )
      ).status,
      200,
    );
    const res = await importText(JSON.stringify({ routes: [] }));
    assert.equal(res.status, 400, res.text);
    assert.match(res.text, /holder/);
    assert.deepEqual(await routeIds(), ['imported']);
  });

  it('stores a plain-text client secret from an export only as a hash: it authenticates, and appears in no answer nor on disk', async () => {
    await gw.admin('DELETE', '/api/apikeys/holder');
    await gw.admin('DELETE', '/api/routes/imported');
    const res = await importText(
      JSON.stringify({
        routes: [routeDoc({ plugins: [{ plugin: 'apikeys', config: {} }] })],
        apikeys: [{ clientId: 'plain', clientName: 'plain', clientSecret: SECRET, authorizedEntities: ['imported'] }],
      }),
    );
    assert.equal(res.status, 200, res.text);
    assert.doesNotMatch(res.text, new RegExp(SECRET));
    assert.equal((await gw.proxy('/', { headers: { authorization: basic('plain', SECRET) } })).status, 200);
    for (const path of ['/api/apikeys/plain', '/api/apikeys', '/api/export', '/api/export?includePrivateKeys=true']) {
      const shown = await gw.admin('GET', path);
      assert.equal(shown.status, 200);
      assert.doesNotMatch(shown.text, new RegExp(SECRET), path);
    }
    assert.doesNotMatch(readFileSync(gw.dataFile, 'utf8'), new RegExp(SECRET), 'the data file');
    assert.doesNotMatch(JSON.stringify(gw.logs), new RegExp(SECRET), 'the logs');
  });

  it('refuses a plain-text secret where an export carries a hash (client secret hash, API token hash), naming the field', async () => {
    await assertRefused(
      JSON.stringify({
        apikeys: [{ clientId: 'h', clientName: 'h', clientSecretHash: SECRET, authorizedEntities: [] }],
      }),
      /^\/apikeys\/0\/clientSecretHash$/,
      'a plain secret as clientSecretHash',
    );
    await assertRefused(
      JSON.stringify({ 'api-tokens': [{ id: 't', name: 't', scopes: ['access-requests:create'], tokenHash: SECRET }] }),
      /^\/api-tokens\/0\/tokenHash$/,
      'a plain token as tokenHash',
    );
    await assertRefused(
      JSON.stringify({ 'api-tokens': [{ id: 't', name: 't', scopes: ['access-requests:create'], token: SECRET }] }),
      /^\/api-tokens\/0/,
      'a plain token field',
    );
  });

  it("the back office's WebSocket import refuses the same gadgets (its messages are parsed without the HTTP body's reviver)", async () => {
    const login = await send(`${gw.adminUrl}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: gw.adminUrl },
      body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
    });
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    const ws = new WebSocket(`${gw.adminUrl.replace('http', 'ws')}/ws`, { headers: { cookie, origin: gw.adminUrl } });
    const replies: Array<{ id: unknown; ok: boolean; error?: { status: number } }> = [];
    ws.on('message', (data) => {
      const m = JSON.parse(String(data));
      if (m.event === undefined) replies.push(m);
    });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    try {
      const route = `{"id":"ws","name":"ws","frontend":{"domains":["ws.test"]},"backend":{"targets":[{"url":"${upstream.url}"}]},"plugins":[]`;
      const documents = [
        `{"__proto__":{"polluted":"yes"},"routes":[]}`,
        `{"routes":[${route},"__proto__":{"polluted":"yes"}}]}`,
        `{"jwt-verifiers":[{"id":"v","name":"v","keys":{"kind":"hmac","secret":"a-very-long-shared-secret-of-32-bytes!"},"algorithms":["HS256"],"requiredClaims":{"sub":{"equals":{"constructor":{"prototype":{"polluted":"yes"}}}}}}]}`,
      ];
      for (const [i, document] of documents.entries()) {
        ws.send(`{"id":${i},"op":"create","entity":"import","payload":{"document":${document}}}`);
        const reply = await until(
          `the reply to message ${i}`,
          () => replies.find((r) => r.id === i),
          (r) => r !== undefined,
        );
        assert.equal(reply!.ok, false, document);
        assert.equal(reply!.error!.status, 400, `${document}: ${JSON.stringify(reply)}`);
        assert.equal(({} as Record<string, unknown>).polluted, undefined);
      }
      assert.equal((await gw.admin('GET', '/api/routes/ws')).status, 404);
    } finally {
      ws.close();
    }
  });
});
