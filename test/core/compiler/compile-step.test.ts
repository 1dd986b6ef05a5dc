import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { SignJWT } from 'jose';
import { startGateway, createRoute, route, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, echo, type Upstream } from '../../helpers/upstream.js';
import { LowdbStore } from '../../../core/config/lowdb-store.js';

const SECRET = 'a-shared-secret-of-at-least-32-bytes!!';
const OTHER_SECRET = 'another-shared-secret-of-32-bytes-or-more';

const tokenSignedWith = (secret: string) =>
  new SignJWT({ sub: 'someone' })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(secret));

describe('Compile step: one listener of the change feed derives everything', () => {
  it('a gateway subscribes one deriving listener to its store (the compile step), not one per index', async () => {
    const original = LowdbStore.prototype.onChange;
    let subscribers = 0;
    LowdbStore.prototype.onChange = function (this: LowdbStore, listener) {
      subscribers++;
      return original.call(this, listener);
    };
    let gw: TestGateway | undefined;
    try {
      gw = await startGateway();
    } finally {
      LowdbStore.prototype.onChange = original;
    }
    try {
      assert.equal(subscribers, 1, 'key pairs, API keys, quotas and routes are all rebuilt by the compile step');
    } finally {
      await gw.close();
    }
  });
});

describe('Compile step: JWT verifiers are built into the snapshot', () => {
  let gw: TestGateway;
  let upstream: Upstream;

  before(async () => {
    upstream = await startUpstream(echo);
    gw = await startGateway();
    const created = await gw.admin('POST', '/api/jwt-verifiers', {
      id: 'shared',
      name: 'Shared secret',
      keys: { kind: 'hmac', secret: SECRET },
      algorithms: ['HS256'],
    });
    assert.equal(created.status, 201, created.text);
    await createRoute(
      gw,
      route('verified', upstream.url, {
        plugins: [{ plugin: 'jwt-verifier', config: { verifiers: ['shared'], rules: [{ path: '/.*' }] } }],
      }),
    );
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  it('a request checked by a stored verifier reads nothing from the store', async () => {
    const token = await tokenSignedWith(SECRET);
    const store = gw.gateway.store;
    const reads: string[] = [];
    const get = store.get.bind(store);
    const list = store.list.bind(store);
    store.get = ((kind: any, id: string) => {
      reads.push(`get ${typeof kind === 'string' ? kind : kind.name} ${id}`);
      return get(kind, id);
    }) as typeof store.get;
    store.list = ((kind: any) => {
      reads.push(`list ${typeof kind === 'string' ? kind : kind.name}`);
      return list(kind);
    }) as typeof store.list;
    try {
      const res = await gw.proxy('/anything', { host: 'api.test', headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.status, 200, res.text);
    } finally {
      delete (store as any).get;
      delete (store as any).list;
    }
    assert.deepEqual(reads, []);
  });

  it('an edited verifier checks the next request with its new settings', async () => {
    const before = await tokenSignedWith(SECRET);
    const stored = (await gw.admin('GET', '/api/jwt-verifiers/shared')).json();
    const edited = await gw.admin('PUT', '/api/jwt-verifiers/shared', {
      ...stored,
      keys: { kind: 'hmac', secret: OTHER_SECRET },
    });
    assert.equal(edited.status, 200, edited.text);
    assert.equal(
      (await gw.proxy('/anything', { host: 'api.test', headers: { authorization: `Bearer ${before}` } })).status,
      401,
    );
    const after = await tokenSignedWith(OTHER_SECRET);
    assert.equal(
      (await gw.proxy('/anything', { host: 'api.test', headers: { authorization: `Bearer ${after}` } })).status,
      200,
    );
  });
});

describe('Compile step: a stored verifier that does not compile is isolated', () => {
  let upstream: Upstream;
  let gw: TestGateway;

  before(async () => {
    upstream = await startUpstream(echo);
    const first = await startGateway();
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    const created = await first.admin('POST', '/api/jwt-verifiers', {
      id: 'broken',
      name: 'Broken later',
      keys: { kind: 'pem', pem },
      algorithms: ['ES256'],
    });
    assert.equal(created.status, 201, created.text);
    await createRoute(
      first,
      route('names-broken', upstream.url, {
        frontend: { domains: ['broken.test'] },
        plugins: [{ plugin: 'jwt-verifier', config: { verifiers: ['broken'], rules: [{ path: '/.*' }] } }],
      }),
    );
    await createRoute(first, route('open', upstream.url, { frontend: { domains: ['open.test'] } }));
    await first.close({ keepData: true });
    // A key no longer readable (a file edited by hand, or written by an older version).
    const data = JSON.parse(readFileSync(first.dataFile, 'utf8'));
    data.entities['jwt-verifiers'].broken.keys.pem =
      '-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n';
    writeFileSync(first.dataFile, JSON.stringify(data));
    gw = await startGateway({ dataDir: first.dataDir });
  });
  after(async () => {
    await gw?.close();
    await upstream.close();
  });

  it('the gateway starts; the route naming it answers 503 route_unavailable and every other route serves', async () => {
    const broken = await gw.proxy('/x', { host: 'broken.test' });
    assert.equal(broken.status, 503, broken.text);
    assert.equal(broken.json().error, 'route_unavailable');
    assert.equal((await gw.proxy('/x', { host: 'open.test' })).status, 200);
    assert.ok(
      gw.logs.some((line) => line.verifierId === 'broken' && line.level === 50),
      'an error names the verifier',
    );
  });
});
